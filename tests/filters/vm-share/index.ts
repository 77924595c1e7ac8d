// A filter whose module-level state shows which VM it runs in, for the tests of VM sharing.
// Its plugin configuration is a tag ("refuse": on_configure answers false). On each response it
// counts in a global (one per VM, whatever the plugin) and adds `x-<tag>: <count>`, and
// `x-<tag>-roots: <root contexts that ran on_configure in this VM>`, and logs
// "<tag> saw response <count>"; a request for /trap/<tag> traps in
// that plugin's filter.
import { RootContext, HttpContext, HeadersAction, registerRootContext, request, response, config, log } from "proxy-wasm-as/sdk";

let responses = 0;
let roots = 0;

class Tagged extends RootContext {
  tag: string = "";

  onConfigure(size: u32): bool {
    roots++; // before a refusal too: a refused configuration shows if it ran in this VM
    this.tag = config.plugin();
    return this.tag != "refuse";
  }

  newHttpContext(contextId: u32): HttpContext | null {
    return new Count(contextId, this, this.tag);
  }
}

class Count extends HttpContext {
  constructor(contextId: u32, root: RootContext, private tag: string) {
    super(contextId, root);
  }

  onRequestHeaders(headerCount: u32, endOfStream: bool): HeadersAction {
    if (request.headers.get(":path") == "/trap/" + this.tag) unreachable();
    return HeadersAction.Continue;
  }

  onResponseHeaders(headerCount: u32, endOfStream: bool): HeadersAction {
    responses++;
    response.headers.add("x-" + this.tag, responses.toString());
    response.headers.add("x-" + this.tag + "-roots", roots.toString());
    log.info(this.tag + " saw response " + responses.toString());
    return HeadersAction.Continue;
  }
}

registerRootContext((id: u32): RootContext => new Tagged(id), "");
