/**
 * Entry point for the CLI wiring (done elsewhere): start the emulator and
 * announce where it listens, as exactly one log line, so scripts and humans
 * can pick the URL up from the output.
 */
import { PartnerCentralEmulator } from "./server.js";
import type { EmulatorOptions } from "./types.js";

export interface EmulatorCliOptions extends EmulatorOptions {
  /** Receives the single "listening" line; default writes it to stdout. */
  log?: (line: string) => void;
}

export async function runEmulatorCli(options: EmulatorCliOptions): Promise<PartnerCentralEmulator> {
  const { log = (line: string) => void process.stdout.write(`${line}\n`), ...emulatorOptions } = options;
  const emu = await PartnerCentralEmulator.start(emulatorOptions);
  log(`Partner Central Account emulator listening on ${emu.url}`);
  return emu;
}
