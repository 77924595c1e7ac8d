// What a stream knows of the downstream connection it came on, for HTTP exchanges and TCP
// connections alike: Envoy's connection.id and the two ends' addresses.
import type { Socket } from "node:net";
import type { StreamInfo } from "../stream-info.ts";

const connectionIds = new WeakMap<Socket, number>();
let nextConnectionId = 1;

/** The connection's id, numbered as connections are first seen (connection.id). */
export function connectionId(socket: Socket): number {
  let id = connectionIds.get(socket);
  if (id === undefined) connectionIds.set(socket, (id = nextConnectionId++));
  return id;
}

/** The connection's id, source (the client) and destination (this listener). */
export function connectionInfo(socket: Socket): Pick<StreamInfo, "connectionId" | "source" | "destination"> {
  return {
    connectionId: connectionId(socket),
    source: { address: socket.remoteAddress ?? "", port: socket.remotePort ?? 0 },
    destination: { address: socket.localAddress ?? "", port: socket.localPort ?? 0 },
  };
}
