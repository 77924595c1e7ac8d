// The proxy over real sockets: each example in front of an echo upstream, a chain of filters,
// large and concurrent traffic, upstream failures, malformed requests and the admin endpoint.
import { connect } from "node:net";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { request } from "undici";
import { startEchoUpstream } from "../../host/testing/echo-upstream.ts";
import { exampleConfig, injectHostBug, startProxy } from "./proxy-fixture.ts";

let upstream: Awaited<ReturnType<typeof startEchoUpstream>>;
beforeAll(async () => (upstream = await startEchoUpstream()));
afterAll(async () => upstream.close());

async function withProxy<T>(example: string, body: (p: Awaited<ReturnType<typeof startProxy>>) => Promise<T>, edit?: (y: string) => string): Promise<T> {
  const p = await startProxy(exampleConfig(example, upstream.port, edit));
  try {
    return await body(p);
  } finally {
    await p.proxy.stop(1000);
  }
}

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await request(url, { headers });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

/** Sends raw bytes and answers the raw reply. */
function raw(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(bytes));
    let reply = "";
    socket.on("data", (d) => (reply += d));
    socket.on("end", () => resolve(reply));
    socket.on("error", reject);
    socket.setTimeout(5000, () => socket.destroy(new Error("no reply")));
  });
}

describe("the proxy, with each example", () => {
  it("add-header: the upstream sees the request header, the client the response header", () =>
    withProxy("add-header", async ({ url, lines }) => {
      const res = await get(`${url}/hello`);
      expect(res.status).toBe(200);
      expect(JSON.parse(res.text).headers["x-added-by"]).toBe("proxy-wasm-as");
      expect(res.headers["x-frame-options"]).toBe("DENY");
      expect(lines.some((l) => l.includes('"GET /hello HTTP/1.1" 200 via_upstream'))).toBe(true);
      expect(lines.some((l) => l.includes("wasm log add_header 1: add-header: 1 request and 1 response headers"))).toBe(true);
    }));

  it("deny: 403 from the filter without reaching the upstream; a good key passes", () =>
    withProxy("deny", async ({ url, admin }) => {
      const denied = await get(`${url}/private`);
      expect(denied.status).toBe(403);
      expect(denied.text).toBe("access denied: missing header x-api-key\n");
      const revoked = await get(`${url}/private`, { "x-api-key": "revoked-key" });
      expect(revoked.status).toBe(403);
      const ok = await get(`${url}/private`, { "x-api-key": "good" });
      expect(ok.status).toBe(200);
      const stats = await get(`${admin}/stats`);
      expect(stats.text).toContain("cluster.upstream.upstream_rq_total: 1\n");
      expect(stats.text).toContain("http.ingress_http.downstream_rq_4xx: 2\n");
      expect(stats.text).toContain("wasm_filter.deny.vm_failures: 0\n");
    }));

  it("path-rewrite: /banana/N reaches the upstream as /status/N", () =>
    withProxy("path-rewrite", async ({ url }) => {
      const res = await get(`${url}/banana/418`);
      expect(res.status).toBe(418);
      expect(res.text).toBe("status 418\n");
    }));

  it("body-rewrite: the response body is rewritten and sent chunked", () =>
    withProxy("body-rewrite", async ({ url }) => {
      const res = await get(`${url}/anything`, { "x-note": "proxy proxy" });
      expect(res.status).toBe(200);
      expect(res.headers["content-length"]).toBeUndefined();
      expect(JSON.parse(res.text).headers["x-note"]).toBe("PROXY PROXY");
    }));
});

describe("the proxy's data path", () => {
  it("chains two filters in order, both ways", () =>
    withProxy("add-header", async ({ url }) => {
      const res = await get(`${url}/banana/201`);
      expect(res.status).toBe(201);
      expect(res.headers["x-frame-options"]).toBe("DENY");
    }, (yaml) => yaml.replace("          - name: envoy.filters.http.router", `          - name: envoy.filters.http.wasm
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              config:
                name: path_rewrite
                root_id: path_rewrite
                configuration: {"@type": type.googleapis.com/google.protobuf.StringValue, value: '{"rules": [{"from": "/banana/{n}", "to": "/status/{n}"}]}'}
                vm_config: { code: { local: { filename: build/path-rewrite.wasm } } }
          - name: envoy.filters.http.router`).replace("build/path-rewrite.wasm", `${process.cwd()}/build/path-rewrite.wasm`)));

  it("streams a 10 MB body both ways byte for byte", () =>
    withProxy("add-header", async ({ url }) => {
      const body = Buffer.alloc(10 * 1024 * 1024);
      for (let i = 0; i < body.length; i += 4) body.writeUInt32LE(i, i);
      const res = await request(`${url}/echo`, { method: "POST", body });
      const back = Buffer.from(await res.body.arrayBuffer());
      expect(res.statusCode).toBe(200);
      expect(back.length).toBe(body.length);
      expect(back.equals(body)).toBe(true);
    }));

  it("passes a large body to an upstream that starts reading late: the client is paused, then resumed", async () => {
    // An upstream that reads nothing for 300 ms: past what the sockets and the proxy buffer, the
    // client must be paused and then resumed (a stall would time the test out).
    const { createServer } = await import("node:http");
    const slow = createServer((req, res) => {
      setTimeout(() => {
        let received = 0;
        req.on("data", (chunk: Buffer) => (received += chunk.length));
        req.on("end", () => res.end(String(received)));
      }, 300);
    });
    await new Promise<void>((resolve) => slow.listen(0, "127.0.0.1", resolve));
    const p = await startProxy(exampleConfig("add-header", (slow.address() as { port: number }).port));
    try {
      const body = Buffer.alloc(8 * 1024 * 1024, 7);
      const res = await request(`${p.url}/upload`, { method: "POST", body });
      expect(res.statusCode).toBe(200);
      expect(await res.body.text()).toBe(String(body.length));
    } finally {
      await p.proxy.stop(1000);
      slow.close();
    }
  });

  it("survives an error in its own code: that request gets a 500, logged, and the next ones work", () =>
    withProxy("add-header", async ({ url, proxy, lines }) => {
      const undo = injectHostBug(proxy, "http.ingress_http", "downstream_rq_total");
      const failed = await get(`${url}/one`);
      undo();
      expect(failed.status).toBe(500);
      expect(lines.some((l) => l.includes("GET /one: internal error: Error: injected host bug"))).toBe(true);
      expect((await get(`${url}/two`)).status).toBe(200);
    }));

  it("serves 200 concurrent requests", () =>
    withProxy("add-header", async ({ url }) => {
      const results = await Promise.all(Array.from({ length: 200 }, (_, i) => get(`${url}/n/${i}`)));
      expect(results.every((r) => r.status === 200)).toBe(true);
      expect(results.map((r) => JSON.parse(r.text).path)).toEqual(Array.from({ length: 200 }, (_, i) => `/n/${i}`));
    }));

  it("answers 503 when the upstream refuses or resets, 504 when it is too slow", () =>
    withProxy("add-header", async ({ url, lines }) => {
      const reset = await get(`${url}/reset`);
      expect(reset.status).toBe(503);
      expect(reset.text).toContain("reset reason: remote reset");
      const slow = await get(`${url}/delay/2000`);
      expect(slow.status).toBe(504);
      expect(lines.some((l) => l.includes('"GET /delay/2000 HTTP/1.1" 504 upstream_response_timeout'))).toBe(true);
      // the filter still saw the 504 on its way out
      expect(slow.headers["x-frame-options"]).toBe("DENY");
    }, (yaml) => yaml.replace("timeout: 15s", "timeout: 0.5s")));

  it("answers 503 with connection_failure when nothing listens upstream", async () => {
    const p = await startProxy(exampleConfig("add-header", 1));
    try {
      const res = await get(`${p.url}/`);
      expect(res.status).toBe(503);
      expect(res.text).toContain("connection failure");
      expect(p.lines.some((l) => l.includes("upstream_reset_before_response_started{connection_failure}"))).toBe(true);
    } finally {
      await p.proxy.stop(1000);
    }
  });

  it("answers malformed requests 400 and oversize headers 431, and the next request still works", () =>
    withProxy("add-header", async ({ url, proxy }) => {
      const port = proxy.ports[0];
      expect(await raw(port, "GET / HTTP/1.1\r\nHost: x\r\nBad Header: \x01\r\n\r\n")).toMatch(/^HTTP\/1.1 400/);
      expect(await raw(port, `GET / HTTP/1.1\r\nHost: x\r\nx-big: ${"a".repeat(70 * 1024)}\r\n\r\n`)).toMatch(/^HTTP\/1.1 431/);
      expect((await get(`${url}/after`)).status).toBe(200);
    }));

  it("answers 404 when no route matches", () =>
    withProxy("add-header", async ({ url }) => {
      expect((await get(`${url}/x`)).status).toBe(404);
    }, (yaml) => yaml.replace('match: { prefix: "/" }', 'match: { prefix: "/api" }')));
});

describe("the admin endpoint", () => {
  it("serves ready, stats in both forms, clusters, config and log level", () =>
    withProxy("add-header", async ({ url, admin, proxy }) => {
      await get(`${url}/`);
      expect((await get(`${admin}/ready`)).text).toBe("LIVE\n");
      expect((await get(`${admin}/stats/prometheus`)).text).toContain("envoy_http_ingress_http_downstream_rq_2xx 1");
      expect((await get(`${admin}/clusters`)).text).toContain(`upstream::127.0.0.1:${upstream.port}::`);
      expect(JSON.parse((await get(`${admin}/config_dump`)).text).listeners[0].wasmFilters[0].rootId).toBe("add_header");
      const res = await request(`${admin}/logging?level=debug`, { method: "POST" });
      expect(await res.body.text()).toContain("wasm: debug");
      expect(proxy.logger.level).toBe("debug");
    }));
});

describe("buffer limits", () => {
  it("answers 413 when a filter buffers more request body than the listener allows", async () => {
    // A filter that buffers the request body until its end.
    const { wat } = await import("../host/wat.ts");
    const module = wat(`
      (func (export "proxy_on_context_create") (param i32 i32))
      (func (export "proxy_on_request_body") (param i32 i32 i32) (result i32)
        (select (i32.const 0) (i32.const 1) (local.get 2)))`);
    const config = exampleConfig("add-header", upstream.port, (yaml) => yaml
      .replace(/local: \{ filename: [^}]+\}/, `local: { inline_bytes: "${Buffer.from(module).toString("base64")}" }`)
      .replace("  - name: main\n", "  - name: main\n    per_connection_buffer_limit_bytes: 4096\n"));
    const p = await startProxy(config);
    try {
      const small = await request(`${p.url}/echo`, { method: "POST", body: "x".repeat(1000) });
      expect(small.statusCode).toBe(200);
      expect(await small.body.text()).toBe("x".repeat(1000));
      const big = await request(`${p.url}/echo`, { method: "POST", body: "x".repeat(10_000) });
      expect(big.statusCode).toBe(413);
      expect(await big.body.text()).toBe("Payload Too Large");
      expect(p.lines.some((l) => l.includes("413 request_payload_too_large"))).toBe(true);
    } finally {
      await p.proxy.stop(1000);
    }
  });
});

describe("HTTP/2 upstreams", () => {
  it("speaks h2c to a cluster that asks for http2_protocol_options, both ways through the filter", async () => {
    const { createServer } = await import("node:http2");
    const seen: string[] = [];
    const h2 = createServer((req, res) => {
      seen.push(`${req.httpVersion} ${req.method} ${req.url} ${req.headers["x-added-by"]}`);
      let body = "";
      req.on("data", (d) => (body += d));
      req.on("end", () => {
        res.writeHead(200, { "content-type": "text/plain" });
        res.end(`h2 got ${body.length} bytes`);
      });
    });
    await new Promise<void>((resolve) => h2.listen(0, "127.0.0.1", () => resolve()));
    const port = (h2.address() as import("node:net").AddressInfo).port;
    const config = exampleConfig("add-header", port, (yaml) => yaml.replace("    type: STATIC\n",
      "    type: STATIC\n    typed_extension_protocol_options:\n      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:\n        explicit_http_config:\n          http2_protocol_options: {}\n"));
    expect(config.clusters[0].http2).toBe(true);
    const p = await startProxy(config);
    try {
      const res = await request(`${p.url}/over-h2`, { method: "POST", body: "x".repeat(5000) });
      expect(res.statusCode).toBe(200);
      expect(res.headers["x-frame-options"]).toBe("DENY");
      expect(await res.body.text()).toBe("h2 got 5000 bytes");
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => get(`${p.url}/many/${i}`)));
      expect(results.every((r) => r.status === 200)).toBe(true);
      expect(seen[0]).toBe("2.0 POST /over-h2 proxy-wasm-as");
      expect(seen).toHaveLength(51);
    } finally {
      await p.proxy.stop(1000);
      await new Promise<void>((resolve) => h2.close(() => resolve()));
    }
  });

  it("answers 503 when the h2 upstream refuses the connection", async () => {
    const config = exampleConfig("add-header", 1, (yaml) => yaml.replace("    type: STATIC\n",
      "    type: STATIC\n    http2_protocol_options: {}\n"));
    const p = await startProxy(config);
    try {
      const res = await get(`${p.url}/`);
      expect(res.status).toBe(503);
      expect(res.text).toContain("connection failure");
    } finally {
      await p.proxy.stop(1000);
    }
  });
});

describe("metrics a filter defines", () => {
  it("appear on the admin endpoint in Envoy's naming, histograms with quantiles and buckets", () =>
    withProxy("request-metrics", async ({ url, admin }) => {
      await get(`${url}/status/200`);
      await get(`${url}/status/404`);
      await get(`${url}/bytes/1000`);
      const stats = (await get(`${admin}/stats`)).text;
      expect(stats).toContain("wasmcustom.request_metrics.requests.method.GET: 3\n");
      expect(stats).toContain("wasmcustom.request_metrics.responses.status.2xx: 2\n");
      expect(stats).toContain("wasmcustom.request_metrics.responses.status.4xx: 1\n");
      expect(stats).toContain("wasmcustom.request_metrics.requests_in_flight: 0\n");
      expect(stats).toMatch(/wasmcustom\.request_metrics\.response_bytes: P0\(\d+\) P25\(/);
      const prometheus = (await get(`${admin}/stats/prometheus`)).text;
      expect(prometheus).toContain("# TYPE envoy_wasmcustom_request_metrics_requests_method_GET counter");
      // only /bytes/1000 answers with a content-length
      expect(prometheus).toContain("envoy_wasmcustom_request_metrics_response_bytes_count 1");
      expect(prometheus).toContain(`envoy_wasmcustom_request_metrics_response_bytes_bucket{le="1000"} 1`);
    }));
});

describe("shared data through the proxy", () => {
  it("rate-limit admits exactly a bucket's worth of 500 concurrent requests", () =>
    withProxy("rate-limit", async ({ url, admin }) => {
      const results = await Promise.all(Array.from({ length: 500 }, () => get(`${url}/`)));
      const statuses = results.map((r) => r.status);
      expect(statuses.filter((s) => s === 200)).toHaveLength(100);
      expect(statuses.filter((s) => s === 429)).toHaveLength(400);
      expect(results.find((r) => r.status === 429)?.headers["retry-after"]).toMatch(/^\d+$/);
      expect((await get(`${admin}/stats`)).text).toContain("wasmcustom.rate_limit.global.limited: 400\n");
    }, (yaml) => yaml.replace('{"capacity": 20, "refill_per_second": 5}', '{"capacity": 100, "refill_per_second": 0.001}')));
});

describe("HTTP callouts through the proxy", () => {
  it("ext-auth asks the auth cluster: admitted requests reach the upstream, others get 403", async () => {
    const { startAuthService } = await import("../../examples/ext-auth/auth-service.ts");
    const auth = await startAuthService();
    try {
      await withProxy("ext-auth", async ({ url }) => {
        const admitted = await get(`${url}/orders`, { authorization: "Bearer letmein" });
        expect(admitted.status).toBe(200);
        expect(JSON.parse(admitted.text).headers["x-user"]).toBe("alice");
        const refused = await get(`${url}/orders`);
        expect(refused.status).toBe(403);
        expect(JSON.parse(refused.text)).toEqual({ error: "missing token" });
        const many = await Promise.all(Array.from({ length: 50 }, (_, i) => get(`${url}/n/${i}`, { authorization: i % 2 ? "Bearer letmein" : "Bearer nope" })));
        expect(many.map((r) => r.status)).toEqual(Array.from({ length: 50 }, (_, i) => (i % 2 ? 200 : 403)));
        expect(auth.seen[0]).toBe("GET /check GET /orders");
      }, (yaml) => yaml.replace("port_value: 9001", `port_value: ${auth.port}`));
    } finally {
      await auth.close();
    }
  });

  it("ext-auth answers 503 when the auth service is down", () =>
    withProxy("ext-auth", async ({ url }) => {
      const res = await get(`${url}/`, { authorization: "Bearer letmein" });
      expect(res.status).toBe(503);
      expect(res.text).toBe("authorization service unavailable\n");
    }, (yaml) => yaml.replace("port_value: 9001", "port_value: 1")));
});

describe("properties through the proxy", () => {
  it("a filter reads the real connection, route and cluster", async () => {
    const { shorthandConfig } = await import("../../host/config/shorthand.ts");
    const config = shorthandConfig({
      wasm: [`${process.cwd()}/build/test-sdk-probe.wasm`], rootId: ["sdk_probe"], config: [], failOpen: false,
      upstream: `http://127.0.0.1:${upstream.port}`, listen: 0, admin: null,
    });
    const p = await startProxy(config);
    try {
      const ask = async (probe: string, arg: string) => JSON.parse((await get(`${p.url}/x`, { "x-probe": probe, "x-arg": arg })).text).headers["x-result"];
      expect(await ask("property", "source.address")).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(await ask("property", "destination.address")).toBe(`127.0.0.1:${p.proxy.ports[0]}`);
      expect(await ask("property", "cluster_name")).toBe("upstream");
      expect(await ask("property", "request.protocol")).toBe("HTTP/1.1");
    } finally {
      await p.proxy.stop(1000);
    }
  });
});

describe("every example's envoy.yaml", () => {
  const examples = readdirSync(join(import.meta.dirname, "../../examples")).filter((e) => existsSync(join(import.meta.dirname, "../../examples", e, "envoy.yaml")));
  it.each(examples)("%s starts under the proxy and answers", (example) =>
    withProxy(example, async ({ url, admin }) => {
      expect((await get(`${admin}/ready`)).text).toBe("LIVE\n");
      expect((await get(`${url}/status/200`, { "x-api-key": "k", authorization: "Bearer letmein" })).status).toBeGreaterThanOrEqual(200);
    }));
});

describe("gRPC through the proxy", () => {
  it("grpc-check calls authz.Checker over HTTP/2: allowed requests pass, refused get 403, failures 503", async () => {
    const { startCheckerService } = await import("../../examples/grpc-check/checker-service.ts");
    const checker = await startCheckerService();
    try {
      await withProxy("grpc-check", async ({ url }) => {
        expect((await get(`${url}/orders`, { "x-user": "alice" })).status).toBe(200);
        expect((await get(`${url}/public/x`)).status).toBe(200);
        const refused = await get(`${url}/orders`, { "x-user": "bob" });
        expect(refused.status).toBe(403);
        expect(refused.text).toBe("user bob may not see /orders\n");
        expect((await get(`${url}/fail`)).status).toBe(503);
        const many = await Promise.all(Array.from({ length: 40 }, (_, i) => get(`${url}/n/${i}`, { "x-user": i % 2 ? "alice" : "eve" })));
        expect(many.map((r) => r.status)).toEqual(Array.from({ length: 40 }, (_, i) => (i % 2 ? 200 : 403)));
        expect(checker.calls[0]).toBe("/authz.Checker/Check proxy-wasm-as /orders alice");
      }, (yaml) => yaml.replace("port_value: 9003", `port_value: ${checker.port}`));
    } finally {
      await checker.close();
    }
  });

  it("grpc-check answers 503 when the gRPC service is down", () =>
    withProxy("grpc-check", async ({ url }) => {
      expect((await get(`${url}/`, { "x-user": "alice" })).status).toBe(503);
    }, (yaml) => yaml.replace("port_value: 9003", "port_value: 1")));
});

/**
 * The sdk-probe filter in the proxy, with a cluster "c" (HTTP/2) to a gRPC service answering
 * each stream with `handle`; `done` stops them both.
 */
async function probeWithGrpcService(handle: (stream: import("node:http2").ServerHttp2Stream, headers: import("node:http2").IncomingHttpHeaders) => void) {
  const { createServer } = await import("node:http2");
  const { shorthandConfig } = await import("../../host/config/shorthand.ts");
  const h2 = createServer();
  h2.on("stream", handle);
  const sessions = new Set<import("node:http2").ServerHttp2Session>();
  h2.on("session", (session) => sessions.add(session));
  await new Promise<void>((resolve) => h2.listen(0, "127.0.0.1", () => resolve()));
  const port = (h2.address() as import("node:net").AddressInfo).port;
  const config = shorthandConfig({
    wasm: [`${process.cwd()}/build/test-sdk-probe.wasm`], rootId: ["sdk_probe"], config: [], failOpen: false,
    upstream: `http://127.0.0.1:${upstream.port}`, listen: 0, admin: null,
  });
  config.clusters.push({ name: "c", type: "STATIC", connectTimeoutMs: 1000, endpoints: [{ address: "127.0.0.1", port }], http2: true });
  const p = await startProxy(config);
  const done = async () => {
    await p.proxy.stop(1000);
    for (const session of sessions) session.destroy();
    await new Promise<void>((resolve) => h2.close(() => resolve()));
  };
  return { p, done };
}

/** `text` as one gRPC message frame. */
function grpcFrame(text: string): Buffer {
  const reply = Buffer.from(text);
  const framed = Buffer.alloc(5 + reply.length);
  framed.writeUInt32BE(reply.length, 1);
  reply.copy(framed, 5);
  return framed;
}

describe("gRPC streams through the proxy", () => {
  it("a stream's messages reach the service over HTTP/2 and its replies come back to the filter", async () => {
    // A streaming service: answers each framed message with "echo:<message>", then OK when the client half-closes.
    const { p, done } = await probeWithGrpcService((stream, headers) => {
      stream.respond({ ":status": 200, "content-type": "application/grpc", "x-path": String(headers[":path"]) }, { waitForTrailers: true });
      let pending = Buffer.alloc(0);
      stream.on("data", (d: Buffer) => {
        pending = Buffer.concat([pending, d]);
        while (pending.length >= 5 && pending.length >= 5 + pending.readUInt32BE(1)) {
          stream.write(grpcFrame(`echo:${pending.subarray(5, 5 + pending.readUInt32BE(1))}`));
          pending = pending.subarray(5 + pending.readUInt32BE(1));
        }
      });
      stream.on("end", () => {
        stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0", "x-count": "2" }));
        stream.end();
      });
    });
    try {
      // /delay keeps the request (and so the filter's context) open while the replies come.
      const token = JSON.parse((await get(`${p.url}/delay/400`, { "x-probe": "grpc-stream", "x-arg": "one,two" })).text).headers["x-result"];
      await vi.waitFor(() => expect(p.lines.some((l) => l.includes(`grpc ${token} closed 0`)), p.lines.join("\n")).toBe(true), { timeout: 5000 });
      const events = p.lines.filter((l) => l.includes(`grpc ${token} `)).map((l) => l.replace(/^.*: grpc \d+ /, ""));
      expect(events[0]).toMatch(/^initial metadata content-type=application\/grpc,x-path=\/probe.Service\/Chat/);
      expect(events.slice(1)).toEqual(["message echo:one", "message echo:two", "trailing metadata x-count=2", "closed 0 "]);
    } finally {
      await done();
    }
  });
});

describe("unary gRPC calls through the proxy", () => {
  it("a unary call gets exactly one callback: receive on success (metadata sent or not), close with the status on failure", async () => {
    // Answers "pong:<message>" with initial and trailing metadata; the message "fail" gets UNAVAILABLE (trailers-only).
    const { p, done } = await probeWithGrpcService((stream) => {
      const chunks: Buffer[] = [];
      stream.on("data", (d: Buffer) => chunks.push(d));
      stream.on("end", () => {
        const message = Buffer.concat(chunks).subarray(5).toString();
        if (message === "fail") {
          stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": "14", "grpc-message": "no backend" }, { endStream: true });
          return;
        }
        stream.respond({ ":status": 200, "content-type": "application/grpc", "x-server": "a" }, { waitForTrailers: true });
        stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0", "x-done": "yes" }));
        stream.end(grpcFrame(`pong:${message}`));
      });
    });
    try {
      const call = async (message: string) => JSON.parse((await get(`${p.url}/delay/300`, { "x-probe": "grpc-call", "x-arg": message })).text).headers["x-result"] as string;
      const [ok, failed] = await Promise.all([call("ping"), call("fail")]);
      expect(Number(ok) % 4).toBe(1); // a gRPC call's token, as cpp-host numbers them
      const events = (token: string) => p.lines.filter((l) => l.includes(`grpc ${token} `)).map((l) => l.replace(/^.*: grpc \d+ /, ""));
      await vi.waitFor(() => expect(events(ok).length + events(failed).length).toBeGreaterThanOrEqual(2), { timeout: 5000 });
      await new Promise((resolve) => setTimeout(resolve, 100)); // anything more would show by now
      expect(events(ok)).toEqual(["message pong:ping"]);
      expect(events(failed)).toEqual(["closed 14 no backend"]);
    } finally {
      await done();
    }
  });
});

describe("a filter that traps, in the live proxy", () => {
  async function probeProxy(failOpen: boolean) {
    const { shorthandConfig } = await import("../../host/config/shorthand.ts");
    return startProxy(shorthandConfig({
      wasm: [`${process.cwd()}/build/test-sdk-probe.wasm`], rootId: ["sdk_probe"], config: [], failOpen,
      upstream: `http://127.0.0.1:${upstream.port}`, listen: 0, admin: 0,
    }));
  }

  it("fails only its own request with a 503; the VM is re-created in the background and serves the next", async () => {
    const p = await probeProxy(false);
    try {
      const trapped = await get(`${p.url}/`, { "x-probe": "trap" });
      expect(trapped.status).toBe(503);
      expect(p.lines.some((l) => l.includes("503 wasm_fail_stream"))).toBe(true);
      await vi.waitFor(async () => expect((await get(`${p.url}/`, { "x-probe": "property", "x-arg": "plugin_root_id" })).status).toBe(200), { timeout: 5000 });
      expect((await get(`${p.admin}/stats`)).text).toContain("wasm_filter.sdk_probe.vm_failures: 1\n");
      expect(p.lines.some((l) => l.includes("re-creating the VM after: proxy_on_request_headers trapped"))).toBe(true);
    } finally {
      await p.proxy.stop(1000);
    }
  });

  it("under fail_open, the trapping request itself goes on to the upstream", async () => {
    const p = await probeProxy(true);
    try {
      expect((await get(`${p.url}/`, { "x-probe": "trap" })).status).toBe(200);
    } finally {
      await p.proxy.stop(1000);
    }
  });
});
