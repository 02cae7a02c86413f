import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createProducer } from "../../src/producer/producer.js";
import { createRedis, type RedisConnection } from "../../src/store/redis/connection.js";
import { REDIS_URL, deletePrefix, newRedis, uniquePrefix } from "../helpers/redis.js";
import { hasRedisBinaries, startRedisCluster, type RedisCluster } from "../helpers/redis-cluster.js";

/**
 * A producer closed right after it was created (a CLI run that enqueues one line, a server that
 * fails to start, a test) must close cleanly: no unhandled rejection, no "Connection is closed"
 * printed by BullMQ, no hang, and nothing left open. On a single Redis and on a Cluster, with the
 * caller's connection shared or fresh (created just before, as the CLI does).
 */
const ROUNDS = 200;
const clusterAvailable = await hasRedisBinaries();

async function createAndCloseRepeatedly(
  connect: () => RedisConnection,
  shared: boolean,
  prefix: string,
): Promise<string[]> {
  const problems: string[] = [];
  const onRejection = (reason: unknown) =>
    problems.push(`unhandled rejection: ${String((reason as Error)?.message ?? reason)}`);
  const onException = (err: Error) => problems.push(`uncaught: ${err.message}`);
  process.on("unhandledRejection", onRejection);
  process.on("uncaughtException", onException);
  const printed = vi
    .spyOn(console, "error")
    .mockImplementation((...args: unknown[]) => void problems.push(`console.error: ${String(args[0])}`));
  const sharedConnection = shared ? connect() : undefined;
  try {
    for (let i = 0; i < ROUNDS; i++) {
      const connection = sharedConnection ?? connect();
      const producer = createProducer({ redis: connection, prefix });
      // Half of them enqueue first (the CLI's path), half close at once (a failed start-up).
      if (i % 2 === 0)
        await producer.enqueue({ catalog: "AWS", identifier: `pacinv-CLOSE${String(i % 10).padStart(8, "0")}` });
      await producer.close();
      if (!sharedConnection) await connection.quit().catch(() => connection.disconnect());
    }
    // Anything a close left pending would fail within this time.
    await new Promise((r) => setTimeout(r, 500));
  } finally {
    sharedConnection?.disconnect();
    process.off("unhandledRejection", onRejection);
    process.off("uncaughtException", onException);
    printed.mockRestore();
  }
  return problems;
}

describe("closing a producer right after creating it", () => {
  const admin = newRedis();
  afterAll(() => admin.disconnect());

  it.each([
    ["fresh", false],
    ["shared", true],
  ] as const)(`single Redis, %s connection, ${ROUNDS} times: no error anywhere`, async (_name, shared) => {
    const prefix = uniquePrefix("close-single");
    try {
      const problems = await createAndCloseRepeatedly(() => createRedis(REDIS_URL), shared, prefix);
      expect(problems).toEqual([]);
    } finally {
      await deletePrefix(admin, prefix);
    }
  });

  describe.skipIf(!clusterAvailable)("on a Redis Cluster", () => {
    let cluster: RedisCluster;
    beforeAll(async () => {
      cluster = await startRedisCluster(3);
    }, 60_000);
    // biome-ignore lint/suspicious/noDuplicateTestHooks: this describe's own cluster, not the file's hook
    afterAll(async () => {
      await cluster?.stop();
    });

    it.each([
      ["fresh", false],
      ["shared", true],
    ] as const)(`%s connection, ${ROUNDS} times: no error anywhere`, async (_name, shared) => {
      const url = `redis://127.0.0.1:${cluster.ports[0]}`;
      const problems = await createAndCloseRepeatedly(
        () => createRedis(url, { cluster: true }),
        shared,
        uniquePrefix("close-cluster"),
      );
      expect(problems).toEqual([]);
    });
  });
});
