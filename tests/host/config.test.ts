// Envoy bootstrap files → the proxy's model, and the errors a bad file gets.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseEnvoyConfig } from "../../host/config/envoy.ts";

const exampleFile = join(import.meta.dirname, "../../examples/add-header/envoy.yaml");
const example = readFileSync(exampleFile, "utf8");
const parse = (text: string) => parseEnvoyConfig(text, "envoy.yaml");

describe("Envoy configuration", () => {
  it("reads the add-header example into listeners, routes, filters and clusters", () => {
    const { config, warnings } = parse(example);
    expect(warnings).toEqual([]);
    expect(config.admin).toEqual({ address: "127.0.0.1", port: 9901 });
    const [listener] = config.listeners;
    if (listener.kind !== "http") throw new Error(`expected an HTTP listener, found ${listener.kind}`);
    expect(listener.address).toEqual({ address: "127.0.0.1", port: 10000 });
    expect(listener.statPrefix).toBe("ingress_http");
    expect(listener.virtualHosts[0].routes[0]).toMatchObject({ match: { prefix: "/" }, action: { kind: "cluster", cluster: "upstream", timeoutMs: 15000 } });
    expect(listener.wasmFilters[0]).toMatchObject({
      name: "add_header", rootId: "add_header", vmId: "add_header", failOpen: false, code: { filename: "build/add-header.wasm" },
    });
    expect(JSON.parse(listener.wasmFilters[0].configuration)).toEqual({ request: { "x-added-by": "proxy-wasm-as" }, response: { "x-frame-options": "DENY" } });
    expect(config.clusters).toEqual([{ name: "upstream", type: "STATIC", connectTimeoutMs: 1000, endpoints: [{ address: "127.0.0.1", port: 8080 }], http2: false,
      circuitBreakers: { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024 } }]);
    expect(listener.http).toEqual({
      useRemoteAddress: false, xffNumTrustedHops: 0, generateRequestId: true, preserveExternalRequestId: false, streamIdleTimeoutMs: 300_000,
      requestTimeoutMs: 0, maxHeadersCount: 100, acceptHttp10: false, defaultHostForHttp10: "", idleTimeoutMs: 3_600_000, maxRequestHeadersKb: 60,
    });
  });

  it("warns about Envoy fields outside the subset that cannot change behaviour, by path and line", () => {
    const { warnings } = parse(example.replace("    connect_timeout: 1s", "    connect_timeout: 1s\n    alt_stat_name: up"));
    expect(warnings).toEqual(["envoy.yaml:45: static_resources.clusters[0].alt_stat_name: not supported by this host; ignored"]);
  });

  it("refuses an unknown field, naming file, line and the closest known field", () => {
    expect(() => parse(example.replace("vm_id: add_header", "vm_idd: add_header"))).toThrow(
      /^envoy\.yaml:35: static_resources\.listeners\[0\]\.filter_chains\[0\]\.filters\[0\]\.typed_config\.http_filters\[0\]\.typed_config\.config\.vm_config\.vm_idd: unknown field "vm_idd" in VmConfig; did you mean vm_id\?$/);
    expect(() => parse(example.replace("    connect_timeout: 1s", "    conect_timeout: 1s"))).toThrow(/clusters\[0\]\.conect_timeout: unknown field "conect_timeout" in Cluster; did you mean connect_timeout\?/);
    expect(() => parse(example.replace("stat_prefix: ingress_http", "stat_prefix: ingress_http\n          frobnicate: true"))).toThrow(/frobnicate: unknown field "frobnicate" in HttpConnectionManager$/);
  });

  it("refuses an Envoy field this host does not implement when it would change behaviour", () => {
    expect(() => parse(example.replace("    connect_timeout: 1s", "    connect_timeout: 1s\n    outlier_detection: {}"))).toThrow(
      /^envoy\.yaml:45: static_resources\.clusters\[0\]\.outlier_detection: Cluster\.outlier_detection is not supported by this host/);
    expect(() => parse(example.replace("- match: { prefix: \"/\" }", "- match: { prefix: \"/\", headers: [{ name: x }] }"))).toThrow(/match\.headers: RouteMatch\.headers is not supported/);
  });

  it("names the filter meant by a misspelt HTTP filter name", () => {
    const typo = example.replace("- name: envoy.filters.http.router\n            typed_config:\n              \"@type\": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router", "- name: envoy.filters.http.routr");
    expect(() => parse(typo)).toThrow(/http_filters\[1\]\.name: HTTP filter envoy\.filters\.http\.routr is not one this host knows; did you mean envoy\.filters\.http\.router\?/);
    const hcm = example.replace("- name: envoy.filters.network.http_connection_manager", "- name: envoy.filters.network.http_connection_manger")
      .replace("type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager", "type.googleapis.com/envoy.extensions.filters.network.http_connection_manger.v3.HttpConnectionManager");
    expect(() => parse(hcm)).toThrow(/filters\[0\]\.name: network filter .* is not one this host knows; did you mean envoy\.extensions\.filters\.network\.http_connection_manager\.v3\.HttpConnectionManager\?/);
    const byName = example.replace("- name: envoy.filters.network.http_connection_manager", "- name: envoy.filters.network.http_connection_manger")
      .replace(/\n\s+"@type": type\.googleapis\.com\/envoy\.extensions\.filters\.network\.http_connection_manager\.v3\.HttpConnectionManager/, "");
    expect(() => parse(byName)).toThrow(/filters\[0\]\.name: network filter envoy\.filters\.network\.http_connection_manger is not one this host knows; did you mean envoy\.filters\.network\.http_connection_manager\?/);
  });

  it("refuses an empty file and a YAML alias bomb in one line", () => {
    expect(() => parse("")).toThrow(/^envoy\.yaml: the configuration is empty/);
    expect(() => parse("# nothing\n")).toThrow(/^envoy\.yaml: the configuration is empty/);
    const bomb = ["a: &a [x, x, x, x, x, x, x, x, x, x]", ..."bcdefghi".split("").map((c, i) => `${c}: &${c} [${Array(10).fill(`*${"abcdefghi"[i]}`).join(", ")}]`)].join("\n");
    let message = "";
    try {
      parse(bomb);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^envoy\.yaml: not accepted: .*alias/i);
    expect(message).not.toContain("\n");
  });

  it("compiles safe_regex as RE2 (whole-path match), refusing what RE2 has not", () => {
    const at = (regex: string) => example.replace('- match: { prefix: "/" }', `- match: { safe_regex: { regex: ${JSON.stringify(regex)} } }`);
    const route = parse(at("/api/v[0-9]+/.*")).config.listeners[0];
    if (route.kind !== "http") throw new Error("expected an HTTP listener");
    const match = route.virtualHosts[0].routes[0].match;
    if (!("regex" in match)) throw new Error("expected a regex match");
    expect(match.regex.test("/api/v2/users")).toBe(true);
    expect(match.regex.test("/x/api/v2/users")).toBe(false);
    expect(() => parse(at("(a)\\1"))).toThrow(/safe_regex\.regex: expected an RE2 regular expression \(error parsing regexp: invalid escape sequence/);
    expect(() => parse(at("(?=a)b"))).toThrow(/safe_regex\.regex: expected an RE2 regular expression/);
  });

  it("reads the HTTP connection manager's options and circuit breakers by Envoy's names", () => {
    const text = example.replace("stat_prefix: ingress_http", `stat_prefix: ingress_http
          use_remote_address: true
          xff_num_trusted_hops: 1
          generate_request_id: false
          stream_idle_timeout: 2s
          request_timeout: 3s
          common_http_protocol_options: { max_headers_count: 50 }
          http_protocol_options: { accept_http_10: true }`).replace("    connect_timeout: 1s", `    connect_timeout: 1s
    circuit_breakers:
      thresholds:
      - { max_connections: 100, max_pending_requests: 10 }
      - { priority: HIGH, max_connections: 1 }`);
    const { config, warnings } = parse(text);
    expect(warnings).toEqual([]);
    expect(config.listeners[0]).toMatchObject({ http: { useRemoteAddress: true, xffNumTrustedHops: 1, generateRequestId: false, streamIdleTimeoutMs: 2000, requestTimeoutMs: 3000, maxHeadersCount: 50, acceptHttp10: true } });
    expect(config.clusters[0].circuitBreakers).toEqual({ maxConnections: 100, maxPendingRequests: 10, maxRequests: 1024 });
  });

  it("names the file, path and line of a value of the wrong kind", () => {
    expect(() => parse(example.replace("port_value: 10000", "port_value: ten"))).toThrow(
      "envoy.yaml:8: static_resources.listeners[0].address.socket_address.port_value: expected a port number (0-65535), found the string \"ten\"");
    expect(() => parse(example.replace("timeout: 15s", "timeout: 15"))).not.toThrow();
    expect(() => parse(example.replace("timeout: 15s", "timeout: 15ms"))).toThrow(/routes\[0\]\.route\.timeout: expected a duration such as "1s"/);
  });

  it("refuses an unsupported filter or cluster type, naming it", () => {
    expect(() => parse(example.replace("name: envoy.filters.http.wasm", "name: envoy.filters.http.lua")
      .replace("envoy.extensions.filters.http.wasm.v3.Wasm", "envoy.extensions.filters.http.lua.v3.Lua"))).toThrow(
      /http_filters\[0\]\.name: HTTP filter envoy.filters.http.lua \(envoy.extensions.filters.http.lua.v3.Lua\) is not supported by this host/);
    expect(() => parse(example.replace("type: STATIC", "type: EDS"))).toThrow(
      /clusters\[0\]\.type: cluster type EDS is not supported by this host \(supported: STATIC, STRICT_DNS, LOGICAL_DNS\)/);
  });

  it("refuses a route to an undefined cluster, listing the defined ones", () => {
    expect(() => parse(example.replace("route: { cluster: upstream", "route: { cluster: nowhere"))).toThrow(
      /route to cluster "nowhere", which static_resources.clusters does not define \(defined: upstream\)/);
  });

  it("requires the router as the last HTTP filter", () => {
    const without = example.replace(/          - name: envoy.filters.http.router\n.*\n.*\n/, "");
    expect(() => parse(without)).toThrow(/http_filters: expected http_filters ending with envoy.filters.http.router/);
  });

  it("reports YAML syntax errors with line and column", () => {
    expect(() => parse("static_resources:\n  listeners: [\n")).toThrow(/^envoy.yaml:\d+:\d+: not valid YAML/);
  });

  it("reads HTTP/2 upstreams, DNS clusters and inline code", () => {
    const text = example
      .replace("type: STATIC", "type: STRICT_DNS\n    typed_extension_protocol_options:\n      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:\n        explicit_http_config:\n          http2_protocol_options: {}")
      .replace("local: { filename: build/add-header.wasm }", `local: { inline_bytes: "${Buffer.from("\0asm").toString("base64")}" }`);
    const { config } = parse(text);
    expect(config.clusters[0]).toMatchObject({ type: "STRICT_DNS", http2: true });
    expect(config.listeners[0].wasmFilters[0].code).toMatchObject({ bytes: new Uint8Array([0, 97, 115, 109]) });
  });
});

describe("Envoy configuration of TCP listeners", () => {
  const tcpExample = readFileSync(join(import.meta.dirname, "../../examples/tcp-deny/envoy.yaml"), "utf8");

  it("reads wasm network filters followed by tcp_proxy into a TCP listener", () => {
    const { config, warnings } = parse(tcpExample);
    expect(warnings).toEqual([]);
    expect(config.listeners[0]).toMatchObject({
      kind: "tcp", name: "tcp", address: { address: "127.0.0.1", port: 10000 }, statPrefix: "tcp_deny", cluster: "upstream",
      idleTimeoutMs: 300_000, wasmFilters: [{ name: "tcp_deny", rootId: "tcp_deny", code: { filename: "build/tcp-deny.wasm" } }],
    });
    expect(JSON.parse(config.listeners[0].wasmFilters[0].configuration)).toEqual({ prefixes: ["CONNECT ", "BADPROTO"] });
  });

  it("refuses a chain that does not end with tcp_proxy, or that holds another network filter, naming it", () => {
    expect(() => parse(tcpExample.replace("name: envoy.filters.network.tcp_proxy", "name: envoy.filters.network.redis_proxy")
      .replace("envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy", "envoy.extensions.filters.network.redis_proxy.v3.RedisProxy"))).toThrow(
      /filters\[1\]\.name: network filter envoy.filters.network.redis_proxy \(envoy.extensions.filters.network.redis_proxy.v3.RedisProxy\) is not supported here by this host \(supported: envoy.filters.network.http_connection_manager alone, or envoy.filters.network.wasm filters followed by envoy.filters.network.tcp_proxy\)/);
    expect(() => parse(tcpExample.replace("name: envoy.filters.network.wasm", "name: envoy.filters.network.rbac")
      .replace("envoy.extensions.filters.network.wasm.v3.Wasm", "envoy.extensions.filters.network.rbac.v3.RBAC"))).toThrow(
      /filters\[0\]\.name: network filter envoy.filters.network.rbac \(envoy.extensions.filters.network.rbac.v3.RBAC\) is not supported/);
  });

  it("refuses tcp_proxy to an undefined cluster, and weighted clusters", () => {
    expect(() => parse(tcpExample.replace("cluster: upstream", "cluster: elsewhere"))).toThrow(
      /envoy.yaml:32: static_resources.listeners\[0\].filter_chains\[0\].filters\[1\].typed_config.cluster: tcp_proxy to cluster "elsewhere", which static_resources.clusters does not define \(defined: upstream\)/);
    expect(() => parse(tcpExample.replace("cluster: upstream", "weighted_clusters: { clusters: [] }"))).toThrow(
      /typed_config.weighted_clusters: expected a single cluster \(weighted_clusters is not supported by this host\)/);
  });
});
