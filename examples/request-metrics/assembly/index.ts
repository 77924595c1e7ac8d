// request-metrics: counts requests by method and responses by status class, keeps a gauge
// of requests in flight and a histogram of response sizes (from content-length). In Envoy
// they appear under wasmcustom.<prefix>.…; in this host, on the admin endpoint's /stats.
//
//   configuration: {"prefix": "shop"}   (default "request_metrics")
import {
  RootContext, HttpContext, HeadersAction, registerRootContext, request, response, config, Counter, Gauge, Histogram,
} from "proxy-wasm-as/sdk";

@json
class MetricsConfig {
  @optional
  prefix: string = "request_metrics";
}

class MetricsRoot extends RootContext {
  prefix: string = "request_metrics";
  private counters: Map<string, Counter> = new Map<string, Counter>();
  inFlight: Gauge | null = null;
  responseBytes: Histogram | null = null;

  onConfigure(configurationSize: u32): bool {
    if (configurationSize > 0) {
      const parsed = config.parse<MetricsConfig>(config.plugin());
      if (parsed == null) return false;
      this.prefix = parsed.prefix;
    }
    this.inFlight = new Gauge(`${this.prefix}.requests_in_flight`);
    this.responseBytes = new Histogram(`${this.prefix}.response_bytes`);
    return true;
  }

  /** The counter named `suffix` under the prefix, defined the first time it is needed. */
  counter(suffix: string): Counter {
    if (!this.counters.has(suffix)) this.counters.set(suffix, new Counter(`${this.prefix}.${suffix}`));
    return this.counters.get(suffix);
  }

  newHttpContext(contextId: u32): HttpContext | null {
    return new RequestMetrics(contextId, this);
  }
}

class RequestMetrics extends HttpContext {
  metrics: MetricsRoot;
  counted: bool = false;

  constructor(contextId: u32, root: MetricsRoot) {
    super(contextId, root);
    this.metrics = root;
  }

  onRequestHeaders(headerCount: u32, endOfStream: bool): HeadersAction {
    const method = request.headers.get(":method");
    this.metrics.counter(`requests.method.${method != null ? method : "unknown"}`).increment();
    this.metrics.inFlight!.add(1);
    this.counted = true;
    return HeadersAction.Continue;
  }

  onResponseHeaders(headerCount: u32, endOfStream: bool): HeadersAction {
    const status = response.headers.get(":status");
    const statusClass = status != null && status.length == 3 ? status.charAt(0) + "xx" : "unknown";
    this.metrics.counter(`responses.status.${statusClass}`).increment();
    const length = response.headers.get("content-length");
    if (length != null && length.length > 0) this.metrics.responseBytes!.record(U64.parseInt(length));
    return HeadersAction.Continue;
  }

  onDone(): bool {
    if (this.counted) this.metrics.inFlight!.add(-1);
    return true;
  }
}

registerRootContext((contextId: u32): RootContext => new MetricsRoot(contextId), "request_metrics");
