// A filter for the test suites: each request names, in `x-probe`, an SDK helper to run on
// `x-arg`, and the filter puts what the helper gave back in the request header `x-result`,
// so a harness test checks the SDK against the real host.
import { RootContext, HttpContext, HeadersAction, registerRootContext, request, callForeignFunction, properties } from "../../../sdk";

function hex(bytes: ArrayBuffer): string {
  const view = Uint8Array.wrap(bytes);
  let out = "";
  for (let i = 0; i < view.length; i++) out += (<u32>view[i]).toString(16).padStart(2, "0");
  return out;
}

class Probe extends HttpContext {
  onRequestHeaders(headerCount: u32, endOfStream: bool): HeadersAction {
    const probe = request.headers.get("x-probe");
    const arg = request.headers.get("x-arg");
    const input = arg != null ? arg : "";
    let result = "unknown probe";
    if (probe == "round-trip-compress") {
      const packed = callForeignFunction("compress", String.UTF8.encode(input));
      const unpacked = packed != null ? callForeignFunction("uncompress", packed) : null;
      result = unpacked != null ? String.UTF8.decode(unpacked) : "null";
    } else if (probe == "foreign") {
      const out = callForeignFunction(input, String.UTF8.encode("probe"));
      result = out != null ? String.UTF8.decode(out) : "null";
    } else if (probe == "property") {
      const value = properties.getString(input.split("."));
      result = value != null ? value : "null";
    } else if (probe == "property-int") {
      result = properties.getInt(input.split("."), -1).toString();
    } else if (probe == "property-bool") {
      result = properties.getBool(input.split(".")) ? "true" : "false";
    } else if (probe == "set-property") {
      properties.setString(["filter_state", "probe"], input);
      const back = properties.getString(["filter_state", "probe"]);
      result = back != null ? back : "null";
    } else if (probe == "property-bytes") {
      const value = properties.getBytes(input.split("."));
      result = value != null ? hex(value) : "null";
    }
    request.headers.replace("x-result", result);
    return HeadersAction.Continue;
  }
}

class ProbeRoot extends RootContext {
  newHttpContext(contextId: u32): HttpContext | null {
    return new Probe(contextId, this);
  }
}

registerRootContext((contextId: u32): RootContext => new ProbeRoot(contextId), "sdk_probe");
