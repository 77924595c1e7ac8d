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
}

export type RouteMatch = { prefix: string } | { path: string } | { regex: RegExp; source: string };

export interface RouteConfig {
  name: string;
  match: RouteMatch;
  cluster: string;
  prefixRewrite: string | null;
  /** The upstream response timeout; 0 disables it. Envoy's default is 15 s. */
  timeoutMs: number;
}

export interface VirtualHostConfig {
  name: string;
  domains: string[];
  routes: RouteConfig[];
}

export interface HttpListenerConfig {
  name: string;
  address: SocketAddress;
  statPrefix: string;
  routeConfigName: string;
  virtualHosts: VirtualHostConfig[];
  wasmFilters: WasmFilterConfig[];
  /** Most bytes a filter may buffer per stream and direction (Envoy's per_connection_buffer_limit_bytes). */
  bufferLimitBytes: number;
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
  listeners: HttpListenerConfig[];
  clusters: ClusterConfig[];
}

export const DEFAULT_ROUTE_TIMEOUT_MS = 15_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
export const DEFAULT_BUFFER_LIMIT_BYTES = 1024 * 1024;
