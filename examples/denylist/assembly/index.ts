// denylist: keeps a list of denied client addresses fresh by fetching it from a service on
// a timer (an HTTP callout from the root context on every tick) and answers 403 to clients
// on it. The list is one IP address per line; a failed fetch keeps the list it had.
//
//   configuration: {"cluster": "lists", "path": "/denied", "refresh_every_ms": 10000}
import {
  RootContext, HttpContext, HeadersAction, HttpCallResponse, Header, registerRootContext, sendLocalReply, properties,
  setTickPeriod, config, log,
} from "proxy-wasm-as/sdk";

@json
class DenylistConfig {
  @optional
  cluster: string = "lists";
  @optional
  path: string = "/denied";
  @optional
  refresh_every_ms: u32 = 10000;
}

class DenylistRoot extends RootContext {
  settings: DenylistConfig = new DenylistConfig();
  denied: Set<string> = new Set<string>();
  loaded: bool = false;

  onConfigure(configurationSize: u32): bool {
    if (configurationSize > 0) {
      const parsed = config.parse<DenylistConfig>(config.plugin());
      if (parsed == null) return false;
      if (parsed.refresh_every_ms == 0) {
        log.error("denylist: refresh_every_ms must be above 0");
        return false;
      }
      this.settings = parsed;
    }
    setTickPeriod(this.settings.refresh_every_ms);
    return true;
  }

  onTick(): void {
    const s = this.settings;
    this.httpCall(s.cluster, [new Header(":method", "GET"), new Header(":path", s.path), new Header(":authority", s.cluster)], null, 5000);
  }

  onHttpCallResponse(token: u32, response: HttpCallResponse): void {
    if (!response.ok || response.status != 200) {
      log.warn(`denylist: refresh failed (status ${response.status}); keeping ${this.denied.size} address(es)`);
      return;
    }
    const fresh = new Set<string>();
    const lines = response.bodyText().split("\n");
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i].trim();
      if (line.length > 0 && !line.startsWith("#")) fresh.add(line);
    }
    this.denied = fresh;
    this.loaded = true;
    log.info(`denylist: ${fresh.size} address(es) denied`);
  }

  newHttpContext(contextId: u32): HttpContext | null {
    return new Denylist(contextId, this);
  }
}

/** The address part of "ip:port" or "[ipv6]:port". */
function hostOf(address: string): string {
  if (address.startsWith("[")) return address.substring(1, address.indexOf("]"));
  const colon = address.lastIndexOf(":");
  return colon < 0 ? address : address.substring(0, colon);
}

class Denylist extends HttpContext {
  list: DenylistRoot;

  constructor(contextId: u32, root: DenylistRoot) {
    super(contextId, root);
    this.list = root;
  }

  onRequestHeaders(headerCount: u32, endOfStream: bool): HeadersAction {
    const source = properties.getString(["source", "address"]);
    if (source == null || !this.list.denied.has(hostOf(source))) return HeadersAction.Continue;
    sendLocalReply(403, "your address is denied\n", [], "wasm_denylist");
    return HeadersAction.StopIteration;
  }
}

registerRootContext((contextId: u32): RootContext => new DenylistRoot(contextId), "denylist");
