// HTTP as Envoy speaks it (issue 16), over real sockets on 127.0.0.1: Expect: 100-continue,
// max_headers_count, transfer codings, Connection-nominated headers, x-request-id and
// x-forwarded-*, HTTP/1.0, absolute-form URIs, CONNECT, config_dump secrets. Hostile or
// malformed requests are written by hand on node:net sockets.
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { connect, type AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exampleConfig, root, startProxy } from "./proxy-fixture.ts";
import { wat } from "../host/wat.ts";

const SDK_PROBE = join(root, "build/test-sdk-probe.wasm");

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  raw: string[];
  bytes: number;
}

let upstream: { server: Server; port: number; seen: Seen[]; connections: number; open: number; maxOpen: number; inFlight: number; maxInFlight: number };

beforeAll(async () => {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    if (req.url!.startsWith("/trickle")) {
      // A chunk every 100 ms for up to 5 s: each chunk alone is well inside any timeout.
      res.writeHead(200, { "content-type": "text/plain" });
      let n = 0;
      const timer = setInterval(() => {
        if (++n > 50 || res.destroyed) {
          clearInterval(timer);
          res.end();
          return;
        }
        res.write("tick\n");
      }, 100);
      res.on("close", () => clearInterval(timer));
      return;
    }
    if (req.url!.startsWith("/stall")) {
      // Headers and a first chunk, then nothing for 3 s.
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("first\n");
      const timer = setTimeout(() => res.end("late\n"), 3000);
      res.on("close", () => clearTimeout(timer));
      return;
    }
    if (req.url!.startsWith("/slow")) {
      upstream.inFlight++;
      upstream.maxInFlight = Math.max(upstream.maxInFlight, upstream.inFlight);
      const timer = setTimeout(() => res.end("slow\n"), 100);
      res.on("close", () => {
        upstream.inFlight--;
        clearTimeout(timer);
      });
      return;
    }
    if (req.url!.startsWith("/big")) {
      res.writeHead(200, { "content-type": "application/octet-stream" });
      res.end(Buffer.alloc(100_000, 0x62));
      return;
    }
    let bytes = 0;
    req.on("data", (d: Buffer) => (bytes += d.length));
    req.on("end", () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, raw: req.rawHeaders, bytes });
      res.writeHead(200, { "content-type": "text/plain" });
      res.end(`got ${bytes} bytes`);
    });
  });
  server.maxHeadersCount = 0;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  upstream = { server, port: (server.address() as AddressInfo).port, seen, connections: 0, open: 0, maxOpen: 0, inFlight: 0, maxInFlight: 0 };
  server.on("connection", (socket) => {
    upstream.connections++;
    upstream.maxOpen = Math.max(upstream.maxOpen, ++upstream.open);
    socket.on("close", () => upstream.open--);
  });
});

afterAll(async () => {
  upstream.server.closeAllConnections();
  await new Promise<void>((resolve) => upstream.server.close(() => resolve()));
});

/** Writes `text` on a new connection to `port`; the bytes answered until the peer closes, or `waitMs` passes. */
function raw(port: number, text: string | Buffer[], waitMs = 3000): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let out = "";
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(out);
    };
    const timer = setTimeout(done, waitMs);
    socket.on("data", (d) => (out += d.toString("latin1")));
    socket.on("close", done);
    socket.on("error", done);
    socket.on("connect", () => {
      for (const part of typeof text === "string" ? [Buffer.from(text, "latin1")] : text) socket.write(part);
    });
  });
}

const statusOf = (response: string) => Number(/^HTTP\/1\.[01] (\d{3})/.exec(response)?.[1] ?? 0);
const finalStatusOf = (response: string) => {
  const all = [...response.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1]));
  return all.filter((s) => s >= 200)[0] ?? 0;
};

function config(edit: (yaml: string) => string = (y) => y) {
  return exampleConfig("add-header", upstream.port, edit);
}

describe("requests Envoy's codec refuses or reshapes", () => {
  it("Expect: 100-continue: 100 from the proxy, then the whole 2 MB body upstream, no expect header upstream", async () => {
    const p = await startProxy(config());
    try {
      const before = upstream.seen.length;
      const body = Buffer.alloc(2 * 1024 * 1024, 0x61);
      const response = await new Promise<string>((resolve, reject) => {
        // As curl does: the headers, a wait for 100 Continue, then the body.
        const socket = connect(p.proxy.ports[0], "127.0.0.1");
        let out = "";
        let sent = false;
        const timer = setTimeout(() => reject(new Error(`no answer; got ${out}`)), 10_000);
        socket.on("data", (d) => {
          out += d.toString("latin1");
          if (!sent && out.includes("100 Continue")) {
            sent = true;
            socket.write(body);
          }
          if (/HTTP\/1\.1 200[\s\S]*got \d+ bytes/.test(out)) {
            clearTimeout(timer);
            socket.destroy();
            resolve(out);
          }
        });
        socket.on("error", reject);
        socket.write(`POST /upload HTTP/1.1\r\nhost: x\r\ncontent-length: ${body.length}\r\nexpect: 100-continue\r\n\r\n`);
      });
      expect(response.startsWith("HTTP/1.1 100 Continue")).toBe(true);
      expect(finalStatusOf(response)).toBe(200);
      expect(response).toContain(`got ${body.length} bytes`);
      const seen = upstream.seen[before];
      expect(seen.bytes).toBe(body.length);
      expect(seen.headers.expect).toBeUndefined();
    } finally {
      await p.proxy.stop(1000);
    }
  });

  it("150 headers → 431 and the upstream never contacted; 100 → 200", async () => {
    const p = await startProxy(config());
    try {
      const before = upstream.seen.length;
      const headers = (n: number) => Array.from({ length: n - 1 }, (_, i) => `x-h-${i}: ${i}\r\n`).join("");
      const many = await raw(p.proxy.ports[0], `GET /many HTTP/1.1\r\nhost: x\r\n${headers(150)}\r\n`);
      expect(statusOf(many)).toBe(431);
      expect(upstream.seen.length).toBe(before);
      expect(p.lines.some((l) => l.includes("431 http1.too_many_headers"))).toBe(true);
      const hundred = await raw(p.proxy.ports[0], `GET /hundred HTTP/1.1\r\nhost: x\r\nconnection: close\r\n${headers(99)}\r\n`);
      expect(statusOf(hundred)).toBe(200);
      expect(upstream.seen.length).toBe(before + 1);
      expect(upstream.seen[before].headers["x-h-97"]).toBe("97");
    } finally {
      await p.proxy.stop(1000);
    }
  });

  it("common_http_protocol_options.max_headers_count sets the limit", async () => {
    const p = await startProxy(config((y) => y.replace("stat_prefix: ingress_http", "stat_prefix: ingress_http\n          common_http_protocol_options: { max_headers_count: 5 }")));
    try {
      const h = (n: number) => Array.from({ length: n }, (_, i) => `x-h-${i}: ${i}\r\n`).join("");
      expect(statusOf(await raw(p.proxy.ports[0], `GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n${h(3)}\r\n`))).toBe(200);
      expect(statusOf(await raw(p.proxy.ports[0], `GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n${h(5)}\r\n`))).toBe(431);
    } finally {
      await p.proxy.stop(1000);
    }
  });

  it("max_request_headers_kb: larger headers get 431; common_http_protocol_options.idle_timeout closes an idle connection", async () => {
    const p = await startProxy(config((y) => y.replace("stat_prefix: ingress_http",
      "stat_prefix: ingress_http\n          max_request_headers_kb: 2\n          common_http_protocol_options: { idle_timeout: 0.3s }")));
    try {
      expect(statusOf(await raw(p.proxy.ports[0], `GET / HTTP/1.1\r\nhost: x\r\nx-big: ${"b".repeat(3000)}\r\n\r\n`))).toBe(431);
      expect(p.lines.some((l) => l.includes("431 http1.headers_too_large"))).toBe(true);
      // A keep-alive connection with no request in flight is closed at the idle timeout.
      const { response, ms, closed } = await timed(p.proxy.ports[0], "GET /idle HTTP/1.1\r\nhost: x\r\n\r\n", 5000);
      expect(statusOf(response)).toBe(200);
      expect(closed).toBe(true);
      expect(ms).toBeLessThan(2500);
    } finally {
      await p.proxy.stop(1000);
    }
  });

  it("Transfer-Encoding: gzip, chunked → 501; a header named in Connection and keep-alive do not reach the upstream", async () => {
    const p = await startProxy(config());
    try {
      const before = upstream.seen.length;
      const te = await raw(p.proxy.ports[0], "POST /te HTTP/1.1\r\nhost: x\r\ntransfer-encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
      expect(statusOf(te)).toBe(501);
      expect(upstream.seen.length).toBe(before);
      expect(p.lines.some((l) => l.includes("501 http1.invalid_transfer_encoding"))).toBe(true);
      const nominated = await raw(p.proxy.ports[0],
        "GET /conn HTTP/1.1\r\nhost: x\r\nconnection: keep-alive, x-secret-hop\r\nkeep-alive: timeout=5\r\nx-secret-hop: 1\r\nx-kept: 2\r\n\r\n", 1000);
      expect(statusOf(nominated)).toBe(200);
      const seen = upstream.seen[before];
      expect(seen.headers["x-secret-hop"]).toBeUndefined();
      expect(seen.headers["keep-alive"]).toBeUndefined();
      expect(seen.headers["x-kept"]).toBe("2");
    } finally {
      await p.proxy.stop(1000);
    }
  });

  it("HTTP/1.0 → 426 by default, 200 with accept_http_10 (default_host_for_http_10 for a request without Host)", async () => {
    const p = await startProxy(config());
    try {
      const old = await raw(p.proxy.ports[0], "GET /old HTTP/1.0\r\n\r\n");
      expect(statusOf(old)).toBe(426);
      expect(p.lines.some((l) => l.includes("426 low_version"))).toBe(true);
    } finally {
      await p.proxy.stop(1000);
    }
    const q = await startProxy(config((y) => y.replace("stat_prefix: ingress_http",
      "stat_prefix: ingress_http\n          http_protocol_options: { accept_http_10: true, default_host_for_http_10: legacy.example }")));
    try {
      const before = upstream.seen.length;
      const old = await raw(q.proxy.ports[0], "GET /old HTTP/1.0\r\n\r\n");
      expect(statusOf(old)).toBe(200);
      expect(upstream.seen[before].headers.host).toBe("legacy.example");
    } finally {
      await q.proxy.stop(1000);
    }
  });

  it("an absolute-form request URI is routed by its path, its authority the URI's", async () => {
    const p = await startProxy(config((y) => y.replace('- match: { prefix: "/" }', '- match: { prefix: "/only" }')));
    try {
      const before = upstream.seen.length;
      const abs = await raw(p.proxy.ports[0], "GET http://absolute.example/only/here?q=1 HTTP/1.1\r\nhost: other\r\nconnection: close\r\n\r\n");
      expect(statusOf(abs)).toBe(200);
      expect(upstream.seen[before].url).toBe("/only/here?q=1");
      expect(upstream.seen[before].headers.host).toBe("absolute.example");
    } finally {
      await p.proxy.stop(1000);
    }
  });

  it("CONNECT without a CONNECT route: 403 as Envoy's, not a silent close", async () => {
    const p = await startProxy(config());
    try {
      const answer = await raw(p.proxy.ports[0], "CONNECT example.com:443 HTTP/1.1\r\nhost: example.com:443\r\n\r\n");
      expect(statusOf(answer)).toBe(403);
      expect(p.lines.some((l) => l.includes("403 upgrade_failed"))).toBe(true);
    } finally {
      await p.proxy.stop(1000);
    }
  });
});

describe("x-request-id and x-forwarded-* as Envoy's connection manager sets them", () => {
  const probe = (y: string) => y.replace(/local: \{ filename: [^}]+\}/, `local: { filename: ${SDK_PROBE} }`);

  it("generated when absent (a UUID the filter reads as request.id), kept when present; x-forwarded-proto set, no x-forwarded-for", async () => {
    const p = await startProxy(config(probe));
    try {
      const before = upstream.seen.length;
      const fresh = await raw(p.proxy.ports[0], "GET /a HTTP/1.1\r\nhost: x\r\nx-probe: property\r\nx-arg: request.id\r\nconnection: close\r\n\r\n");
      expect(statusOf(fresh)).toBe(200);
      const generated = upstream.seen[before].headers["x-request-id"] as string;
      expect(generated).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(upstream.seen[before].headers["x-result"]).toBe(generated);
      expect(upstream.seen[before].headers["x-forwarded-proto"]).toBe("http");
      expect(upstream.seen[before].headers["x-forwarded-for"]).toBeUndefined();
      const kept = await raw(p.proxy.ports[0], "GET /b HTTP/1.1\r\nhost: x\r\nx-request-id: mine-1\r\nx-probe: property\r\nx-arg: request.id\r\nx-forwarded-proto: https\r\nconnection: close\r\n\r\n");
      expect(statusOf(kept)).toBe(200);
      expect(upstream.seen[before + 1].headers["x-request-id"]).toBe("mine-1");
      expect(upstream.seen[before + 1].headers["x-result"]).toBe("mine-1");
      // xff_num_trusted_hops 0: the client's x-forwarded-proto is not trusted.
      expect(upstream.seen[before + 1].headers["x-forwarded-proto"]).toBe("http");
    } finally {
      await p.proxy.stop(1000);
    }
  });

  it("use_remote_address: the client's address appended to x-forwarded-for; an internal (loopback) client keeps its request id", async () => {
    const p = await startProxy(config((y) => probe(y).replace("stat_prefix: ingress_http", "stat_prefix: ingress_http\n          use_remote_address: true")));
    try {
      const before = upstream.seen.length;
      await raw(p.proxy.ports[0], "GET /a HTTP/1.1\r\nhost: x\r\nx-forwarded-for: 203.0.113.9\r\nx-request-id: mine-2\r\nconnection: close\r\n\r\n");
      await raw(p.proxy.ports[0], "GET /b HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
      expect(upstream.seen[before].headers["x-forwarded-for"]).toBe("203.0.113.9,127.0.0.1");
      expect(upstream.seen[before].headers["x-request-id"]).toBe("mine-2");
      expect(upstream.seen[before].headers["x-envoy-internal"]).toBe("true");
      expect(upstream.seen[before + 1].headers["x-forwarded-for"]).toBe("127.0.0.1");
    } finally {
      await p.proxy.stop(1000);
    }
  });

  it("the client's address per use_remote_address and xff_num_trusted_hops is the filters' source.address", async () => {
    const ask = async (port: number, xff: string) => {
      const before = upstream.seen.length;
      await raw(port, `GET /src HTTP/1.1\r\nhost: x\r\nx-forwarded-for: ${xff}\r\nx-probe: property\r\nx-arg: source.address\r\nconnection: close\r\n\r\n`);
      return upstream.seen[before].headers;
    };
    const p = await startProxy(config(probe));
    try {
      // Without use_remote_address, Envoy trusts the last x-forwarded-for entry (xff_num_trusted_hops 0).
      expect((await ask(p.proxy.ports[0], "198.51.100.7, 203.0.113.9"))["x-result"]).toBe("203.0.113.9:0");
      expect((await ask(p.proxy.ports[0], "not-an-address"))["x-result"]).toMatch(/^127\.0\.0\.1:\d+$/);
    } finally {
      await p.proxy.stop(1000);
    }
    const q = await startProxy(config((y) => probe(y).replace("stat_prefix: ingress_http", "stat_prefix: ingress_http\n          use_remote_address: true\n          xff_num_trusted_hops: 1")));
    try {
      const headers = await ask(q.proxy.ports[0], "198.51.100.7, 203.0.113.9");
      expect(headers["x-result"]).toBe("203.0.113.9:0");
      expect(headers["x-forwarded-for"]).toBe("198.51.100.7, 203.0.113.9,127.0.0.1");
      expect(headers["x-envoy-external-address"]).toBe("203.0.113.9");
      expect(headers["x-envoy-internal"]).toBeUndefined();
    } finally {
      await q.proxy.stop(1000);
    }
  });

  it("generate_request_id: false adds none", async () => {
    const p = await startProxy(config((y) => y.replace("stat_prefix: ingress_http", "stat_prefix: ingress_http\n          generate_request_id: false")));
    try {
      const before = upstream.seen.length;
      await raw(p.proxy.ports[0], "GET /a HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
      expect(upstream.seen[before].headers["x-request-id"]).toBeUndefined();
    } finally {
      await p.proxy.stop(1000);
    }
  });
});

describe("/config_dump and host_env_keys", () => {
  it("shows the names of host_env_keys, never their values", async () => {
    process.env.API_TOKEN = "xyz-secret-value";
    try {
      const p = await startProxy(config((y) => y.replace("vm_id: add_header", "vm_id: add_header\n                  environment_variables: { host_env_keys: [API_TOKEN] }")));
      try {
        expect(p.proxy.config.listeners[0].wasmFilters[0].environment.API_TOKEN).toBe("xyz-secret-value");
        const dump = await (await fetch(`${p.admin}/config_dump`)).text();
        expect(dump).toContain("API_TOKEN");
        expect(dump).not.toContain("xyz");
      } finally {
        await p.proxy.stop(1000);
      }
    } finally {
      delete process.env.API_TOKEN;
    }
  });
});

/** The add-header example with its filter replaced by a module given inline, and `hcm` added to the connection manager. */
function withModule(module: Uint8Array, hcm = "", listener = "") {
  return config((y) => y.replace(/local: \{ filename: [^}]+\}/, `local: { inline_bytes: "${Buffer.from(module).toString("base64")}" }`)
    .replace("stat_prefix: ingress_http", `stat_prefix: ingress_http${hcm}`)
    .replace("  - name: main\n", `  - name: main\n${listener}`));
}

/** Reads an HTTP exchange on a raw socket: the head, the body bytes that arrived, how it ended and when. */
function timed(port: number, text: string, waitMs: number): Promise<{ response: string; ms: number; closed: boolean }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let response = "";
    let closed = false;
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ response, ms: performance.now() - started, closed });
    };
    const timer = setTimeout(done, waitMs);
    socket.on("data", (d) => (response += d.toString("latin1")));
    socket.on("close", () => {
      closed = true;
      done();
    });
    socket.on("error", () => {});
    socket.on("connect", () => socket.write(text));
  });
}

describe("stream timeouts as Envoy's", () => {
  it("a filter that never continues: 408 at stream_idle_timeout, through the access log as stream_idle_timeout", async () => {
    const holdForever = wat(`
      (func (export "proxy_on_context_create") (param i32 i32))
      (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (i32.const 1))`);
    const p = await startProxy(withModule(holdForever, "\n          stream_idle_timeout: 0.5s"));
    try {
      const { response, ms } = await timed(p.proxy.ports[0], "GET /held HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n", 5000);
      expect(statusOf(response)).toBe(408);
      expect(response).toContain("stream timeout");
      expect(ms).toBeGreaterThanOrEqual(450);
      expect(ms).toBeLessThan(3000);
      await new Promise((r) => setTimeout(r, 50));
      expect(p.lines.some((l) => l.includes("408 stream_idle_timeout"))).toBe(true);
    } finally {
      await p.proxy.stop(1000);
    }
  });

  it("stream_idle_timeout after the response started: a reset, logged with its details", async () => {
    const p = await startProxy(config((y) => y.replace("stat_prefix: ingress_http", "stat_prefix: ingress_http\n          stream_idle_timeout: 0.5s")));
    try {
      const { response, ms, closed } = await timed(p.proxy.ports[0], "GET /stall HTTP/1.1\r\nhost: x\r\n\r\n", 5000);
      expect(statusOf(response)).toBe(200);
      expect(response).toContain("first");
      expect(response).not.toContain("late");
      expect(closed).toBe(true);
      expect(ms).toBeLessThan(2500);
      await new Promise((r) => setTimeout(r, 50));
      expect(p.lines.some((l) => l.includes("200 stream_idle_timeout"))).toBe(true);
    } finally {
      await p.proxy.stop(1000);
    }
  });

  it("request_timeout: a request body that never completes gets 408", async () => {
    const p = await startProxy(config((y) => y.replace("stat_prefix: ingress_http", "stat_prefix: ingress_http\n          request_timeout: 0.5s")));
    try {
      const { response, ms } = await timed(p.proxy.ports[0], "POST /partial HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-length: 10\r\n\r\nab", 5000);
      // The request went upstream as it came; the response waits for its end, and the client gets 408.
      expect(statusOf(response)).toBe(408);
      expect(ms).toBeLessThan(3000);
      await new Promise((r) => setTimeout(r, 50));
      expect(p.lines.some((l) => l.includes("408 request_overall_timeout"))).toBe(true);
    } finally {
      await p.proxy.stop(1000);
    }
  });

  it("a trickling upstream is cut at the route timeout, a total that chunks do not restart", async () => {
    const p = await startProxy(config((y) => y.replace("route: { cluster: upstream, timeout: 15s }", "route: { cluster: upstream, timeout: 1s }")));
    try {
      const { response, ms, closed } = await timed(p.proxy.ports[0], "GET /trickle HTTP/1.1\r\nhost: x\r\n\r\n", 8000);
      expect(statusOf(response)).toBe(200);
      expect(response).toContain("tick");
      expect(closed).toBe(true);
      expect(ms).toBeGreaterThanOrEqual(900);
      expect(ms).toBeLessThan(3000);
      await new Promise((r) => setTimeout(r, 50));
      expect(p.lines.some((l) => l.includes("200 upstream_response_timeout"))).toBe(true);
      expect(await (await fetch(`${p.admin}/stats`)).text()).toContain("cluster.upstream.upstream_rq_timeout: 1");
    } finally {
      await p.proxy.stop(1000);
    }
  });
});

describe("a response over a buffering filter's limit", () => {
  const buffering = (headersAction: number) => wat(`
    (func (export "proxy_on_context_create") (param i32 i32))
    (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32) (i32.const ${headersAction}))
    (func (export "proxy_on_response_body") (param i32 i32 i32) (result i32)
      (select (i32.const 0) (i32.const 1) (local.get 2)))`);
  const limit = "    per_connection_buffer_limit_bytes: 4096\n";

  it("headers not sent yet: 500 with details response_payload_too_large, the limit named in the log", async () => {
    const p = await startProxy(withModule(buffering(1), "", limit));
    try {
      const { response } = await timed(p.proxy.ports[0], "GET /big HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n", 5000);
      expect(statusOf(response), p.lines.join("\n")).toBe(500);
      await new Promise((r) => setTimeout(r, 50));
      expect(p.lines.some((l) => l.includes("500 response_payload_too_large"))).toBe(true);
      expect(p.lines.some((l) => l.includes("over the buffer limit of 4096 bytes"))).toBe(true);
    } finally {
      await p.proxy.stop(1000);
    }
  });

  it("headers already sent: a reset, and the access log says so", async () => {
    const p = await startProxy(withModule(buffering(0), "", limit));
    try {
      const { response, closed } = await timed(p.proxy.ports[0], "GET /big HTTP/1.1\r\nhost: x\r\n\r\n", 5000);
      expect(statusOf(response)).toBe(200);
      expect(closed).toBe(true);
      expect(response.length).toBeLessThan(100_000);
      await new Promise((r) => setTimeout(r, 50));
      expect(p.lines.some((l) => l.includes(" response_payload_too_large "))).toBe(true);
    } finally {
      await p.proxy.stop(1000);
    }
  });
});

describe("safe_regex on RE2", () => {
  it("/(a|a)+b against a 10 KB path answers in well under a second while a concurrent request is served", async () => {
    const p = await startProxy(config((y) => y.replace('- match: { prefix: "/" }', `- match: { safe_regex: { regex: "/(a|a)+b" } }
                direct_response: { status: 203 }
              - match: { prefix: "/" }`)));
    try {
      const path = `/${"a".repeat(10_000)}`;
      const started = performance.now();
      const [evil, other] = await Promise.all([
        timed(p.proxy.ports[0], `GET ${path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`, 5000),
        timed(p.proxy.ports[0], "GET /other HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n", 5000),
      ]);
      expect(statusOf(evil.response)).toBe(200); // no regex match: the prefix route
      expect(statusOf(other.response)).toBe(200);
      expect(performance.now() - started).toBeLessThan(1000);
      const matching = await timed(p.proxy.ports[0], `GET /${"a".repeat(5000)}b HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`, 5000);
      expect(statusOf(matching.response)).toBe(203); // the regex route
      expect(matching.ms).toBeLessThan(1000);
    } finally {
      await p.proxy.stop(1000);
    }
  });
});

describe("circuit_breakers.thresholds as Envoy's", () => {
  const breakers = (thresholds: string) => config((y) => y.replace("    connect_timeout: 1s", `    connect_timeout: 1s
    circuit_breakers:
      thresholds:
      - ${thresholds}`));

  it("1,000 client connections with max_connections: 100 → at most 100 upstream connections, the rest wait and are served", async () => {
    const p = await startProxy(breakers("{ max_connections: 100 }"));
    try {
      upstream.maxOpen = upstream.open;
      upstream.maxInFlight = 0;
      const before = upstream.connections;
      const results = await Promise.all(Array.from({ length: 1000 }, (_, i) =>
        timed(p.proxy.ports[0], `GET /slow/${i} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`, 20_000)));
      expect(results.filter((r) => statusOf(r.response) === 200)).toHaveLength(1000);
      expect(upstream.connections - before).toBeLessThanOrEqual(100);
      expect(upstream.maxInFlight).toBeLessThanOrEqual(100);
      const stats = await (await fetch(`${p.admin}/stats`)).text();
      expect(Number(/cluster\.upstream\.upstream_cx_overflow: (\d+)/.exec(stats)?.[1])).toBeGreaterThan(0);
      expect(stats).not.toMatch(/upstream_rq_pending_overflow: [1-9]/);
    } finally {
      await p.proxy.stop(1000);
    }
  }, 30_000);

  it("past max_pending_requests or max_requests: 503 at once, counted in upstream_rq_pending_overflow, nothing sent upstream", async () => {
    const p = await startProxy(breakers("{ max_connections: 1, max_pending_requests: 1 }"));
    try {
      upstream.maxInFlight = 0;
      const results = await Promise.all(Array.from({ length: 5 }, (_, i) =>
        timed(p.proxy.ports[0], `GET /slow/p${i} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`, 5000)));
      const statuses = results.map((r) => statusOf(r.response)).sort();
      expect(statuses).toEqual([200, 200, 503, 503, 503]);
      expect(results.find((r) => statusOf(r.response) === 503)!.response).toContain("reset reason: overflow");
      expect(upstream.maxInFlight).toBe(1); // one connection, one request at a time; the overflow never left the proxy
      await new Promise((r) => setTimeout(r, 50));
      expect(p.lines.filter((l) => l.includes("503 upstream_reset_before_response_started{overflow}"))).toHaveLength(3);
      const stats = await (await fetch(`${p.admin}/stats`)).text();
      expect(stats).toContain("cluster.upstream.upstream_rq_pending_overflow: 3");
      expect(stats).toContain("cluster.upstream.upstream_cx_overflow: 1");
    } finally {
      await p.proxy.stop(1000);
    }
    const q = await startProxy(breakers("{ max_requests: 2 }"));
    try {
      const results = await Promise.all(Array.from({ length: 5 }, (_, i) =>
        timed(q.proxy.ports[0], `GET /slow/r${i} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`, 5000)));
      expect(results.map((r) => statusOf(r.response)).sort()).toEqual([200, 200, 503, 503, 503]);
      expect(await (await fetch(`${q.admin}/stats`)).text()).toContain("cluster.upstream.upstream_rq_pending_overflow: 3");
    } finally {
      await q.proxy.stop(1000);
    }
  });
});
