// add-header: adds the headers named in the plugin configuration to every request (before
// it goes upstream) and every response (before it reaches the client).
//
//   configuration: {"request": {"x-added-by": "proxy-wasm-as"}, "response": {"x-frame-options": "DENY"}}
//
// A header already present is replaced, so the configured value is the one that arrives.
import {
  RootContext, HttpContext, HeadersAction, EncodedHeader, HeaderMap, StringPairs, registerRootContext, request, response, config, log, decimal,
} from "proxy-wasm-as/sdk";

@json
class AddHeaderConfig {
  @optional
  request: StringPairs = new StringPairs();
  @optional
  response: StringPairs = new StringPairs();
}

/** The configured headers, encoded once: a stream hands their bytes to the host as they are. */
function encoded(headers: StringPairs): EncodedHeader[] {
  const out = new Array<EncodedHeader>(headers.names.length);
  for (let i = 0; i < out.length; i++) out[i] = new EncodedHeader(unchecked(headers.names[i]), unchecked(headers.values[i]));
  return out;
}

class AddHeaderRoot extends RootContext {
  requestHeaders: EncodedHeader[] = [];
  responseHeaders: EncodedHeader[] = [];

  onConfigure(configurationSize: u32): bool {
    if (configurationSize == 0) return true; // nothing configured: nothing to add
    const parsed = config.parse<AddHeaderConfig>(config.plugin());
    if (parsed == null) return false; // config.parse has logged what is wrong
    this.requestHeaders = encoded(parsed.request);
    this.responseHeaders = encoded(parsed.response);
    log.info("add-header: " + decimal(parsed.request.names.length) + " request and " + decimal(parsed.response.names.length) + " response headers");
    return true;
  }

  newHttpContext(contextId: u32): HttpContext | null {
    return new AddHeader(contextId, this);
  }
}

function setAll(map: HeaderMap, headers: EncodedHeader[]): void {
  for (let i = 0; i < headers.length; i++) map.replaceEncoded(unchecked(headers[i]));
}

class AddHeader extends HttpContext {
  owner: AddHeaderRoot;

  constructor(contextId: u32, root: AddHeaderRoot) {
    super(contextId, root);
    this.owner = root;
  }

  onRequestHeaders(headerCount: u32, endOfStream: bool): HeadersAction {
    setAll(request.headers, this.owner.requestHeaders);
    return HeadersAction.Continue;
  }

  onResponseHeaders(headerCount: u32, endOfStream: bool): HeadersAction {
    setAll(response.headers, this.owner.responseHeaders);
    return HeadersAction.Continue;
  }
}

registerRootContext((contextId: u32): RootContext => new AddHeaderRoot(contextId), "add_header");
