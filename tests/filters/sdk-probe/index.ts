// A filter for the test suites: each request names, in `x-probe`, an SDK helper to run on
// `x-arg`, and the filter puts what the helper gave back in the request header `x-result`,
// so a harness test checks the SDK against the real host. A response's `x-probe` runs the same
// way, later in the stream, into the response's `x-result`. With the configuration
// `tick=<ms>` the root context ticks at that period and logs the time of each tick.
import {
  RootContext, HttpContext, HeadersAction, Header, HeaderMap, registerRootContext, request, response, callForeignFunction, properties,
  grpcSend, grpcClose, grpcCancel, setEffectiveContext, setTickPeriod, time, config, log,
} from "proxy-wasm-as/sdk";

function describePairs(pairs: Header[]): string {
  const out = new Array<string>();
  for (let i = 0; i < pairs.length; i++) out.push(`${pairs[i].name}=${pairs[i].value}`);
  return out.join(",");
}

function hex(bytes: ArrayBuffer): string {
  const view = Uint8Array.wrap(bytes);
  let out = "";
  for (let i = 0; i < view.length; i++) out += (<u32>view[i]).toString(16).padStart(2, "0");
  return out;
}

class Probe extends HttpContext {
  onRequestHeaders(headerCount: u32, endOfStream: bool): HeadersAction {
    this.probe(request.headers);
    return HeadersAction.Continue;
  }

  onResponseHeaders(headerCount: u32, endOfStream: bool): HeadersAction {
    if (response.headers.get("x-probe") != null) this.probe(response.headers);
    return HeadersAction.Continue;
  }

  /** Runs the helper `headers` name and puts its answer in their x-result. */
  probe(headers: HeaderMap): void {
    const probe = headers.get("x-probe");
    const arg = headers.get("x-arg");
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
    } else if (probe == "grpc-stream") {
      // x-arg: messages separated by ","; the stream is half-closed after them.
      const token = this.grpcStream("c", "probe.Service", "Chat", [new Header("x-probe-meta", "1")]);
      const parts = input.split(",");
      for (let i = 0; i < parts.length; i++) grpcSend(token, String.UTF8.encode(parts[i]), i == parts.length - 1);
      result = token.toString();
    } else if (probe == "grpc-call") {
      // A unary call with x-arg as its message; its answer is logged by the callbacks below.
      result = this.grpcCall("c", "probe.Service", "Get", [], String.UTF8.encode(input), 1000).toString();
    } else if (probe == "http-call") {
      result = this.httpCall("c", [new Header(":method", "GET"), new Header(":path", "/"), new Header(":authority", "c")]).toString();
    } else if (probe == "grpc-cancel") {
      const token = this.grpcStream("c", "probe.Service", "Chat");
      result = `${grpcCancel(token)} ${grpcSend(token, new ArrayBuffer(1))} ${grpcClose(token)}`;
    } else if (probe == "effective") {
      result = `${setEffectiveContext(this.contextId)} ${setEffectiveContext(999999)}`;
    } else if (probe == "trap") {
      unreachable();
    } else if (probe == "echo") {
      result = input; // back through HeaderMap.replace, encoded in the SDK's reused blocks
    } else if (probe == "property-bytes") {
      const value = properties.getBytes(input.split("."));
      result = value != null ? hex(value) : "null";
    } else if (probe == "header-bytes") {
      // x-arg names a request header: whether it is there, and its value's bytes in hex.
      const bytes = request.headers.getBytes(input);
      result = `${request.headers.has(input)} ${bytes != null ? hex(bytes) : "null"}`;
    } else if (probe == "now") {
      result = time.nowNanos().toString();
    }
    setEffectiveContext(this.contextId);
    headers.replace("x-result", result);
  }

  onGrpcReceiveInitialMetadata(token: u32, metadata: Header[]): void {
    log.info(`grpc ${token} initial metadata ${describePairs(metadata)}`);
  }
  onGrpcReceive(token: u32, message: ArrayBuffer): void {
    log.info(`grpc ${token} message ${String.UTF8.decode(message)}`);
  }
  onGrpcReceiveTrailingMetadata(token: u32, metadata: Header[]): void {
    log.info(`grpc ${token} trailing metadata ${describePairs(metadata)}`);
  }
  onGrpcClose(token: u32, status: u32, message: string): void {
    log.info(`grpc ${token} closed ${status} ${message}`);
  }
}

class ProbeRoot extends RootContext {
  onConfigure(configurationSize: u32): bool {
    const text = config.plugin();
    if (text.startsWith("tick=")) setTickPeriod(<u32>parseInt(text.substring(5)));
    return true;
  }

  onTick(): void {
    log.info(`tick at ${time.nowNanos()}`);
  }

  newHttpContext(contextId: u32): HttpContext | null {
    return new Probe(contextId, this);
  }
}

registerRootContext((contextId: u32): RootContext => new ProbeRoot(contextId), "sdk_probe");
