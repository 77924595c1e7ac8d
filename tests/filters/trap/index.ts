// A filter that fails on purpose, for the tests of trap reports: the request path says how.
// Each failing line carries a `// trap:` marker the tests look up to know the line to expect.
import { RootContext, HttpContext, HeadersAction, registerRootContext, request } from "proxy-wasm-as/sdk";

class Trapper extends HttpContext {
  onRequestHeaders(headerCount: u32, endOfStream: bool): HeadersAction {
    const path = request.headers.get(":path");
    if (path == "/memory") {
      store<u32>(0xfffffff0, 1); // trap: memory
    } else if (path == "/index") {
      const few = [1, 2, 3];
      request.headers.add("x-item", few[few.length + 2].toString()); // trap: index
    } else if (path == "/throw") {
      throw new Error("the filter gave up"); // trap: throw
    } else if (path == "/deep") {
      deeper(3);
    }
    return HeadersAction.Continue;
  }
}

function deeper(n: i32): void {
  if (n == 0) unreachable(); // trap: deep
  deeper(n - 1);
}

class Root extends RootContext {
  newHttpContext(id: u32): HttpContext | null { return new Trapper(id, this); }
}

registerRootContext((id: u32): RootContext => new Root(id), "");
