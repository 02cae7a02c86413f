import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";

export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/** A hash-tagged prefix unique to one test, like the production default `{pci}`. */
export function uniquePrefix(label = "t"): string {
  return `{pci-test-${label}-${randomBytes(4).toString("hex")}}`;
}

export { deletePrefix } from "../../src/store/redis/delete-prefix.js";

export function newRedis(url = REDIS_URL): Redis {
  return new Redis(url, { maxRetriesPerRequest: null });
}
