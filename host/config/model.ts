// The one validated model the proxy runs from, whether it came from an Envoy bootstrap file
// or from the command line's shorthand.

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
  /** The deadline of each call into the module, ms (0: none; unset: the default, 1 s). Not Envoy's: the command line sets it. */
  deadlineMs?: number;
  /** The most bytes the module's memory may grow to (unset: 1 GiB). Not Envoy's: the command line sets it. */
  memoryLimitBytes?: number;
}

export type RouteMatch = { prefix: string } | { path: string } | { regex: RegExp; source: string };

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
