import type { Server } from "node:http";
import type { Socket } from "node:net";

/**
 * Caps the open connections of `server` at `max` without locking real clients out. When one more
 * arrives, the oldest connection with no request in progress (idle between keep-alive requests, or
 * still sending its headers: a slow or hostile client) is closed to make room; only when every
 * connection is serving a request is the new one closed instead. So a pile of idle or trickling
 * sockets can never hold the last file descriptors, and a client that sends a request gets served.
 * (Node's `server.maxConnections` would refuse the newcomer, i.e. the real client.)
 * Returns the number of open connections, for tests and metrics.
 */
export function capConnections(server: Server, max: number): { open(): number } {
  // Insertion order = age: the first entry is the oldest connection.
  const inProgress = new Map<Socket, number>();
  server.on("connection", (socket: Socket) => {
    inProgress.set(socket, 0);
    socket.once("close", () => inProgress.delete(socket));
    if (inProgress.size <= max) return;
    for (const [candidate, requests] of inProgress) {
      if (requests === 0 && candidate !== socket) {
        candidate.destroy();
        inProgress.delete(candidate);
        return;
      }
    }
    socket.destroy();
    inProgress.delete(socket);
  });
  server.on("request", (request, response) => {
    const socket = request.socket;
    const n = inProgress.get(socket);
    if (n === undefined) return;
    inProgress.set(socket, n + 1);
    response.once("close", () => {
      const left = inProgress.get(socket);
      if (left !== undefined) inProgress.set(socket, Math.max(0, left - 1));
    });
  });
  return { open: () => inProgress.size };
}
