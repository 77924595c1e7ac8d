// A small authorization service for the ext-auth example: admits requests carrying
// `authorization: Bearer letmein` (and tells the filter to add `x-user: alice` to them),
// refuses anything else with 401 and a JSON body. Run it: npx tsx examples/ext-auth/auth-service.ts
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export async function startAuthService(port = 0): Promise<{ server: Server; port: number; seen: string[]; close(): Promise<void> }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url} ${req.headers["x-original-method"]} ${req.headers["x-original-path"]}`);
    if (req.headers.authorization === "Bearer letmein") {
      res.writeHead(200, { "x-auth-add-x-user": "alice" });
      return res.end();
    }
    res.writeHead(401, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: req.headers.authorization ? "invalid token" : "missing token" }) + "\n");
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", () => resolve()));
  return {
    server, seen, port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { port } = await startAuthService(9001);
  process.stderr.write(`authorization service on 127.0.0.1:${port}\n`);
}
