// gRPC calls from filters to the proxy's clusters: HTTP/2 in cleartext, one session per
// endpoint, messages framed as gRPC frames (1 byte compressed flag, 4 bytes length).
import { type ClientHttp2Session, type IncomingHttpHeaders, connect, constants } from "node:http2";
import type { HeaderList } from "../abi/types.ts";
import type { Cluster } from "../upstream/cluster.ts";
import type { GrpcEvents, GrpcHandle, GrpcSender } from "../upstream/outbound.ts";
import type { GrpcRequest } from "../abi/host.ts";

const UNAVAILABLE = 14, DEADLINE_EXCEEDED = 4, CANCELLED = 1;

function frame(message: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

function metadataOf(headers: IncomingHttpHeaders): HeaderList {
  const list: HeaderList = [];
  for (const name in headers) {
    if (name.startsWith(":") || name === "grpc-status" || name === "grpc-message") continue;
    for (const v of ([] as (string | number)[]).concat(headers[name] ?? [])) list.push([name, String(v)]);
  }
  return list;
}

export function clusterGrpc(clusters: Map<string, Cluster>): GrpcSender & { close(): void } {
  const sessions = new Map<string, ClientHttp2Session>();
  const session = (endpoint: string): ClientHttp2Session => {
    const existing = sessions.get(endpoint);
    if (existing && !existing.closed && !existing.destroyed) return existing;
    const created = connect(`http://${endpoint}`);
    created.on("error", () => {}); // each stream reports its own failure
    created.unref(); // an idle session does not keep the process alive
    created.once("close", () => sessions.get(endpoint) === created && sessions.delete(endpoint));
    sessions.set(endpoint, created);
    return created;
  };

  return {
    hasCluster: (name) => clusters.has(name),
    close: () => {
      for (const s of sessions.values()) s.destroy();
      sessions.clear();
    },
    open(request: GrpcRequest, events: GrpcEvents): GrpcHandle {
      const cluster = clusters.get(request.cluster)!;
      let closed = false;
      const close = (status: number, message: string) => {
        if (closed) return;
        closed = true;
        setImmediate(() => events.close(status, message)); // never inside the module's call
      };
      const headers: Record<string, string | string[]> = {
        ":method": "POST", ":path": `/${request.service}/${request.method}`, ":authority": request.cluster,
        "content-type": "application/grpc", te: "trailers",
      };
      if (request.timeoutMs > 0) headers["grpc-timeout"] = `${request.timeoutMs}m`;
      for (const [name, value] of request.metadata) headers[name] = value;
      const stream = session(cluster.pick().endpoint).request(headers, { endStream: false });
      if (request.timeoutMs > 0) stream.setTimeout(request.timeoutMs, () => {
        close(DEADLINE_EXCEEDED, "deadline exceeded");
        stream.close(constants.NGHTTP2_CANCEL);
      });
      let pending: Buffer = Buffer.alloc(0);
      let status: number | null = null;
      let statusMessage = "";
      const takeStatus = (h: IncomingHttpHeaders) => {
        if (h["grpc-status"] !== undefined) {
          status = Number(h["grpc-status"]);
          statusMessage = decodeURIComponent(String(h["grpc-message"] ?? ""));
        }
      };
      stream.on("response", (h) => {
        takeStatus(h); // a trailers-only answer carries its status here
        setImmediate(() => !closed && events.initialMetadata(metadataOf(h)));
      });
      stream.on("data", (chunk: Buffer) => {
        pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
        while (pending.length >= 5 && pending.length >= 5 + pending.readUInt32BE(1)) {
          const message = new Uint8Array(pending.subarray(5, 5 + pending.readUInt32BE(1)));
          pending = pending.subarray(5 + message.length);
          setImmediate(() => !closed && events.message(message));
        }
      });
      stream.on("trailers", (t) => {
        takeStatus(t);
        const metadata = metadataOf(t);
        setImmediate(() => !closed && events.trailingMetadata(metadata));
      });
      stream.on("close", () => {
        setImmediate(() => close(status ?? (stream.rstCode === constants.NGHTTP2_CANCEL ? CANCELLED : UNAVAILABLE),
          status === null ? "upstream unavailable" : statusMessage));
      });
      stream.on("error", () => {}); // reported through close
      if (request.message) stream.end(frame(request.message));
      return {
        send: (message, endStream) => (endStream ? stream.end(frame(message)) : stream.write(frame(message))),
        close: () => stream.end(),
        cancel: () => {
          closed = true;
          stream.close(constants.NGHTTP2_CANCEL);
        },
      };
    },
  };
}

