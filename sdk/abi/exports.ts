// The module's side of the ABI: everything the host calls. Only these are exported from a
// built filter (`npm run asbuild` adds this file as an entry next to the author's own).
import { allocateForHost } from "./memory";
import * as dispatch from "../dispatcher";
import { enter, leave } from "../collector";

/** Announces ABI 0.2.1 to the host. */
export function proxy_abi_version_0_2_1(): void {}

export function malloc(size: usize): usize { return allocateForHost(size); }
export function proxy_on_memory_allocate(size: usize): usize { return allocateForHost(size); }

export function proxy_on_context_create(contextId: u32, parentId: u32): void { enter(); dispatch.onContextCreate(contextId, parentId); leave(); }
export function proxy_on_vm_start(rootId: u32, vmConfigurationSize: u32): bool { enter(); const answer = dispatch.onVmStart(rootId, vmConfigurationSize); leave(); return answer; }
export function proxy_on_configure(rootId: u32, configurationSize: u32): bool { enter(); const answer = dispatch.onConfigure(rootId, configurationSize); leave(); return answer; }
export function proxy_on_tick(rootId: u32): void { enter(); dispatch.onTick(rootId); leave(); }
export function proxy_on_queue_ready(rootId: u32, queueId: u32): void { enter(); dispatch.onQueueReady(rootId, queueId); leave(); }

export function proxy_on_request_headers(contextId: u32, headerCount: u32, endOfStream: bool): u32 { enter(); const answer = dispatch.onRequestHeaders(contextId, headerCount, endOfStream); leave(); return answer; }
export function proxy_on_request_body(contextId: u32, bodySize: u32, endOfStream: bool): u32 { enter(); const answer = dispatch.onRequestBody(contextId, bodySize, endOfStream); leave(); return answer; }
export function proxy_on_request_trailers(contextId: u32, trailerCount: u32): u32 { enter(); const answer = dispatch.onRequestTrailers(contextId, trailerCount); leave(); return answer; }
export function proxy_on_response_headers(contextId: u32, headerCount: u32, endOfStream: bool): u32 { enter(); const answer = dispatch.onResponseHeaders(contextId, headerCount, endOfStream); leave(); return answer; }
export function proxy_on_response_body(contextId: u32, bodySize: u32, endOfStream: bool): u32 { enter(); const answer = dispatch.onResponseBody(contextId, bodySize, endOfStream); leave(); return answer; }
export function proxy_on_response_trailers(contextId: u32, trailerCount: u32): u32 { enter(); const answer = dispatch.onResponseTrailers(contextId, trailerCount); leave(); return answer; }

export function proxy_on_new_connection(contextId: u32): u32 { enter(); const answer = dispatch.onNewConnection(contextId); leave(); return answer; }
export function proxy_on_downstream_data(contextId: u32, dataSize: u32, endOfStream: bool): u32 { enter(); const answer = dispatch.onDownstreamData(contextId, dataSize, endOfStream); leave(); return answer; }
export function proxy_on_upstream_data(contextId: u32, dataSize: u32, endOfStream: bool): u32 { enter(); const answer = dispatch.onUpstreamData(contextId, dataSize, endOfStream); leave(); return answer; }
export function proxy_on_downstream_connection_close(contextId: u32, peer: u32): void { enter(); dispatch.onDownstreamClose(contextId, peer); leave(); }
export function proxy_on_upstream_connection_close(contextId: u32, peer: u32): void { enter(); dispatch.onUpstreamClose(contextId, peer); leave(); }

export function proxy_on_done(contextId: u32): bool { enter(); const answer = dispatch.onDone(contextId); leave(); return answer; }
export function proxy_on_log(contextId: u32): void { enter(); dispatch.onLog(contextId); leave(); }
export function proxy_on_delete(contextId: u32): void { enter(); dispatch.onDelete(contextId); leave(); }

export function proxy_on_http_call_response(contextId: u32, token: u32, headerCount: u32, bodySize: u32, trailerCount: u32): void { enter(); dispatch.onHttpCallResponse(contextId, token, headerCount, bodySize, trailerCount); leave(); }
export function proxy_on_grpc_receive_initial_metadata(contextId: u32, token: u32, headerCount: u32): void { enter(); dispatch.onGrpcReceiveInitialMetadata(contextId, token, headerCount); leave(); }
export function proxy_on_grpc_receive(contextId: u32, token: u32, messageSize: u32): void { enter(); dispatch.onGrpcReceive(contextId, token, messageSize); leave(); }
export function proxy_on_grpc_receive_trailing_metadata(contextId: u32, token: u32, trailerCount: u32): void { enter(); dispatch.onGrpcReceiveTrailingMetadata(contextId, token, trailerCount); leave(); }
export function proxy_on_grpc_close(contextId: u32, token: u32, statusCode: u32): void { enter(); dispatch.onGrpcClose(contextId, token, statusCode); leave(); }
export function proxy_on_foreign_function(rootId: u32, functionId: u32, argumentsSize: u32): void { enter(); dispatch.onForeignFunction(rootId, functionId, argumentsSize); leave(); }
