// add-header: adds the headers named in the plugin configuration to every request (before
// it goes upstream) and every response (before it reaches the client).
//
//   configuration: {"request": {"x-added-by": "proxy-wasm-as"}, "response": {"x-frame-options": "DENY"}}
//
// A header already present is replaced, so the configured value is the one that arrives.
import {
  RootContext, HttpContext, HeadersAction, HeaderMap, registerRootContext, request, response, config, log,
} from "../../../sdk";

@json
class AddHeaderConfig {
  @optional
  request: Map<string, string> = new Map<string, string>();
  @optional
  response: Map<string, string> = new Map<string, string>();
}

class AddHeaderRoot extends RootContext {
  settings: AddHeaderConfig = new AddHeaderConfig();

  onConfigure(configurationSize: u32): bool {
    if (configurationSize == 0) return true; // nothing configured: nothing to add
    const parsed = config.parse<AddHeaderConfig>(config.plugin());
    if (parsed == null) return false; // config.parse has logged what is wrong
    this.settings = parsed;
    log.info(`add-header: ${parsed.request.size} request and ${parsed.response.size} response headers`);
    return true;
  }

  newHttpContext(contextId: u32): HttpContext | null {
    return new AddHeader(contextId, this);
  }
}

function setAll(map: HeaderMap, headers: Map<string, string>): void {
  const names = headers.keys();
  for (let i = 0; i < names.length; i++) map.replace(names[i], headers.get(names[i]));
}

class AddHeader extends HttpContext {
  settings: AddHeaderConfig;

  constructor(contextId: u32, root: AddHeaderRoot) {
    super(contextId, root);
    this.settings = root.settings;
  }

  onRequestHeaders(headerCount: u32, endOfStream: bool): HeadersAction {
    setAll(request.headers, this.settings.request);
    return HeadersAction.Continue;
  }

  onResponseHeaders(headerCount: u32, endOfStream: bool): HeadersAction {
    setAll(response.headers, this.settings.response);
    return HeadersAction.Continue;
  }
}

registerRootContext((contextId: u32): RootContext => new AddHeaderRoot(contextId), "add_header");
