// Your network filter. This one is the smallest useful TCP filter: it counts the bytes each
// connection carries both ways and logs them when the connection closes, with the label the
// plugin configuration gives (or "tcp" when there is none). Change it, then `npm test`.
//
// In Envoy: load build/filter.wasm with envoy.filters.network.wasm, before tcp_proxy.
import { RootContext, TcpContext, TcpAction, PeerType, registerRootContext, config, log } from "proxy-wasm-as/sdk";

class FilterRoot extends RootContext {
  label: string = "tcp";

  // Runs when the plugin starts (and whenever Envoy reconfigures it).
  onConfigure(configurationSize: u32): bool {
    if (configurationSize > 0) this.label = config.plugin();
    return true; // false would refuse to start the plugin
  }

  // One TCP context per connection.
  newTcpContext(contextId: u32): TcpContext | null {
    return new Filter(contextId, this);
  }
}

class Filter extends TcpContext {
  label: string;
  fromClient: u64 = 0;
  fromUpstream: u64 = 0;

  constructor(contextId: u32, root: FilterRoot) {
    super(contextId, root);
    this.label = root.label;
  }

  onDownstreamData(dataSize: u32, endOfStream: bool): TcpAction {
    this.fromClient += dataSize;
    return TcpAction.Continue; // pass the bytes on to the upstream
  }

  onUpstreamData(dataSize: u32, endOfStream: bool): TcpAction {
    this.fromUpstream += dataSize;
    return TcpAction.Continue; // pass the bytes back to the client
  }

  onDownstreamClose(peer: PeerType): void {
    log.info(`${this.label}: ${this.fromClient} bytes in, ${this.fromUpstream} bytes out`);
  }
}

// "" makes this the default root: it serves whatever root_id the host configures.
registerRootContext((contextId: u32): RootContext => new FilterRoot(contextId), "");
