// Small upstreams for demos and tests. The HTTP one answers every request with a JSON description of
// what it received (method, path, headers, body length), or with what the request asks for:
//   /status/N       answers with status N
//   /bytes/N        answers with N bytes
//   /delay/MS       answers after MS milliseconds
//   /reset          destroys the connection without answering
//   POST /echo      echoes the request body back, streaming
import { createServer, type Server } from "node:http";
import { type AddressInfo, type Server as NetServer, type Socket, createServer as createNetServer } from "node:net";

export async function startEchoUpstream(port = 0, host = "127.0.0.1"): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://upstream");
    const [, route, arg] = url.pathname.split("/");
    if (route === "reset") return req.socket.destroy();
    if (route === "echo") {
      res.writeHead(200, { "content-type": req.headers["content-type"] ?? "application/octet-stream" });
      req.pipe(res);
      return;
    }
    let received = 0;
    req.on("data", (chunk: Buffer) => (received += chunk.length));
    req.on("end", () => {
      const answer = () => {
        if (route === "status") {
          res.writeHead(Number(arg) || 200, { "content-type": "text/plain" });
          return res.end(`status ${arg}\n`);
        }
        if (route === "bytes") {
          const n = Number(arg) || 0;
          res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(n) });
          return res.end(Buffer.alloc(n, 120));
        }
        const body = JSON.stringify({ method: req.method, path: req.url, headers: req.headers, bodyLength: received }, null, 2) + "\n";
        res.writeHead(200, { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) });
        res.end(body);
      };
      if (route === "delay") setTimeout(answer, Number(arg) || 0);
      else answer();
    });
  });
  return listening(server, port, host, () => server.closeAllConnections());
}

/** Binds `server`; its port, and a close that also ends its open connections. */
async function listening<S extends NetServer>(server: S, port: number, host: string, closeConnections: () => void) {
  await new Promise<void>((resolve) => server.listen(port, host, () => resolve()));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      closeConnections();
    }),
  };
}

/**
 * A TCP upstream for demos and tests: sends back every byte it receives, and half-closes
 * when the client does (so a client that ends its side still reads the whole echo).
 */
export async function startTcpEchoUpstream(port = 0, host = "127.0.0.1"): Promise<{ server: NetServer; port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createNetServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    socket.pipe(socket);
  });
  return listening(server, port, host, () => sockets.forEach((s) => s.destroy()));
}
