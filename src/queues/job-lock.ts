/**
 * BullMQ's lock of a job: the string key `<prefix>:<queue>:<jobId>:lock`, holding the token of the
 * worker run that owns the job (the `token` a processor receives) for `lockDuration` ms, renewed
 * while the run lives. A run whose token is no longer there has lost the job to another worker.
 *
 * This is BullMQ's internal layout, not its API: test/integration/job-lock.test.ts fails if a
 * BullMQ upgrade moves it, because the outcome fence (outcomes/publish-script.ts) reads this key
 * and a cancel (outcomes/publish.ts) WATCHes it.
 */
export function jobLockKey(prefix: string, queueName: string, jobId: string): string {
  return `${prefix}:${queueName}:${jobId}:lock`;
}
