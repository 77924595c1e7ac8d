// The module's side of the ABI: everything the host calls. Only these are exported from a
// built filter (`npm run asbuild` adds this file as an entry next to the author's own).
import { allocateForHost } from "./memory";
import * as dispatch from "../dispatcher";

/** Announces ABI 0.2.1 to the host. */
export function proxy_abi_version_0_2_1(): void {}

export function malloc(size: usize): usize { return allocateForHost(size); }
export function proxy_on_memory_allocate(size: usize): usize { return allocateForHost(size); }

export function proxy_on_context_create(contextId: u32, parentId: u32): void { dispatch.onContextCreate(contextId, parentId); }
export function proxy_on_vm_start(rootId: u32, vmConfigurationSize: u32): bool { return dispatch.onVmStart(rootId, vmConfigurationSize); }
export function proxy_on_configure(rootId: u32, configurationSize: u32): bool { return dispatch.onConfigure(rootId, configurationSize); }
export function proxy_on_tick(rootId: u32): void { dispatch.onTick(rootId); }
export function proxy_on_queue_ready(rootId: u32, queueId: u32): void { dispatch.onQueueReady(rootId, queueId); }

export function proxy_on_request_headers(contextId: u32, headerCount: u32, endOfStream: bool): u32 { return dispatch.onRequestHeaders(contextId, headerCount, endOfStream); }
export function proxy_on_request_body(contextId: u32, bodySize: u32, endOfStream: bool): u32 { return dispatch.onRequestBody(contextId, bodySize, endOfStream); }
export function proxy_on_request_trailers(contextId: u32, trailerCount: u32): u32 { return dispatch.onRequestTrailers(contextId, trailerCount); }
export function proxy_on_response_headers(contextId: u32, headerCount: u32, endOfStream: bool): u32 { return dispatch.onResponseHeaders(contextId, headerCount, endOfStream); }
export function proxy_on_response_body(contextId: u32, bodySize: u32, endOfStream: bool): u32 { return dispatch.onResponseBody(contextId, bodySize, endOfStream); }
export function proxy_on_response_trailers(contextId: u32, trailerCount: u32): u32 { return dispatch.onResponseTrailers(contextId, trailerCount); }

export function proxy_on_new_connection(contextId: u32): u32 { return dispatch.onNewConnection(contextId); }
export function proxy_on_downstream_data(contextId: u32, dataSize: u32, endOfStream: bool): u32 { return dispatch.onDownstreamData(contextId, dataSize, endOfStream); }
export function proxy_on_upstream_data(contextId: u32, dataSize: u32, endOfStream: bool): u32 { return dispatch.onUpstreamData(contextId, dataSize, endOfStream); }
export function proxy_on_downstream_connection_close(contextId: u32, peer: u32): void { dispatch.onDownstreamClose(contextId, peer); }
export function proxy_on_upstream_connection_close(contextId: u32, peer: u32): void { dispatch.onUpstreamClose(contextId, peer); }

export function proxy_on_done(contextId: u32): bool { return dispatch.onDone(contextId); }
export function proxy_on_log(contextId: u32): void { dispatch.onLog(contextId); }
export function proxy_on_delete(contextId: u32): void { dispatch.onDelete(contextId); }

export function proxy_on_http_call_response(contextId: u32, token: u32, headerCount: u32, bodySize: u32, trailerCount: u32): void { dispatch.onHttpCallResponse(contextId, token, headerCount, bodySize, trailerCount); }
export function proxy_on_grpc_receive_initial_metadata(contextId: u32, token: u32, headerCount: u32): void { dispatch.onGrpcReceiveInitialMetadata(contextId, token, headerCount); }
export function proxy_on_grpc_receive(contextId: u32, token: u32, messageSize: u32): void { dispatch.onGrpcReceive(contextId, token, messageSize); }
export function proxy_on_grpc_receive_trailing_metadata(contextId: u32, token: u32, trailerCount: u32): void { dispatch.onGrpcReceiveTrailingMetadata(contextId, token, trailerCount); }
export function proxy_on_grpc_close(contextId: u32, token: u32, statusCode: u32): void { dispatch.onGrpcClose(contextId, token, statusCode); }
export function proxy_on_foreign_function(rootId: u32, functionId: u32, argumentsSize: u32): void { dispatch.onForeignFunction(rootId, functionId, argumentsSize); }
