import { z } from "zod";

/**
 * The Connection returned by AcceptConnectionInvitation, as it appears in outcome events
 * (timestamps as ISO-8601 strings). Objects are loose and enums/map keys are plain strings,
 * so values AWS adds later (a new ConnectionType, a new Participant member, a new Status)
 * are preserved, not dropped. Known values are listed in the descriptions.
 */
export const participantSchema = z
  .looseObject({
    PartnerProfile: z.looseObject({ Id: z.string(), Name: z.string() }).optional(),
    SellerProfile: z.looseObject({ Id: z.string(), Name: z.string() }).optional(),
    Account: z.looseObject({ Name: z.string() }).optional(),
  })
  .describe("Union: exactly one of PartnerProfile | SellerProfile | Account, or a member unknown today (kept as is).");

export const connectionTypeDetailSchema = z.looseObject({
  CreatedAt: z.iso.datetime({ offset: true }),
  InviterEmail: z.string(),
  InviterName: z.string(),
  Status: z.string().describe("Known values: ACTIVE, CANCELED."),
  CanceledAt: z.iso.datetime({ offset: true }).optional(),
  CanceledBy: z.string().optional(),
  OtherParticipant: participantSchema,
});

export const connectionSchema = z.looseObject({
  Id: z.string().describe("^pac-[A-Za-z0-9]{13}$"),
  Arn: z.string(),
  Catalog: z.string(),
  OtherParticipantAccountId: z.string(),
  UpdatedAt: z.iso.datetime({ offset: true }),
  ConnectionTypes: z
    .record(z.string(), connectionTypeDetailSchema)
    .describe("Keyed by ConnectionType. Known keys: OPPORTUNITY_COLLABORATION, SUBSIDIARY."),
});

export type Connection = z.infer<typeof connectionSchema>;
export type Participant = z.infer<typeof participantSchema>;
