// A small gRPC service for the grpc-check example (HTTP/2 in cleartext, protobuf by hand):
// authz.Checker/Check allows a request whose user is "alice", or whose path starts with
// /public; anything else is refused with a reason. Run it: npx tsx examples/grpc-check/checker-service.ts
import { createServer, type Http2Server } from "node:http2";
import type { AddressInfo } from "node:net";

function fields(message: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let at = 0;
  const varint = () => {
    let value = 0, shift = 0;
    for (;;) {
      const b = message[at++];
      value |= (b & 0x7f) << shift;
      if (b < 0x80) return value;
      shift += 7;
    }
  };
  while (at < message.length) {
    const key = varint();
    const length = varint(); // CheckRequest has only length-delimited fields
    out.set(key >> 3, message.subarray(at, at + length));
    at += length;
  }
  return out;
}

function checkResponse(allowed: boolean, reason: string): Buffer {
  const text = Buffer.from(reason);
  return Buffer.concat([Buffer.from([0x08, allowed ? 1 : 0, 0x12, text.length]), text]);
}

export async function startCheckerService(port = 0): Promise<{ server: Http2Server; port: number; calls: string[]; close(): Promise<void> }> {
  const calls: string[] = [];
  const server = createServer();
  const sessions = new Set<import("node:http2").ServerHttp2Session>();
  server.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  server.on("stream", (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on("data", (d: Buffer) => chunks.push(d));
    stream.on("end", () => {
      const body = Buffer.concat(chunks);
      const request = fields(body.subarray(5, 5 + body.readUInt32BE(1)));
      const path = request.get(1)?.toString() ?? "", user = request.get(2)?.toString() ?? "";
      calls.push(`${headers[":path"]} ${headers["x-client"]} ${path} ${user}`);
      if (path === "/fail") {
        stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": "13", "grpc-message": "checker broke" }, { endStream: true });
        return;
      }
      const allowed = user === "alice" || path.startsWith("/public");
      const answer = checkResponse(allowed, allowed ? "" : `user ${user || "(none)"} may not see ${path}`);
      const framed = Buffer.alloc(5 + answer.length);
      framed.writeUInt32BE(answer.length, 1);
      answer.copy(framed, 5);
      stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
      stream.end(framed);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", () => resolve()));
  return {
    server, calls, port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const session of sessions) session.destroy();
    }),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { port } = await startCheckerService(9003);
  process.stderr.write(`authz.Checker gRPC service on 127.0.0.1:${port}\n`);
}
