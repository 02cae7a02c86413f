/**
 * Local emulator of the AWS Partner Central Account API (awsJson1_0) for
 * exercising the real `@aws-sdk/client-partnercentral-account` client over
 * real HTTP. Self-contained: depends only on node builtins and zod.
 * docs/emulator.md describes every operation and switch.
 */
export { PartnerCentralEmulator, TARGET_PREFIX } from "./server.js";
export { runEmulatorCli, type EmulatorCliOptions } from "./cli.js";
export { CONTROL_PREFIX, type ControlTarget } from "./control.js";
export { THROTTLED_OPERATIONS } from "./faults.js";
export { ERROR_TYPE_HEADER } from "./answer-style.js";
export { DEFAULT_MAX_RESULTS } from "./paging.js";
export { DEFAULT_PARTICIPANT_COUNT, builtInParticipant } from "./seeding.js";
export { OPTIONAL_OUTPUT_MEMBERS, SWITCH_NAMES, switchesSchema } from "./switches.js";
export {
  PATTERNS,
  collectViolations,
  type InputRules,
  type IntegerRule,
  type MemberRule,
  type StringListRule,
  type StringRule,
} from "./validation.js";
export { HANDLERS, OPERATION_RULES, isOperationName, type OperationName } from "./operations.js";
export {
  DEFAULT_REASONS,
  ERROR_NAMESPACE,
  ERROR_STATUS,
  FRONT_DOOR_NAMESPACE,
  JSON_CONTENT_TYPE,
  type FieldValidationError,
  type ModeledErrorName,
} from "./wire.js";
export {
  CONFLICT_REASONS,
  CONNECTION_TYPE_STATUSES,
  CONNECTION_TYPES,
  FRONT_DOOR_ERROR_NAMES,
  INVITATION_STATUSES,
  PARTICIPANT_KINDS,
  PARTICIPANT_TYPES,
  type CallFilter,
  type ConflictReason,
  type ConnectionRecord,
  type ConnectionType,
  type ConnectionTypeDetail,
  type ConnectionTypeStatus,
  type EmulatorOptions,
  type EmulatorSwitches,
  type FaultSettings,
  type FrontDoorErrorName,
  type InvitationRecord,
  type InvitationStatus,
  type Participant,
  type ParticipantKind,
  type ParticipantType,
  type RecordedCall,
  type ScriptedErrorName,
  type ScriptedFailure,
  type SeededInvitation,
  type SeededInvitationDetail,
  type SeedInvitationInput,
  type SeedManyInput,
  type SeedParticipant,
} from "./types.js";
