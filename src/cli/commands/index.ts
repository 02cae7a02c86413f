import type { AnyDefinition } from "../define-command.js";
import { cancel } from "./cancel.js";
import { completion } from "./completion.js";
import { demo } from "./demo.js";
import { discover } from "./discover.js";
import { emulator } from "./emulator.js";
import { enqueue } from "./enqueue.js";
import { exportSchemas } from "./export-schemas.js";
import { healthcheck } from "./healthcheck.js";
import { held } from "./held.js";
import { decide } from "./decide.js";
import { history } from "./history.js";
import { ingest } from "./ingest.js";
import { limits } from "./limits.js";
import { outcomes } from "./outcomes.js";
import { redrive } from "./redrive.js";
import { schedules } from "./schedules.js";
import { serve } from "./serve.js";
import { status } from "./status.js";
import { worker } from "./worker.js";
import { tokens, users } from "./access.js";
import { deliver } from "./deliver.js";
import { webhooks } from "./webhooks.js";

/**
 * Every command of pc-invitations, in the order `pc-invitations --help` lists them. A new
 * command: one file in this folder (defineCommand, docs/cli.md) and one line here.
 */
export const commands: readonly AnyDefinition[] = [
  enqueue,
  discover,
  ingest,
  cancel,
  redrive,
  status,
  outcomes,
  history,
  limits,
  worker,
  serve,
  emulator,
  demo,
  healthcheck,
  exportSchemas,
  held,
  decide,
  schedules,
  completion,
  tokens,
  users,
  deliver,
  webhooks,
];
