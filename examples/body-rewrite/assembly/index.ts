// body-rewrite: replaces text in response bodies. The body is buffered to its end (a
// replacement may straddle two chunks), rewritten once, and sent on. Because the length
// changes, `content-length` is dropped from the response headers: they leave before the
// body is known, and the client then receives the body chunked, which is always correct.
//
//   configuration: {"rules": [{"find": "Hello", "replace": "Goodbye"}], "content_types": ["text/"]}
//
// Only responses whose content-type starts with one of `content_types` are touched
// (default: any text/*, application/json).
import {
  RootContext, HttpContext, HeadersAction, DataAction, registerRootContext, response, config, log,
} from "proxy-wasm-as/sdk";

@json
class Replacement {
  @optional
  find: string = "";
  @optional
  replace: string = "";
}

@json
class BodyRewriteConfig {
  @optional
  rules: Replacement[] = [];
  @optional
  content_types: string[] = ["text/", "application/json"];
}

class BodyRewriteRoot extends RootContext {
  settings: BodyRewriteConfig = new BodyRewriteConfig();

  onConfigure(configurationSize: u32): bool {
    if (configurationSize == 0) return true; // no rules: bodies pass unchanged
    const parsed = config.parse<BodyRewriteConfig>(config.plugin());
    if (parsed == null) return false;
    for (let i = 0; i < parsed.rules.length; i++) {
      if (parsed.rules[i].find.length == 0) {
        log.error(`body-rewrite: rules[${i}].find is empty; expected the text to replace`);
        return false;
      }
    }
    this.settings = parsed;
    return true;
  }

  newHttpContext(contextId: u32): HttpContext | null {
    return new BodyRewrite(contextId, this);
  }
}

class BodyRewrite extends HttpContext {
  settings: BodyRewriteConfig;
  rewriting: bool = false;

  constructor(contextId: u32, root: BodyRewriteRoot) {
    super(contextId, root);
    this.settings = root.settings;
  }

  onResponseHeaders(headerCount: u32, endOfStream: bool): HeadersAction {
    if (endOfStream || !this.wantsType(response.headers.get("content-type"))) return HeadersAction.Continue;
    this.rewriting = true;
    response.headers.remove("content-length");
    return HeadersAction.Continue;
  }

  onResponseBody(bodySize: u32, endOfStream: bool): DataAction {
    if (!this.rewriting) return DataAction.Continue;
    // Hold every chunk until the last: the host hands us the whole buffered body then.
    if (!endOfStream) return DataAction.StopIterationAndBuffer;
    const original = response.body.getText();
    let body = original;
    const rules = this.settings.rules;
    for (let i = 0; i < rules.length; i++) body = body.replaceAll(rules[i].find, rules[i].replace);
    if (body != original) response.body.replace(body);
    return DataAction.Continue;
  }

  private wantsType(contentType: string | null): bool {
    if (contentType == null) return false;
    const types = this.settings.content_types;
    for (let i = 0; i < types.length; i++) if (contentType.startsWith(types[i])) return true;
    return false;
  }
}

registerRootContext((contextId: u32): RootContext => new BodyRewriteRoot(contextId), "body_rewrite");
