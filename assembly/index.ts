// Your filter. This one is the smallest useful filter: it logs each request's method and
// path, and stamps responses with a header whose value is the plugin configuration (or
// "proxy-wasm-as" when there is none). Change it, then `npm run asbuild` and `npm test`.
//
// In Envoy: load build/filter.wasm with envoy.filters.http.wasm; any root_id works.
import { RootContext, HttpContext, HeadersAction, registerRootContext, request, response, config, log } from "proxy-wasm-as/sdk";

class FilterRoot extends RootContext {
  stamp: string = "proxy-wasm-as";

  // Runs when the plugin starts (and whenever Envoy reconfigures it).
  onConfigure(configurationSize: u32): bool {
    if (configurationSize > 0) this.stamp = config.plugin();
    return true; // false would refuse to start the plugin
  }

  // One HTTP context per request/response exchange.
  newHttpContext(contextId: u32): HttpContext | null {
    return new Filter(contextId, this);
  }
}

class Filter extends HttpContext {
  stamp: string;

  constructor(contextId: u32, root: FilterRoot) {
    super(contextId, root);
    this.stamp = root.stamp;
  }

  onRequestHeaders(headerCount: u32, endOfStream: bool): HeadersAction {
    const method = request.headers.get(":method");
    const path = request.headers.get(":path");
    log.info(`${method != null ? method : "?"} ${path != null ? path : "?"}`);
    return HeadersAction.Continue; // pass the request on to the upstream
  }

  onResponseHeaders(headerCount: u32, endOfStream: bool): HeadersAction {
    response.headers.replace("x-proxy-wasm-as", this.stamp);
    return HeadersAction.Continue;
  }
}

// "" makes this the default root: it serves whatever root_id the host configures.
registerRootContext((contextId: u32): RootContext => new FilterRoot(contextId), "");
