// tcp-deny: a network filter that reads the first bytes of each connection and closes it
// when they start with a configured prefix; anything else passes through unchanged. Bytes
// are held (StopIteration) until there are enough to decide.
//
//   configuration: {"prefixes": ["CONNECT ", "BADPROTO"]}
import { RootContext, TcpContext, TcpAction, registerRootContext, downstreamData, closeConnection, config, log } from "proxy-wasm-as/sdk";

@json
class TcpDenyConfig {
  @optional
  prefixes: string[] = [];
}

class TcpDenyRoot extends RootContext {
  prefixes: ArrayBuffer[] = [];
  longest: i32 = 0;

  onConfigure(configurationSize: u32): bool {
    if (configurationSize == 0) return true;
    const parsed = config.parse<TcpDenyConfig>(config.plugin());
    if (parsed == null) return false;
    for (let i = 0; i < parsed.prefixes.length; i++) {
      const bytes = String.UTF8.encode(parsed.prefixes[i]);
      if (bytes.byteLength == 0) {
        log.error(`tcp-deny: prefixes[${i}] is empty`);
        return false;
      }
      this.prefixes.push(bytes);
      if (bytes.byteLength > this.longest) this.longest = bytes.byteLength;
    }
    return true;
  }

  newTcpContext(contextId: u32): TcpContext | null {
    return new TcpDeny(contextId, this);
  }
}

function startsWith(data: Uint8Array, prefix: Uint8Array): bool {
  if (data.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (data[i] != prefix[i]) return false;
  return true;
}

class TcpDeny extends TcpContext {
  deny: TcpDenyRoot;
  decided: bool = false;

  constructor(contextId: u32, root: TcpDenyRoot) {
    super(contextId, root);
    this.deny = root;
  }

  onDownstreamData(dataSize: u32, endOfStream: bool): TcpAction {
    if (this.decided) return TcpAction.Continue;
    const data = Uint8Array.wrap(downstreamData.get(0, <u32>this.deny.longest));
    for (let i = 0; i < this.deny.prefixes.length; i++) {
      const prefix = Uint8Array.wrap(this.deny.prefixes[i]);
      if (startsWith(data, prefix)) {
        log.info(`tcp-deny: connection ${this.contextId} starts with a denied prefix; closing`);
        closeConnection();
        return TcpAction.StopIteration;
      }
    }
    // A prefix could still match once more bytes arrive: hold them.
    if (data.length < this.deny.longest && !endOfStream) {
      for (let i = 0; i < this.deny.prefixes.length; i++) {
        const prefix = Uint8Array.wrap(this.deny.prefixes[i]);
        if (startsWith(prefix, data)) return TcpAction.StopIteration;
      }
    }
    this.decided = true;
    return TcpAction.Continue;
  }
}

registerRootContext((contextId: u32): RootContext => new TcpDenyRoot(contextId), "tcp_deny");
