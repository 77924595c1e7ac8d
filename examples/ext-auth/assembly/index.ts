// ext-auth: asks an authorization service about each request before it goes upstream. The
// request waits while the service answers; 2xx admits it (headers the service names in
// `x-auth-add-*` are added to it), anything else is answered 403 with the service's body,
// and a service that cannot be reached gives 503.
//
//   configuration: {"cluster": "auth", "path": "/check", "timeout_ms": 1000,
//                   "forward": ["authorization", "x-api-key"]}
import {
  RootContext, HttpContext, HeadersAction, Header, HttpCallResponse, registerRootContext, request, continueRequest,
  sendLocalReply, config, log,
} from "proxy-wasm-as/sdk";

@json
class ExtAuthConfig {
  @optional
  cluster: string = "auth";
  @optional
  path: string = "/check";
  @optional
  timeout_ms: u32 = 1000;
  @optional
  forward: string[] = ["authorization"];
}

class ExtAuthRoot extends RootContext {
  settings: ExtAuthConfig = new ExtAuthConfig();

  onConfigure(configurationSize: u32): bool {
    if (configurationSize == 0) return true;
    const parsed = config.parse<ExtAuthConfig>(config.plugin());
    if (parsed == null) return false;
    if (parsed.cluster.length == 0 || !parsed.path.startsWith("/")) {
      log.error(`ext-auth: expected a cluster name and a path starting with "/" (found cluster "${parsed.cluster}", path "${parsed.path}")`);
      return false;
    }
    this.settings = parsed;
    return true;
  }

  newHttpContext(contextId: u32): HttpContext | null {
    return new ExtAuth(contextId, this);
  }
}

const ADD_PREFIX = "x-auth-add-";

class ExtAuth extends HttpContext {
  settings: ExtAuthConfig;

  constructor(contextId: u32, root: ExtAuthRoot) {
    super(contextId, root);
    this.settings = root.settings;
  }

  onRequestHeaders(headerCount: u32, endOfStream: bool): HeadersAction {
    const s = this.settings;
    const method = request.headers.get(":method");
    const path = request.headers.get(":path");
    const headers: Header[] = [
      new Header(":method", "GET"), new Header(":path", s.path), new Header(":authority", s.cluster),
      new Header("x-original-method", method != null ? method : ""), new Header("x-original-path", path != null ? path : ""),
    ];
    for (let i = 0; i < s.forward.length; i++) {
      const value = request.headers.get(s.forward[i]);
      if (value != null) headers.push(new Header(s.forward[i], value));
    }
    if (this.httpCall(s.cluster, headers, null, s.timeout_ms) == 0) {
      sendLocalReply(503, "authorization service unavailable\n", [], "wasm_ext_auth_unavailable");
      return HeadersAction.StopIteration;
    }
    return HeadersAction.StopIteration; // wait for the answer
  }

  onHttpCallResponse(token: u32, response: HttpCallResponse): void {
    if (!response.ok) {
      log.warn("ext-auth: the authorization service did not answer");
      sendLocalReply(503, "authorization service unavailable\n", [], "wasm_ext_auth_unavailable");
      return;
    }
    const status = response.status;
    if (status >= 200 && status < 300) {
      for (let i = 0; i < response.headers.length; i++) {
        const h = response.headers[i];
        if (h.name.startsWith(ADD_PREFIX)) request.headers.replace(h.name.substring(ADD_PREFIX.length), h.value);
      }
      continueRequest();
      return;
    }
    const contentType = response.header("content-type");
    sendLocalReply(403, response.bodyText(), [new Header("content-type", contentType != null ? contentType : "text/plain")], "wasm_ext_auth_denied");
  }
}

registerRootContext((contextId: u32): RootContext => new ExtAuthRoot(contextId), "ext_auth");
