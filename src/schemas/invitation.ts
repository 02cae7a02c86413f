import { z } from "zod";

/**
 * The invitation record of GetConnectionInvitation and RejectConnectionInvitation (reference
 * §4.2), as it appears in `rejected` outcome events: timestamps as ISO-8601 strings, the object
 * loose and enums plain strings, so members and values AWS adds later are kept, not dropped.
 * Required here is what the model requires of every invitation record (`InvitationMessage`,
 * `InviterEmail` and `InviterName` are only in the full record, not in list summaries).
 */
export const invitationSchema = z.looseObject({
  Catalog: z.string(),
  Id: z.string().describe("^pacinv-[A-Za-z0-9]{13}$"),
  Arn: z.string(),
  ConnectionId: z.string().optional().describe("Optional in the model: the connection of an ACCEPTED invitation."),
  ConnectionType: z.string().describe("Known values: OPPORTUNITY_COLLABORATION, SUBSIDIARY."),
  CreatedAt: z.iso.datetime({ offset: true }),
  UpdatedAt: z.iso.datetime({ offset: true }),
  ExpiresAt: z.iso.datetime({ offset: true }).optional(),
  OtherParticipantIdentifier: z.string(),
  ParticipantType: z.string().describe("Known values: SENDER, RECEIVER."),
  Status: z.string().describe("Known values: PENDING, ACCEPTED, REJECTED, CANCELED, EXPIRED."),
  InvitationMessage: z.string().optional(),
  InviterEmail: z.string().optional(),
  InviterName: z.string().optional(),
});

export type Invitation = z.infer<typeof invitationSchema>;
