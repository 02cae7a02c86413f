import { createRequire } from "node:module";
import { Job, type JobsOptions, type Queue } from "bullmq";
import type { RedisConnection } from "./connection.js";

// BullMQ's own addStandardJob script, as installed: its CommonJS build (the ESM build's imports
// have no file extensions, which Node's ESM loader refuses). Not a public entry point:
// test/integration/guarded-add.test.ts fails if the layout or the script's interface changes.
const { addStandardJob } = createRequire(import.meta.url)("bullmq/dist/cjs/scripts/index.js") as {
  addStandardJob: { name: string; content: string; keys: number };
};

/**
 * One Lua script that runs a guard of ours and then BullMQ's own addStandardJob (the script
 * `Queue#add` runs, the installed version's text), so "check, write alongside, add the job" is one
 * command where a WATCH … MULTI … EXEC transaction is five. The guard sees its own keys and
 * arguments as `PKEYS` and `PARGV`; it may `return` early (the job is not added) or write, and
 * falls through to the add. BullMQ's KEYS and ARGV keep their indices: ours come after them.
 *
 * The script carries a shebang (`#!lua`), which makes Redis refuse it whole, before it runs, when
 * it is full (noeviction): the guard's writes and the job are written together or not at all.
 */
export interface GuardedAdd {
  /** Runs the guard then the add; the guard's early return value, or the job id BullMQ returns. */
  run(redis: RedisConnection, queue: Queue, job: AddedJob, guard: { keys: string[]; args: string[] }): Promise<unknown>;
}

export interface AddedJob {
  name: string;
  data: unknown;
  opts: JobsOptions;
  jobId: string;
}

/** How many keys BullMQ's addStandardJob takes (the first of addJobArguments' keys are these). */
export const BULLMQ_ADD_KEY_COUNT = addStandardJob.keys;

/**
 * BullMQ's addStandardJob as a Lua function, for scripts that add several jobs in one command
 * (the producer's enqueue, producer/enqueue-script.ts): `bullmqAddStandardJob(KEYS, ARGV)` takes
 * what addJobArguments returns (its `keys` and `args`, as two Lua tables) and returns what the
 * script returns (the job id). The script's text is wrapped unchanged: its KEYS and ARGV are the
 * function's parameters.
 */
export const BULLMQ_ADD_STANDARD_JOB_FN = `local function bullmqAddStandardJob(KEYS, ARGV)\n${addStandardJob.content}\nend`;

/**
 * Runs `lua` as the command `name` of `redis`, defined there on first use (ioredis sends EVALSHA,
 * and the script's body on NOSCRIPT). `keys` and `args` go as two arrays, which ioredis flattens:
 * a batch's arguments spread into one JavaScript call would overflow the call stack (RangeError)
 * from some 10,000 requests on.
 */
export function runScript(
  redis: RedisConnection,
  name: string,
  lua: string,
  keys: readonly string[],
  args: ReadonlyArray<string | Buffer>,
): Promise<unknown> {
  const client = redis as unknown as Record<string, unknown>;
  if (typeof client[name] !== "function") redis.defineCommand(name, { lua });
  return (client[name] as (...a: unknown[]) => Promise<unknown>).call(redis, keys.length, keys, args);
}

/** `name` is the script's command name on each connection; `guardLua` its guard (see GuardedAdd). */
export function defineGuardedAdd(name: string, guardLua: string): GuardedAdd {
  const lua = [
    "#!lua",
    `local PKEYS = { unpack(KEYS, ${BULLMQ_ADD_KEY_COUNT + 1}) }`,
    "local PARGV = { unpack(ARGV, 4) }",
    guardLua,
    addStandardJob.content,
  ].join("\n");
  return {
    run(redis, queue, job, guard) {
      const bull = addJobArguments(queue, job);
      return runScript(redis, name, lua, [...bull.keys, ...guard.keys], [...bull.args, ...guard.args]);
    },
  };
}

/**
 * The keys and arguments BullMQ's addStandardJob would be called with for `job` (its own Job
 * builds them: id, options, telemetry metadata, encoding), captured without sending anything.
 */
export function addJobArguments(queue: Queue, job: AddedJob): { keys: string[]; args: Array<string | Buffer> } {
  let captured: { name: string; list: Array<string | Buffer> } | undefined;
  const recorder = {
    runCommand(commandName: string, list: Array<string | Buffer>) {
      captured = { name: commandName, list };
      return recorder;
    },
  };
  void new Job(queue, job.name, job.data, { ...job.opts, jobId: job.jobId }, job.jobId)
    .addJob(recorder as never)
    .catch(() => undefined);
  if (!captured?.name.startsWith(`${addStandardJob.name}:`) || captured.list.length !== BULLMQ_ADD_KEY_COUNT + 3) {
    throw new Error(
      `BullMQ did not build a standard add for job ${job.jobId} (got ${captured?.name ?? "nothing"}): a delayed or prioritized job cannot be added by a guarded add`,
    );
  }
  return {
    keys: captured.list.slice(0, BULLMQ_ADD_KEY_COUNT) as string[],
    args: captured.list.slice(BULLMQ_ADD_KEY_COUNT),
  };
}
