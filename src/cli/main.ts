#!/usr/bin/env node
import { commands } from "./commands/index.js";
import { runProgram } from "./program.js";
import { stdoutClosed } from "./runtime.js";

async function main(argv: string[]): Promise<number> {
  // A reader that goes away (`… | head -1`) is no crash: see stdoutClosed.
  void stdoutClosed();
  return runProgram(commands, argv);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Give stdout a moment to flush, then leave even if a library left a handle open.
    setTimeout(() => process.exit(code), 50).unref();
  },
  (err) => {
    process.stderr.write(`${String(err)}\n`);
    process.exit(1);
  },
);
