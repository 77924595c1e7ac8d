// grpc-check: asks a gRPC service (authz.Checker/Check, over HTTP/2 to a cluster) whether a
// request may pass, with the request's path and its x-user header in a protobuf message.
// Allowed: the request goes on. Refused: 403 with the service's reason. A failed call
// (any status but OK): 503.
//
//   configuration: {"cluster": "authz", "timeout_ms": 1000}
import {
  RootContext, HttpContext, HeadersAction, Header, registerRootContext, request, continueRequest, sendLocalReply, config, log,
} from "proxy-wasm-as/sdk";
import { decodeCheckResponse, encodeCheckRequest } from "./proto";

@json
class GrpcCheckConfig {
  @optional
  cluster: string = "authz";
  @optional
  timeout_ms: u32 = 1000;
}

class GrpcCheckRoot extends RootContext {
  settings: GrpcCheckConfig = new GrpcCheckConfig();

  onConfigure(configurationSize: u32): bool {
    if (configurationSize == 0) return true;
    const parsed = config.parse<GrpcCheckConfig>(config.plugin());
    if (parsed == null) return false;
    this.settings = parsed;
    return true;
  }

  newHttpContext(contextId: u32): HttpContext | null {
    return new GrpcCheck(contextId, this);
  }
}

class GrpcCheck extends HttpContext {
  settings: GrpcCheckConfig;
  answered: bool = false;

  constructor(contextId: u32, root: GrpcCheckRoot) {
    super(contextId, root);
    this.settings = root.settings;
  }

  onRequestHeaders(headerCount: u32, endOfStream: bool): HeadersAction {
    const path = request.headers.get(":path");
    const user = request.headers.get("x-user");
    const message = encodeCheckRequest(path != null ? path : "/", user != null ? user : "");
    const token = this.grpcCall(this.settings.cluster, "authz.Checker", "Check", [new Header("x-client", "proxy-wasm-as")], message, this.settings.timeout_ms);
    if (token == 0) sendLocalReply(503, "authorization service unavailable\n", [], "wasm_grpc_check_unavailable");
    return HeadersAction.StopIteration;
  }

  onGrpcReceive(token: u32, message: ArrayBuffer): void {
    const answer = decodeCheckResponse(message);
    if (!answer.valid) {
      log.warn("grpc-check: the service's answer is not a CheckResponse");
      return;
    }
    this.answered = true;
    if (answer.allowed) continueRequest();
    else sendLocalReply(403, answer.reason + "\n", [], "wasm_grpc_check_denied");
  }

  onGrpcClose(token: u32, status: u32, message: string): void {
    if (status == 0 && this.answered) return;
    log.warn(`grpc-check: Check ended with status ${status} ${message}`);
    sendLocalReply(503, "authorization service unavailable\n", [], "wasm_grpc_check_unavailable");
  }
}

registerRootContext((contextId: u32): RootContext => new GrpcCheckRoot(contextId), "grpc_check");
