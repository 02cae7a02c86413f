import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { BlockList, isIP, type LookupFunction, type Socket } from "node:net";

/**
 * Where a webhook may go. Without WEBHOOK_ALLOW_PRIVATE, private, loopback, link-local and other
 * non-public addresses are refused, checked on the address actually connected to: every name is
 * resolved by our own lookup, which refuses the connection when any address it would use is not
 * public, and each socket's remote address is checked again once connected (an address given as
 * a literal IP never goes through a lookup). Redirects are never followed (a 3xx is a failed attempt).
 */
const blocked = new BlockList();
for (const [net, bits] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const) {
  blocked.addSubnet(net, bits, "ipv4");
}
for (const [net, bits] of [
  ["::", 128],
  ["::1", 128],
  ["64:ff9b::", 96],
  ["100::", 64],
  ["2001:db8::", 32],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
] as const) {
  blocked.addSubnet(net, bits, "ipv6");
}

/** Whether `address` (an IP) is private, loopback, link-local, reserved or otherwise not public. */
export function isNonPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked.check(address, "ipv4");
  if (family !== 6) return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return blocked.check(mapped, "ipv4");
  return blocked.check(address, "ipv6");
}

export class DestinationRefusedError extends Error {
  override readonly name = "DestinationRefusedError";
  readonly code = "WEBHOOK_DESTINATION_REFUSED";
  constructor(readonly address: string) {
    super(`refused: ${address} is not a public address (set WEBHOOK_ALLOW_PRIVATE=true to allow it)`);
  }
}

/** A lookup that refuses names resolving to a non-public address. */
export const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
    if (err) return callback(err, "", 0);
    const list = Array.isArray(addresses) ? addresses : [];
    const refused = list.find((a) => isNonPublicAddress(a.address));
    if (refused) return callback(new DestinationRefusedError(refused.address) as never, "", 0);
    if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, list);
    const first = list[0];
    if (!first) return callback(new Error(`no address for ${hostname}`) as never, "", 0);
    callback(null, first.address, first.family);
  });
};

function guardSocket(socket: Socket): Socket {
  socket.once("connect", () => {
    const remote = socket.remoteAddress;
    if (remote === undefined || isNonPublicAddress(remote)) socket.destroy(new DestinationRefusedError(remote ?? "?"));
  });
  return socket;
}

/** Keep-alive agents for webhook deliveries, refusing non-public destinations unless `allowPrivate`. */
export function webhookAgents(options: { allowPrivate: boolean; maxSockets: number }): {
  http: HttpAgent;
  https: HttpsAgent;
  close(): void;
} {
  const common = { keepAlive: true, maxSockets: options.maxSockets, scheduling: "fifo" as const };
  if (options.allowPrivate) {
    const http = new HttpAgent(common);
    const https = new HttpsAgent(common);
    return {
      http,
      https,
      close: () => {
        http.destroy();
        https.destroy();
      },
    };
  }
  class GuardedHttp extends HttpAgent {
    override createConnection(...args: Parameters<HttpAgent["createConnection"]>) {
      return guardSocket(super.createConnection(...args) as Socket);
    }
  }
  class GuardedHttps extends HttpsAgent {
    override createConnection(...args: Parameters<HttpsAgent["createConnection"]>) {
      return guardSocket(super.createConnection(...args) as Socket);
    }
  }
  const http = new GuardedHttp({ ...common, lookup: publicOnlyLookup } as never);
  const https = new GuardedHttps({ ...common, lookup: publicOnlyLookup } as never);
  return {
    http,
    https,
    close: () => {
      http.destroy();
      https.destroy();
    },
  };
}
