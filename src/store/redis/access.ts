import { AccessNameTakenError } from "../../errors/index.js";
import type { AccessStore, StoredSession, StoredToken, StoredUser } from "../access-store.js";
import type { RedisConnection } from "./connection.js";
import { accessKeys, sessionKey } from "./keys.js";

/**
 * The access store in Redis (keys.ts accessKeys, sessionKey), under the queue prefix so one hash
 * tag covers it on Redis Cluster. A token is written as its record (HSETNX: a name is never
 * overwritten) and its digest's entry in one MULTI; a lookup by digest cross-checks the record, so
 * a digest entry left by a refused HSETNX, or by a removal cut short, opens nothing.
 */
export function createRedisAccessStore(options: { redis: RedisConnection; prefix: string }): AccessStore {
  const { redis, prefix } = options;
  const keys = accessKeys(prefix);
  const parse = <T>(raw: string | null | undefined): T | undefined => {
    if (raw === null || raw === undefined) return undefined;
    try {
      return JSON.parse(raw) as T;
    } catch {
      return undefined;
    }
  };
  return {
    async addToken(token) {
      const replies = await redis
        .multi()
        .hsetnx(keys.tokens, token.name, JSON.stringify(token))
        .hset(keys.tokenDigests, token.digest, token.name)
        .exec();
      if (replies?.[0]?.[1] === 0) {
        await redis.hdel(keys.tokenDigests, token.digest);
        throw new AccessNameTakenError("token", token.name);
      }
    },
    async listTokens() {
      const all = await redis.hvals(keys.tokens);
      return all.flatMap((raw) => parse<StoredToken>(raw) ?? []).sort((a, b) => a.name.localeCompare(b.name));
    },
    async removeToken(name) {
      const token = parse<StoredToken>(await redis.hget(keys.tokens, name));
      if (!token) return false;
      await redis.multi().hdel(keys.tokens, name).hdel(keys.tokenDigests, token.digest).exec();
      return true;
    },
    async tokenByDigest(digest) {
      const name = await redis.hget(keys.tokenDigests, digest);
      if (name === null) return undefined;
      const token = parse<StoredToken>(await redis.hget(keys.tokens, name));
      return token?.digest === digest ? token : undefined;
    },
    async addUser(user) {
      if ((await redis.hsetnx(keys.users, user.name, JSON.stringify(user))) === 0)
        throw new AccessNameTakenError("user", user.name);
    },
    async listUsers() {
      const all = await redis.hvals(keys.users);
      return all.flatMap((raw) => parse<StoredUser>(raw) ?? []).sort((a, b) => a.name.localeCompare(b.name));
    },
    async removeUser(name) {
      return (await redis.hdel(keys.users, name)) > 0;
    },
    async user(name) {
      return parse<StoredUser>(await redis.hget(keys.users, name));
    },
    async addSession(digest, session, ttlMs) {
      await redis.set(sessionKey(prefix, digest), JSON.stringify(session), "PX", Math.max(1, Math.round(ttlMs)));
    },
    async session(digest) {
      return parse<StoredSession>(await redis.get(sessionKey(prefix, digest)));
    },
    async removeSession(digest) {
      await redis.del(sessionKey(prefix, digest));
    },
  };
}
