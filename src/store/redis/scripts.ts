import { loadLuaScript } from "./lua-scripts.js";

/** The store's Lua scripts (lua/*.lua: each file's header says its keys, arguments, reply and guarantee). */
const dir = new URL("./lua/", import.meta.url);

export const SCRIPTS = {
  enqueue: loadLuaScript(dir, "enqueue", "pciEnqueue"),
  readRecords: loadLuaScript(dir, "read-records", "pciReadRecords"),
  queueRecords: loadLuaScript(dir, "queue-records", "pciQueueRecords"),
  completeRecord: loadLuaScript(dir, "complete-record", "pciCompleteRecord"),
  publishOutcome: loadLuaScript(dir, "publish-outcome", "pciPublishOutcome"),
  countRevival: loadLuaScript(dir, "count-revival", "pciCountRevival"),
  releaseLock: loadLuaScript(dir, "release-lock", "pciReleaseLock"),
  holdLease: loadLuaScript(dir, "hold-lease", "pciHoldLease"),
  webhookFanOut: loadLuaScript(dir, "webhook-fan-out", "pciWebhookFanOut"),
  webhookClaim: loadLuaScript(dir, "webhook-claim", "pciWebhookClaim"),
  webhookSettle: loadLuaScript(dir, "webhook-settle", "pciWebhookSettle"),
  recordHeld: loadLuaScript(dir, "record-held", "pciRecordHeld"),
  closeHeld: loadLuaScript(dir, "close-held", "pciCloseHeld"),
  publishNotice: loadLuaScript(dir, "publish-notice", "pciPublishNotice"),
} as const;
