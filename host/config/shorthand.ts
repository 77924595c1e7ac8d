// The command line's shorthand, for running filters without writing YAML:
//   --wasm build/x.wasm [--root-id r] [--config '{…}'] [--fail-open] (repeat --wasm for a chain)
//   --upstream http://127.0.0.1:8080 [--listen 10000] [--admin 9901]
// An upstream given as tcp://host:port makes a TCP listener (network filters, then tcp_proxy).
// The n-th --root-id and --config belong to the n-th --wasm.
import {
  type ListenerConfig, type ProxyConfig, DEFAULT_BUFFER_LIMIT_BYTES, DEFAULT_HTTP_OPTIONS, DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_ROUTE_TIMEOUT_MS,
  DEFAULT_TCP_IDLE_TIMEOUT_MS,
} from "./model.ts";
import { ConfigError } from "./reader.ts";

export interface Shorthand {
  wasm: string[];
  rootId: string[];
  config: string[];
  failOpen: boolean;
  upstream: string;
  listen: number;
  admin: number | null;
}

export function shorthandConfig(args: Shorthand): ProxyConfig {
  const where = "the command line";
  if (args.wasm.length === 0) throw new ConfigError(`${where}: --wasm: expected the path of a module to run`);
  if (args.rootId.length > args.wasm.length || args.config.length > args.wasm.length) {
    throw new ConfigError(`${where}: expected at most one --root-id and one --config per --wasm`);
  }
  let upstream: URL;
  try {
    upstream = new URL(args.upstream);
  } catch {
    throw new ConfigError(`${where}: --upstream: expected a URL such as http://127.0.0.1:8080 or tcp://127.0.0.1:6379, found ${JSON.stringify(args.upstream)}`);
  }
  if (upstream.protocol !== "http:" && upstream.protocol !== "tcp:") {
    throw new ConfigError(`${where}: --upstream: expected an http:// or tcp:// URL, found ${upstream.protocol}`);
  }
  if (upstream.protocol === "tcp:" && !upstream.port) throw new ConfigError(`${where}: --upstream: a tcp:// URL needs a port`);
  const port = upstream.port ? Number(upstream.port) : 80;
  const host = upstream.hostname.replace(/^\[|\]$/g, "");
  const isIp = /^[\d.]+$/.test(host) || host.includes(":");
  return {
    source: where,
    node: { id: "proxy-wasm-as", cluster: "proxy-wasm-as", metadata: {} },
    admin: args.admin === null ? null : { address: "127.0.0.1", port: args.admin },
    clusters: [{ name: "upstream", type: isIp ? "STATIC" : "STRICT_DNS", connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS, endpoints: [{ address: host, port }], http2: false }],
    listeners: [listener(upstream.protocol === "tcp:" ? "tcp" : "http", args)],
    services: [],
  };
}

function listener(kind: "http" | "tcp", args: Shorthand): ListenerConfig {
  const base = {
    name: "main", address: { address: "127.0.0.1", port: args.listen }, bufferLimitBytes: DEFAULT_BUFFER_LIMIT_BYTES,
    wasmFilters: args.wasm.map((file, i) => ({
      name: args.rootId[i] || file.replace(/^.*\//, "").replace(/\.wasm$/, ""), rootId: args.rootId[i] ?? "", vmId: "",
      configuration: args.config[i] ?? "", vmConfiguration: "", failOpen: args.failOpen, code: { filename: file }, environment: {},
    })),
  };
  if (kind === "tcp") return { kind, ...base, statPrefix: "ingress_tcp", cluster: "upstream", idleTimeoutMs: DEFAULT_TCP_IDLE_TIMEOUT_MS };
  return {
    kind, ...base, statPrefix: "ingress_http", routeConfigName: "local_route", http: { ...DEFAULT_HTTP_OPTIONS },
    virtualHosts: [{ name: "all", domains: ["*"], routes: [{ name: "", match: { prefix: "/" }, action: { kind: "cluster", cluster: "upstream", prefixRewrite: null, timeoutMs: DEFAULT_ROUTE_TIMEOUT_MS } }] }],
  };
}
