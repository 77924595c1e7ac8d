// Envoy's cluster circuit breakers (DEFAULT priority): max_connections caps the upstream
// connections (the pool opens no more; a request that would need one waits, counted in
// upstream_cx_overflow), max_pending_requests caps the requests waiting for a connection and
// max_requests the requests under way; a request past either is failed at once with 503 and
// counted in upstream_rq_pending_overflow, as Envoy's connection pool does.
import type { CircuitBreakerConfig } from "../config/model.ts";
import { DEFAULT_CIRCUIT_BREAKER } from "../config/model.ts";
import type { StatScope } from "./stats.ts";

export const DEFAULT_LIMITS: CircuitBreakerConfig = {
  maxConnections: DEFAULT_CIRCUIT_BREAKER, maxPendingRequests: DEFAULT_CIRCUIT_BREAKER, maxRequests: DEFAULT_CIRCUIT_BREAKER,
};

export class CircuitBreaker {
  /** Requests admitted and not yet released. */
  private active = 0;

  /** `multiplexed`: an HTTP/2 pool, where requests share connections and only max_requests applies. */
  constructor(readonly limits: CircuitBreakerConfig, private readonly multiplexed: boolean) {}

  /**
   * Whether one more request may go upstream now; counts the overflows in `stats`. An
   * admitted request is released once (release()) when it ends, however it ends.
   */
  admit(stats: StatScope): boolean {
    const { maxConnections, maxPendingRequests, maxRequests } = this.limits;
    if (this.active >= maxRequests) {
      stats.counter("upstream_rq_pending_overflow").add();
      return false;
    }
    if (!this.multiplexed && this.active >= maxConnections) {
      // Every connection the cap allows is busy (one request each, HTTP/1.1): this one waits for one.
      if (this.active - maxConnections >= maxPendingRequests) {
        stats.counter("upstream_rq_pending_overflow").add();
        return false;
      }
      stats.counter("upstream_cx_overflow").add();
    }
    this.active++;
    return true;
  }

  release(): void {
    if (this.active > 0) this.active--;
  }

  get activeRequests(): number {
    return this.active;
  }
}
