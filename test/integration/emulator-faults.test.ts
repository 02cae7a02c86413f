/**
 * Transport and front-door faults of the emulator, with the REAL AWS SDK v3
 * client over real HTTP: requests that never get an answer (the `hang`
 * switch and the scripted "Hang"), and the SigV4 checks (missing or
 * malformed Authorization, unknown access key, expired session token,
 * request time outside the allowed skew). Outcomes only, never durations.
 */
import { describe, it, expect, beforeAll, afterAll, beforeEach } from "vitest";
import {
  AcceptConnectionInvitationCommand,
  GetConnectionInvitationCommand,
  PartnerCentralAccountClient,
  PartnerCentralAccountServiceException,
  type PartnerCentralAccountClientConfig,
} from "@aws-sdk/client-partnercentral-account";
import { PartnerCentralEmulator, type EmulatorSwitches, type SeededInvitation } from "../../src/emulator/index.js";

interface SdkError {
  name: string;
  message: string;
  code?: string;
  $fault?: string;
  $metadata?: { httpStatusCode?: number; attempts?: number; clockSkewCorrected?: boolean };
  $response?: { headers: Record<string, string> };
}

async function failure(p: Promise<unknown>): Promise<SdkError> {
  try {
    await p;
  } catch (err) {
    return err as SdkError;
  }
  throw new Error("expected the call to fail");
}

const MIN = 60_000;
let emu: PartnerCentralEmulator;
const clients: PartnerCentralAccountClient[] = [];

function makeClient(
  config: Partial<PartnerCentralAccountClientConfig> = {},
  url = emu.url,
): PartnerCentralAccountClient {
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

/**
 * A client whose requests time out after `ms` (node-http-handler only warns unless throwOnRequestTimeout).
 * Used only where a request is meant to hang; answered calls go through a client without a timeout,
 * so a slow machine cannot turn them into timeouts.
 */
const timingOutClient = (ms: number, maxAttempts = 1) =>
  makeClient({ maxAttempts, requestHandler: { requestTimeout: ms, throwOnRequestTimeout: true } });

/** Rewrites the Authorization header after signing (undefined = remove it). */
function withAuthorization(
  client: PartnerCentralAccountClient,
  value: string | undefined,
): PartnerCentralAccountClient {
  client.middlewareStack.add(
    (next) => async (args) => {
      const headers = (args.request as { headers: Record<string, string> }).headers;
      if (value === undefined) delete headers.authorization;
      else headers.authorization = value;
      return next(args);
    },
    { step: "deserialize", priority: "low", name: "rewriteAuthorization" },
  );
  return client;
}

const getInv = (c: PartnerCentralAccountClient, inv: SeededInvitation) =>
  c.send(new GetConnectionInvitationCommand({ Catalog: inv.catalog, Identifier: inv.identifier }));
const accept = (c: PartnerCentralAccountClient, inv: SeededInvitation, token: string) =>
  c.send(
    new AcceptConnectionInvitationCommand({ Catalog: inv.catalog, Identifier: inv.identifier, ClientToken: token }),
  );

const ALL_OFF: Partial<Record<keyof EmulatorSwitches, undefined>> = {
  hang: undefined,
  clockOffsetMs: undefined,
  requireSignature: undefined,
  knownAccessKeyIds: undefined,
  expiredSessionTokens: undefined,
  maxClockSkewSeconds: undefined,
  authErrorStatus: undefined,
  errorTypeFormat: undefined,
  errorNamespace: undefined,
};

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
  for (let i = 0; i < 2000 && !predicate(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(predicate()).toBe(true);
}

describe("hang", () => {
  it(
    "hangs the listed operations: a client with requestTimeout " + "+ throwOnRequestTimeout gets a TimeoutError",
    async () => {
      emu.setSwitches({ hang: ["GetConnectionInvitation"] });
      const inv = emu.seedInvitation();
      const err = await failure(getInv(timingOutClient(300), inv));
      expect(err.name).toBe("TimeoutError");
      expect(err.$metadata?.httpStatusCode).toBeUndefined();
      expect(emu.calls()[0]).toMatchObject({ operation: "GetConnectionInvitation", status: 0, errorType: "Hang" });
      // other operations are answered
      expect((await accept(makeClient(), inv, "tok-h")).Connection?.Id).toMatch(/^pac-/);
    },
  );

  it("hang: true hangs every operation, and nothing changes state", async () => {
    emu.setSwitches({ hang: true });
    const inv = emu.seedInvitation();
    expect((await failure(accept(timingOutClient(300), inv, "tok-all"))).name).toBe("TimeoutError");
    expect(emu.getInvitation("AWS", inv.identifier)!.Status).toBe("PENDING");
    emu.setSwitches({ hang: false });
    expect((await accept(makeClient(), inv, "tok-all")).Connection?.Id).toMatch(/^pac-/);
  });

  it("a scripted Hang with applyFirst accepts, then never answers; the same token then replays", async () => {
    const inv = emu.seedInvitation();
    emu.script({ operation: "AcceptConnectionInvitation", times: 1, error: "Hang", applyFirst: true });
    expect((await failure(accept(timingOutClient(300), inv, "tok-lost"))).name).toBe("TimeoutError");
    const stored = emu.getInvitation("AWS", inv.identifier)!;
    expect(stored.Status).toBe("ACCEPTED");
    const again = await accept(makeClient(), inv, "tok-lost");
    expect(again.Connection!.Id).toBe(stored.ConnectionId);
    expect(emu.calls().map((x) => [x.status, x.errorType, x.replayed ?? false])).toEqual([
      [0, "Hang", false],
      [200, undefined, true],
    ]);
  });

  it("the SDK retries a timed-out request when it has attempts left", async () => {
    const inv = emu.seedInvitation();
    emu.script({ operation: "GetConnectionInvitation", times: 1, error: "Hang" });
    // One timeout serves both attempts, so it is generous: the second attempt must be answered within it.
    const out = await getInv(timingOutClient(3000, 2), inv);
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

describe("signature checks", () => {
  it("are all off by default: unsigned requests are answered", async () => {
    const inv = emu.seedInvitation();
    const res = await fetch(`${emu.url}/`, {
      method: "POST",
      headers: { "X-Amz-Target": "PartnerCentralAccount.GetConnectionInvitation" },
      body: JSON.stringify({ Catalog: "AWS", Identifier: inv.identifier }),
    });
    expect(res.status).toBe(200);
    expect((await getInv(withAuthorization(makeClient(), "garbage"), inv)).Status).toBe("PENDING");
  });

  type Case = [string, Partial<EmulatorSwitches>, () => PartnerCentralAccountClient, string, number, RegExp];
  const cases: Case[] = [
    [
      "no Authorization header",
      { requireSignature: true },
      () => withAuthorization(makeClient(), undefined),
      "MissingAuthenticationTokenException",
      403,
      /missing Authentication Token/,
    ],
    [
      "an Authorization without SignedHeaders and Signature",
      { requireSignature: true },
      () =>
        withAuthorization(
          makeClient(),
          "AWS4-HMAC-SHA256 Credential=AKIDTEST/20260101/us-east-1/partnercentral-account/aws4_request",
        ),
      "IncompleteSignatureException",
      403,
      /requires 'SignedHeaders' parameter\. Authorization header requires 'Signature' parameter/,
    ],
    [
      "a malformed Credential scope",
      { requireSignature: true },
      () => withAuthorization(makeClient(), "AWS4-HMAC-SHA256 Credential=AKIDTEST, SignedHeaders=host, Signature=abc"),
      "IncompleteSignatureException",
      403,
      /requires 'Credential' parameter/,
    ],
    [
      "another signing algorithm",
      { requireSignature: true },
      () => withAuthorization(makeClient(), "AWS3 Credential=x"),
      "IncompleteSignatureException",
      403,
      /algorithm/,
    ],
    [
      "an access key id the emulator does not know",
      { knownAccessKeyIds: ["AKIDKNOWN"] },
      () => makeClient(),
      "UnrecognizedClientException",
      403,
      /security token included in the request is invalid/,
    ],
    [
      "any session token, when all are expired",
      { expiredSessionTokens: "all" },
      () => makeClient({ credentials: { accessKeyId: "ASIATEST", secretAccessKey: "s", sessionToken: "tok-1" } }),
      "ExpiredTokenException",
      403,
      /security token included in the request is expired/,
    ],
    [
      "a listed session token, answered 400",
      { expiredSessionTokens: ["tok-old"], authErrorStatus: 400 },
      () => makeClient({ credentials: { accessKeyId: "ASIATEST", secretAccessKey: "s", sessionToken: "tok-old" } }),
      "ExpiredTokenException",
      400,
      /expired/,
    ],
    [
      "a request signed 10 minutes behind the emulator's clock",
      { maxClockSkewSeconds: 300, clockOffsetMs: 10 * MIN },
      () => makeClient(),
      "InvalidSignatureException",
      403,
      /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 5 min\.\)$/,
    ],
    [
      "a request signed 10 minutes ahead of the emulator's clock",
      { maxClockSkewSeconds: 300, clockOffsetMs: -10 * MIN },
      () => makeClient(),
      "InvalidSignatureException",
      403,
      /^Signature not yet current: \d{8}T\d{6}Z is still later than \d{8}T\d{6}Z \(\d{8}T\d{6}Z \+ 5 min\.\)$/,
    ],
  ];

  it.each(cases)("refuse %s", async (_n, sw, client, name, status, message) => {
    emu.setSwitches(sw);
    const inv = emu.seedInvitation();
    const err = await failure(accept(client(), inv, "tok-sig"));
    expect(err).toBeInstanceOf(PartnerCentralAccountServiceException);
    expect(err.name).toBe(name);
    expect(err.$metadata?.httpStatusCode).toBe(status);
    expect(err.$fault).toBe("client");
    expect(err.message).toMatch(message);
    expect(emu.calls()[0]).toMatchObject({ status, errorType: name });
    expect(emu.getInvitation("AWS", inv.identifier)!.Status).toBe("PENDING");
  });

  it.each([
    ["a properly signed request", { requireSignature: true }, {}],
    [
      "a known access key id",
      { knownAccessKeyIds: ["AKIDKNOWN"] },
      { credentials: { accessKeyId: "AKIDKNOWN", secretAccessKey: "s" } },
    ],
    [
      "a session token not listed as expired",
      { expiredSessionTokens: ["tok-old"] },
      { credentials: { accessKeyId: "ASIATEST", secretAccessKey: "s", sessionToken: "tok-new" } },
    ],
    ["long-term keys when all session tokens are expired", { expiredSessionTokens: "all" }, {}],
    ["a request time within the allowed skew", { maxClockSkewSeconds: 300, clockOffsetMs: 4 * MIN }, {}],
  ] as Array<[string, Partial<EmulatorSwitches>, Partial<PartnerCentralAccountClientConfig>]>)(
    "accept %s",
    async (_n, sw, config) => {
      emu.setSwitches(sw);
      const inv = emu.seedInvitation();
      expect((await accept(makeClient(config), inv, "tok-ok")).Connection?.Id).toMatch(/^pac-/);
    },
  );

  it(
    "the SDK corrects its clock from the Date header (which " +
      "follows the emulator's clock) and the next call passes",
    async () => {
      emu.setSwitches({ maxClockSkewSeconds: 300, clockOffsetMs: 10 * MIN });
      const inv = emu.seedInvitation();
      const c = makeClient();
      const err = await failure(getInv(c, inv));
      expect(err.name).toBe("InvalidSignatureException");
      expect(err.$metadata?.clockSkewCorrected).toBe(true);
      expect(Date.parse(err.$response!.headers.date!) - Date.now()).toBeGreaterThan(5 * MIN);
      expect((await getInv(c, inv)).Status).toBe("PENDING");
    },
  );

  it("with attempts left, the SDK retries the clock-skew error within one send()", async () => {
    emu.setSwitches({ maxClockSkewSeconds: 300, clockOffsetMs: 10 * MIN });
    const inv = emu.seedInvitation();
    const out = await getInv(makeClient({ maxAttempts: 2 }), inv);
    expect(out.$metadata.attempts).toBe(2);
    expect(emu.calls().map((x) => x.status)).toEqual([403, 200]);
  });

  it(
    "a client whose own clock is wrong gets 'Signature " + "expired', corrects from the Date header, then passes",
    async () => {
      emu.setSwitches({ maxClockSkewSeconds: 300 });
      const inv = emu.seedInvitation();
      const c = makeClient({ systemClockOffset: -10 * MIN });
      expect((await failure(getInv(c, inv))).message).toMatch(/^Signature expired/);
      expect((await getInv(c, inv)).Status).toBe("PENDING");
    },
  );

  it(
    "clockOffsetMs alone only moves the Date header, which " + "makes the SDK retry even a ConflictException (§5.3)",
    async () => {
      emu.setSwitches({ clockOffsetMs: 60 * MIN });
      const inv = emu.seedInvitation();
      emu.script({ operation: "AcceptConnectionInvitation", times: 1, error: "ConflictException" });
      const out = await accept(makeClient({ maxAttempts: 2 }), inv, "tok-skew");
      expect(out.$metadata.attempts).toBe(2);
      expect(emu.calls().map((x) => x.status)).toEqual([409, 200]);
    },
  );

  it("is checked before faults and validation: a refused request does not use up a script", async () => {
    emu.setSwitches({ knownAccessKeyIds: ["AKIDKNOWN"] });
    emu.script({ operation: "GetConnectionInvitation", times: 1, error: "AccessDeniedException" });
    const refused = await failure(
      makeClient().send(new GetConnectionInvitationCommand({ Catalog: "bad catalog!", Identifier: "x" })),
    );
    expect(refused.name).toBe("UnrecognizedClientException");
    const inv = emu.seedInvitation();
    const known = makeClient({ credentials: { accessKeyId: "AKIDKNOWN", secretAccessKey: "s" } });
    expect((await failure(getInv(known, inv))).name).toBe("AccessDeniedException");
  });

  it.each([
    ["ExpiredTokenException", 403, /security token included in the request is expired/],
    ["IncompleteSignatureException", 403, /requires 'Signature' parameter/],
    ["InvalidSignatureException", 400, /signature we calculated does not match/],
    ["UnrecognizedClientException", 403, /security token included in the request is invalid/],
    ["MissingAuthenticationTokenException", 403, /missing Authentication Token/],
  ] as const)(
    "a scripted %s answers one call as the front door does, then the next passes",
    async (name, status, message) => {
      if (status === 400) emu.setSwitches({ authErrorStatus: 400 });
      const inv = emu.seedInvitation();
      emu.script({ operation: "GetConnectionInvitation", identifier: inv.identifier, times: 1, error: name });
      const c = makeClient();
      // Another operation is not scripted: it passes.
      expect((await accept(c, inv, "tok-script")).Connection?.Id).toMatch(/^pac-/);
      const err = await failure(getInv(c, inv));
      expect(err).toBeInstanceOf(PartnerCentralAccountServiceException);
      expect(err).toMatchObject({ name, $fault: "client", $metadata: { httpStatusCode: status } });
      expect(err.message).toMatch(message);
      expect(emu.calls({ operation: "GetConnectionInvitation" })[0]).toMatchObject({ status, errorType: name });
      expect((await getInv(c, inv)).Status).toBe("ACCEPTED");
    },
  );

  it(
    "front-door errors use Coral's namespace and a lower-case " + "message on the wire; the format switch applies",
    async () => {
      emu.setSwitches({ requireSignature: true, errorNamespace: "com.amazonaws.partnercentral" });
      const raw = () =>
        fetch(`${emu.url}/`, {
          method: "POST",
          headers: { "X-Amz-Target": "PartnerCentralAccount.GetConnectionInvitation" },
          body: "{}",
        });
      const res = await raw();
      expect(res.status).toBe(403);
      expect(await res.json()).toEqual({
        __type: "com.amazon.coral.service#MissingAuthenticationTokenException",
        message: "Request is missing Authentication Token",
      });
      emu.setSwitches({ errorTypeFormat: "bare" });
      expect(((await (await raw()).json()) as { __type: string }).__type).toBe("MissingAuthenticationTokenException");
    },
  );

  it("is set over the control plane", async () => {
    const res = await fetch(`${emu.url}/_emulator/switches`, {
      method: "POST",
      body: JSON.stringify({ knownAccessKeyIds: ["AKIDKNOWN"], authErrorStatus: 400 }),
    });
    expect(await res.json()).toEqual({ knownAccessKeyIds: ["AKIDKNOWN"], authErrorStatus: 400 });
    const err = await failure(getInv(makeClient(), emu.seedInvitation()));
    expect(err.name).toBe("UnrecognizedClientException");
    expect(err.$metadata?.httpStatusCode).toBe(400);
    const bad = await fetch(`${emu.url}/_emulator/switches`, {
      method: "POST",
      body: JSON.stringify({ authErrorStatus: 401 }),
    });
    expect(bad.status).toBe(400);
  });
});
