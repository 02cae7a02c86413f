/**
 * AWS Signature Version 4 for the emulator's own calls out (its events to SQS): a POST with a JSON
 * body to the root path, signed over host, x-amz-date and x-amz-target. Servers route on it (moto
 * reads the service from the credential scope), and a server that checks signatures can.
 */
import { createHash, createHmac } from "node:crypto";
import { formatAmzDate } from "./signature.js";

export interface SigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

const sha256 = (data: string) => createHash("sha256").update(data, "utf8").digest("hex");
const hmac = (key: Buffer | string, data: string) => createHmac("sha256", key).update(data, "utf8").digest();

/** Headers (authorization, x-amz-date, content-type, x-amz-target) for a signed awsJson POST to `url`. */
export function signedJsonHeaders(options: {
  url: URL;
  service: string;
  region: string;
  target: string;
  contentType: string;
  body: string;
  credentials: SigningCredentials;
  nowMs?: number;
}): Record<string, string> {
  const amzDate = formatAmzDate(options.nowMs ?? Date.now());
  const day = amzDate.slice(0, 8);
  const host = options.url.host;
  const headers: Record<string, string> = {
    "content-type": options.contentType,
    host,
    "x-amz-date": amzDate,
    "x-amz-target": options.target,
  };
  const names = Object.keys(headers).sort();
  const canonical = [
    "POST",
    "/",
    "",
    ...names.map((n) => `${n}:${headers[n]}`),
    "",
    names.join(";"),
    sha256(options.body),
  ].join("\n");
  const scope = `${day}/${options.region}/${options.service}/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonical)].join("\n");
  let key = hmac(`AWS4${options.credentials.secretAccessKey}`, day);
  key = hmac(key, options.region);
  key = hmac(key, options.service);
  key = hmac(key, "aws4_request");
  const signature = createHmac("sha256", key).update(toSign, "utf8").digest("hex");
  const { host: _host, ...sent } = headers;
  return {
    ...sent,
    authorization: `AWS4-HMAC-SHA256 Credential=${options.credentials.accessKeyId}/${scope}, SignedHeaders=${names.join(";")}, Signature=${signature}`,
  };
}
