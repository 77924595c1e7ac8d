// An Envoy bootstrap file (the subset this host runs) → the model. The same file must be
// valid for Envoy: names and shapes are Envoy's own. What is outside the subset is warned
// about by path; an unsupported filter or cluster type is an error naming it.
import { readFileSync } from "node:fs";
import { LineCounter, parseDocument } from "yaml";
import {
  type ClusterConfig, type HttpListenerConfig, type ListenerConfig, type TcpListenerConfig, type NodeConfig, type ProxyConfig, type RouteConfig, type RouteMatch,
  type SocketAddress, type VirtualHostConfig, type WasmFilterConfig, type WasmServiceConfig, type RouteAction, type RedirectConfig,
  type CircuitBreakerConfig, DEFAULT_CIRCUIT_BREAKER, DEFAULT_MAX_HEADERS_COUNT, DEFAULT_STREAM_IDLE_TIMEOUT_MS,
  DEFAULT_BUFFER_LIMIT_BYTES, DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_ROUTE_TIMEOUT_MS, DEFAULT_TCP_IDLE_TIMEOUT_MS,
} from "./model.ts";
import { ConfigError, Node } from "./reader.ts";
import { closest } from "./envoy-fields.ts";
import { compileRegex } from "../http/regex.ts";

const HCM = "envoy.filters.network.http_connection_manager";
const WASM = "envoy.filters.http.wasm";
const ROUTER = "envoy.filters.http.router";
const NETWORK_WASM = "envoy.filters.network.wasm";
const TCP_PROXY = "envoy.filters.network.tcp_proxy";
const BOOTSTRAP_WASM = "envoy.bootstrap.wasm";
const SUPPORTED_CHAINS = `${HCM} alone, or ${NETWORK_WASM} filters followed by ${TCP_PROXY}`;
const CLUSTER_TYPES = ["STATIC", "STRICT_DNS", "LOGICAL_DNS"] as const;
/** The extension each typed_config message type configures: Envoy picks the extension by its config's type before its name. */
const EXTENSION_OF_TYPE: Record<string, string> = {
  "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager": HCM,
  "envoy.extensions.filters.http.wasm.v3.Wasm": WASM,
  "envoy.extensions.filters.http.router.v3.Router": ROUTER,
  "envoy.extensions.filters.network.wasm.v3.Wasm": NETWORK_WASM,
  "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy": TCP_PROXY,
  "envoy.extensions.wasm.v3.WasmService": BOOTSTRAP_WASM,
};

/** An extension entry (name, typed_config): which extension it is, by its config's type (unwrapped), else by its name; and that config. */
function extension(n: Node): { kind: string; label: string; config: Node } {
  n.only("Extension", "name", "typed_config");
  const { message, type } = n.field("typed_config").anyMessage();
  const name = String(n.field("name").value ?? "");
  const known = type !== null ? EXTENSION_OF_TYPE[type] : undefined;
  if (known) return { kind: known, label: known, config: message };
  // A type this host does not know names an extension it does not run, whatever the name says.
  return { kind: type ?? name, label: type ? `${name || "(unnamed)"} (${type})` : name || "(unnamed)", config: message };
}
export interface ParsedConfig {
  config: ProxyConfig;
  warnings: string[];
}

/** Parses YAML (or JSON) text of an Envoy bootstrap; `file` names it in errors. */
export function parseEnvoyConfig(text: string, file: string): ParsedConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length) {
    const e = doc.errors[0];
    const at = lines.linePos(e.pos[0]);
    throw new ConfigError(`${file}:${at.line}:${at.col}: not valid YAML: ${e.message.split("\n")[0]}`);
  }
  const locate = (path: (string | number)[]) => {
    const node = doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
    if (!node || !node.range) return "";
    const at = lines.linePos(node.range[0]);
    return `:${at.line}`;
  };
  const warnings: string[] = [];
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw new ConfigError(`${file}: not accepted: ${(e as Error).message.split("\n")[0]}`);
  }
  if (value === null || value === undefined) throw new ConfigError(`${file}: the configuration is empty (expected an Envoy bootstrap: static_resources with listeners and clusters)`);
  const root = new Node(value, [], { file, locate, warnings });
  root.mapping();
  root.only("Bootstrap", "static_resources", "admin", "node", "layered_runtime", "stats_config", "bootstrap_extensions");
  const resources = root.field("static_resources").only("StaticResources", "listeners", "clusters");
  const clusters = resources.field("clusters").list().map(cluster);
  const listeners = resources.field("listeners").list().map(listener);
  const services = root.field("bootstrap_extensions").list().map(bootstrapExtension).filter((x) => x !== null);
  const names = new Set<string>();
  for (const [i, c] of clusters.entries()) {
    if (names.has(c.name)) resources.field("clusters").list()[i].field("name").fail(`a cluster name not used before ("${c.name}" is)`);
    names.add(c.name);
  }
  const checkCluster = (cluster: string, at: Node, what: string) => {
    if (!names.has(cluster)) {
      throw new ConfigError(`${at.where}: ${what} to cluster "${cluster}", which static_resources.clusters does not define (defined: ${[...names].join(", ") || "none"})`);
    }
  };
  for (const [i, l] of listeners.entries()) {
    const filters = resources.field("listeners").list()[i].field("filter_chains").list()[0].field("filters").list();
    const config = extension(filters[filters.length - 1]).config;
    if (l.kind === "tcp") {
      checkCluster(l.cluster, config.field("cluster"), "tcp_proxy");
      continue;
    }
    for (const [j, vh] of l.virtualHosts.entries()) {
      for (const [k, r] of vh.routes.entries()) {
        if (r.action.kind !== "cluster") continue;
        checkCluster(r.action.cluster, config.field("route_config").field("virtual_hosts").list()[j].field("routes").list()[k].field("route").field("cluster"), "route");
      }
    }
  }
  if (listeners.length === 0 && services.length === 0) {
    resources.field("listeners").fail("at least one listener (or a WasmService in bootstrap_extensions): with none, nothing would run");
  }
  const config: ProxyConfig = { source: file, node: node(root.field("node")), admin: admin(root.field("admin")), listeners, clusters, services };
  return { config, warnings: [...new Set(warnings)] }; // a node read twice warns once
}

function node(n: Node): NodeConfig {
  n.only("Node", "id", "cluster", "metadata", "locality");
  return { id: n.field("id").string(""), cluster: n.field("cluster").string(""), metadata: n.field("metadata").mapping() };
}

function socketAddress(n: Node): SocketAddress {
  const sa = n.only("Address", "socket_address").field("socket_address");
  if (!sa.present) n.fail("an address with socket_address");
  sa.only("SocketAddress", "address", "port_value", "protocol");
  return { address: sa.field("address").string(), port: sa.field("port_value").port() };
}

function admin(n: Node): SocketAddress | null {
  if (!n.present) return null;
  n.only("Admin", "address", "access_log", "access_log_path");
  return socketAddress(n.field("address"));
}

function cluster(n: Node): ClusterConfig {
  n.only("Cluster", "name", "connect_timeout", "type", "lb_policy", "load_assignment", "typed_extension_protocol_options", "http2_protocol_options", "dns_lookup_family", "circuit_breakers");
  const name = n.field("name").string();
  const type = n.field("type");
  if (type.present && !CLUSTER_TYPES.includes(type.value as never)) {
    throw new ConfigError(`${type.where}: cluster type ${String(type.value)} is not supported by this host (supported: ${CLUSTER_TYPES.join(", ")})`);
  }
  const lb = n.field("lb_policy");
  if (lb.present && lb.value !== "ROUND_ROBIN") lb.warn(`lb_policy ${String(lb.value)} is not supported; ROUND_ROBIN is used`);
  const assignment = n.field("load_assignment").only("ClusterLoadAssignment", "cluster_name", "endpoints");
  const endpoints = assignment.field("endpoints").list().flatMap((e) =>
    e.only("LocalityLbEndpoints", "lb_endpoints", "locality", "priority").field("lb_endpoints").list().map((lbe) =>
      socketAddress(lbe.only("LbEndpoint", "endpoint", "load_balancing_weight", "health_status").field("endpoint").only("Endpoint", "address").field("address"))));
  if (endpoints.length === 0) n.field("load_assignment").fail("at least one endpoint (load_assignment.endpoints[].lb_endpoints[].endpoint.address)");
  const options = n.field("typed_extension_protocol_options").field("envoy.extensions.upstreams.http.v3.HttpProtocolOptions").anyMessage().message;
  const http2 = n.field("http2_protocol_options").present ||
    options.field("explicit_http_config").field("http2_protocol_options").present;
  return {
    name, type: type.oneOf(CLUSTER_TYPES, "STATIC"), endpoints, http2,
    connectTimeoutMs: n.field("connect_timeout").duration(DEFAULT_CONNECT_TIMEOUT_MS),
    circuitBreakers: circuitBreakers(n.field("circuit_breakers")),
  };
}

/** circuit_breakers: the DEFAULT priority's thresholds (Envoy's defaults 1024 each); HIGH priority is for routes that ask for it, which this host has none of. */
function circuitBreakers(n: Node): CircuitBreakerConfig {
  const thresholds = n.only("CircuitBreakers", "thresholds").field("thresholds").list();
  const result = { maxConnections: DEFAULT_CIRCUIT_BREAKER, maxPendingRequests: DEFAULT_CIRCUIT_BREAKER, maxRequests: DEFAULT_CIRCUIT_BREAKER };
  for (const t of thresholds) {
    t.only("Thresholds", "priority", "max_connections", "max_pending_requests", "max_requests", "track_remaining");
    if (t.field("priority").oneOf(["DEFAULT", "HIGH"] as const, "DEFAULT") === "HIGH") continue;
    result.maxConnections = t.field("max_connections").integer(DEFAULT_CIRCUIT_BREAKER);
    result.maxPendingRequests = t.field("max_pending_requests").integer(DEFAULT_CIRCUIT_BREAKER);
    result.maxRequests = t.field("max_requests").integer(DEFAULT_CIRCUIT_BREAKER);
  }
  return result;
}

function listener(n: Node): ListenerConfig {
  n.only("Listener", "name", "address", "filter_chains", "per_connection_buffer_limit_bytes");
  const chains = n.field("filter_chains").list();
  if (chains.length !== 1) n.field("filter_chains").fail("exactly one filter chain");
  const filters = chains[0].only("FilterChain", "filters").field("filters").list();
  if (filters.length === 0) chains[0].field("filters").fail(`network filters: ${SUPPORTED_CHAINS}`);
  const base = {
    name: n.field("name").string("listener"),
    address: socketAddress(n.field("address")),
    bufferLimitBytes: n.field("per_connection_buffer_limit_bytes").integer(DEFAULT_BUFFER_LIMIT_BYTES),
  };
  const entries = filters.map(extension);
  const unsupported = (i: number) => {
    const f = filters[i];
    const kind = entries[i].kind;
    const guess = kind.startsWith("envoy.filters.network.") ? closest(kind, [HCM, NETWORK_WASM, TCP_PROXY], 2)
      : kind.startsWith("envoy.extensions.filters.network.") ? closest(kind, Object.keys(EXTENSION_OF_TYPE), 2) : null;
    if (guess) throw new ConfigError(`${f.field("name").where}: network filter ${entries[i].label} is not one this host knows; did you mean ${guess}?`);
    throw new ConfigError(`${f.field("name").where}: network filter ${entries[i].label} is not supported here by this host (supported: ${SUPPORTED_CHAINS})`);
  };
  if (entries.some((e) => e.kind === HCM)) {
    const other = entries.findIndex((e) => e.kind !== HCM);
    if (other >= 0) unsupported(other);
    return httpListener(base, entries[0].config);
  }
  entries.slice(0, -1).forEach((e, i) => e.kind !== NETWORK_WASM && unsupported(i));
  if (entries[entries.length - 1].kind !== TCP_PROXY) unsupported(entries.length - 1);
  return tcpListener(base, entries.slice(0, -1).map((e) => e.config), entries[entries.length - 1].config);
}

type ListenerBase = Pick<HttpListenerConfig, "name" | "address" | "bufferLimitBytes">;

function httpListener(base: ListenerBase, tc: Node): HttpListenerConfig {
  tc.only("HttpConnectionManager", "stat_prefix", "route_config", "http_filters", "codec_type", "access_log", "use_remote_address", "xff_num_trusted_hops",
    "generate_request_id", "preserve_external_request_id", "stream_idle_timeout", "request_timeout", "common_http_protocol_options", "http_protocol_options",
    "max_request_headers_kb");
  const codec = tc.field("codec_type");
  if (codec.present && !["AUTO", "HTTP1"].includes(String(codec.value))) throw new ConfigError(`${codec.where}: codec_type ${String(codec.value)} is not supported by this host (HTTP/1.1 only: AUTO or HTTP1)`);
  const common = tc.field("common_http_protocol_options").only("HttpProtocolOptions", "max_headers_count", "idle_timeout");
  const headersKb = tc.field("max_request_headers_kb").integer(60);
  if (headersKb < 1 || headersKb > 8192) tc.field("max_request_headers_kb").fail("a size in KiB from 1 to 8192");
  const http1 = tc.field("http_protocol_options").only("Http1ProtocolOptions", "accept_http_10", "default_host_for_http_10", "allow_absolute_url");
  if (!http1.field("allow_absolute_url").bool(true)) throw new ConfigError(`${http1.field("allow_absolute_url").where}: allow_absolute_url: false is not supported by this host`);
  const maxHeaders = common.field("max_headers_count").integer(DEFAULT_MAX_HEADERS_COUNT);
  if (common.field("max_headers_count").present && maxHeaders < 1) common.field("max_headers_count").fail("a whole number of 1 or more");
  const route = tc.field("route_config").only("RouteConfiguration", "name", "virtual_hosts");
  if (!route.present) tc.field("route_config").fail("a route_config (RDS is not supported)");
  return {
    kind: "http",
    ...base,
    statPrefix: tc.field("stat_prefix").string(),
    routeConfigName: route.field("name").string(""),
    virtualHosts: route.field("virtual_hosts").list().map(virtualHost),
    wasmFilters: httpFilters(tc.field("http_filters")),
    http: {
      useRemoteAddress: tc.field("use_remote_address").bool(false),
      xffNumTrustedHops: tc.field("xff_num_trusted_hops").integer(0),
      generateRequestId: tc.field("generate_request_id").bool(true),
      preserveExternalRequestId: tc.field("preserve_external_request_id").bool(false),
      streamIdleTimeoutMs: tc.field("stream_idle_timeout").duration(DEFAULT_STREAM_IDLE_TIMEOUT_MS),
      requestTimeoutMs: tc.field("request_timeout").duration(0),
      maxHeadersCount: maxHeaders,
      idleTimeoutMs: common.field("idle_timeout").duration(60 * 60 * 1000),
      maxRequestHeadersKb: headersKb,
      acceptHttp10: http1.field("accept_http_10").bool(false),
      defaultHostForHttp10: http1.field("default_host_for_http_10").string(""),
    },
  };
}

function tcpListener(base: ListenerBase, wasm: Node[], tc: Node): TcpListenerConfig {
  tc.only("TcpProxy", "stat_prefix", "cluster", "weighted_clusters", "idle_timeout", "access_log", "max_connect_attempts");
  if (tc.field("weighted_clusters").present) tc.field("weighted_clusters").fail("a single cluster (weighted_clusters is not supported by this host)");
  const attempts = tc.field("max_connect_attempts");
  if (attempts.present && attempts.value !== 1) attempts.warn("this host makes one connect attempt per connection");
  return {
    kind: "tcp",
    ...base,
    statPrefix: tc.field("stat_prefix").string(),
    cluster: tc.field("cluster").string(),
    idleTimeoutMs: tc.field("idle_timeout").duration(DEFAULT_TCP_IDLE_TIMEOUT_MS),
    wasmFilters: wasm.map((tc) => wasmFilter(tc.only("WasmFilter", "config").field("config"))),
  };
}

function httpFilters(n: Node): WasmFilterConfig[] {
  const list = n.list();
  const entries = list.map(extension);
  const last = entries[entries.length - 1];
  if (last && last.kind !== ROUTER && last.kind !== WASM) {
    const guess = closest(last.kind, [ROUTER, WASM], 2);
    if (guess) throw new ConfigError(`${list[list.length - 1].field("name").where}: HTTP filter ${last.label} is not one this host knows; did you mean ${guess}?`);
  }
  if (list.length === 0 || last.kind !== ROUTER) n.fail(`http_filters ending with ${ROUTER}`);
  const wasm: WasmFilterConfig[] = [];
  for (const [i, f] of entries.slice(0, -1).entries()) {
    if (f.kind !== WASM) {
      const guess = closest(f.kind, [WASM, ROUTER], 2);
      if (guess && f.kind.startsWith("envoy.filters.http.")) throw new ConfigError(`${list[i].field("name").where}: HTTP filter ${f.label} is not one this host knows; did you mean ${guess}?`);
      throw new ConfigError(`${list[i].field("name").where}: HTTP filter ${f.label} is not supported by this host (supported: ${WASM}, then ${ROUTER} last)`);
    }
    wasm.push(wasmFilter(f.config.only("WasmFilter", "config").field("config")));
  }
  return wasm;
}

/** bootstrap_extensions: envoy.bootstrap.wasm (a WasmService) is a plugin with no streams; other extensions are ignored. */
function bootstrapExtension(n: Node): WasmServiceConfig | null {
  const { kind, label, config } = extension(n);
  if (kind !== BOOTSTRAP_WASM) {
    n.warn(`bootstrap extension ${label} is not supported by this host; ignored (supported: ${BOOTSTRAP_WASM})`);
    return null;
  }
  config.only("WasmService", "config", "singleton", "stat_prefix");
  if (!config.field("config").present) config.field("config").fail("the service's plugin config (config.vm_config.code, …)");
  // singleton or not, one VM here: this host runs one thread.
  return { ...wasmFilter(config.field("config")), singleton: config.field("singleton").bool(false) };
}

/** A google.protobuf.StringValue (`{"@type": …, value: "…"}`) or a plain string. */
function stringValue(n: Node): string {
  if (!n.present) return "";
  if (typeof n.value === "string") return n.value;
  return n.anyMessage().message.only("StringValue", "value").field("value").string("");
}

function wasmFilter(n: Node): WasmFilterConfig {
  n.only("PluginConfig", "name", "root_id", "configuration", "fail_open", "vm_config", "failure_policy");
  const vm = n.field("vm_config").only("VmConfig", "vm_id", "runtime", "code", "configuration", "environment_variables", "allow_precompiled", "nack_on_code_cache_miss");
  const code = vm.field("code").only("AsyncDataSource", "local", "remote");
  if (code.field("remote").present) code.field("remote").fail("code.local (remote code is not supported by this host)");
  const local = code.field("local").only("LocalDataSource", "filename", "inline_string", "inline_bytes");
  let source: WasmFilterConfig["code"];
  if (local.field("filename").present) source = { filename: local.field("filename").string() };
  else if (local.field("inline_bytes").present) source = { bytes: new Uint8Array(Buffer.from(local.field("inline_bytes").string(), "base64")), description: `${local.field("inline_bytes").where} (inline_bytes)` };
  else if (local.field("inline_string").present) source = { bytes: new Uint8Array(Buffer.from(local.field("inline_string").string(), "binary")), description: `${local.field("inline_string").where} (inline_string)` };
  else local.fail("code.local with filename, inline_string or inline_bytes");
  const env = vm.field("environment_variables").only("EnvironmentVariables", "host_env_keys", "key_values");
  const environment: Record<string, string> = {};
  const hostEnvKeys: string[] = [];
  for (const key of env.field("host_env_keys").list()) {
    const k = key.string();
    hostEnvKeys.push(k);
    if (process.env[k] !== undefined) environment[k] = process.env[k]!;
  }
  for (const [k, v] of Object.entries(env.field("key_values").mapping())) environment[k] = String(v);
  const name = n.field("name").string("");
  const rootId = n.field("root_id").string("");
  return {
    name: name || rootId || "wasm",
    rootId,
    vmId: vm.field("vm_id").string(""),
    configuration: stringValue(n.field("configuration")),
    vmConfiguration: stringValue(vm.field("configuration")),
    failOpen: n.field("fail_open").bool(false) || n.field("failure_policy").oneOf(["UNSPECIFIED", "FAIL_CLOSED", "FAIL_OPEN", "FAIL_RELOAD"] as const, "UNSPECIFIED") === "FAIL_OPEN",
    code: source!,
    environment,
    hostEnvKeys,
  };
}

function virtualHost(n: Node): VirtualHostConfig {
  n.only("VirtualHost", "name", "domains", "routes");
  const domains = n.field("domains").list().map((d) => d.string().toLowerCase());
  if (domains.length === 0) n.field("domains").fail('at least one domain ("*" matches any)');
  return { name: n.field("name").string(""), domains, routes: n.field("routes").list().map(route) };
}

function route(n: Node): RouteConfig {
  n.only("Route", "name", "match", "route", "direct_response", "redirect");
  const m = n.field("match").only("RouteMatch", "prefix", "path", "safe_regex", "case_sensitive");
  let match: RouteMatch;
  if (m.field("prefix").present) match = { prefix: m.field("prefix").string() };
  else if (m.field("path").present) match = { path: m.field("path").string() };
  else if (m.field("safe_regex").present) {
    const source = m.field("safe_regex").only("RegexMatcher", "regex", "google_re2").field("regex").string();
    try {
      match = { regex: compileRegex(source), source };
    } catch (e) {
      m.field("safe_regex").field("regex").fail(`an RE2 regular expression (${(e as Error).message})`);
    }
  } else m.fail("a match with prefix, path or safe_regex");
  if (!m.field("case_sensitive").bool(true)) throw new ConfigError(`${m.field("case_sensitive").where}: case_sensitive: false is not supported by this host`);
  const actions = ["route", "direct_response", "redirect"].filter((a) => n.field(a).present);
  if (actions.length !== 1) n.fail("a route with exactly one action: route (to a cluster), direct_response or redirect");
  return { name: n.field("name").string(""), match: match!, action: routeAction(n, actions[0], match!) };
}

const REDIRECT_CODES: Record<string, number> = {
  MOVED_PERMANENTLY: 301, FOUND: 302, SEE_OTHER: 303, TEMPORARY_REDIRECT: 307, PERMANENT_REDIRECT: 308,
};

function routeAction(n: Node, kind: string, match: RouteMatch): RouteAction {
  if (kind === "direct_response") {
    const d = n.field("direct_response").only("DirectResponseAction", "status", "body");
    const status = d.field("status").integer(0);
    if (status < 200 || status > 599) d.field("status").fail("an HTTP status from 200 to 599");
    return { kind: "direct", status, body: dataSource(d.field("body")) };
  }
  if (kind === "redirect") {
    const r = n.field("redirect").only("RedirectAction", "https_redirect", "scheme_redirect", "host_redirect", "port_redirect", "path_redirect", "prefix_rewrite", "response_code", "strip_query");
    const optional = (name: string) => (r.field(name).present ? r.field(name).string() : null);
    if (r.field("path_redirect").present && r.field("prefix_rewrite").present) r.fail("path_redirect or prefix_rewrite, not both");
    if (r.field("prefix_rewrite").present && !("prefix" in match || "path" in match)) r.field("prefix_rewrite").fail("a prefix or path match to rewrite (this route matches a regex)");
    const code = r.field("response_code").oneOf(Object.keys(REDIRECT_CODES), "MOVED_PERMANENTLY");
    const redirect: RedirectConfig = {
      scheme: r.field("https_redirect").bool(false) ? "https" : optional("scheme_redirect"),
      host: optional("host_redirect"),
      port: r.field("port_redirect").present ? r.field("port_redirect").port() : null,
      path: optional("path_redirect"),
      prefixRewrite: optional("prefix_rewrite"),
      status: REDIRECT_CODES[code],
      stripQuery: r.field("strip_query").bool(false),
    };
    return { kind: "redirect", redirect };
  }
  const r = n.field("route").only("RouteAction", "cluster", "prefix_rewrite", "timeout");
  return {
    kind: "cluster",
    cluster: r.field("cluster").string(),
    prefixRewrite: r.field("prefix_rewrite").present ? r.field("prefix_rewrite").string() : null,
    timeoutMs: r.field("timeout").duration(DEFAULT_ROUTE_TIMEOUT_MS),
  };
}

/** An Envoy DataSource: inline_string, inline_bytes (base64) or filename (read now, as Envoy reads it at load). */
function dataSource(n: Node): Uint8Array {
  if (!n.present) return new Uint8Array(0);
  n.only("DataSource", "inline_string", "inline_bytes", "filename");
  if (n.field("inline_string").present) return new TextEncoder().encode(n.field("inline_string").string());
  if (n.field("inline_bytes").present) return new Uint8Array(Buffer.from(n.field("inline_bytes").string(), "base64"));
  if (n.field("filename").present) {
    const file = n.field("filename").string();
    try {
      return new Uint8Array(readFileSync(file));
    } catch (e) {
      throw new ConfigError(`${n.field("filename").where}: cannot read ${file}: ${(e as Error).message}`);
    }
  }
  return n.fail("a data source with inline_string, inline_bytes or filename");
}
