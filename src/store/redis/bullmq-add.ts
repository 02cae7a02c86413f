import { Job, type JobsOptions, type Queue } from "bullmq";
import { bullmqScript } from "./lua-scripts.js";

/**
 * How our scripts add a BullMQ job in the same command as their own writes (enqueue.lua,
 * publish-outcome.lua): they include BullMQ's own addStandardJob (the script `Queue#add` runs, the
 * installed version's text) and call it with the keys and arguments BullMQ itself would send.
 * "Check, write alongside, add the job" is then one command where a WATCH … MULTI … EXEC
 * transaction is five, and a `#!lua` shebang makes a full Redis refuse it whole before it runs.
 */
export interface AddedJob {
  name: string;
  data: unknown;
  opts: JobsOptions;
  jobId: string;
}

/** How many keys BullMQ's addStandardJob takes (the first of addJobArguments' keys are these; the scripts' NB). */
export const BULLMQ_ADD_KEY_COUNT = bullmqScript("addStandardJob").keys;

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
  if (!captured?.name.startsWith("addStandardJob:") || captured.list.length !== BULLMQ_ADD_KEY_COUNT + 3) {
    throw new Error(
      `BullMQ did not build a standard add for job ${job.jobId} (got ${captured?.name ?? "nothing"}): ` +
        "a delayed or prioritized job cannot be added by our scripts",
    );
  }
  return {
    keys: captured.list.slice(0, BULLMQ_ADD_KEY_COUNT) as string[],
    args: captured.list.slice(BULLMQ_ADD_KEY_COUNT),
  };
}
