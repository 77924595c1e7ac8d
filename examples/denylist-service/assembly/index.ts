// denylist-service: a denylist kept fresh in the background by a WasmService and read by an
// HTTP filter, one module with two root contexts sharing one vm_id, as Envoy runs them:
//
// - root "denylist_refresher", loaded from bootstrap_extensions (envoy.bootstrap.wasm): on
//   every tick it fetches the list (one IP address per line, `#` comments) from a cluster
//   with an HTTP callout and stores it in shared data "denylist", one address per line. A
//   failed fetch keeps the list there. Configuration:
//     {"cluster": "lists", "path": "/denied", "refresh_every_ms": 10000}
// - root "denylist_check", the HTTP filter: answers 403 to a client whose source.address is
//   on the list in shared data (parsed again only when its cas changes); before the first
//   list arrives every client passes.
import {
  RootContext, HttpContext, HeadersAction, HttpCallResponse, Header, registerRootContext, sendLocalReply, properties,
  setTickPeriod, sharedData, config, log,
} from "proxy-wasm-as/sdk";

const LIST_KEY = "denylist";

@json
class RefresherConfig {
  @optional
  cluster: string = "lists";
  @optional
  path: string = "/denied";
  @optional
  refresh_every_ms: u32 = 10000;
}

/** The service: fetches the list on each tick into shared data. */
class Refresher extends RootContext {
  settings: RefresherConfig = new RefresherConfig();

  onConfigure(configurationSize: u32): bool {
    if (configurationSize > 0) {
      const parsed = config.parse<RefresherConfig>(config.plugin());
      if (parsed == null) return false;
      if (parsed.refresh_every_ms == 0) {
        log.error("denylist_refresher: refresh_every_ms must be above 0");
        return false;
      }
      this.settings = parsed;
    }
    setTickPeriod(this.settings.refresh_every_ms);
    return true;
  }

  onTick(): void {
    const s = this.settings;
    const token = this.httpCall(s.cluster, [new Header(":method", "GET"), new Header(":path", s.path), new Header(":authority", s.cluster)], null, 5000);
    if (token == 0) log.warn(`denylist_refresher: cannot call cluster ${s.cluster}`);
  }

  onHttpCallResponse(token: u32, response: HttpCallResponse): void {
    if (!response.ok || response.status != 200) {
      log.warn(`denylist_refresher: refresh failed (status ${response.status}); the list in shared data stays`);
      return;
    }
    const addresses = new Array<string>();
    const lines = response.bodyText().split("\n");
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i].trim();
      if (line.length > 0 && !line.startsWith("#")) addresses.push(line);
    }
    sharedData.setText(LIST_KEY, addresses.join("\n"));
    log.info(`denylist_refresher: ${addresses.length} address(es) denied`);
  }
}

/** The HTTP filter's root: the list as last read from shared data, by its cas. */
class Checker extends RootContext {
  denied: Set<string> = new Set<string>();
  cas: u32 = 0;

  /** The current list: read again from shared data only when it changed. */
  list(): Set<string> {
    const shared = sharedData.get(LIST_KEY);
    if (shared == null || shared.cas == this.cas) return this.denied;
    const fresh = new Set<string>();
    const lines = shared.text().split("\n");
    for (let i = 0; i < lines.length; i++) if (lines[i].length > 0) fresh.add(lines[i]);
    this.denied = fresh;
    this.cas = shared.cas;
    return fresh;
  }

  newHttpContext(contextId: u32): HttpContext | null {
    return new Check(contextId, this);
  }
}

/** The address part of "ip:port" or "[ipv6]:port". */
function hostOf(address: string): string {
  if (address.startsWith("[")) return address.substring(1, address.indexOf("]"));
  const colon = address.lastIndexOf(":");
  return colon < 0 ? address : address.substring(0, colon);
}

class Check extends HttpContext {
  onRequestHeaders(headerCount: u32, endOfStream: bool): HeadersAction {
    const source = properties.getString(["source", "address"]);
    if (source == null || !(this.root as Checker).list().has(hostOf(source))) return HeadersAction.Continue;
    sendLocalReply(403, "your address is denied\n", [], "wasm_denylist");
    return HeadersAction.StopIteration;
  }
}

registerRootContext((contextId: u32): RootContext => new Refresher(contextId), "denylist_refresher");
registerRootContext((contextId: u32): RootContext => new Checker(contextId), "denylist_check");
