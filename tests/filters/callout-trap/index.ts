// Holds each request while it asks cluster "auth" (an HTTP callout from the stream, path: the
// request's path); an answer whose body is "trap" makes the callback trap (the VM dies while
// requests wait on it), any other answer lets the request go on with x-auth: <body>.
import {
  RootContext, HttpContext, HeadersAction, HttpCallResponse, Header, registerRootContext, request, continueRequest,
} from "proxy-wasm-as/sdk";

class Waits extends HttpContext {
  onRequestHeaders(headerCount: u32, endOfStream: bool): HeadersAction {
    const path = request.headers.get(":path");
    this.httpCall("auth", [new Header(":method", "GET"), new Header(":path", path != null ? path : "/"), new Header(":authority", "auth")], null, 5000);
    return HeadersAction.StopIteration;
  }

  onHttpCallResponse(token: u32, response: HttpCallResponse): void {
    const body = response.bodyText();
    if (body == "trap") unreachable();
    request.headers.replace("x-auth", body);
    continueRequest();
  }
}

class Root extends RootContext {
  newHttpContext(contextId: u32): HttpContext | null {
    return new Waits(contextId, this);
  }
}

registerRootContext((id: u32): RootContext => new Root(id), "callout_trap");
