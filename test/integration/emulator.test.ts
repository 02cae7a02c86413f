/**
 * Exercises the Partner Central Account emulator with the REAL AWS SDK v3
 * client over real HTTP (maxAttempts: 1, so each send() is one request).
 */
import { describe, it, expect, beforeAll, afterAll, beforeEach } from "vitest";
import {
  AcceptConnectionInvitationCommand,
  CancelConnectionInvitationCommand,
  ConflictException,
  CreateConnectionInvitationCommand,
  GetConnectionCommand,
  GetConnectionInvitationCommand,
  PartnerCentralAccountClient,
  PartnerCentralAccountServiceException,
  RejectConnectionInvitationCommand,
} from "@aws-sdk/client-partnercentral-account";
import {
  PartnerCentralEmulator,
  runEmulatorCli,
  type RecordedCall,
  type ScriptedFailure,
  type SeededInvitation,
} from "../../src/emulator/index.js";

interface SdkError {
  name: string;
  message: string;
  code?: string;
  Reason?: string;
  ErrorDetails?: Array<{ FieldValidationError?: { Name: string; Message: string; Code: string } }>;
  ServiceCode?: string;
  QuotaCode?: string;
  $metadata?: { httpStatusCode?: number; requestId?: string };
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

function makeClient(url: string): PartnerCentralAccountClient {
  return new PartnerCentralAccountClient({
    region: "us-east-1",
    endpoint: url,
    credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "test-secret" },
    maxAttempts: 1,
  });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let emu: PartnerCentralEmulator;
let client: PartnerCentralAccountClient;

const accept = (inv: SeededInvitation, token: string) =>
  client.send(
    new AcceptConnectionInvitationCommand({ Catalog: inv.catalog, Identifier: inv.identifier, ClientToken: token }),
  );
const getInv = (inv: SeededInvitation) =>
  client.send(new GetConnectionInvitationCommand({ Catalog: inv.catalog, Identifier: inv.identifier }));

beforeAll(async () => {
  emu = await PartnerCentralEmulator.start();
  client = makeClient(emu.url);
});

afterAll(async () => {
  client.destroy();
  await emu.close();
});

beforeEach(() => {
  emu.reset();
  emu.setFaults({ throttleAboveRps: undefined, errorRate: undefined, latencyMs: undefined });
});

describe("AcceptConnectionInvitation happy path", () => {
  it("accepts, and Get/GetConnection reflect the new connection", async () => {
    const inv = emu.seedInvitation({ inviterName: "Alice", inviterEmail: "alice@example.com", partnerName: "Acme" });
    expect(inv).toMatchObject({ catalog: "AWS", status: "PENDING" });
    expect(inv.identifier).toMatch(/^pacinv-[A-Za-z0-9]{13}$/);

    const out = await accept(inv, "tok-happy-1");
    expect(out.$metadata.httpStatusCode).toBe(200);
    expect(out.$metadata.requestId).toMatch(UUID);
    const c = out.Connection!;
    expect(c.Catalog).toBe("AWS");
    expect(c.Id).toMatch(/^pac-[A-Za-z0-9]{13}$/);
    expect(c.Arn).toBe(`arn:aws:partnercentral:us-east-1::catalog/AWS/connection/${c.Id}`);
    expect(c.OtherParticipantAccountId).toMatch(/^[0-9]{12}$/);
    expect(c.UpdatedAt).toBeInstanceOf(Date);
    const detail = c.ConnectionTypes!.OPPORTUNITY_COLLABORATION!;
    expect(detail.CreatedAt).toBeInstanceOf(Date);
    expect(detail).toMatchObject({ InviterName: "Alice", InviterEmail: "alice@example.com", Status: "ACTIVE" });
    expect(detail.OtherParticipant?.PartnerProfile?.Id).toMatch(/^pprofile-[A-Za-z0-9]{13}$/);
    expect(detail.OtherParticipant?.PartnerProfile?.Name).toBe("Acme");

    const got = await getInv(inv);
    expect(got.Status).toBe("ACCEPTED");
    expect(got.ConnectionId).toBe(c.Id);
    expect(got.ParticipantType).toBe("RECEIVER");
    expect(got.CreatedAt).toBeInstanceOf(Date);
    expect(got.UpdatedAt).toBeInstanceOf(Date);

    const conn = await client.send(new GetConnectionCommand({ Catalog: "AWS", Identifier: c.Id! }));
    expect(conn.Id).toBe(c.Id);
    expect(conn.OtherParticipantAccountId).toBe(c.OtherParticipantAccountId);
    expect(conn.ConnectionTypes?.OPPORTUNITY_COLLABORATION?.Status).toBe("ACTIVE");
    expect(emu.getInvitation("AWS", inv.identifier)).toMatchObject({ Status: "ACCEPTED", ConnectionId: c.Id });
  });

  it("uses the invitation's ConnectionType as the map key", async () => {
    const inv = emu.seedInvitation({ catalog: "Sandbox", connectionType: "SUBSIDIARY" });
    const out = await accept(inv, "tok-sub");
    expect(Object.keys(out.Connection!.ConnectionTypes!)).toEqual(["SUBSIDIARY"]);
    expect(out.Connection!.Arn).toContain("catalog/Sandbox/connection/");
  });

  it("lets the SDK auto-fill ClientToken (UUID v4)", async () => {
    const inv = emu.seedInvitation();
    await client.send(new AcceptConnectionInvitationCommand({ Catalog: "AWS", Identifier: inv.identifier }));
    expect(emu.calls()[0]!.clientToken).toMatch(UUID);
  });
});

describe("conflicts and idempotency", () => {
  it("a second accept with a new token is a ConflictException", async () => {
    const inv = emu.seedInvitation();
    await accept(inv, "tok-a");
    const err = await failure(accept(inv, "tok-b"));
    expect(err).toBeInstanceOf(ConflictException);
    expect(err.name).toBe("ConflictException");
    expect(err.Reason).toBe("INCOMPATIBLE_CONNECTION_INVITATION_STATE");
    expect(err.$metadata?.httpStatusCode).toBe(409);
    expect(err.message).toContain("ACCEPTED");
  });

  it("same token + same parameters replays the first response; state changes once", async () => {
    const inv = emu.seedInvitation();
    const first = await accept(inv, "tok-replay");
    const before = emu.getInvitation("AWS", inv.identifier)!;
    const second = await accept(inv, "tok-replay");
    expect(second.Connection!.Id).toBe(first.Connection!.Id);
    expect(second.Connection!.UpdatedAt!.getTime()).toBe(first.Connection!.UpdatedAt!.getTime());
    expect(emu.getInvitation("AWS", inv.identifier)).toEqual(before);
    const calls = emu.calls({ operation: "AcceptConnectionInvitation" });
    expect(calls.map((c) => [c.status, c.replayed ?? false])).toEqual([
      [200, false],
      [200, true],
    ]);
  });

  it("same token + different invitation is CONFLICT_CLIENT_TOKEN and leaves it PENDING", async () => {
    const [a, b] = emu.seedInvitations(2);
    await accept(a!, "tok-shared");
    const err = await failure(accept(b!, "tok-shared"));
    expect(err.name).toBe("ConflictException");
    expect(err.Reason).toBe("CONFLICT_CLIENT_TOKEN");
    expect(err.$metadata?.httpStatusCode).toBe(409);
    expect(emu.getInvitation("AWS", b!.identifier)!.Status).toBe("PENDING");
  });

  it("a token whose first use failed is not remembered", async () => {
    const inv = emu.seedInvitation();
    emu.script({ operation: "AcceptConnectionInvitation", times: 1, error: "InternalServerException" });
    expect((await failure(accept(inv, "tok-retry"))).name).toBe("InternalServerException");
    const ok = await accept(inv, "tok-retry");
    expect(ok.Connection!.Id).toMatch(/^pac-/);
  });

  it.each(["REJECTED", "CANCELED", "EXPIRED"] as const)("accepting a %s invitation is a Conflict", async (status) => {
    const inv = emu.seedInvitation({ status });
    const err = await failure(accept(inv, `tok-${status}`));
    expect(err.name).toBe("ConflictException");
    expect(err.Reason).toBe("INCOMPATIBLE_CONNECTION_INVITATION_STATE");
    expect(err.$metadata?.httpStatusCode).toBe(409);
    expect(emu.getInvitation("AWS", inv.identifier)!.Status).toBe(status);
  });

  it("a seeded ACCEPTED invitation already has a connection", async () => {
    const inv = emu.seedInvitation({ status: "ACCEPTED" });
    const got = await getInv(inv);
    expect(got.Status).toBe("ACCEPTED");
    const conn = await client.send(new GetConnectionCommand({ Catalog: "AWS", Identifier: got.ConnectionId! }));
    expect(conn.Id).toBe(got.ConnectionId);
  });
});

describe("not found and validation", () => {
  it("unknown invitation / connection → ResourceNotFoundException", async () => {
    const err = await failure(accept({ catalog: "AWS", identifier: "pacinv-ABCDEFGHIJKLM", status: "" }, "tok-x"));
    expect(err.name).toBe("ResourceNotFoundException");
    expect(err.Reason).toBe("CONNECTION_INVITATION_NOT_FOUND");
    expect(err.$metadata?.httpStatusCode).toBe(404);
    const err2 = await failure(
      client.send(new GetConnectionCommand({ Catalog: "AWS", Identifier: "pac-ABCDEFGHIJKLM" })),
    );
    expect(err2.name).toBe("ResourceNotFoundException");
    expect(err2.Reason).toBe("CONNECTION_NOT_FOUND");
  });

  it("invalid identifier → ValidationException naming the field", async () => {
    const err = await failure(accept({ catalog: "AWS", identifier: "pacinv-short", status: "" }, "tok-v"));
    expect(err.name).toBe("ValidationException");
    expect(err.$metadata?.httpStatusCode).toBe(400);
    expect(err.Reason).toBe("REQUEST_VALIDATION_FAILED");
    expect(err.ErrorDetails).toEqual([
      { FieldValidationError: { Name: "Identifier", Message: expect.any(String), Code: "INVALID_STRING_FORMAT" } },
    ]);
  });

  it("reports one ErrorDetails entry per bad field", async () => {
    const err = await failure(
      client.send(
        new AcceptConnectionInvitationCommand({
          Catalog: "bad catalog!",
          Identifier: "x",
          ClientToken: "a".repeat(65),
        }),
      ),
    );
    expect(err.ErrorDetails?.map((d) => d.FieldValidationError?.Name)).toEqual([
      "Catalog",
      "Identifier",
      "ClientToken",
    ]);
    expect(emu.calls()[0]).toMatchObject({
      status: 400,
      errorType: "ValidationException",
      reason: "REQUEST_VALIDATION_FAILED",
    });
  });

  it("missing ClientToken over raw HTTP → REQUIRED_FIELD_MISSING", async () => {
    const res = await rawApi("AcceptConnectionInvitation", '{"Catalog":"AWS","Identifier":"pacinv-ABCDEFGHIJKLM"}');
    expect(res.status).toBe(400);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.__type).toBe("com.amazonaws.partnercentralaccount#ValidationException");
    expect(body.ErrorDetails).toEqual([
      { FieldValidationError: { Name: "ClientToken", Message: expect.any(String), Code: "REQUIRED_FIELD_MISSING" } },
    ]);
  });
});

function rawApi(target: string, body: string): Promise<Response> {
  return fetch(`${emu.url}/`, {
    method: "POST",
    headers: { "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": `PartnerCentralAccount.${target}` },
    body,
  });
}

describe("wire format", () => {
  it("sets protocol headers and a correct Date", async () => {
    const res = await rawApi("GetConnectionInvitation", '{"Catalog":"AWS","Identifier":"pacinv-ABCDEFGHIJKLM"}');
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toBe("application/x-amz-json-1.0");
    expect(res.headers.get("x-amzn-requestid")).toMatch(UUID);
    expect(Math.abs(Date.parse(res.headers.get("date")!) - Date.now())).toBeLessThan(5000);
    expect(await res.json()).toEqual({
      __type: "com.amazonaws.partnercentralaccount#ResourceNotFoundException",
      Message: expect.any(String),
      Reason: "CONNECTION_INVITATION_NOT_FOUND",
    });
  });

  it("unknown target and bad JSON are 400 with __type", async () => {
    const r1 = await rawApi("ListPartners", "{}");
    expect(r1.status).toBe(400);
    expect(((await r1.json()) as { __type: string }).__type).toBe("UnknownOperationException");
    const r2 = await rawApi("GetConnection", "{not json");
    expect(r2.status).toBe(400);
    expect(((await r2.json()) as { __type: string }).__type).toBe("SerializationException");
  });

  it("timestamps are RFC 3339 strings on the wire", async () => {
    const inv = emu.seedInvitation();
    const res = await rawApi("GetConnectionInvitation", JSON.stringify({ Catalog: "AWS", Identifier: inv.identifier }));
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.CreatedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });
});

describe("other invitation operations", () => {
  it("Create → PENDING record; replay by token; Reject and Cancel", async () => {
    const input = {
      Catalog: "AWS",
      ClientToken: "tok-create",
      ConnectionType: "OPPORTUNITY_COLLABORATION" as const,
      Email: "me@example.com",
      Message: "Hello",
      Name: "Me",
      ReceiverIdentifier: "123456789012",
    };
    const created = await client.send(new CreateConnectionInvitationCommand(input));
    expect(created.Id).toMatch(/^pacinv-[A-Za-z0-9]{13}$/);
    expect(created).toMatchObject({ Status: "PENDING", ParticipantType: "SENDER", InviterEmail: "me@example.com" });
    expect(created.ExpiresAt).toBeInstanceOf(Date);
    const again = await client.send(new CreateConnectionInvitationCommand(input));
    expect(again.Id).toBe(created.Id);

    const rejected = await client.send(
      new RejectConnectionInvitationCommand({ Catalog: "AWS", Identifier: created.Id!, ClientToken: "tok-rej" }),
    );
    expect(rejected.Status).toBe("REJECTED");
    const inv = emu.seedInvitation();
    const canceled = await client.send(
      new CancelConnectionInvitationCommand({ Catalog: "AWS", Identifier: inv.identifier, ClientToken: "tok-can" }),
    );
    expect(canceled.Status).toBe("CANCELED");
    const err = await failure(
      client.send(
        new CancelConnectionInvitationCommand({ Catalog: "AWS", Identifier: inv.identifier, ClientToken: "tok-can2" }),
      ),
    );
    expect(err.Reason).toBe("INCOMPATIBLE_CONNECTION_INVITATION_STATE");
  });
});

describe("faults", () => {
  const cases: Array<[ScriptedFailure["error"], string, number, string | undefined]> = [
    ["ThrottlingException", "ThrottlingException", 429, undefined],
    ["InternalServerException", "InternalServerException", 500, undefined],
    ["AccessDeniedException", "AccessDeniedException", 403, "ACCESS_DENIED"],
    ["ResourceNotFoundException", "ResourceNotFoundException", 404, "CONNECTION_INVITATION_NOT_FOUND"],
    ["ConflictException", "ConflictException", 409, "INCOMPATIBLE_CONNECTION_INVITATION_STATE"],
    [
      "ServiceQuotaExceededException",
      "ServiceQuotaExceededException",
      402,
      "LIMIT_EXCEEDED_NUMBER_OF_ACTIVE_CONNECTION",
    ],
    ["ValidationException", "ValidationException", 400, "REQUEST_VALIDATION_FAILED"],
  ];

  it.each(cases)("scripted %s → SDK %s (%d)", async (error, name, status, reason) => {
    const inv = emu.seedInvitation();
    emu.script({ operation: "AcceptConnectionInvitation", identifier: inv.identifier, times: 1, error });
    const err = await failure(accept(inv, "tok-s"));
    expect(err).toBeInstanceOf(PartnerCentralAccountServiceException);
    expect(err.name).toBe(name);
    expect(err.$metadata?.httpStatusCode).toBe(status);
    expect(err.Reason).toBe(reason);
    if (error === "ThrottlingException") expect(err.ServiceCode).toBeTruthy();
    // state untouched, and the script is used up
    expect(emu.getInvitation("AWS", inv.identifier)!.Status).toBe("PENDING");
    expect((await accept(inv, "tok-s")).Connection!.Id).toMatch(/^pac-/);
  });

  it("scripts match only the given identifier, honour reason/message and send Retry-After", async () => {
    const [a, b] = emu.seedInvitations(2);
    emu.script({
      operation: "AcceptConnectionInvitation",
      identifier: b!.identifier,
      times: 2,
      error: "ConflictException",
      reason: "DUPLICATE_CONNECTION",
      message: "custom",
      retryAfterSeconds: 3,
    });
    await accept(a!, "tok-a");
    const err = await failure(accept(b!, "tok-b"));
    expect(err.Reason).toBe("DUPLICATE_CONNECTION");
    expect(err.message).toBe("custom");
    expect(err.$response?.headers["retry-after"]).toBe("3");
    expect((await failure(accept(b!, "tok-b"))).Reason).toBe("DUPLICATE_CONNECTION");
    await accept(b!, "tok-b");
  });

  it("ServiceUnavailable503 answers 503 with an empty body", async () => {
    const inv = emu.seedInvitation();
    emu.script({ operation: "GetConnectionInvitation", times: 1, error: "ServiceUnavailable503" });
    const err = await failure(getInv(inv));
    expect(err.$metadata?.httpStatusCode).toBe(503);
    expect(emu.calls()[0]).toMatchObject({ status: 503, errorType: "ServiceUnavailable" });
  });

  it("ConnectionReset destroys the socket (ECONNRESET) without a response", async () => {
    const inv = emu.seedInvitation();
    emu.script({ operation: "AcceptConnectionInvitation", times: 1, error: "ConnectionReset" });
    const err = await failure(accept(inv, "tok-reset"));
    expect(err.code).toBe("ECONNRESET");
    expect(emu.calls()[0]).toMatchObject({ status: 0, errorType: "ConnectionReset", clientToken: "tok-reset" });
    expect(emu.getInvitation("AWS", inv.identifier)!.Status).toBe("PENDING");
  });

  it("throttleAboveRps answers 429 ThrottlingException above N admitted requests per second", async () => {
    const inv = emu.seedInvitation();
    emu.setFaults({ throttleAboveRps: 3 });
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => getInv(inv)));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(3);
    const errs = results.flatMap((r) => (r.status === "rejected" ? [r.reason as SdkError] : []));
    expect(errs).toHaveLength(2);
    for (const e of errs) {
      expect(e.name).toBe("ThrottlingException");
      expect(e.$metadata?.httpStatusCode).toBe(429);
    }
    expect(emu.calls().filter((c) => c.status === 429)).toHaveLength(2);
  });

  it("errorRate answers 500 InternalServerException before any state change", async () => {
    const inv = emu.seedInvitation();
    emu.setFaults({ errorRate: 1 });
    const err = await failure(accept(inv, "tok-e"));
    expect(err.name).toBe("InternalServerException");
    expect(err.$metadata?.httpStatusCode).toBe(500);
    expect(emu.getInvitation("AWS", inv.identifier)!.Status).toBe("PENDING");
  });

  it("errorRate uses the injected RNG", async () => {
    const seq = [0.1, 0.9];
    const other = await PartnerCentralEmulator.start({ errorRate: 0.5, random: () => seq.shift() ?? 0.9 });
    const c2 = makeClient(other.url);
    try {
      const inv = other.seedInvitation();
      const cmd = () => c2.send(new GetConnectionInvitationCommand({ Catalog: "AWS", Identifier: inv.identifier }));
      expect((await failure(cmd())).name).toBe("InternalServerException");
      expect((await cmd()).Status).toBe("PENDING");
    } finally {
      c2.destroy();
      await other.close();
    }
  });

  it("latencyMs delays answers", async () => {
    const inv = emu.seedInvitation();
    emu.setFaults({ latencyMs: 60 });
    const t0 = Date.now();
    await getInv(inv);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(55);
  });
});

describe("call log", () => {
  it("records every call with operation, identifier, catalog, clientToken and status", async () => {
    const inv = emu.seedInvitation();
    const t0 = Date.now();
    await accept(inv, "tok-log-1");
    await failure(accept(inv, "tok-log-2"));
    await getInv(inv);
    const calls: RecordedCall[] = emu.calls();
    expect(calls.map((c) => [c.seq, c.operation, c.status, c.clientToken])).toEqual([
      [1, "AcceptConnectionInvitation", 200, "tok-log-1"],
      [2, "AcceptConnectionInvitation", 409, "tok-log-2"],
      [3, "GetConnectionInvitation", 200, undefined],
    ]);
    expect(calls[1]).toMatchObject({
      errorType: "ConflictException",
      reason: "INCOMPATIBLE_CONNECTION_INVITATION_STATE",
    });
    for (const c of calls) {
      expect(c).toMatchObject({ identifier: inv.identifier, catalog: "AWS" });
      expect(c.at).toBeGreaterThanOrEqual(t0);
      expect(c.input.Identifier).toBe(inv.identifier);
    }
    expect(emu.calls({ identifier: inv.identifier, operation: "GetConnectionInvitation" })).toHaveLength(1);
  });
});

describe("HTTP control plane", () => {
  const ctl = (path: string, body?: unknown) =>
    fetch(`${emu.url}/_emulator/${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: { "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  it("seeds, scripts, reads invitations and calls, sets faults, resets", async () => {
    expect(await (await ctl("health")).json()).toMatchObject({ ok: true, url: emu.url });

    const seeded = (await (await ctl("invitations", { count: 2, catalog: "Sandbox" })).json()) as SeededInvitation[];
    expect(seeded).toHaveLength(2);
    const [one] = (await (await ctl("invitations", { status: "REJECTED" })).json()) as SeededInvitation[];
    expect(one).toMatchObject({ catalog: "AWS", status: "REJECTED" });

    const out = await accept(seeded[0]!, "tok-http");
    const rec = (await (await ctl(`invitations/Sandbox/${seeded[0]!.identifier}`)).json()) as Record<string, unknown>;
    expect(rec).toMatchObject({ Status: "ACCEPTED", ConnectionId: out.Connection!.Id });
    expect((await ctl("invitations/Sandbox/pacinv-ABCDEFGHIJKLM")).status).toBe(404);

    expect(
      (await ctl("script", { operation: "GetConnectionInvitation", times: 1, error: "AccessDeniedException" })).status,
    ).toBe(200);
    expect((await failure(getInv(seeded[1]!))).name).toBe("AccessDeniedException");

    const calls = (await (await ctl(`calls?operation=AcceptConnectionInvitation`)).json()) as RecordedCall[];
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ clientToken: "tok-http", identifier: seeded[0]!.identifier, status: 200 });
    const byId = (await (await ctl(`calls?identifier=${seeded[1]!.identifier}`)).json()) as RecordedCall[];
    expect(byId.map((c) => c.status)).toEqual([403]);

    expect(await (await ctl("faults", { latencyMs: 5, errorRate: null })).json()).toEqual({ latencyMs: 5 });
    expect((await ctl("script", { operation: "X", times: 0, error: "Nope" })).status).toBe(400);

    expect((await ctl("reset", {})).status).toBe(200);
    expect(emu.calls()).toEqual([]);
    expect(emu.getInvitation("Sandbox", seeded[1]!.identifier)).toBeUndefined();
  });
});

describe("lifecycle", () => {
  it("runEmulatorCli logs one line with the URL; close() ends idle keep-alive sockets", async () => {
    const lines: string[] = [];
    const other = await runEmulatorCli({ log: (l) => lines.push(l) });
    expect(lines).toEqual([expect.stringContaining(other.url)]);
    expect(other.url).toBe(`http://127.0.0.1:${other.port}`);
    const c2 = makeClient(other.url);
    const inv = other.seedInvitation();
    await c2.send(new GetConnectionInvitationCommand({ Catalog: "AWS", Identifier: inv.identifier }));
    const t0 = Date.now();
    await other.close();
    expect(Date.now() - t0).toBeLessThan(1000);
    c2.destroy();
  });
});
