import { producerFromConfig } from "../../app/from-config.js";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { EnqueueResult, Producer } from "../../producer/producer.js";
import { validateRequest } from "../../producer/validate-request.js";
import { PcInvitationsError } from "../../errors/index.js";
import { enqueueEach } from "../../producer/enqueue-each.js";
import { formatFieldIssues, type FieldIssue } from "../../schemas/issues.js";
import type { AcceptRequest } from "../../contracts/request.js";
import { createRedis } from "../../store/redis/connection.js";
import { prepareRuntime } from "../runtime.js";
import { intArg, UsageError } from "../args.js";
import { defineCommand, type OptionValues } from "../define-command.js";
import { createProgress } from "../progress.js";
import { ndjsonLines } from "../ndjson-lines.js";

const details = `Examples:
  pc-invitations enqueue --catalog AWS --identifier pacinv-ABCDEFGHIJKLM [--client-token T]
                         [--correlation-id C] [--metadata '{"k":"v"}'] [--idempotency-key K]
                         [--action reject [--reason TEXT]]
  pc-invitations enqueue --file requests.ndjson     (one JSON request per line; '-' = stdin)
  cat requests.ndjson | pc-invitations enqueue

A request line: {"catalog":"AWS","identifier":"pacinv-…","action"?:"accept"|"reject","reason"?,
                 "clientToken"?,"correlationId"?,"metadata"?,"idempotencyKey"?}
(at most ${64 * 1024} bytes, its \\n or \\r\\n not counted; a UTF-8 byte order mark at the start of the input is ignored)
Every line is enqueued unless it is invalid or reuses an idempotency key with another payload
(a conflict); each refused line is listed with its number and reason.
Exit: 0 all enqueued (duplicates included), 2 some lines refused (the others were enqueued),
3 Redis unreachable or credentials refused, 4 Redis full (the summary says how far it got), 1 error.`;

const BATCH = 500;
/** Longest accepted NDJSON line, bytes: a request is at most a few KiB (metadata ≤ 4 KiB, escaped). */
export const MAX_LINE_BYTES = 64 * 1024;

export interface LineConflict {
  line: number;
  idempotencyKey: string;
  /** Fields whose value differs from the request that holds the key. */
  differences: string[];
  /** The job of the request that holds the key. */
  existingJobId: string;
}

export interface EnqueueSummary {
  /** Non-blank lines read. */
  read: number;
  enqueued: number;
  duplicates: number;
  conflicts: LineConflict[];
  invalid: Array<{ line: number; issues: FieldIssue[] }>;
  /** Set when Redis stopped the run (full, gone): this line and every later one were not enqueued. */
  stoppedAtLine?: number;
  jobs?: EnqueueResult[];
}

const options = {
  catalog: { type: "string", description: "the invitation's catalog (AWS, Sandbox)" },
  identifier: { type: "string", description: "the invitation id (pacinv-…)" },
  action: { type: "string", description: "accept (default) or reject" },
  reason: { type: "string", description: "why (a reject only)", valueName: "TEXT" },
  "client-token": { type: "string", description: "the ClientToken sent to AWS (default: derived)", valueName: "T" },
  "correlation-id": { type: "string", description: "your id, carried to the outcome event", valueName: "C" },
  "idempotency-key": { type: "string", description: "one request per key (default: none)", valueName: "K" },
  metadata: { type: "string", description: "a JSON object carried to the outcome event", valueName: "JSON" },
  file: { type: "string", description: "NDJSON requests, one per line ('-' = stdin)", valueName: "FILE" },
  "batch-size": { type: "string", description: "lines per Redis round trip (default 500)", valueName: "N" },
} as const;

export const enqueue = defineCommand({
  name: "enqueue",
  summary: 'add "accept (or reject) this invitation" requests to the queue',
  options,
  details,
  // The summary is the same for people and scripts until the output conventions land (docs/cli.md).
  output: { formats: ["json", "table"], tty: "table", piped: "table" },
  run: ({ values, output }) => enqueueCommand(values, output === "json"),
});

async function enqueueCommand(values: OptionValues<typeof options>, json: boolean): Promise<number> {
  const single = values.catalog !== undefined || values.identifier !== undefined;
  if (single && values.file) throw new UsageError("use either --catalog/--identifier or --file, not both");
  if (!single && !values.file && process.stdin.isTTY)
    throw new UsageError("nothing to enqueue: give --catalog and --identifier, --file, or pipe NDJSON on stdin");
  const batchSize = intArg(values["batch-size"], "batch-size", 1) ?? BATCH;
  const fromFile = values.file && values.file !== "-" ? values.file : undefined;
  const fileSize = fromFile
    ? await stat(fromFile).then(
        (s) => {
          // A directory stats fine and fails only when read, after Redis: say so now, as for a missing file.
          if (s.isDirectory()) throw new UsageError(`cannot read --file ${fromFile}: EISDIR (it is a directory)`);
          return s.size;
        },
        (err: NodeJS.ErrnoException) => {
          throw new UsageError(`cannot read --file ${fromFile}: ${err.code ?? err.message}`);
        },
      )
    : undefined;

  const { config } = await prepareRuntime("enqueue", { writes: true });
  const redis = createRedis(config.REDIS_URL, { cluster: config.REDIS_CLUSTER });
  const producer = producerFromConfig(config, redis);
  const summary: EnqueueSummary = { read: 0, enqueued: 0, duplicates: 0, conflicts: [], invalid: [] };
  try {
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
        ...(values.action !== undefined ? { action: values.action } : {}),
        ...(values.reason !== undefined ? { reason: values.reason } : {}),
        ...(values["client-token"] !== undefined ? { clientToken: values["client-token"] } : {}),
        ...(values["correlation-id"] !== undefined ? { correlationId: values["correlation-id"] } : {}),
        ...(values["idempotency-key"] !== undefined ? { idempotencyKey: values["idempotency-key"] } : {}),
        ...(metadata !== undefined ? { metadata } : {}),
      };
      summary.read = 1;
      if (summary.invalid.length === 0) await addLines(producer, [{ line: 1, raw: request }], summary, true);
    } else {
      const input = fromFile ? createReadStream(fromFile) : process.stdin;
      await enqueueStream(producer, input, summary, batchSize, fileSize);
    }
  } catch (err) {
    // Redis stopped the run (full, gone): say how far it got before main prints the reason.
    if (err instanceof PcInvitationsError && !single) report(summary, json);
    throw err;
  } finally {
    await producer.close();
    await redis.quit().catch(() => redis.disconnect());
  }
  report(summary, json);
  return summary.invalid.length > 0 || summary.conflicts.length > 0 ? 2 : 0;
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
  let lastLine = 0;
  const flush = async () => {
    try {
      await addLines(producer, batch, summary);
    } catch (err) {
      summary.stoppedAtLine = batch[0]?.line ?? lastLine;
      throw err;
    }
    batch = [];
  };
  for await (const item of ndjsonLines(input as AsyncIterable<Buffer>, MAX_LINE_BYTES)) {
    lastLine = item.lineNo;
    if ("tooLong" in item) {
      summary.read++;
      summary.invalid.push({
        line: item.lineNo,
        issues: [
          { field: "(line)", rule: `must be at most ${MAX_LINE_BYTES} bytes (this one has ${item.bytes} bytes)` },
        ],
      });
      continue;
    }
    if (item.text.trim() === "") continue;
    summary.read++;
    let raw: unknown;
    try {
      raw = JSON.parse(item.text);
    } catch {
      summary.invalid.push({ line: item.lineNo, issues: [{ field: "(line)", rule: "must be one JSON object" }] });
      continue;
    }
    batch.push({ line: item.lineNo, raw });
    if (batch.length >= batchSize) {
      await flush();
      progress.update(summary, bytesRead());
    }
  }
  await flush();
  progress.done(summary);
}

/**
 * Validates each line with the library's rules; the valid ones go in one enqueueMany (one script).
 * Lines that reuse an idempotency key with another payload refuse the whole call (that is the
 * library's rule for a batch): enqueueEach sets them aside as conflicts, all at once, and sends
 * the batch again without them.
 */
async function addLines(
  producer: Producer,
  lines: Array<{ line: number; raw: unknown }>,
  summary: EnqueueSummary,
  keepJobs = false,
): Promise<void> {
  const valid: Array<{ line: number; request: AcceptRequest }> = [];
  for (const { line, raw } of lines) {
    const r = validateRequest(raw);
    if (r.ok) valid.push({ line, request: r.request });
    else summary.invalid.push({ line, issues: r.issues });
  }
  const conflicts: LineConflict[] = [];
  const jobs: EnqueueResult[] = [];
  const dispositions = await enqueueEach(
    (requests) => producer.enqueueMany(requests),
    valid.map((v) => v.request),
    (requests) => producer.preview(requests),
  );
  dispositions.forEach((d, i) => {
    if (d.disposition === "conflict") {
      conflicts.push({
        line: valid[i]!.line,
        idempotencyKey: d.idempotencyKey,
        differences: d.differences,
        existingJobId: d.existingJobId,
      });
      return;
    }
    if (d.disposition === "duplicate") summary.duplicates++;
    else summary.enqueued++;
    if (d.result) jobs.push(d.result);
  });
  if (keepJobs && dispositions.some((d) => d.disposition !== "conflict")) summary.jobs = jobs;
  summary.conflicts.push(...conflicts.sort((a, b) => a.line - b.line));
}

function report(summary: EnqueueSummary, json: boolean): void {
  summary.invalid.sort((a, b) => a.line - b.line);
  if (json) {
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return;
  }
  const lines = [
    `read ${summary.read}, enqueued ${summary.enqueued}, duplicates ${summary.duplicates}, conflicts ${summary.conflicts.length}, invalid ${summary.invalid.length}` +
      (summary.stoppedAtLine !== undefined
        ? `; stopped at line ${summary.stoppedAtLine} (it and later lines were not enqueued)`
        : ""),
  ];
  for (const job of summary.jobs ?? []) {
    lines.push(
      `job ${job.jobId}${job.duplicate ? " (duplicate: already queued)" : ""} clientToken=${job.clientToken} correlationId=${job.correlationId}`,
    );
  }
  const refused = [
    ...summary.invalid.map((bad) => ({ line: bad.line, text: formatFieldIssues(bad.issues) })),
    ...summary.conflicts.map((c) => ({
      line: c.line,
      text: `idempotencyKey: "${c.idempotencyKey}" is already used with a different payload (differs in: ${c.differences.join(", ")}); existing job ${c.existingJobId}`,
    })),
  ].sort((a, b) => a.line - b.line);
  for (const r of refused.slice(0, 100)) lines.push(`line ${r.line}: ${r.text}`);
  if (refused.length > 100) lines.push(`… and ${refused.length - 100} more refused lines`);
  process.stdout.write(`${lines.join("\n")}\n`);
}
