// The one validated model the proxy runs from, whether it came from an Envoy bootstrap file
// or from the command line's shorthand.
import type { Regex } from "../http/regex.ts";

export interface SocketAddress {
  address: string;
  port: number;
}

export interface WasmFilterConfig {
  /** Envoy's `config.name`: the plugin's name in logs and stats. */
  name: string;
  rootId: string;
  vmId: string;
  /** The plugin configuration (`config.configuration`, a StringValue). */
  configuration: string;
  /** The VM configuration (`vm_config.configuration`). */
  vmConfiguration: string;
  failOpen: boolean;
  /** The module: a file, or bytes given inline. */
  code: { filename: string } | { bytes: Uint8Array; description: string };
  environment: Record<string, string>;
  /** The names of vm_config.environment_variables.host_env_keys (their values are in `environment`, never dumped). */
  hostEnvKeys?: string[];
  /** The deadline of each call into the module, ms (0: none; unset: the default, 1 s). Not Envoy's: the command line sets it. */
  deadlineMs?: number;
  /** The most bytes the module's memory may grow to (unset: 1 GiB). Not Envoy's: the command line sets it. */
  memoryLimitBytes?: number;
}

export type RouteMatch = { prefix: string } | { path: string } | { regex: Regex; source: string };

/** A route's action: to a cluster, or answered by the proxy itself (direct_response, redirect). */
export type RouteAction =
  | {
    kind: "cluster";
    cluster: string;
    prefixRewrite: string | null;
    /** The upstream response timeout; 0 disables it. Envoy's default is 15 s. */
    timeoutMs: number;
  }
  | { kind: "direct"; status: number; body: Uint8Array }
  | { kind: "redirect"; redirect: RedirectConfig };

/** Envoy's RedirectAction: each null part keeps the request's own. */
export interface RedirectConfig {
  scheme: string | null;
  host: string | null;
  port: number | null;
  path: string | null;
  /** Replaces the matched prefix (or path) of the request's path. */
  prefixRewrite: string | null;
  /** 301 (Envoy's default), 302, 303, 307 or 308. */
  status: number;
  stripQuery: boolean;
}

export interface RouteConfig {
  name: string;
  match: RouteMatch;
  action: RouteAction;
}

export interface VirtualHostConfig {
  name: string;
  domains: string[];
  routes: RouteConfig[];
}

interface ListenerBase {
  name: string;
  address: SocketAddress;
  /** The stats prefix (`http.<prefix>.` or `tcp.<prefix>.`). */
  statPrefix: string;
  wasmFilters: WasmFilterConfig[];
  /**
   * Envoy's per_connection_buffer_limit_bytes: most bytes a filter may buffer per stream and
   * direction (HTTP), and the bytes queued toward a slow peer before reading pauses (TCP).
   */
  bufferLimitBytes: number;
}

/** An HTTP listener: http_connection_manager with wasm HTTP filters, then the router. */
export interface HttpListenerConfig extends ListenerBase {
  kind: "http";
  routeConfigName: string;
  virtualHosts: VirtualHostConfig[];
  /** The HTTP connection manager's options, Envoy's names and defaults. */
  http: HttpOptions;
}

/** What the HTTP connection manager does with each request, as Envoy's options say. */
export interface HttpOptions {
  /** use_remote_address: the client's address is the one x-forwarded-for gets and the request's trusted source (default false). */
  useRemoteAddress: boolean;
  /** xff_num_trusted_hops: addresses at the end of x-forwarded-for set by trusted proxies (default 0). */
  xffNumTrustedHops: number;
  /** generate_request_id (default true). */
  generateRequestId: boolean;
  /** preserve_external_request_id: keep a client's x-request-id even from an external client (default false). */
  preserveExternalRequestId: boolean;
  /** stream_idle_timeout: a stream with no activity this long ends (408, or a reset once the response began); 0 disables; default 5 min. */
  streamIdleTimeoutMs: number;
  /** request_timeout: the whole request must arrive within this; 0 (the default) disables it. */
  requestTimeoutMs: number;
  /** common_http_protocol_options.max_headers_count (default 100): more request headers get 431. */
  maxHeadersCount: number;
  /** common_http_protocol_options.idle_timeout: a downstream connection with no stream for this long closes (default 1 h; 0: never). */
  idleTimeoutMs: number;
  /** max_request_headers_kb (default 60): larger request headers get 431. */
  maxRequestHeadersKb: number;
  /** http_protocol_options.accept_http_10 (default false: HTTP/1.0 gets 426). */
  acceptHttp10: boolean;
  /** http_protocol_options.default_host_for_http_10: the authority of an HTTP/1.0 request without Host. */
  defaultHostForHttp10: string;
}

/** A TCP listener: wasm network filters, then tcp_proxy to one cluster. */
export interface TcpListenerConfig extends ListenerBase {
  kind: "tcp";
  cluster: string;
  /** Closes a connection with no bytes either way for this long; 0 disables it. Envoy's default is 1 h. */
  idleTimeoutMs: number;
}

export type ListenerConfig = HttpListenerConfig | TcpListenerConfig;

/** A WasmService from bootstrap_extensions (envoy.bootstrap.wasm): a plugin with a root context and no streams. */
export interface WasmServiceConfig extends WasmFilterConfig {
  /** Envoy runs a singleton on the main thread, else one per worker; this host has one thread, so one VM either way. */
  singleton: boolean;
}

export type ClusterType = "STATIC" | "STRICT_DNS" | "LOGICAL_DNS";

export interface ClusterConfig {
  name: string;
  type: ClusterType;
  connectTimeoutMs: number;
  endpoints: SocketAddress[];
  http2: boolean;
  /** circuit_breakers.thresholds (DEFAULT priority). */
  circuitBreakers?: CircuitBreakerConfig;
}

/** Envoy's circuit breaker thresholds for one cluster (defaults 1024 each). */
export interface CircuitBreakerConfig {
  maxConnections: number;
  maxPendingRequests: number;
  maxRequests: number;
}

export interface NodeConfig {
  id: string;
  cluster: string;
  metadata: Record<string, unknown>;
}

export interface ProxyConfig {
  /** Where the configuration came from (a file name, or "the command line"). */
  source: string;
  node: NodeConfig;
  admin: SocketAddress | null;
  listeners: ListenerConfig[];
  clusters: ClusterConfig[];
  /** A stream held by a filter this long (ms) is logged once (not Envoy's: a diagnostic of this host); default 5 s. */
  heldStreamMs?: number;
  /** bootstrap_extensions' WasmServices, started before the listeners. */
  services: WasmServiceConfig[];
}

export const DEFAULT_ROUTE_TIMEOUT_MS = 15_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
export const DEFAULT_BUFFER_LIMIT_BYTES = 1024 * 1024;
export const DEFAULT_TCP_IDLE_TIMEOUT_MS = 60 * 60 * 1000;
export const DEFAULT_CIRCUIT_BREAKER = 1024;
export const DEFAULT_MAX_HEADERS_COUNT = 100;
export const DEFAULT_STREAM_IDLE_TIMEOUT_MS = 5 * 60 * 1000;

/** The HTTP connection manager's options when a configuration says nothing of them: Envoy's defaults. */
export const DEFAULT_HTTP_OPTIONS: HttpOptions = {
  useRemoteAddress: false, xffNumTrustedHops: 0, generateRequestId: true, preserveExternalRequestId: false,
  streamIdleTimeoutMs: DEFAULT_STREAM_IDLE_TIMEOUT_MS, requestTimeoutMs: 0, maxHeadersCount: DEFAULT_MAX_HEADERS_COUNT,
  idleTimeoutMs: 60 * 60 * 1000, maxRequestHeadersKb: 60,
  acceptHttp10: false, defaultHostForHttp10: "",
};
