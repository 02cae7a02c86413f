import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

export interface Receipt {
  id: string;
  status: number;
  verified: boolean;
  body: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
  at: number;
}

export interface Receiver {
  url: string;
  port: number;
  receipts: Receipt[];
  /** The secrets a signature may verify with (set after the endpoint is added). */
  secrets: string[];
  /** Event ids answered 2xx at least once. */
  delivered(): Set<string>;
  /** Stops listening (connections refused) until `up()`. */
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A real local webhook receiver: verifies every request with the `standardwebhooks` package
 * (an implementation independent of ours) against `secrets`, records it, and answers what
 * `answer` says (a status, after an optional delay, with optional headers).
 */
export async function startReceiver(
  answer: (
    req: IncomingMessage,
    n: number,
  ) => { status: number; delayMs?: number; headers?: Record<string, string> } = () => ({
    status: 204,
  }),
): Promise<Receiver> {
  const receipts: Receipt[] = [];
  const r: Receiver = {
    url: "",
    port: 0,
    receipts,
    secrets: [],
    delivered: () => new Set(receipts.filter((x) => x.status < 300 && x.verified).map((x) => x.id)),
    down: async () => {},
    up: async () => {},
    close: async () => {},
  };
  let n = 0;
  const handler = (req: IncomingMessage, res: import("node:http").ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      const headers = req.headers as Record<string, string>;
      const verified = r.secrets.some((secret) => {
        try {
          new Webhook(secret).verify(raw, headers);
          return true;
        } catch {
          return false;
        }
      });
      const a = answer(req, n++);
      const reply = () => {
        receipts.push({
          id: String(headers["webhook-id"]),
          status: a.status,
          verified,
          body: JSON.parse(raw) as Record<string, unknown>,
          headers,
          at: Date.now(),
        });
        res.writeHead(a.status, a.headers ?? {}).end();
      };
      if (a.delayMs) setTimeout(reply, a.delayMs);
      else reply();
    });
  };
  let server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  r.port = (server.address() as AddressInfo).port;
  r.url = `http://127.0.0.1:${r.port}/hook`;
  const stop = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  r.down = stop;
  r.up = async () => {
    server = createServer(handler);
    await new Promise<void>((resolve) => server.listen(r.port, "127.0.0.1", resolve));
  };
  r.close = () => (server.listening ? stop() : Promise.resolve());
  return r;
}
