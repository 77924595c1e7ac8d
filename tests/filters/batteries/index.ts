// The SDK's batteries driven through the host: the request's path names the helper, its body
// (and a header or two) the input, and the local reply carries the result (raw bytes where
// the result is bytes), or 400 with "null" where the helper gave null. Driven by
// tests/batteries.test.ts.
import {
  RootContext, HttpContext, HeadersAction, DataAction, registerRootContext, request, response, sendLocalReply,
  sendLocalReplyBytes, base64, base64url, random, Sha256, sha256, hmacSha256, constantTimeEqual, address, Address,
  sharedData, INCREMENT_FAILED,
} from "proxy-wasm-as/sdk";

function header(name: string): string {
  const value = request.headers.get(name);
  return value != null ? value : "";
}

function bytesOrNull(bytes: ArrayBuffer | null): void {
  if (bytes == null) sendLocalReply(400, "null");
  else sendLocalReplyBytes(200, bytes);
}

function describe(a: Address | null): string {
  return a == null ? "null" : `${a.ip}|${a.port}|${a.family}|${a.zone}|${a.toString()}`;
}

class Batteries extends HttpContext {
  onRequestHeaders(count: u32, endOfStream: bool): HeadersAction {
    if (endOfStream) {
      this.answer(new ArrayBuffer(0));
      return HeadersAction.StopIteration;
    }
    return HeadersAction.Continue;
  }

  onRequestBody(size: u32, endOfStream: bool): DataAction {
    if (!endOfStream) return DataAction.StopIterationAndBuffer;
    this.answer(request.body.get(0, size));
    return DataAction.StopIterationNoBuffer;
  }

  onResponseHeaders(count: u32, endOfStream: bool): HeadersAction {
    response.headers.replace("x-request-line", `${request.method} ${request.path} ${request.authority}`);
    return HeadersAction.Continue;
  }

  answer(body: ArrayBuffer): void {
    const path = request.path;
    const text = String.UTF8.decode(body);
    if (path == "/base64/encode") sendLocalReply(200, base64.encode(body));
    else if (path == "/base64/decode") bytesOrNull(base64.decode(text));
    else if (path == "/base64url/encode") sendLocalReply(200, base64url.encode(body));
    else if (path == "/base64url/decode") bytesOrNull(base64url.decode(text));
    else if (path == "/base64/text") {
      // Round trip of text through both alphabets.
      const back = base64url.decodeText(base64url.encodeText(text));
      sendLocalReply(200, base64.encodeText(text) + " " + (back != null ? back : "null"));
    } else if (path == "/sha256") sendLocalReplyBytes(200, sha256(body));
    else if (path == "/sha256/pieces") {
      // The body fed in pieces of x-piece bytes, across block boundaries.
      const piece = I32.parseInt(header("x-piece"));
      const hash = new Sha256();
      for (let at = 0; at < body.byteLength; at += piece) hash.update(body.slice(at, min(at + piece, body.byteLength)));
      sendLocalReplyBytes(200, hash.digest());
    } else if (path == "/hmac") {
      const key = base64.decode(header("x-key"));
      if (key == null) sendLocalReply(400, "bad key");
      else sendLocalReplyBytes(200, hmacSha256(key, body));
    } else if (path == "/equal") {
      const other = base64.decode(header("x-other"));
      sendLocalReply(200, other != null && constantTimeEqual(body, other) ? "equal" : "different");
    } else if (path == "/random") {
      const n = I32.parseInt(header("x-n"));
      const bytes = random.bytes(n);
      sendLocalReplyBytes(200, bytes, [], "", -1);
      response.headers.add("x-u32", random.uint32().toString());
    } else if (path == "/random/words") {
      sendLocalReply(200, `${random.uint32()} ${random.uint64()}`);
    } else if (path == "/address") sendLocalReply(200, describe(address.parse(header("x-address"))));
    else if (path == "/source") sendLocalReply(200, describe(address.source()) + " " + describe(address.destination()));
    else if (path == "/increment") {
      const value = sharedData.increment(header("x-key"), I64.parseInt(header("x-delta")));
      if (value == INCREMENT_FAILED) sendLocalReply(500, "failed");
      else sendLocalReply(200, value.toString() + " " + sharedData.getInt(header("x-key")).toString());
    } else if (path == "/shared/set") {
      sharedData.setText(header("x-key"), text);
      sendLocalReply(200, "set");
    } else if (path == "/shortcuts/rewrite") {
      request.headers.replace(":path", "/rewritten?x=1");
      sendLocalReply(200, request.path);
    } else if (path.startsWith("/shortcuts")) sendLocalReply(200, `${request.method} ${request.path} ${request.authority}`);
    else sendLocalReply(404, "no such battery: " + path);
  }
}

class BatteriesRoot extends RootContext {
  newHttpContext(id: u32): HttpContext | null {
    return new Batteries(id, this);
  }
}

registerRootContext((id: u32): RootContext => new BatteriesRoot(id), "");
