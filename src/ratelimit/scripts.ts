import { loadLuaScript } from "../store/redis/lua-scripts.js";

/**
 * The shared rate limiter's Lua scripts (ratelimit/lua/*.lua; includes/prelude.lua documents the
 * limit's hash). Each runs atomically on the Redis server that holds the limit's hash, on Redis
 * time, and touches exactly one key, so they run unchanged on Redis Cluster.
 */
const dir = new URL("./lua/", import.meta.url);

export const RATE_LIMIT_SCRIPTS = {
  acquire: loadLuaScript(dir, "acquire", "pciRateLimitAcquire"),
  throttle: loadLuaScript(dir, "throttle", "pciRateLimitThrottle"),
  success: loadLuaScript(dir, "success", "pciRateLimitSuccess"),
  state: loadLuaScript(dir, "get-state", "pciRateLimitState"),
  set: loadLuaScript(dir, "set", "pciRateLimitSet"),
} as const;

/** Fields returned by get-state.lua and set.lua (includes/read-state.lua), in this order. */
export const STATE_FIELDS = [
  "stored",
  "now",
  "ceiling",
  "burst",
  "minRate",
  "rate",
  "retryRatio",
  "retryMin",
  "throttles",
  "throttledAt",
  "decreasedAt",
  "blockedUntil",
  "tat",
  "calls",
  "retries",
  "bg",
] as const;
