/**
 * How `seedInvitations(n, …)` spreads invitations over other partners,
 * connection types, catalogs, statuses and email domains. Pure: it turns one
 * `SeedManyInput` into n `SeedInvitationInput`s; the store does the rest.
 *
 * Spreading is mixed-radix, fastest-varying first: status, catalog,
 * connection type, participant (and email domain, when given as its own
 * list). The first (product of list sizes) invitations therefore hold every
 * combination exactly once, and the spread does not depend on n.
 * A field pinned in the input wins over the spread value for that field.
 */
import {
  CONNECTION_TYPES,
  type InvitationStatus,
  type SeedInvitationInput,
  type SeedManyInput,
  type SeedParticipant,
} from "./types.js";

/** Built-in partners: distinct account ids, names and email domains (RFC 2606 `.example`). */
const NAMED_PARTICIPANTS: readonly SeedParticipant[] = [
  {
    accountId: "111122223333",
    name: "Acme Cloud Partners",
    emailDomain: "acme.example",
    profileId: "pprofile-ACME000000001",
  },
  {
    accountId: "222233334444",
    name: "Globex Consulting",
    emailDomain: "globex.example",
    profileId: "pprofile-GLOBEX0000001",
  },
  {
    accountId: "333344445555",
    name: "Initech Solutions",
    emailDomain: "initech.example",
    profileId: "pprofile-INITECH000001",
  },
  {
    accountId: "444455556666",
    name: "Umbrella Data",
    emailDomain: "umbrella.example",
    profileId: "pprofile-UMBRELLA00001",
  },
];

export const DEFAULT_PARTICIPANT_COUNT = 4;

/** The k-th built-in participant (k ≥ 0); past the named ones, generated ones with the same shape. */
export function builtInParticipant(k: number): SeedParticipant {
  const named = NAMED_PARTICIPANTS[k];
  if (named) return { ...named };
  return {
    accountId: String(500000000000 + k),
    name: `Partner ${k}`,
    emailDomain: `partner${k}.example`,
    profileId: `pprofile-P${String(k).padStart(12, "0")}`,
  };
}

function participantsOf(spec: SeedManyInput["participants"]): SeedParticipant[] {
  if (Array.isArray(spec)) {
    if (spec.length === 0) throw new Error("participants must not be empty");
    return spec.map((p) => ({ ...p }));
  }
  const count = spec ?? DEFAULT_PARTICIPANT_COUNT;
  if (!Number.isInteger(count) || count < 1) throw new Error(`participants must be an integer >= 1, got ${count}`);
  return Array.from({ length: count }, (_, k) => builtInParticipant(k));
}

function nonEmpty<T>(name: string, list: readonly T[] | undefined, fallback: readonly T[]): readonly T[] {
  if (list === undefined) return fallback;
  if (list.length === 0) throw new Error(`${name} must not be empty`);
  return list;
}

/** The n single-invitation inputs that `seedInvitations(n, input)` seeds, in order. */
export function spreadSeedInputs(n: number, input: SeedManyInput = {}): SeedInvitationInput[] {
  if (!Number.isInteger(n) || n < 0) throw new Error(`count must be an integer >= 0, got ${n}`);
  const { catalogs, statuses, connectionTypes, participants, emailDomains, ...pinned } = input;
  const statusList =
    pinned.status !== undefined ? [pinned.status] : nonEmpty<InvitationStatus>("statuses", statuses, ["PENDING"]);
  const catalogList = pinned.catalog !== undefined ? [pinned.catalog] : nonEmpty("catalogs", catalogs, ["AWS"]);
  const typeList =
    pinned.connectionType !== undefined
      ? [pinned.connectionType]
      : nonEmpty("connectionTypes", connectionTypes, CONNECTION_TYPES);
  const people = participantsOf(participants);
  const domains = emailDomains === undefined ? undefined : nonEmpty("emailDomains", emailDomains, []);

  const out: SeedInvitationInput[] = [];
  for (let i = 0; i < n; i++) {
    let rest = i;
    const pick = <T>(list: readonly T[]): T => {
      const v = list[rest % list.length]!;
      rest = Math.floor(rest / list.length);
      return v;
    };
    const status = pick(statusList);
    const catalog = pick(catalogList);
    const connectionType = pick(typeList);
    const who = pick(people);
    const emailDomain = domains ? domains[i % domains.length]! : who.emailDomain;
    out.push({
      catalog,
      status,
      connectionType,
      otherParticipantAccountId: who.accountId,
      partnerName: who.name,
      inviterName: who.inviterName ?? `Inviter at ${who.name}`,
      emailDomain,
      ...(who.profileId !== undefined ? { partnerProfileId: who.profileId } : {}),
      ...(who.kind !== undefined ? { otherParticipantKind: who.kind } : {}),
      ...definedOnly(pinned),
    });
  }
  return out;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
