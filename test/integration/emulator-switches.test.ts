/**
 * The emulator's answer-shape switches, each exercised with the REAL AWS SDK
 * v3 client over real HTTP: what the SDK surfaces (name, status, Reason,
 * headers, missing members) is what these tests assert.
 */
import { describe, it, expect, beforeAll, afterAll, beforeEach } from "vitest";
import {
  AcceptConnectionInvitationCommand,
  ConflictException,
  GetConnectionInvitationCommand,
  ListConnectionInvitationsCommand,
  ListConnectionsCommand,
  PartnerCentralAccountClient,
  RejectConnectionInvitationCommand,
  ThrottlingException,
} from "@aws-sdk/client-partnercentral-account";
import {
  CONFLICT_REASONS,
  PartnerCentralEmulator,
  type EmulatorSwitches,
  type SeededInvitation,
} from "../../src/emulator/index.js";

interface SdkError {
  name: string;
  message: string;
  Reason?: string;
  $fault?: string;
  $metadata?: { httpStatusCode?: number; attempts?: number };
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

function makeClient(url: string, maxAttempts = 1): PartnerCentralAccountClient {
  return new PartnerCentralAccountClient({
    region: "us-east-1",
    endpoint: url,
    credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "test-secret" },
    maxAttempts,
  });
}

let emu: PartnerCentralEmulator;
let client: PartnerCentralAccountClient;

const ALL_OFF: Record<keyof EmulatorSwitches, undefined> = {
  omitOutputFields: undefined,
  stateConflictReason: undefined,
  errorTypeLocation: undefined,
  errorTypeFormat: undefined,
  errorNamespace: undefined,
  throttleStatus: undefined,
  throttleRetryAfterSeconds: undefined,
  emptyServerErrorBodies: undefined,
  hang: undefined,
  clockOffsetMs: undefined,
  requireSignature: undefined,
  knownAccessKeyIds: undefined,
  expiredSessionTokens: undefined,
  maxClockSkewSeconds: undefined,
  authErrorStatus: undefined,
  listConnectionsActiveOnly: undefined,
  repeatNextToken: undefined,
};

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
  emu.setSwitches(ALL_OFF);
});

const accept = (inv: SeededInvitation, token: string) =>
  client.send(
    new AcceptConnectionInvitationCommand({ Catalog: inv.catalog, Identifier: inv.identifier, ClientToken: token }),
  );
const reject = (inv: SeededInvitation, token: string) =>
  client.send(
    new RejectConnectionInvitationCommand({ Catalog: inv.catalog, Identifier: inv.identifier, ClientToken: token }),
  );
const getInv = (inv: SeededInvitation) =>
  client.send(new GetConnectionInvitationCommand({ Catalog: inv.catalog, Identifier: inv.identifier }));

/**
 * The first answer of the throttle gate: sends until one is refused. The gate counts a sliding
 * second, so on a slow machine two sends may not fall into one window; this does not care.
 */
async function firstThrottled(inv: SeededInvitation): Promise<SdkError> {
  for (let i = 0; i < 50; i++) {
    try {
      await getInv(inv);
    } catch (err) {
      return err as SdkError;
    }
  }
  throw new Error("the throttle gate never answered");
}

const ctl = (path: string, body?: unknown) =>
  fetch(`${emu.url}/_emulator/${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

function rawApi(target: string, body: unknown): Promise<Response> {
  return fetch(`${emu.url}/`, {
    method: "POST",
    headers: { "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": `PartnerCentralAccount.${target}` },
    body: JSON.stringify(body),
  });
}

describe("omitOutputFields", () => {
  it("GetConnectionInvitation of an ACCEPTED invitation without ConnectionId", async () => {
    const inv = emu.seedInvitation({ status: "ACCEPTED" });
    emu.setSwitches({ omitOutputFields: { GetConnectionInvitation: ["ConnectionId"] } });
    const got = await getInv(inv);
    expect(got.Status).toBe("ACCEPTED");
    expect(got.ConnectionId).toBeUndefined();
    expect(got.ExpiresAt).toBeInstanceOf(Date);
    // the state still has it; only the answer leaves it out
    expect(emu.getInvitation("AWS", inv.identifier)!.ConnectionId).toMatch(/^pac-/);
  });

  it("takes dotted paths or their last segment, for list items too", async () => {
    emu.seedInvitations(3, { status: "ACCEPTED" });
    emu.setSwitches({
      omitOutputFields: { ListConnectionInvitations: ["ConnectionId", "ConnectionInvitationSummaries.*.ExpiresAt"] },
    });
    const out = await client.send(new ListConnectionInvitationsCommand({ Catalog: "AWS" }));
    expect(out.ConnectionInvitationSummaries).toHaveLength(3);
    for (const s of out.ConnectionInvitationSummaries!) {
      expect(s.Status).toBe("ACCEPTED");
      expect(s.ConnectionId).toBeUndefined();
      expect(s.ExpiresAt).toBeUndefined();
    }
    expect(emu.switches().omitOutputFields).toEqual({
      ListConnectionInvitations: ["ConnectionId", "ConnectionInvitationSummaries.*.ExpiresAt"],
    });
  });

  it("applies to replayed ClientToken answers, and turns off with undefined", async () => {
    const inv = emu.seedInvitation();
    const first = await reject(inv, "tok-omit");
    expect(first.ExpiresAt).toBeInstanceOf(Date);
    emu.setSwitches({ omitOutputFields: { RejectConnectionInvitation: ["ExpiresAt"] } });
    const replay = await reject(inv, "tok-omit");
    expect(replay.ExpiresAt).toBeUndefined();
    expect(replay.Status).toBe("REJECTED");
    emu.setSwitches({ omitOutputFields: undefined });
    expect((await reject(inv, "tok-omit")).ExpiresAt).toBeInstanceOf(Date);
  });

  it.each([
    ["a required member", { GetConnectionInvitation: ["Status"] }],
    ["an unknown operation", { ListPartners: ["Id"] }],
    ["an ambiguous or unknown name", { AcceptConnectionInvitation: ["Id"] }],
  ])("refuses %s, changing nothing", (_n, omit) => {
    emu.setSwitches({ throttleStatus: 400 });
    expect(() => emu.setSwitches({ omitOutputFields: omit, throttleStatus: 429 })).toThrow(/omitOutputFields/);
    expect(emu.switches()).toEqual({ throttleStatus: 400 });
  });
});

describe("stateConflictReason", () => {
  it.each([
    "DUPLICATE_CONNECTION",
    "INCOMPATIBLE_CONNECTION_STATE",
    "INCOMPATIBLE_CONNECTION_INVITATION_RECEIVER",
  ] as const)("answers %s for Accept and Reject of an invitation that is no longer PENDING", async (reason) => {
    emu.setSwitches({ stateConflictReason: reason });
    const inv = emu.seedInvitation({ status: "ACCEPTED" });
    for (const call of [accept(inv, "tok-a"), reject(inv, "tok-r")]) {
      const err = await failure(call);
      expect(err).toBeInstanceOf(ConflictException);
      expect(err.$metadata?.httpStatusCode).toBe(409);
      expect(err.Reason).toBe(reason);
    }
  });

  it("takes one reason per status; other statuses keep INCOMPATIBLE_CONNECTION_INVITATION_STATE", async () => {
    emu.setSwitches({
      stateConflictReason: { ACCEPTED: "DUPLICATE_CONNECTION", EXPIRED: "INCOMPATIBLE_CONNECTION_STATE" },
    });
    const cases = [
      ["ACCEPTED", "DUPLICATE_CONNECTION"],
      ["EXPIRED", "INCOMPATIBLE_CONNECTION_STATE"],
      ["REJECTED", "INCOMPATIBLE_CONNECTION_INVITATION_STATE"],
    ] as const;
    for (const [status, reason] of cases) {
      const err = await failure(accept(emu.seedInvitation({ status }), `tok-${status}`));
      expect(err.Reason).toBe(reason);
    }
  });

  it("does not touch CONFLICT_CLIENT_TOKEN", async () => {
    emu.setSwitches({ stateConflictReason: "DUPLICATE_CONNECTION" });
    const [a, b] = emu.seedInvitations(2);
    await accept(a!, "tok-same");
    expect((await failure(accept(b!, "tok-same"))).Reason).toBe("CONFLICT_CLIENT_TOKEN");
  });

  it("accepts every ConflictExceptionReason of the model and nothing else", () => {
    for (const reason of CONFLICT_REASONS) emu.setSwitches({ stateConflictReason: reason });
    expect(() => emu.setSwitches({ stateConflictReason: "NOT_A_REASON" as never })).toThrow();
  });
});

describe("error type on the wire", () => {
  type Case = [string, Partial<EmulatorSwitches>, string | undefined, string | undefined];
  const cases: Case[] = [
    ["default: namespaced __type in the body", {}, "com.amazonaws.partnercentralaccount#ConflictException", undefined],
    ["bare __type", { errorTypeFormat: "bare" }, "ConflictException", undefined],
    [
      "Coral-style __type",
      { errorTypeFormat: "coral" },
      "ConflictException:http://internal.amazon.com/coral/com.amazonaws.partnercentralaccount/",
      undefined,
    ],
    [
      "another namespace",
      { errorNamespace: "com.amazonaws.partnercentral" },
      "com.amazonaws.partnercentral#ConflictException",
      undefined,
    ],
    [
      "header only (no __type in the body)",
      { errorTypeLocation: "header", errorTypeFormat: "coral" },
      undefined,
      "ConflictException:http://internal.amazon.com/coral/com.amazonaws.partnercentralaccount/",
    ],
    ["header only, bare", { errorTypeLocation: "header", errorTypeFormat: "bare" }, undefined, "ConflictException"],
    [
      "both body and header",
      { errorTypeLocation: "both", errorNamespace: "com.amazonaws.partnercentral" },
      "com.amazonaws.partnercentral#ConflictException",
      "com.amazonaws.partnercentral#ConflictException",
    ],
  ];

  it.each(cases)("%s: the SDK still raises ConflictException with its Reason", async (_n, sw, bodyType, headerType) => {
    emu.setSwitches(sw);
    const inv = emu.seedInvitation({ status: "REJECTED" });
    const err = await failure(accept(inv, "tok-wire"));
    expect(err).toBeInstanceOf(ConflictException);
    expect(err.name).toBe("ConflictException");
    expect(err.Reason).toBe("INCOMPATIBLE_CONNECTION_INVITATION_STATE");
    expect(err.message).toContain("REJECTED");
    expect(err.$metadata?.httpStatusCode).toBe(409);
    expect(err.$response?.headers["x-amzn-errortype"]).toBe(headerType);

    const res = await rawApi("AcceptConnectionInvitation", {
      Catalog: "AWS",
      Identifier: inv.identifier,
      ClientToken: "tok-raw",
    });
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.__type).toBe(bodyType);
    expect(body).toMatchObject({ Message: expect.any(String), Reason: "INCOMPATIBLE_CONNECTION_INVITATION_STATE" });
    expect(res.headers.get("x-amzn-errortype") ?? undefined).toBe(headerType);
  });

  it("protocol errors keep their bare __type", async () => {
    emu.setSwitches({ errorTypeLocation: "header" });
    const res = await rawApi("ListPartners", {});
    expect(((await res.json()) as { __type: string }).__type).toBe("UnknownOperationException");
  });
});

describe("throttling answers", () => {
  it("throttleStatus 400: ThrottlingException at HTTP 400, scripted and from the rate gate", async () => {
    emu.setSwitches({ throttleStatus: 400 });
    const inv = emu.seedInvitation();
    emu.script({ operation: "GetConnectionInvitation", times: 1, error: "ThrottlingException" });
    const scripted = await failure(getInv(inv));
    expect(scripted).toBeInstanceOf(ThrottlingException);
    expect(scripted.$metadata?.httpStatusCode).toBe(400);

    emu.setFaults({ throttleAboveRps: 1 });
    const gated = await firstThrottled(inv);
    expect(gated.name).toBe("ThrottlingException");
    expect(gated.$metadata?.httpStatusCode).toBe(400);
    expect(emu.calls().at(-1)).toMatchObject({ status: 400, errorType: "ThrottlingException" });
  });

  it("the SDK still retries a ThrottlingException answered with 400 (throttling by name)", async () => {
    emu.setSwitches({ throttleStatus: 400 });
    const inv = emu.seedInvitation();
    emu.script({ operation: "GetConnectionInvitation", times: 1, error: "ThrottlingException" });
    const retrying = makeClient(emu.url, 2);
    try {
      const out = await retrying.send(
        new GetConnectionInvitationCommand({ Catalog: "AWS", Identifier: inv.identifier }),
      );
      expect(out.Status).toBe("PENDING");
      expect(out.$metadata.attempts).toBe(2);
    } finally {
      retrying.destroy();
    }
  });

  it("throttleRetryAfterSeconds sends Retry-After on the rate gate's answers", async () => {
    emu.setSwitches({ throttleRetryAfterSeconds: 2 });
    emu.setFaults({ throttleAboveRps: 1 });
    const err = await firstThrottled(emu.seedInvitation());
    expect(err.name).toBe("ThrottlingException");
    expect(err.$metadata?.httpStatusCode).toBe(429);
    expect(err.$response?.headers["retry-after"]).toBe("2");
  });

  it("without it, the rate gate sends no Retry-After", async () => {
    emu.setFaults({ throttleAboveRps: 1 });
    const err = await firstThrottled(emu.seedInvitation());
    expect(err.name).toBe("ThrottlingException");
    expect(err.$response?.headers["retry-after"]).toBeUndefined();
  });
});

describe("emptyServerErrorBodies", () => {
  it("5xx answers carry no body and no type; the SDK names them Unknown, server fault", async () => {
    emu.setSwitches({ emptyServerErrorBodies: true, errorTypeLocation: "both" });
    const inv = emu.seedInvitation();
    emu.setFaults({ errorRate: 1 });
    const err = await failure(getInv(inv));
    expect(err.$metadata?.httpStatusCode).toBe(500);
    expect(err.name).toBe("Unknown");
    expect(err.$fault).toBe("server");
    expect(err.$response?.headers["x-amzn-errortype"]).toBeUndefined();

    const res = await rawApi("GetConnectionInvitation", { Catalog: "AWS", Identifier: inv.identifier });
    expect(res.status).toBe(500);
    expect(await res.text()).toBe("");
    expect(emu.calls()[0]).toMatchObject({ status: 500, errorType: "InternalServerException" });
  });

  it("keeps 4xx bodies", async () => {
    emu.setSwitches({ emptyServerErrorBodies: true });
    const err = await failure(accept(emu.seedInvitation({ status: "REJECTED" }), "tok-4xx"));
    expect(err.name).toBe("ConflictException");
    expect(err.Reason).toBe("INCOMPATIBLE_CONNECTION_INVITATION_STATE");
  });
});

describe("setting switches", () => {
  it("as start options", async () => {
    const other = await PartnerCentralEmulator.start({
      throttleStatus: 400,
      stateConflictReason: "DUPLICATE_CONNECTION",
      omitOutputFields: { GetConnectionInvitation: ["ConnectionId"] },
    });
    const c2 = makeClient(other.url);
    try {
      expect(other.switches()).toEqual({
        throttleStatus: 400,
        stateConflictReason: "DUPLICATE_CONNECTION",
        omitOutputFields: { GetConnectionInvitation: ["ConnectionId"] },
      });
      const inv = other.seedInvitation({ status: "ACCEPTED" });
      const got = await c2.send(new GetConnectionInvitationCommand({ Catalog: "AWS", Identifier: inv.identifier }));
      expect(got.ConnectionId).toBeUndefined();
      const err = await failure(
        c2.send(
          new AcceptConnectionInvitationCommand({ Catalog: "AWS", Identifier: inv.identifier, ClientToken: "t" }),
        ),
      );
      expect(err.Reason).toBe("DUPLICATE_CONNECTION");
    } finally {
      c2.destroy();
      await other.close();
    }
  });

  it("an invalid start option is refused", async () => {
    await expect(PartnerCentralEmulator.start({ throttleStatus: 418 as never })).rejects.toThrow(/throttleStatus/);
  });

  it("over the control plane: GET, POST, null turns off, errors are 400, reset keeps them", async () => {
    expect(await (await ctl("switches")).json()).toEqual({});
    const set = await ctl("switches", {
      throttleStatus: 400,
      stateConflictReason: { ACCEPTED: "DUPLICATE_CONNECTION" },
    });
    expect(set.status).toBe(200);
    expect(await set.json()).toEqual({
      throttleStatus: 400,
      stateConflictReason: { ACCEPTED: "DUPLICATE_CONNECTION" },
    });

    const err = await failure(accept(emu.seedInvitation({ status: "ACCEPTED" }), "tok-ctl"));
    expect(err.Reason).toBe("DUPLICATE_CONNECTION");

    expect(await (await ctl("switches", { throttleStatus: null })).json()).toEqual({
      stateConflictReason: { ACCEPTED: "DUPLICATE_CONNECTION" },
    });
    for (const bad of [
      { throttleStatus: 418 },
      { noSuchSwitch: true },
      { omitOutputFields: { GetConnection: ["Id"] } },
    ]) {
      const res = await ctl("switches", bad);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toEqual(expect.any(String));
    }
    expect((await ctl("switches", [1])).status).toBe(400);
    await ctl("reset", {});
    expect(emu.switches()).toEqual({ stateConflictReason: { ACCEPTED: "DUPLICATE_CONNECTION" } });
  });
});

describe("listConnectionsActiveOnly", () => {
  it("ListConnections leaves out connections without an ACTIVE type; GetConnection still reads them", async () => {
    const active = emu.seedInvitation({ status: "ACCEPTED", otherParticipantAccountId: "111122223333" });
    const canceled = emu.seedInvitation({
      status: "ACCEPTED",
      otherParticipantAccountId: "111122223333",
      connectionStatus: "CANCELED",
    });
    const ids = (active: SeededInvitation) => emu.getInvitation(active.catalog, active.identifier)!.ConnectionId!;
    const list = async () =>
      (
        await client.send(new ListConnectionsCommand({ Catalog: "AWS", OtherParticipantIdentifiers: ["111122223333"] }))
      ).ConnectionSummaries!.map((c) => c.Id);
    expect(await list()).toEqual([ids(active), ids(canceled)]);
    emu.setSwitches({ listConnectionsActiveOnly: true });
    expect(await list()).toEqual([ids(active)]);
    expect(emu.getConnection("AWS", ids(canceled))!.ConnectionTypes.OPPORTUNITY_COLLABORATION!.Status).toBe("CANCELED");
    emu.setSwitches({ listConnectionsActiveOnly: undefined });
    expect(await list()).toHaveLength(2);
  });
});

describe("repeatNextToken", () => {
  const page = (NextToken?: string) =>
    client.send(
      new ListConnectionInvitationsCommand({ Catalog: "AWS", MaxResults: 2, ...(NextToken ? { NextToken } : {}) }),
    );
  const ids = (p: { ConnectionInvitationSummaries?: Array<{ Id?: string }> }) =>
    p.ConnectionInvitationSummaries!.map((s) => s.Id);

  it("same: the page asked for with a NextToken answers that NextToken again, for ever", async () => {
    const seeded = emu.seedInvitations(5).map((i) => i.identifier);
    emu.setSwitches({ repeatNextToken: "same" });
    try {
      const first = await page();
      expect(ids(first)).toEqual(seeded.slice(0, 2));
      const second = await page(first.NextToken);
      expect(ids(second)).toEqual(seeded.slice(2, 4));
      expect(second.NextToken).toBe(first.NextToken);
      expect((await page(second.NextToken)).NextToken).toBe(first.NextToken);
    } finally {
      emu.setSwitches({ repeatNextToken: undefined });
    }
    // Off again: the listing ends.
    const second = await page((await page()).NextToken);
    expect((await page(second.NextToken)).NextToken).toBeUndefined();
  });

  it("wrap: the last page answers a NextToken back to the first, so each token comes again after a round", async () => {
    const seeded = emu.seedInvitations(5).map((i) => i.identifier);
    emu.setSwitches({ repeatNextToken: "wrap" });
    try {
      const tokens: string[] = [];
      const seen: Array<string | undefined> = [];
      let token: string | undefined;
      for (let n = 0; n < 5; n++) {
        const p = await page(token);
        seen.push(...ids(p));
        token = p.NextToken;
        expect(token).toBeDefined();
        tokens.push(token!);
      }
      expect(seen.slice(0, 5)).toEqual(seeded);
      expect(seen.slice(5, 9)).toEqual(seeded.slice(0, 4)); // round two, from the first page
      // Three pages a round: the tokens of round one come again in round two, none twice in a row.
      expect(tokens[3]).toBe(tokens[0]);
      expect(tokens[4]).toBe(tokens[1]);
      expect(new Set(tokens.slice(0, 3)).size).toBe(3);
    } finally {
      emu.setSwitches({ repeatNextToken: undefined });
    }
  });
});
