// The processes the proxy benchmark puts load on, one per child process:
//   upstream          a plain node:http server answering a small fixed body, or on /echo the
//                     request's body back (text/plain)
//   minimal <port> [--no-pretenuring]   the floor for any Node proxy: node:http in, undici out, no routing,
//                     no filters (--no-pretenuring: with V8's allocation-site pretenuring off, as this host runs)
//   host <port> [--deadline-ms MS] [wasm root-id config]…   this host, with no filter or a chain of wasm filters
//                     (BENCH_INSPECT=1: with the inspector on, tracing every request)
//   tcp-echo          a TCP server sending back what it receives
//   tcp-minimal <port>  the floor for any Node TCP proxy: each connection piped to the upstream and back
//   tcp-host <port> [wasm root-id config]   this host's TCP proxy, with no filter or one network filter
// Each prints its port on stdout once it listens.
import { createServer } from "node:http";
import { type AddressInfo, connect as connectNet, createServer as createNetServer } from "node:net";
import { Pool } from "undici";
import { shorthandConfig } from "../host/config/shorthand.ts";
import { Logger } from "../host/log.ts";
import { Proxy } from "../host/server/proxy.ts";
import { tuneGarbageCollector } from "../host/server/gc-tuning.ts";
import { startTcpEchoUpstream } from "../host/testing/echo-upstream.ts";

const [kind, upstreamPort, ...rest] = process.argv.slice(2);
// `--deadline-ms MS` first: the deadline of each call into the modules (0: none, uninstrumented).
const deadlineMs = rest[0] === "--deadline-ms" ? rest[1] : undefined;
const filters = deadlineMs === undefined ? rest : rest.slice(2);
const wasm = filters[0];
process.on("SIGINT", () => process.exit(0)); // exit normally, so a --cpu-prof profile is written
const BODY = Buffer.from("hello from the upstream\n");

/**
 * Answers "usage" over IPC: CPU time used and the work done so far (requests; bytes received
 * for TCP), for CPU per unit of work (a figure other processes disturb far less than rates).
 */
function reportUsage(work: () => number): void {
  process.on("message", () => {
    const { user, system } = process.cpuUsage();
    process.send!({ cpuMicros: user + system, requests: work() });
  });
}

function announce(port: number): void {
  process.stdout.write(`${port}\n`);
}

if (kind === "upstream") {
  const server = createServer((req, res) => {
    if (req.url === "/echo") {
      res.writeHead(200, { "content-type": "text/plain" });
      req.pipe(res);
      return;
    }
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "text/plain", "content-length": BODY.length });
      res.end(BODY);
    });
  });
  server.listen(0, "127.0.0.1", () => announce((server.address() as AddressInfo).port));
} else if (kind === "minimal") {
  if (rest[0] === "--no-pretenuring") tuneGarbageCollector();
  const pool = new Pool(`http://127.0.0.1:${upstreamPort}`, { connections: 128 });
  let requests = 0;
  reportUsage(() => requests);
  const server = createServer(async (req, res) => {
    requests++;
    try {
      const headers: Record<string, string | string[] | undefined> = { ...req.headers };
      delete headers.connection;
      const up = await pool.request({ method: req.method as "GET", path: req.url!, headers, body: req.method === "GET" ? null : req });
      const out: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(up.headers)) if (v !== undefined && k !== "connection" && k !== "keep-alive") out[k] = v;
      res.writeHead(up.statusCode, out);
      for await (const chunk of up.body) res.write(chunk);
      res.end();
    } catch {
      // The upstream failed, or the client went (autocannon closes its connections at the end of
      // a round, mid-request): a 503 when nothing was sent yet, else the response is cut.
      if (res.headersSent) res.destroy();
      else res.writeHead(503).end();
    }
  });
  server.listen(0, "127.0.0.1", () => announce((server.address() as AddressInfo).port));
} else if (kind === "tcp-minimal") {
  const server = createNetServer({ allowHalfOpen: true }, (client) => {
    const upstream = connectNet({ host: "127.0.0.1", port: Number(upstreamPort), allowHalfOpen: true });
    client.pipe(upstream).pipe(client);
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
  });
  server.listen(0, "127.0.0.1", () => announce((server.address() as AddressInfo).port));
} else if (kind === "tcp-echo") {
  announce((await startTcpEchoUpstream()).port);
} else if (kind === "host" || kind === "tcp-host") {
  const tcp = kind === "tcp-host";
  const chain = { wasm: [] as string[], rootId: [] as string[], config: [] as string[] };
  for (let i = 0; i + 2 < filters.length; i += 3) {
    chain.wasm.push(filters[i]);
    chain.rootId.push(filters[i + 1]);
    chain.config.push(filters[i + 2]);
  }
  const cfg = shorthandConfig({
    wasm: wasm ? chain.wasm : ["unused"], rootId: chain.rootId, config: chain.config, failOpen: false,
    upstream: `${tcp ? "tcp" : "http"}://127.0.0.1:${upstreamPort}`, listen: 0, admin: null,
  });
  if (!wasm) cfg.listeners[0].wasmFilters = [];
  if (deadlineMs !== undefined) for (const f of cfg.listeners[0].wasmFilters) f.deadlineMs = Number(deadlineMs);
  const proxy = await Proxy.start(cfg, new Logger("warn"), { inspect: process.env.BENCH_INSPECT === "1" ? {} : null });
  const work = tcp ? "tcp.ingress_tcp.downstream_cx_rx_bytes_total" : "http.ingress_http.downstream_rq_total";
  reportUsage(() => proxy.stats.get(work));
  announce(proxy.ports[0]);
} else {
  throw new Error(`unknown server kind ${kind}`);
}
