// add-header: adds the headers named in the plugin configuration to every request (before
// it goes upstream) and every response (before it reaches the client).
//
//   configuration: {"request": {"x-added-by": "proxy-wasm-as"}, "response": {"x-frame-options": "DENY"}}
//
// A header already present is replaced, so the configured value is the one that arrives.
import {
  RootContext, HttpContext, HeadersAction, HeaderMap, registerRootContext, request, response, config, log,
} from "proxy-wasm-as/sdk";

@json
class AddHeaderConfig {
  @optional
  request: Map<string, string> = new Map<string, string>();
  @optional
  response: Map<string, string> = new Map<string, string>();
}

class AddHeaderRoot extends RootContext {
  settings: AddHeaderConfig = new AddHeaderConfig();
  // The names, listed once here rather than by every stream (Map.keys() makes a new array each call).
  requestNames: string[] = [];
  responseNames: string[] = [];

  onConfigure(configurationSize: u32): bool {
    if (configurationSize == 0) return true; // nothing configured: nothing to add
    const parsed = config.parse<AddHeaderConfig>(config.plugin());
    if (parsed == null) return false; // config.parse has logged what is wrong
    this.settings = parsed;
    this.requestNames = parsed.request.keys();
    this.responseNames = parsed.response.keys();
    log.info(`add-header: ${parsed.request.size} request and ${parsed.response.size} response headers`);
    return true;
  }

  newHttpContext(contextId: u32): HttpContext | null {
    return new AddHeader(contextId, this);
  }
}

function setAll(map: HeaderMap, names: string[], headers: Map<string, string>): void {
  for (let i = 0; i < names.length; i++) map.replace(names[i], headers.get(names[i]));
}

class AddHeader extends HttpContext {
  owner: AddHeaderRoot;

  constructor(contextId: u32, root: AddHeaderRoot) {
    super(contextId, root);
    this.owner = root;
  }

  onRequestHeaders(headerCount: u32, endOfStream: bool): HeadersAction {
    setAll(request.headers, this.owner.requestNames, this.owner.settings.request);
    return HeadersAction.Continue;
  }

  onResponseHeaders(headerCount: u32, endOfStream: bool): HeadersAction {
    setAll(response.headers, this.owner.responseNames, this.owner.settings.response);
    return HeadersAction.Continue;
  }
}

registerRootContext((contextId: u32): RootContext => new AddHeaderRoot(contextId), "add_header");
