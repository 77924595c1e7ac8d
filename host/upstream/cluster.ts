// Upstream clusters: their endpoints (fixed, or resolved through DNS), a connection pool per
// endpoint (undici), round-robin between them. Proxied requests, callouts and gRPC share them.
import { lookup } from "node:dns/promises";
import { type Dispatcher, Pool } from "undici";
import { H2Pool, type H2DispatchOptions } from "./h2-pool.ts";

/** What the proxy needs of a connection pool, HTTP/1.1 (undici) or HTTP/2 (H2Pool) alike. */
export interface UpstreamPool {
  dispatch(options: H2DispatchOptions, handler: Dispatcher.DispatchHandler): unknown;
  close(): Promise<void>;
}
import type { ClusterConfig, SocketAddress } from "../config/model.ts";
import { CircuitBreaker, DEFAULT_LIMITS } from "../server/circuit-breaker.ts";

const DNS_REFRESH_MS = 5_000;

/** An endpoint with its `host:port` (IPv6 bracketed), made once: the pool's key and the logs' name. */
interface Endpoint {
  address: SocketAddress;
  key: string;
}

function endpoint(address: SocketAddress): Endpoint {
  return { address, key: `${address.address.includes(":") ? `[${address.address}]` : address.address}:${address.port}` };
}

export class Cluster {
  private pools = new Map<string, UpstreamPool>();
  private endpoints: Endpoint[] = [];
  private resolvedAt = 0;
  private next = 0;
  /** circuit_breakers.thresholds: the requests the proxy sends this cluster go through it. */
  readonly breaker: CircuitBreaker;

  constructor(readonly config: ClusterConfig) {
    this.breaker = new CircuitBreaker(config.circuitBreakers ?? DEFAULT_LIMITS, config.http2);
    if (config.type === "STATIC") this.endpoints = config.endpoints.map(endpoint);
  }

  get name(): string {
    return this.config.name;
  }

  /** DNS clusters resolve their names first, and again every few seconds. */
  get needsResolving(): boolean {
    return this.config.type !== "STATIC" && Date.now() - this.resolvedAt > DNS_REFRESH_MS;
  }

  /** The next endpoint, round-robin (call resolve() first when needsResolving). */
  nextEndpoint(): SocketAddress {
    return this.nextOne().address;
  }

  private nextOne(): Endpoint {
    if (this.endpoints.length === 0) throw new Error(`cluster ${this.name} has no endpoint`);
    return this.endpoints[this.next++ % this.endpoints.length];
  }

  /** The pool of the next endpoint, round-robin (call resolve() first when needsResolving). */
  pick(): { pool: UpstreamPool; endpoint: string; address: SocketAddress } {
    const { key, address } = this.nextOne();
    let pool = this.pools.get(key);
    if (!pool) {
      pool = this.config.http2
        ? new H2Pool(`http://${key}`, this.config.connectTimeoutMs)
        : new Pool(`http://${key}`, { connect: { timeout: this.config.connectTimeoutMs }, keepAliveTimeout: 30_000, connections: this.breaker.limits.maxConnections }) as unknown as UpstreamPool;
      this.pools.set(key, pool);
    }
    return { pool, endpoint: key, address };
  }

  async resolve(): Promise<void> {
    const resolved: Endpoint[] = [];
    for (const e of this.config.endpoints) {
      const found = await lookup(e.address, { all: true });
      const addresses = this.config.type === "LOGICAL_DNS" ? found.slice(0, 1) : found;
      for (const a of addresses) resolved.push(endpoint({ address: a.address, port: e.port }));
    }
    this.endpoints = resolved;
    this.resolvedAt = Date.now();
  }

  /** Endpoints for the admin endpoint's /clusters. */
  hosts(): string[] {
    return (this.endpoints.length ? this.endpoints.map((e) => e.address) : this.config.endpoints).map((e) => `${e.address}:${e.port}`);
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.close()));
  }
}
