import { expect } from "vitest";
import { type ErrorCode, PROBLEM_TYPES } from "../../src/http/problem-types.js";

/** An answer as fetch (Headers), Fastify's inject (a record of headers) or a raw socket give it. */
export interface AnswerLike {
  status?: number;
  statusCode?: number;
  headers: Headers | Record<string, unknown>;
  body: unknown;
}

/**
 * Asserts an RFC 9457 problem of kind `code`: `application/problem+json`, the kind's status, the
 * standard members (`type` `/problems/<kind>`, its title, `status`, a `detail`, `instance` the
 * request's path), the stable `code` and its deprecated aliases `error` and `message`, no stack
 * trace, and whatever else `fields` lists. `instance: null`: the answer must have none (Node
 * refused the request before its path was known).
 */
export function expectProblem(
  answer: AnswerLike,
  code: ErrorCode,
  fields: { instance?: string | null; [member: string]: unknown } = {},
): void {
  const { instance, ...rest } = fields;
  const status = answer.status ?? answer.statusCode;
  const contentType =
    answer.headers instanceof Headers ? answer.headers.get("content-type") : answer.headers["content-type"];
  const label = `${code}: ${JSON.stringify(answer.body)?.slice(0, 300)}`;
  expect(status, label).toBe(PROBLEM_TYPES[code].status);
  expect(contentType, label).toMatch(/^application\/problem\+json(;|$)/);
  const body = answer.body as Record<string, unknown>;
  expect(body, label).toMatchObject({
    type: `/problems/${code.toLowerCase().replaceAll("_", "-")}`,
    title: PROBLEM_TYPES[code].title,
    status,
    detail: expect.any(String),
    code,
    error: code,
    ...rest,
  });
  expect((body.detail as string).length, label).toBeGreaterThan(0);
  expect(body.message, label).toBe(body.detail);
  if (instance === null) expect(body, label).not.toHaveProperty("instance");
  else if (instance !== undefined) expect(body.instance, label).toBe(instance);
  else expect(body.instance, label).toMatch(/^\//);
  expect(JSON.stringify(body), label).not.toMatch(/\bat .+:\d+:\d+|"stack"/);
}

/** The status line, headers (lower-case names) and JSON body of one raw HTTP/1.1 answer. */
export function parseRawAnswer(raw: string): { status: number; headers: Record<string, string>; body: unknown } {
  const [head = "", ...rest] = raw.split("\r\n\r\n");
  const [statusLine = "", ...lines] = head.split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine.split(" ")[1]), headers, body: JSON.parse(rest.join("\r\n\r\n")) };
}
