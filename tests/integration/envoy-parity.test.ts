// Envoy configs as other projects write them, over real sockets: a WasmService from
// bootstrap_extensions sharing data with an HTTP filter, a TypedStruct-wrapped filter
// config, and direct_response and redirect routes behind that filter.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { request } from "undici";
import { parseEnvoyConfig } from "../../host/config/envoy.ts";
import { startEchoUpstream } from "../../host/testing/echo-upstream.ts";
import { exampleConfig, root, startProxy } from "./proxy-fixture.ts";

let upstream: Awaited<ReturnType<typeof startEchoUpstream>>;
beforeAll(async () => (upstream = await startEchoUpstream()));
afterAll(async () => upstream.close());

const module = join(root, "build/test-tick-counter.wasm");

/** A bootstrap whose service counts ticks every 20 ms and whose only HTTP filter (TypedStruct-wrapped) reports the count. */
const bootstrap = (upstreamPort: number) => `
bootstrap_extensions:
- name: envoy.bootstrap.wasm
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.wasm.v3.WasmService
    singleton: true
    config:
      name: tick_counter
      root_id: tick_counter
      configuration: { "@type": type.googleapis.com/google.protobuf.StringValue, value: "20" }
      vm_config:
        vm_id: ticks
        runtime: envoy.wasm.runtime.v8
        code: { local: { filename: ${module} } }
static_resources:
  listeners:
  - name: main
    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress_http
          route_config:
            name: local_route
            virtual_hosts:
            - name: backend
              domains: ["*"]
              routes:
              - match: { path: "/health" }
                direct_response: { status: 200, body: { inline_string: "healthy\\n" } }
              - match: { prefix: "/gone" }
                direct_response: { status: 410 }
              - match: { prefix: "/old/" }
                redirect: { prefix_rewrite: "/new/", response_code: FOUND }
              - match: { prefix: "/secure" }
                redirect: { https_redirect: true, strip_query: true }
              - match: { prefix: "/" }
                route: { cluster: upstream }
          http_filters:
          - name: tick-reader
            typed_config:
              "@type": type.googleapis.com/udpa.type.v1.TypedStruct
              type_url: type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              value:
                config:
                  name: tick_reader
                  root_id: tick_reader
                  vm_config:
                    vm_id: ticks
                    runtime: envoy.wasm.runtime.v8
                    code: { local: { filename: ${module} } }
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: upstream
    connect_timeout: 1s
    type: STATIC
    load_assignment:
      cluster_name: upstream
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${upstreamPort} } } }
`;

async function get(url: string) {
  const res = await request(url);
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

describe("an Envoy bootstrap with a WasmService, a TypedStruct filter and direct routes, through the proxy", () => {
  it("the service's ticks reach the filter through shared data; direct_response and redirect answer behind the filter", async () => {
    const { config, warnings } = parseEnvoyConfig(bootstrap(upstream.port), "bootstrap.yaml");
    expect(warnings).toEqual([]);
    const p = await startProxy(config);
    try {
      expect(p.lines.some((l) => l.includes("WasmService tick_counter started"))).toBe(true);
      // The service ticks every 20 ms on its own: the count the filter reports grows.
      let first = 0;
      await vi.waitFor(async () => {
        first = Number((await get(`${p.url}/count`)).headers["x-ticks"]);
        expect(first).toBeGreaterThan(0);
      }, { timeout: 5000, interval: 20 });
      await vi.waitFor(async () => expect(Number((await get(`${p.url}/count`)).headers["x-ticks"])).toBeGreaterThan(first), { timeout: 5000, interval: 20 });

      const upstreamAnswer = await get(`${p.url}/anything`);
      expect(upstreamAnswer.status).toBe(200);
      expect(JSON.parse(upstreamAnswer.text).path).toBe("/anything");

      const health = await get(`${p.url}/health`);
      expect(health.status).toBe(200);
      expect(health.text).toBe("healthy\n");
      expect(health.headers["content-type"]).toBe("text/plain");
      expect(Number(health.headers["x-ticks"])).toBeGreaterThan(0); // the filter saw the direct response

      const gone = await get(`${p.url}/gone/x`);
      expect([gone.status, gone.text, Number(gone.headers["x-ticks"]) > 0]).toEqual([410, "", true]);

      const moved = await get(`${p.url}/old/page?x=1`);
      expect(moved.status).toBe(302);
      expect(moved.headers.location).toBe(`http://127.0.0.1:${p.proxy.ports[0]}/new/page?x=1`);
      expect(moved.text).toBe("");
      expect(Number(moved.headers["x-ticks"])).toBeGreaterThan(0);

      const secure = await get(`${p.url}/secure/a?b=c`);
      expect(secure.status).toBe(301);
      expect(secure.headers.location).toBe(`https://127.0.0.1:${p.proxy.ports[0]}/secure/a`);
      expect(p.lines.some((l) => l.includes('"GET /health HTTP/1.1" 200 direct_response'))).toBe(true);
    } finally {
      await p.proxy.stop(1000);
    }
  });
});

describe("the denylist-service example through the proxy", () => {
  it("the service refreshes the list in the background; the filter denies the clients on it, then lets them pass again", async () => {
    let list = "# nobody yet\n10.0.0.1\n";
    let fetches = 0;
    const lists = createServer((req, res) => {
      fetches++;
      res.writeHead(req.url === "/denied" ? 200 : 404, { "content-type": "text/plain" }).end(list);
    });
    await new Promise<void>((resolve) => lists.listen(0, "127.0.0.1", () => resolve()));
    const listsPort = (lists.address() as AddressInfo).port;
    const p = await startProxy(exampleConfig("denylist-service", upstream.port, (yaml) => yaml
      .replace("port_value: 10010", "port_value: 0").replace("port_value: 9911", "port_value: 0")
      .replace("port_value: 9004", `port_value: ${listsPort}`).replace('"refresh_every_ms": 10000', '"refresh_every_ms": 50')));
    try {
      await vi.waitFor(() => expect(fetches).toBeGreaterThan(0), { timeout: 5000 });
      expect((await get(`${p.url}/a`)).status).toBe(200);
      list = "127.0.0.1\n";
      await vi.waitFor(async () => expect((await get(`${p.url}/b`)).status).toBe(403), { timeout: 5000, interval: 20 });
      const denied = await get(`${p.url}/c`);
      expect([denied.status, denied.text]).toEqual([403, "your address is denied\n"]);
      list = "";
      await vi.waitFor(async () => expect((await get(`${p.url}/d`)).status).toBe(200), { timeout: 5000, interval: 20 });
      expect(p.lines.some((l) => l.includes("denylist_refresher: 1 address(es) denied"))).toBe(true);
    } finally {
      await p.proxy.stop(1000);
      await new Promise<void>((resolve) => lists.close(() => resolve()));
    }
  });
});

describe("a WasmService and a reload of its module", () => {
  it("reloading the module file replaces the service and the filter loaded from it; the new service refreshes the list", async () => {
    let list = "10.0.0.1\n";
    const lists = createServer((_req, res) => res.writeHead(200, { "content-type": "text/plain" }).end(list));
    await new Promise<void>((resolve) => lists.listen(0, "127.0.0.1", () => resolve()));
    const dir = mkdtempSync(join(tmpdir(), "service-reload-"));
    const file = join(dir, "denylist-service.wasm");
    copyFileSync(join(root, "build/denylist-service.wasm"), file);
    const p = await startProxy(exampleConfig("denylist-service", upstream.port, (yaml) => yaml
      .replace(`${root}/build/denylist-service.wasm`, file).replace(`${root}/build/denylist-service.wasm`, file)
      .replace("port_value: 10010", "port_value: 0").replace("port_value: 9911", "port_value: 0")
      .replace("port_value: 9004", `port_value: ${(lists.address() as AddressInfo).port}`).replace('"refresh_every_ms": 10000', '"refresh_every_ms": 50')));
    try {
      expect(p.proxy.moduleFiles).toEqual([file]);
      const before = p.proxy.services[0];
      // The same code, other bytes (a custom section appended), as a rebuild gives.
      const note = Buffer.from([4, ...Buffer.from("note"), ...Buffer.from("v2")]);
      writeFileSync(file, Buffer.concat([readFileSync(file), Buffer.from([0, note.length]), note]));
      const outcomes = await p.proxy.reloadModule(file);
      expect(outcomes.map((o) => `${o.plugin} ${o.outcome}`).sort()).toEqual(["denylist_check reloaded", "denylist_refresher reloaded"]);
      expect(p.proxy.services[0]).not.toBe(before);
      expect(before.released).toBe(true); // its timer stopped, its root done
      list = "127.0.0.1\n";
      await vi.waitFor(async () => expect((await get(`${p.url}/x`)).status).toBe(403), { timeout: 5000, interval: 20 });
      const stats = await (await request(`http://127.0.0.1:${p.proxy.adminPort}/stats`)).body.text();
      expect(stats).toContain("wasm_service.denylist_refresher.reloads: 1");
      expect(stats).toContain("wasm_filter.denylist_check.reloads: 1");
    } finally {
      await p.proxy.stop(1000);
      await new Promise<void>((resolve) => lists.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("a VM that dies while requests wait on it, through the proxy", () => {
  it("a trap in a callout's answer gets every waiting request a 503 at once; the next request is served by a fresh VM", async () => {
    const { shorthandConfig } = await import("../../host/config/shorthand.ts");
    // The auth service: "trap" for /trap, "ok" for anything else; /slow only when the test says.
    const late: (() => void)[] = [];
    const auth = createServer((req, res) => {
      const answer = () => res.writeHead(200, { "content-type": "text/plain" }).end(req.url === "/trap" ? "trap" : "ok");
      if (req.url === "/slow") late.push(answer);
      else answer();
    });
    await new Promise<void>((resolve) => auth.listen(0, "127.0.0.1", () => resolve()));
    const config = shorthandConfig({
      wasm: [join(root, "build/test-callout-trap.wasm")], rootId: ["callout_trap"], config: [], failOpen: false,
      upstream: `http://127.0.0.1:${upstream.port}`, listen: 0, admin: null,
    });
    config.clusters.push({ name: "auth", type: "STATIC", connectTimeoutMs: 1000, endpoints: [{ address: "127.0.0.1", port: (auth.address() as AddressInfo).port }], http2: false });
    const p = await startProxy(config);
    try {
      const started = performance.now();
      const slow = get(`${p.url}/slow`);
      await new Promise((resolve) => setTimeout(resolve, 100)); // /slow is waiting on its callout
      const trap = await get(`${p.url}/trap`);
      expect(trap.status).toBe(503);
      expect((await slow).status).toBe(503);
      expect(performance.now() - started).toBeLessThan(2500); // its callout has not answered
      expect(late).toHaveLength(1);
      late[0](); // the dead VM's callout answers now: dropped
      await vi.waitFor(async () => {
        const next = await get(`${p.url}/fine`);
        expect(next.status).toBe(200);
        expect(JSON.parse(next.text).headers["x-auth"]).toBe("ok");
      }, { timeout: 5000, interval: 50 });
    } finally {
      await p.proxy.stop(1000);
      auth.closeAllConnections();
      await new Promise<void>((resolve) => auth.close(() => resolve()));
    }
  });
});
