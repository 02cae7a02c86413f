import { request as httpRequest, type Agent as HttpAgent } from "node:http";
import { request as httpsRequest, type Agent as HttpsAgent } from "node:https";
import { DestinationRefusedError } from "./destination.js";

export interface PostOptions {
  agents: { http: HttpAgent; https: HttpsAgent };
  /** The whole attempt's bound (connect, send, answer), ms. */
  timeoutMs: number;
  /** At most this much of the answer is read; the connection is dropped past it. */
  maxResponseBytes: number;
}

/** What one POST came to. */
export type PostResult =
  | { kind: "answer"; status: number; retryAfterMs: number | null; latencyMs: number; body: string }
  | { kind: "no-answer"; error: string; refused: boolean; latencyMs: number };

/**
 * One webhook POST: no redirect followed, bounded in time (`timeoutMs` for the whole exchange)
 * and in what is read (`maxResponseBytes`: the rest is not read and the socket is destroyed).
 */
export function postWebhook(
  url: URL,
  headers: Record<string, string>,
  body: string,
  options: PostOptions,
): Promise<PostResult> {
  const started = performance.now();
  const latency = () => performance.now() - started;
  const send = url.protocol === "https:" ? httpsRequest : httpRequest;
  const agent = url.protocol === "https:" ? options.agents.https : options.agents.http;
  return new Promise<PostResult>((resolve) => {
    let done = false;
    const finish = (result: PostResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(result);
    };
    const req = send(url, {
      method: "POST",
      agent: agent as never,
      headers: { ...headers, "content-length": String(Buffer.byteLength(body)) },
    });
    const timer = setTimeout(() => {
      req.destroy(new Error(`no answer within ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    req.on("error", (err) => {
      const refused =
        err instanceof DestinationRefusedError || (err as { cause?: unknown }).cause instanceof DestinationRefusedError;
      finish({ kind: "no-answer", error: err.message, refused, latencyMs: latency() });
    });
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const answer = () =>
        finish({
          kind: "answer",
          status: res.statusCode ?? 0,
          retryAfterMs: parseRetryAfter(res.headers["retry-after"]),
          latencyMs: latency(),
          body: Buffer.concat(chunks).toString("utf8", 0, Math.min(size, 1024)),
        });
      res.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size <= options.maxResponseBytes) chunks.push(chunk);
        else {
          // Past the cap: the answer's status is what counts; the rest is not read.
          answer();
          res.destroy();
          req.destroy();
        }
      });
      res.on("end", answer);
      res.on("error", answer);
    });
    req.end(body);
  });
}

/** Retry-After as ms from now: delay-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, nowMs = Date.now()): number | null {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text.trim() === "") return null;
  if (/^\d+$/.test(text.trim())) return Number(text.trim()) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
}
