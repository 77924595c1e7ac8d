// body-rewrite: replaces text in response bodies as they stream through, chunk by chunk, on
// the bytes (no string in between): a Replacer holds back only the few bytes at a chunk's end
// that could start a match straddling the next chunk, so nothing is buffered whole. Because
// the length changes, `content-length` is dropped from the response headers: they leave
// before the body is known, and the client then receives the body chunked, always correct.
//
//   configuration: {"rules": [{"find": "Hello", "replace": "Goodbye"}], "content_types": ["text/"]}
//
// Only responses whose content-type starts with one of `content_types` are touched
// (default: any text/*, application/json).
import {
  RootContext, HttpContext, HeadersAction, DataAction, Replacer, registerRootContext, response, config, log,
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
  /** The rules, compiled once; each stream takes a fresh() one. */
  replacer: Replacer = new Replacer();

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
    const replacer = new Replacer();
    for (let i = 0; i < parsed.rules.length; i++) replacer.add(parsed.rules[i].find, parsed.rules[i].replace);
    this.settings = parsed;
    this.replacer = replacer;
    return true;
  }

  newHttpContext(contextId: u32): HttpContext | null {
    return new BodyRewrite(contextId, this);
  }
}

class BodyRewrite extends HttpContext {
  owner: BodyRewriteRoot;
  /** Set when this response is rewritten. */
  replacer: Replacer | null = null;

  constructor(contextId: u32, root: BodyRewriteRoot) {
    super(contextId, root);
    this.owner = root;
  }

  onResponseHeaders(headerCount: u32, endOfStream: bool): HeadersAction {
    if (endOfStream || this.owner.settings.rules.length == 0 || !this.wantsType(response.headers.get("content-type"))) return HeadersAction.Continue;
    this.replacer = this.owner.replacer.fresh();
    response.headers.remove("content-length");
    return HeadersAction.Continue;
  }

  onResponseBody(bodySize: u32, endOfStream: bool): DataAction {
    const replacer = this.replacer;
    if (replacer != null) response.body.rewrite(replacer, endOfStream);
    return DataAction.Continue;
  }

  private wantsType(contentType: string | null): bool {
    if (contentType == null) return false;
    const types = this.owner.settings.content_types;
    for (let i = 0; i < types.length; i++) if (contentType.startsWith(types[i])) return true;
    return false;
  }
}

registerRootContext((contextId: u32): RootContext => new BodyRewriteRoot(contextId), "body_rewrite");
