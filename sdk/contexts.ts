// The classes authors extend. Every callback has a default that does the neutral thing, so
// a filter overrides only what it cares about.
import { DataAction, HeadersAction, PeerType, TcpAction, TrailersAction } from "./abi/types";
import { Header } from "./headers";
import { HttpCallResponse, dispatchHttpCall } from "./http-call";
import { dispatchGrpcCall, dispatchGrpcStream } from "./grpc-call";

/** Callouts made by stream contexts, by token: their responses go back to them. */
// @ts-ignore: decorator
@lazy export const httpCallers = new Map<u32, StreamContext>();
/** gRPC calls made by stream contexts, by token. */
// @ts-ignore: decorator
@lazy export const grpcCallers = new Map<u32, StreamContext>();
/** Tokens of unary calls in grpcCallers: as in Envoy, a unary call ends with one callback (receive on success, close on failure). */
// @ts-ignore: decorator
@lazy export const grpcUnaryCalls = new Set<u32>();

// The root id of the root context being constructed: the dispatcher sets it just before it
// calls the registered factory, so `rootId` is known from the constructor on.
let rootIdInCreation = "";

/** Called by the dispatcher before a root factory runs. */
export function setRootIdInCreation(rootId: string): void {
  rootIdInCreation = rootId;
}

/** One plugin's root: lives as long as the plugin, reads configuration, creates stream contexts. */
export class RootContext {
  /** The root id the host asked for (`plugin_root_id`), or the registered one when it asked for none. */
  readonly rootId: string = rootIdInCreation;

  constructor(public readonly contextId: u32) {}

  /** The VM started; false fails the plugin. The VM configuration is readable now (config.vm()). */
  onVmStart(vmConfigurationSize: u32): bool { return true; }
  /** The plugin (re)configured; false fails the plugin. Its configuration is readable now (config.plugin()). */
  onConfigure(configurationSize: u32): bool { return true; }
  onTick(): void {}
  onQueueReady(queueId: u32): void {}
  /** The host is shutting the plugin down; return false to finish asynchronously (then call proxy_done). */
  onDone(): bool { return true; }
  onLog(): void {}
  onDelete(): void {}

  // Answers to calls this root made. The helpers that make the calls come with their areas
  // (http-call, grpc-call, foreign functions); the callbacks already reach the root.
  onHttpCallResponse(token: u32, response: HttpCallResponse): void {}
  onGrpcReceiveInitialMetadata(token: u32, metadata: Header[]): void {}
  onGrpcReceive(token: u32, message: ArrayBuffer): void {}
  onGrpcReceiveTrailingMetadata(token: u32, metadata: Header[]): void {}
  onGrpcClose(token: u32, status: u32, message: string): void {}
  onForeignFunction(functionId: u32, argumentsSize: u32): void {}

  /** Opens a unary gRPC call from the root; answers come to its onGrpc* callbacks. The token, or 0 when refused. */
  grpcCall(cluster: string, service: string, method: string, metadata: Header[], message: ArrayBuffer, timeoutMs: u32 = 5000): u32 {
    return dispatchGrpcCall(cluster, service, method, metadata, message, timeoutMs);
  }

  /** Opens a gRPC stream from the root (send with grpcSend). The token, or 0 when refused. */
  grpcStream(cluster: string, service: string, method: string, metadata: Header[] = []): u32 {
    return dispatchGrpcStream(cluster, service, method, metadata);
  }

  /** Sends an HTTP callout from the root; its response comes to onHttpCallResponse. The token, or 0 when refused. */
  httpCall(cluster: string, headers: Header[], body: ArrayBuffer | null = null, timeoutMs: u32 = 5000): u32 {
    return dispatchHttpCall(cluster, headers, body, [], timeoutMs);
  }

  /** A context for a new HTTP stream, or null to let the stream pass untouched. */
  newHttpContext(contextId: u32): HttpContext | null { return null; }
  /** A context for a new TCP connection, or null to let it pass untouched. */
  newTcpContext(contextId: u32): TcpContext | null { return null; }
}

/** What HTTP and TCP stream contexts share: their ids, and calls out whose answers come back to them. */
export class StreamContext {
  constructor(public readonly contextId: u32, public readonly root: RootContext) {}

  /**
   * Sends an HTTP callout for this stream (pause it by returning a Stop action); the response
   * comes to this context's onHttpCallResponse, from where continueRequest(), sendLocalReply(),
   * continueDownstream() or closeConnection() act on the stream. The token, or 0 when refused.
   */
  httpCall(cluster: string, headers: Header[], body: ArrayBuffer | null = null, timeoutMs: u32 = 5000): u32 {
    const token = dispatchHttpCall(cluster, headers, body, [], timeoutMs);
    if (token != 0) httpCallers.set(token, this);
    return token;
  }

  /** The response to a callout this context made (response.ok is false when it failed). */
  onHttpCallResponse(token: u32, response: HttpCallResponse): void {}

  /** Opens a unary gRPC call for this stream; its answers come to this context. The token, or 0 when refused. */
  grpcCall(cluster: string, service: string, method: string, metadata: Header[], message: ArrayBuffer, timeoutMs: u32 = 5000): u32 {
    const token = dispatchGrpcCall(cluster, service, method, metadata, message, timeoutMs);
    if (token != 0) {
      grpcCallers.set(token, this);
      grpcUnaryCalls.add(token);
    }
    return token;
  }

  /** Opens a gRPC stream for this stream (send with grpcSend); its answers come to this context. The token, or 0. */
  grpcStream(cluster: string, service: string, method: string, metadata: Header[] = []): u32 {
    const token = dispatchGrpcStream(cluster, service, method, metadata);
    if (token != 0) grpcCallers.set(token, this);
    return token;
  }

  onGrpcReceiveInitialMetadata(token: u32, metadata: Header[]): void {}
  onGrpcReceive(token: u32, message: ArrayBuffer): void {}
  onGrpcReceiveTrailingMetadata(token: u32, metadata: Header[]): void {}
  /** The call ended: `status` is the gRPC status (0 OK), `message` its text. */
  onGrpcClose(token: u32, status: u32, message: string): void {}

  /** The stream is complete: its headers, trailers and properties are still readable. */
  onLog(): void {}
  onDone(): bool { return true; }
  onDelete(): void {}
}

/** One HTTP request/response exchange. */
export class HttpContext extends StreamContext {
  constructor(contextId: u32, root: RootContext) {
    super(contextId, root);
  }

  onRequestHeaders(headerCount: u32, endOfStream: bool): HeadersAction { return HeadersAction.Continue; }
  onRequestBody(bodySize: u32, endOfStream: bool): DataAction { return DataAction.Continue; }
  onRequestTrailers(trailerCount: u32): TrailersAction { return TrailersAction.Continue; }
  onResponseHeaders(headerCount: u32, endOfStream: bool): HeadersAction { return HeadersAction.Continue; }
  onResponseBody(bodySize: u32, endOfStream: bool): DataAction { return DataAction.Continue; }
  onResponseTrailers(trailerCount: u32): TrailersAction { return TrailersAction.Continue; }
}

/** One TCP connection. */
export class TcpContext extends StreamContext {
  constructor(contextId: u32, root: RootContext) {
    super(contextId, root);
  }

  onNewConnection(): TcpAction { return TcpAction.Continue; }
  onDownstreamData(dataSize: u32, endOfStream: bool): TcpAction { return TcpAction.Continue; }
  onUpstreamData(dataSize: u32, endOfStream: bool): TcpAction { return TcpAction.Continue; }
  /** The client's connection closed: Remote when the client closed it, Local when the proxy did. */
  onDownstreamClose(peer: PeerType): void {}
  /** The upstream's end went by (Envoy reports it with the last upstream bytes, peer Unknown). */
  onUpstreamClose(peer: PeerType): void {}
}
