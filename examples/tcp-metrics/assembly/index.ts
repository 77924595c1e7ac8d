// tcp-metrics: byte and connection accounting for a TCP listener, as metrics: bytes each way,
// connections opened and open now, how connections closed (by the client or by the proxy),
// and histograms of bytes per connection each way. In Envoy they appear under
// wasmcustom.<prefix>.…; in this host, on the admin endpoint's /stats.
//
//   configuration: {"prefix": "tcp"}   (default "tcp_metrics")
//
// Place it last among the wasm network filters: Envoy shows each filter the connection's
// whole buffer, so bytes a later filter holds (StopIteration) would be shown to it again.
import {
  RootContext, TcpContext, TcpAction, PeerType, registerRootContext, config, Counter, Gauge, Histogram,
} from "proxy-wasm-as/sdk";

@json
class TcpMetricsConfig {
  @optional
  prefix: string = "tcp_metrics";
}

class TcpMetricsRoot extends RootContext {
  downstreamBytes: Counter | null = null;
  upstreamBytes: Counter | null = null;
  connections: Counter | null = null;
  active: Gauge | null = null;
  closedByClient: Counter | null = null;
  closedByProxy: Counter | null = null;
  downstreamSizes: Histogram | null = null;
  upstreamSizes: Histogram | null = null;

  onConfigure(configurationSize: u32): bool {
    let prefix = "tcp_metrics";
    if (configurationSize > 0) {
      const parsed = config.parse<TcpMetricsConfig>(config.plugin());
      if (parsed == null) return false;
      prefix = parsed.prefix;
    }
    this.downstreamBytes = new Counter(`${prefix}.downstream.bytes`);
    this.upstreamBytes = new Counter(`${prefix}.upstream.bytes`);
    this.connections = new Counter(`${prefix}.connections.total`);
    this.active = new Gauge(`${prefix}.connections.active`);
    this.closedByClient = new Counter(`${prefix}.connections.closed_by_client`);
    this.closedByProxy = new Counter(`${prefix}.connections.closed_by_proxy`);
    this.downstreamSizes = new Histogram(`${prefix}.downstream.bytes_per_connection`);
    this.upstreamSizes = new Histogram(`${prefix}.upstream.bytes_per_connection`);
    return true;
  }

  newTcpContext(contextId: u32): TcpContext | null {
    return new TcpMetrics(contextId, this);
  }
}

class TcpMetrics extends TcpContext {
  metrics: TcpMetricsRoot;
  downstream: u64 = 0;
  upstream: u64 = 0;

  constructor(contextId: u32, root: TcpMetricsRoot) {
    super(contextId, root);
    this.metrics = root;
  }

  onNewConnection(): TcpAction {
    this.metrics.connections!.increment();
    this.metrics.active!.add(1);
    return TcpAction.Continue;
  }

  onDownstreamData(dataSize: u32, endOfStream: bool): TcpAction {
    this.downstream += dataSize;
    this.metrics.downstreamBytes!.increment(dataSize);
    return TcpAction.Continue;
  }

  onUpstreamData(dataSize: u32, endOfStream: bool): TcpAction {
    this.upstream += dataSize;
    this.metrics.upstreamBytes!.increment(dataSize);
    return TcpAction.Continue;
  }

  onDownstreamClose(peer: PeerType): void {
    this.metrics.active!.add(-1);
    if (peer == PeerType.Remote) this.metrics.closedByClient!.increment();
    else this.metrics.closedByProxy!.increment();
    this.metrics.downstreamSizes!.record(this.downstream);
    this.metrics.upstreamSizes!.record(this.upstream);
  }
}

registerRootContext((contextId: u32): RootContext => new TcpMetricsRoot(contextId), "tcp_metrics");
