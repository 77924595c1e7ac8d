// cors: Cross-Origin Resource Sharing (the Fetch standard's CORS protocol) for an upstream
// that knows nothing of it. Preflight requests (OPTIONS with Origin and
// Access-Control-Request-Method) are answered here; responses to actual requests from an
// allowed origin get the Access-Control-Allow-* headers. Every response says `Vary: Origin`,
// since what it carries depends on the Origin.
//
//   configuration: {
//     "allow_origins": ["https://example.com", "https://*.example.com"],
//     "allow_methods": ["GET", "POST", "PUT"],
//     "allow_headers": ["content-type", "authorization"],
//     "expose_headers": ["x-request-id"],
//     "allow_credentials": true,
//     "max_age": 600
//   }
import {
  RootContext, HttpContext, HeadersAction, Header, registerRootContext, request, response, sendLocalReply, config, log, lowerAscii,
  listItems, decimal,
} from "proxy-wasm-as/sdk";

@json
class CorsConfig {
  /** Exact origins, "*" for any, or patterns where "*" stands for one or more characters other than "/" and ":". */
  allow_origins: string[] = [];
  @optional allow_methods: string[] = ["GET", "HEAD", "POST"];
  /** Request headers a page may send ("*": any), compared without case. */
  @optional allow_headers: string[] = [];
  /** Response headers a page may read beyond the safelisted ones. */
  @optional expose_headers: string[] = [];
  @optional allow_credentials: bool = false;
  /** How long (seconds) a browser may cache a preflight's answer; 0 leaves it out. */
  @optional max_age: u32 = 0;
}

/** Whether `origin` matches `pattern` (both lower case): "*" within a pattern stands for one or more characters other than "/" and ":". */
function matches(pattern: string, origin: string): bool {
  const star = pattern.indexOf("*");
  if (star < 0) return pattern == origin;
  const head = pattern.substring(0, star);
  const tail = pattern.substring(star + 1);
  if (origin.length <= head.length + tail.length || !origin.startsWith(head) || !origin.endsWith(tail)) return false;
  const middle = origin.substring(head.length, origin.length - tail.length);
  return !middle.includes("/") && !middle.includes(":");
}

/** Whether a Vary value already covers Origin ("*" covers everything). */
function variesByOrigin(vary: string): bool {
  const names = listItems(vary);
  for (let i = 0; i < names.length; i++) {
    const name = lowerAscii(names[i]);
    if (name == "origin" || name == "*") return true;
  }
  return false;
}

class CorsRoot extends RootContext {
  settings: CorsConfig = new CorsConfig();
  anyOrigin: bool = false;
  anyHeader: bool = false;
  patterns: string[] = [];
  allowHeaders: string[] = [];
  methodsText: string = "";
  headersText: string = "";
  exposeText: string = "";

  onConfigure(configurationSize: u32): bool {
    const parsed = config.parse<CorsConfig>(config.plugin());
    if (parsed == null) return false;
    if (parsed.allow_origins.length == 0) {
      log.error("cors: allow_origins is empty; list the origins allowed, or \"*\"");
      return false;
    }
    for (let i = 0; i < parsed.allow_origins.length; i++) {
      const origin = lowerAscii(parsed.allow_origins[i]);
      if (origin == "*") this.anyOrigin = true;
      else if (origin.indexOf("*") != origin.lastIndexOf("*")) {
        log.error("cors: allow_origins[" + decimal(<u32>i) + '] "' + origin + '" has more than one "*"');
        return false;
      } else this.patterns.push(origin);
    }
    for (let i = 0; i < parsed.allow_headers.length; i++) {
      const name = lowerAscii(parsed.allow_headers[i]);
      if (name == "*") this.anyHeader = true;
      else this.allowHeaders.push(name);
    }
    this.settings = parsed;
    // The header values are the same for every response: joined once here.
    this.methodsText = parsed.allow_methods.join(", ");
    this.headersText = this.allowHeaders.join(", ");
    this.exposeText = parsed.expose_headers.join(", ");
    log.info("cors: " + decimal(<u32>parsed.allow_origins.length) + " origins, methods " + this.methodsText);
    return true;
  }

  allows(origin: string): bool {
    if (this.anyOrigin) return true;
    const lower = lowerAscii(origin);
    for (let i = 0; i < this.patterns.length; i++) if (matches(this.patterns[i], lower)) return true;
    return false;
  }

  /** The Access-Control-Allow-Origin value: "*" only where credentials are not allowed (a browser refuses "*" with them). */
  allowOrigin(origin: string): string {
    return this.anyOrigin && !this.settings.allow_credentials ? "*" : origin;
  }

  newHttpContext(contextId: u32): HttpContext | null {
    return new Cors(contextId, this);
  }
}

class Cors extends HttpContext {
  owner: CorsRoot;
  origin: string | null = null; // an allowed Origin of this request, for its response

  constructor(contextId: u32, root: CorsRoot) {
    super(contextId, root);
    this.owner = root;
  }

  onRequestHeaders(headerCount: u32, endOfStream: bool): HeadersAction {
    const origin = request.headers.get("origin");
    if (origin == null) return HeadersAction.Continue; // not a cross-origin request
    const allowed = this.owner.allows(origin);
    const requested = request.headers.get("access-control-request-method");
    if (request.method == "OPTIONS" && requested != null) return this.preflight(origin, allowed, requested);
    if (allowed) this.origin = origin;
    return HeadersAction.Continue;
  }

  preflight(origin: string, allowed: bool, method: string): HeadersAction {
    const settings = this.owner.settings;
    const vary = new Header("vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
    const refusal = !allowed ? "origin " + origin + " is not allowed" : !settings.allow_methods.includes(method) ? "method " + method + " is not allowed" : this.refusedHeader();
    if (refusal.length > 0) {
      // No Access-Control-* headers: the browser then refuses the actual request itself.
      log.debug("cors: preflight refused: " + refusal);
      sendLocalReply(403, "CORS preflight refused: " + refusal + "\n", [vary], "wasm_cors_preflight_refused");
      return HeadersAction.StopIteration;
    }
    const headers: Header[] = [vary, new Header("access-control-allow-origin", this.owner.allowOrigin(origin)),
      new Header("access-control-allow-methods", this.owner.methodsText)];
    const requestedHeaders = request.headers.get("access-control-request-headers");
    if (this.owner.anyHeader && requestedHeaders != null) headers.push(new Header("access-control-allow-headers", requestedHeaders));
    else if (this.owner.headersText.length > 0) headers.push(new Header("access-control-allow-headers", this.owner.headersText));
    if (settings.allow_credentials) headers.push(new Header("access-control-allow-credentials", "true"));
    if (settings.max_age > 0) headers.push(new Header("access-control-max-age", decimal(settings.max_age)));
    sendLocalReply(204, "", headers, "wasm_cors_preflight");
    return HeadersAction.StopIteration;
  }

  /** The first header in Access-Control-Request-Headers not allowed, as a reason; "" when all are. */
  refusedHeader(): string {
    const requested = request.headers.get("access-control-request-headers");
    if (requested == null || this.owner.anyHeader) return "";
    const names = listItems(requested);
    for (let i = 0; i < names.length; i++) {
      const name = lowerAscii(names[i]);
      if (!this.owner.allowHeaders.includes(name)) return "header " + name + " is not allowed";
    }
    return "";
  }

  onResponseHeaders(headerCount: u32, endOfStream: bool): HeadersAction {
    // Vary even when nothing is added: a cache must not serve this answer to another origin.
    const vary = response.headers.get("vary");
    if (vary == null) response.headers.add("vary", "Origin");
    else if (!variesByOrigin(vary)) response.headers.replace("vary", vary + ", Origin");
    const origin = this.origin;
    if (origin == null) return HeadersAction.Continue;
    response.headers.replace("access-control-allow-origin", this.owner.allowOrigin(origin));
    if (this.owner.settings.allow_credentials) response.headers.replace("access-control-allow-credentials", "true");
    if (this.owner.exposeText.length > 0) response.headers.replace("access-control-expose-headers", this.owner.exposeText);
    return HeadersAction.Continue;
  }
}

registerRootContext((contextId: u32): RootContext => new CorsRoot(contextId), "cors");
