import { afterAll, describe, expect, it } from "vitest";
import { SCRIPTS } from "../../src/store/redis/scripts.js";

const RELEASE_LOCK_LUA = SCRIPTS.releaseLock.lua;
import { deletePrefix, newRedis, uniquePrefix } from "../helpers/redis.js";

const redis = newRedis();
const prefix = uniquePrefix("release-lock");
afterAll(async () => {
  await deletePrefix(redis, prefix);
  redis.disconnect();
});

describe("lua/release-lock.lua (the discovery schedule's lock)", () => {
  it(
    "deletes the lock only for the token that set it: a holder " +
      "whose lock expired cannot release the next holder's",
    async () => {
      const key = `${prefix}:schedule-lock`;
      expect(await redis.set(key, "token-of-b", "PX", 60_000, "NX")).toBe("OK");
      // A, whose lock expired and was taken by B, releases late: B's lock stays.
      expect(await redis.eval(RELEASE_LOCK_LUA, 1, key, "token-of-a")).toBe(0);
      expect(await redis.get(key)).toBe("token-of-b");
      expect(await redis.eval(RELEASE_LOCK_LUA, 1, key, "token-of-b")).toBe(1);
      expect(await redis.exists(key)).toBe(0);
      // Nothing to release: 0, and nothing is created.
      expect(await redis.eval(RELEASE_LOCK_LUA, 1, key, "token-of-b")).toBe(0);
      expect(await redis.exists(key)).toBe(0);
    },
  );
});
