/**
 * Transport faults of the emulator, with the REAL AWS SDK v3 client over real
 * HTTP: requests that never get an answer (the `hang` switch and the scripted
 * "Hang"). Outcomes only, never durations.
 */
import { describe, it, expect, beforeAll, afterAll, beforeEach } from "vitest";
import {
  AcceptConnectionInvitationCommand,
  GetConnectionInvitationCommand,
  PartnerCentralAccountClient,
  type PartnerCentralAccountClientConfig,
} from "@aws-sdk/client-partnercentral-account";
import { PartnerCentralEmulator, type EmulatorSwitches, type SeededInvitation } from "../../src/emulator/index.js";

interface SdkError {
  name: string;
  message: string;
  code?: string;
  $metadata?: { httpStatusCode?: number; attempts?: number };
}

async function failure(p: Promise<unknown>): Promise<SdkError> {
  try {
    await p;
  } catch (err) {
    return err as SdkError;
  }
  throw new Error("expected the call to fail");
}

let emu: PartnerCentralEmulator;
const clients: PartnerCentralAccountClient[] = [];

function makeClient(config: Partial<PartnerCentralAccountClientConfig> = {}, url = emu.url): PartnerCentralAccountClient {
  const c = new PartnerCentralAccountClient({
    region: "us-east-1",
    endpoint: url,
    credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "test-secret" },
    maxAttempts: 1,
    ...config,
  });
  clients.push(c);
  return c;
}

/** A client whose requests time out after `ms` (node-http-handler only warns unless throwOnRequestTimeout). */
const timingOutClient = (ms: number, maxAttempts = 1) =>
  makeClient({ maxAttempts, requestHandler: { requestTimeout: ms, throwOnRequestTimeout: true } });

const getInv = (c: PartnerCentralAccountClient, inv: SeededInvitation) =>
  c.send(new GetConnectionInvitationCommand({ Catalog: inv.catalog, Identifier: inv.identifier }));
const accept = (c: PartnerCentralAccountClient, inv: SeededInvitation, token: string) =>
  c.send(new AcceptConnectionInvitationCommand({ Catalog: inv.catalog, Identifier: inv.identifier, ClientToken: token }));

const ALL_OFF: Partial<Record<keyof EmulatorSwitches, undefined>> = { hang: undefined };

beforeAll(async () => {
  emu = await PartnerCentralEmulator.start();
});

afterAll(async () => {
  for (const c of clients) c.destroy();
  await emu.close();
});

beforeEach(() => {
  emu.reset();
  emu.setSwitches(ALL_OFF);
});

async function waitFor(predicate: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !predicate(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(predicate()).toBe(true);
}

describe("hang", () => {
  it("hangs the listed operations: a client with requestTimeout + throwOnRequestTimeout gets a TimeoutError", async () => {
    emu.setSwitches({ hang: ["GetConnectionInvitation"] });
    const inv = emu.seedInvitation();
    const c = timingOutClient(300);
    const err = await failure(getInv(c, inv));
    expect(err.name).toBe("TimeoutError");
    expect(err.$metadata?.httpStatusCode).toBeUndefined();
    expect(emu.calls()[0]).toMatchObject({ operation: "GetConnectionInvitation", status: 0, errorType: "Hang" });
    // other operations are answered
    expect((await accept(c, inv, "tok-h")).Connection?.Id).toMatch(/^pac-/);
  });

  it("hang: true hangs every operation, and nothing changes state", async () => {
    emu.setSwitches({ hang: true });
    const inv = emu.seedInvitation();
    const c = timingOutClient(300);
    expect((await failure(accept(c, inv, "tok-all"))).name).toBe("TimeoutError");
    expect(emu.getInvitation("AWS", inv.identifier)!.Status).toBe("PENDING");
    emu.setSwitches({ hang: false });
    expect((await accept(c, inv, "tok-all")).Connection?.Id).toMatch(/^pac-/);
  });

  it("a scripted Hang with applyFirst accepts, then never answers; the same token then replays", async () => {
    const inv = emu.seedInvitation();
    emu.script({ operation: "AcceptConnectionInvitation", times: 1, error: "Hang", applyFirst: true });
    const c = timingOutClient(300);
    expect((await failure(accept(c, inv, "tok-lost"))).name).toBe("TimeoutError");
    const stored = emu.getInvitation("AWS", inv.identifier)!;
    expect(stored.Status).toBe("ACCEPTED");
    const again = await accept(c, inv, "tok-lost");
    expect(again.Connection!.Id).toBe(stored.ConnectionId);
    expect(emu.calls().map((x) => [x.status, x.errorType, x.replayed ?? false])).toEqual([
      [0, "Hang", false],
      [200, undefined, true],
    ]);
  });

  it("the SDK retries a timed-out request when it has attempts left", async () => {
    const inv = emu.seedInvitation();
    emu.script({ operation: "GetConnectionInvitation", times: 1, error: "Hang" });
    const out = await getInv(timingOutClient(300, 2), inv);
    expect(out.Status).toBe("PENDING");
    expect(out.$metadata.attempts).toBe(2);
  });

  it("close() ends an emulator with hanging requests; the waiting client gets a socket error", async () => {
    const other = await PartnerCentralEmulator.start({ hang: true });
    const c = makeClient({}, other.url);
    const inv = other.seedInvitation();
    const pending = failure(getInv(c, inv));
    await waitFor(() => other.calls().length === 1);
    await other.close();
    const err = await pending;
    // The SDK names every ECONNRESET a TimeoutError; the code tells the two apart.
    expect(err.code).toBe("ECONNRESET");
    expect(err.$metadata?.httpStatusCode).toBeUndefined();
  });

  it("is set over the control plane, scripted over the control plane, and unknown operations are refused", async () => {
    const ctl = (path: string, body: unknown) =>
      fetch(`${emu.url}/_emulator/${path}`, { method: "POST", body: JSON.stringify(body) });
    expect(await (await ctl("switches", { hang: ["AcceptConnectionInvitation"] })).json()).toEqual({
      hang: ["AcceptConnectionInvitation"],
    });
    expect((await ctl("switches", { hang: ["Nope"] })).status).toBe(400);
    expect(() => emu.setSwitches({ hang: ["Nope"] })).toThrow(/hang/);
    await ctl("switches", { hang: null });
    expect((await ctl("script", { operation: "GetConnectionInvitation", times: 1, error: "Hang" })).status).toBe(200);
    const inv = emu.seedInvitation();
    expect((await failure(getInv(timingOutClient(300), inv))).name).toBe("TimeoutError");
  });
});
