// A network filter for the test suites: it logs every callback it gets (with sizes, ends and
// peer types) and does what its configuration asks, so host tests check Envoy's network
// filter semantics, and the SDK's TCP helpers, against the real host:
//
//   {"stopOnConnect": true}    StopIteration from onNewConnection (alone it holds no data: Envoy
//                              still calls onDownstreamData on the next bytes)
//   {"callout": "auth"}        a callout at onNewConnection; client data waits for its answer
//   {"holdUntil": "\n"}        StopIteration on client data until it holds this text
//   {"upper": true}            client data upper-cased (ASCII) on its way
//   {"prefixUpstream": "> "}   each upstream chunk prefixed on its way to the client
//   {"suffixDownstream": ";"}  each client chunk that goes on gets this appended
//   {"closeOn": "QUIT"}        closeConnection when client data holds this text
//   {"trapOn": "TRAP"}         a trap (abort) when client data holds this text
//   {"closeUpstreamOn": "BYE"} proxy_close_stream(Upstream) when client data holds this text
//   {"props": true}            logs the connection's properties at onNewConnection
//   {"queue": true}            each closed connection is enqueued; the root logs what it dequeues
//   {"tickMs": 50}             the root's timer; each tick logs the connections open
//
// Every connection increments the shared-data key "tcp_probe.connections" (with cas) and
// the counter tcp_probe.downstream_bytes counts the client's bytes.
import {
  RootContext, TcpContext, TcpAction, PeerType, Header, HttpCallResponse, Counter, registerRootContext, config, log,
  downstreamData, upstreamData, continueDownstream, closeConnection, closeStream, sharedData, queues, properties, setTickPeriod,
  Status, StreamType,
} from "proxy-wasm-as/sdk";

@json
class ProbeConfig {
  @optional stopOnConnect: bool = false;
  @optional callout: string = "";
  @optional holdUntil: string = "";
  @optional upper: bool = false;
  @optional prefixUpstream: string = "";
  @optional suffixDownstream: string = "";
  @optional closeOn: string = "";
  @optional trapOn: string = "";
  @optional closeUpstreamOn: string = "";
  @optional props: bool = false;
  @optional queue: bool = false;
  @optional tickMs: u32 = 0;
}

class ProbeRoot extends RootContext {
  settings: ProbeConfig = new ProbeConfig();
  downstreamBytes: Counter | null = null;
  closedQueue: u32 = 0;
  open: i32 = 0;

  onConfigure(configurationSize: u32): bool {
    if (configurationSize > 0) {
      const parsed = config.parse<ProbeConfig>(config.plugin());
      if (parsed == null) return false;
      this.settings = parsed;
    }
    this.downstreamBytes = new Counter("tcp_probe.downstream_bytes");
    if (this.settings.queue) this.closedQueue = queues.register("tcp_probe.closed");
    if (this.settings.tickMs > 0) setTickPeriod(this.settings.tickMs);
    return true;
  }

  onQueueReady(queueId: u32): void {
    let item = queues.dequeueText(queueId);
    while (item != null) {
      log.info(`dequeued ${item}`);
      item = queues.dequeueText(queueId);
    }
  }

  onTick(): void {
    log.info(`tick: ${this.open} open`);
  }

  newTcpContext(contextId: u32): TcpContext | null {
    return new Probe(contextId, this);
  }
}

function countConnection(): void {
  for (let attempt = 0; attempt < 100; attempt++) {
    const current = sharedData.get("tcp_probe.connections");
    const count = current != null ? I32.parseInt(current.text()) : 0;
    if (sharedData.setText("tcp_probe.connections", (count + 1).toString(), current != null ? current.cas : 0) == Status.Ok) return;
  }
}

function upperAscii(bytes: ArrayBuffer): ArrayBuffer {
  const view = Uint8Array.wrap(bytes);
  for (let i = 0; i < view.length; i++) if (view[i] >= 97 && view[i] <= 122) view[i] -= 32;
  return bytes;
}

function peerName(peer: PeerType): string {
  return peer == PeerType.Local ? "local" : peer == PeerType.Remote ? "remote" : "unknown";
}

class Probe extends TcpContext {
  probe: ProbeRoot;
  /** A callout is out: client data waits (in Envoy a stop in onNewConnection alone does not hold it). */
  waiting: bool = false;

  constructor(contextId: u32, root: ProbeRoot) {
    super(contextId, root);
    this.probe = root;
  }

  onNewConnection(): TcpAction {
    log.info(`new_connection`);
    countConnection();
    this.probe.open++;
    if (this.probe.settings.props) {
      const source = properties.getString(["source", "address"]);
      const id = properties.getInt(["connection", "id"], -1);
      const port = properties.getInt(["destination", "port"], -1);
      const mtls = properties.getBool(["connection", "mtls"]);
      log.info(`props source=${source != null ? source : "null"} destination_port=${port} connection_id=${id} mtls=${mtls}`);
    }
    const s = this.probe.settings;
    if (s.callout.length > 0) {
      const token = this.httpCall(s.callout, [new Header(":method", "GET"), new Header(":path", "/check"), new Header(":authority", "auth")]);
      log.info(`callout ${token != 0 ? "sent" : "refused"}`);
      this.waiting = token != 0;
    }
    return s.stopOnConnect ? TcpAction.StopIteration : TcpAction.Continue;
  }

  onHttpCallResponse(token: u32, response: HttpCallResponse): void {
    log.info(`callout answered ${response.status}`);
    this.waiting = false;
    if (response.status == 200) continueDownstream();
    else closeConnection();
  }

  onDownstreamData(dataSize: u32, endOfStream: bool): TcpAction {
    log.info(`downstream_data size=${dataSize} end=${endOfStream}`);
    this.probe.downstreamBytes!.increment(dataSize);
    if (this.waiting) return TcpAction.StopIteration;
    const s = this.probe.settings;
    const text = downstreamData.getText();
    if (s.trapOn.length > 0 && text.includes(s.trapOn)) throw new Error("tcp-probe: asked to trap");
    if (s.closeUpstreamOn.length > 0 && text.includes(s.closeUpstreamOn)) {
      closeStream(StreamType.Upstream);
      return TcpAction.StopIteration;
    }
    if (s.closeOn.length > 0 && text.includes(s.closeOn)) {
      closeConnection();
      return TcpAction.StopIteration;
    }
    if (s.holdUntil.length > 0 && !text.includes(s.holdUntil) && !endOfStream) return TcpAction.StopIteration;
    if (s.upper) downstreamData.replaceBytes(upperAscii(downstreamData.get()));
    if (s.suffixDownstream.length > 0 && dataSize > 0) downstreamData.append(s.suffixDownstream);
    return TcpAction.Continue;
  }

  onUpstreamData(dataSize: u32, endOfStream: bool): TcpAction {
    log.info(`upstream_data size=${dataSize} end=${endOfStream}`);
    const s = this.probe.settings;
    if (s.prefixUpstream.length > 0 && dataSize > 0) upstreamData.prepend(s.prefixUpstream);
    return TcpAction.Continue;
  }

  onDownstreamClose(peer: PeerType): void {
    log.info(`downstream_close ${peerName(peer)}`);
    this.probe.open--;
    if (this.probe.closedQueue != 0) queues.enqueueText(this.probe.closedQueue, `connection ${this.contextId} ${peerName(peer)}`);
  }

  onUpstreamClose(peer: PeerType): void {
    log.info(`upstream_close ${peerName(peer)}`);
  }

  onDone(): bool {
    log.info(`done`);
    return true;
  }
}

registerRootContext((contextId: u32): RootContext => new ProbeRoot(contextId), "tcp_probe");
