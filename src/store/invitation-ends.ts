/**
 * What the event intake remembers of invitations that ended (the sender canceled, or it expired):
 * so an event that arrives late (Received after Cancelled: EventBridge and SQS keep no order)
 * enqueues nothing for an invitation that can no longer be accepted. Written before the intake
 * looks for a request to cancel, read after a Received event's request is written: whichever of
 * the two events is handled second sees the other's write, so a request is never left queued for an
 * invitation the intake knows ended.
 */
export interface InvitationEnds {
  /** Remembers that the invitation ended (`status`: CANCELED, EXPIRED) for `ttlSeconds`. */
  mark(end: InvitationEnd, ttlSeconds: number): Promise<void>;
  /** How the invitation ended, when the intake was told. */
  read(catalog: string, identifier: string): Promise<InvitationEnd | undefined>;
}

export interface InvitationEnd {
  catalog: string;
  identifier: string;
  status: string;
  /** The event that said so. */
  eventId: string;
  /** When it ended (the event's time). */
  at: string;
}

/** The same promises in memory, for unit tests (ttl ignored). */
export function createMemoryInvitationEnds(): InvitationEnds & { ends: Map<string, InvitationEnd> } {
  const ends = new Map<string, InvitationEnd>();
  const k = (catalog: string, identifier: string) => `${catalog}\u0000${identifier}`;
  return {
    ends,
    async mark(end) {
      if (!ends.has(k(end.catalog, end.identifier))) ends.set(k(end.catalog, end.identifier), { ...end });
    },
    async read(catalog, identifier) {
      const end = ends.get(k(catalog, identifier));
      return end ? { ...end } : undefined;
    },
  };
}
