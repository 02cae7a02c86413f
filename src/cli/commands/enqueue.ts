import { producerFromConfig } from "../../app/from-config.js";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createInterface } from "node:readline";
import type { EnqueueResult, Producer } from "../../producer/producer.js";
import { validateRequest } from "../../producer/validate-request.js";
import { formatFieldIssues, type FieldIssue } from "../../schemas/issues.js";
import type { AcceptRequest } from "../../schemas/request.js";
import { createRedis } from "../../queues/connection.js";
import { prepareRuntime } from "../runtime.js";
import { intArg, parse, UsageError } from "../args.js";
import { createProgress } from "../progress.js";

export const enqueueHelp = `pc-invitations enqueue: add "accept this invitation" requests to the queue

  pc-invitations enqueue --catalog AWS --identifier pacinv-ABCDEFGHIJKLM [--client-token T]
                         [--correlation-id C] [--metadata '{"k":"v"}']
  pc-invitations enqueue --file requests.ndjson     (one JSON request per line; '-' = stdin)
  cat requests.ndjson | pc-invitations enqueue

A request line: {"catalog":"AWS","identifier":"pacinv-…","clientToken"?,"correlationId"?,"metadata"?}
Options: --batch-size N (default 500), --json (summary as JSON)
Exit: 0 all enqueued (duplicates included), 2 some lines invalid (valid ones were enqueued), 1 error.`;

const BATCH = 500;

export interface EnqueueSummary {
  read: number;
  enqueued: number;
  duplicates: number;
  invalid: Array<{ line: number; issues: FieldIssue[] }>;
  jobs?: EnqueueResult[];
}

export async function enqueueCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    catalog: { type: "string" },
    identifier: { type: "string" },
    "client-token": { type: "string" },
    "correlation-id": { type: "string" },
    metadata: { type: "string" },
    file: { type: "string" },
    "batch-size": { type: "string" },
    json: { type: "boolean" },
  });
  const single = values.catalog !== undefined || values.identifier !== undefined;
  if (single && values.file) throw new UsageError("use either --catalog/--identifier or --file, not both");
  if (!single && !values.file && process.stdin.isTTY) throw new UsageError("nothing to enqueue: give --catalog and --identifier, --file, or pipe NDJSON on stdin");
  const batchSize = intArg(values["batch-size"], "batch-size", 1) ?? BATCH;

  const { config } = await prepareRuntime("enqueue");
  const redis = createRedis(config.REDIS_URL, { cluster: config.REDIS_CLUSTER });
  const producer = producerFromConfig(config, redis);
  try {
    const summary: EnqueueSummary = { read: 0, enqueued: 0, duplicates: 0, invalid: [] };
    if (single) {
      let metadata: unknown;
      if (values.metadata !== undefined) {
        try {
          metadata = JSON.parse(values.metadata);
        } catch {
          summary.invalid.push({ line: 1, issues: [{ field: "metadata", rule: "must be valid JSON" }] });
        }
      }
      const request = {
        catalog: values.catalog,
        identifier: values.identifier,
        ...(values["client-token"] !== undefined ? { clientToken: values["client-token"] } : {}),
        ...(values["correlation-id"] !== undefined ? { correlationId: values["correlation-id"] } : {}),
        ...(metadata !== undefined ? { metadata } : {}),
      };
      summary.read = 1;
      if (summary.invalid.length === 0) await addLines(producer, [{ line: 1, raw: request }], summary, true);
    } else {
      const fromFile = values.file && values.file !== "-" ? values.file : undefined;
      const input = fromFile ? createReadStream(fromFile) : process.stdin;
      await enqueueStream(producer, input, summary, batchSize, fromFile ? (await stat(fromFile)).size : undefined);
    }
    report(summary, values.json ?? false);
    return summary.invalid.length > 0 ? 2 : 0;
  } finally {
    await producer.close();
    redis.disconnect();
  }
}

async function enqueueStream(
  producer: Producer,
  input: NodeJS.ReadableStream,
  summary: EnqueueSummary,
  batchSize: number,
  totalBytes?: number,
): Promise<void> {
  const progress = createProgress(process.stderr, totalBytes);
  const bytesRead = () => (input as { bytesRead?: number }).bytesRead ?? 0;
  let batch: Array<{ line: number; raw: unknown }> = [];
  let lineNo = 0;
  for await (const text of createInterface({ input, crlfDelay: Infinity })) {
    lineNo++;
    if (text.trim() === "") continue;
    summary.read++;
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      summary.invalid.push({ line: lineNo, issues: [{ field: "(line)", rule: "must be one JSON object" }] });
      continue;
    }
    batch.push({ line: lineNo, raw });
    if (batch.length >= batchSize) {
      await addLines(producer, batch, summary);
      batch = [];
      progress.update(summary, bytesRead());
    }
  }
  await addLines(producer, batch, summary);
  progress.done(summary);
}

/** Validates each line with the library's rules; valid ones go in one enqueueMany (addBulk). */
async function addLines(
  producer: Producer,
  lines: Array<{ line: number; raw: unknown }>,
  summary: EnqueueSummary,
  keepJobs = false,
): Promise<void> {
  const valid: AcceptRequest[] = [];
  for (const { line, raw } of lines) {
    const r = validateRequest(raw);
    if (r.ok) valid.push(r.request);
    else summary.invalid.push({ line, issues: r.issues });
  }
  if (valid.length === 0) return;
  const results = await producer.enqueueMany(valid);
  for (const r of results) r.duplicate ? summary.duplicates++ : summary.enqueued++;
  if (keepJobs) summary.jobs = results;
}

function report(summary: EnqueueSummary, json: boolean): void {
  if (json) {
    process.stdout.write(JSON.stringify(summary) + "\n");
    return;
  }
  const lines = [`read ${summary.read}, enqueued ${summary.enqueued}, duplicates ${summary.duplicates}, invalid ${summary.invalid.length}`];
  for (const job of summary.jobs ?? []) {
    lines.push(`job ${job.jobId}${job.duplicate ? " (duplicate: already queued)" : ""} clientToken=${job.clientToken} correlationId=${job.correlationId}`);
  }
  for (const bad of summary.invalid.slice(0, 100)) lines.push(`line ${bad.line}: ${formatFieldIssues(bad.issues)}`);
  if (summary.invalid.length > 100) lines.push(`… and ${summary.invalid.length - 100} more invalid lines`);
  process.stdout.write(lines.join("\n") + "\n");
}
