// gRPC calls and streams to a cluster the host knows (messages are raw bytes: protobuf
// encoding is the filter's choice). Answers come to the context that opened the call:
// onGrpcReceiveInitialMetadata, onGrpcReceive, onGrpcReceiveTrailingMetadata, onGrpcClose.
import {
  proxy_get_buffer_bytes, proxy_get_header_map_pairs, proxy_get_status, proxy_grpc_call, proxy_grpc_cancel, proxy_grpc_close,
  proxy_grpc_send, proxy_grpc_stream,
} from "./abi/imports";
import { BufferType, HeaderMapType, Status } from "./abi/types";
import { OUT_LEN, OUT_PTR, clearOut, takeBytes, takeString, utf8 } from "./abi/memory";
import { Header, deserializePairs, serializePairs } from "./headers";
import { log } from "./log";

const TOKEN_PTR: usize = memory.data(4, 4);
const CODE_PTR: usize = memory.data(4, 4);

function opened(status: Status, what: string): u32 {
  if (status != Status.Ok) {
    log.error(`gRPC ${what} refused (status ${status}): the cluster must exist`);
    return 0;
  }
  return load<u32>(TOKEN_PTR);
}

/** A unary call: its token, or 0 when the host refused it (logged). */
export function dispatchGrpcCall(cluster: string, service: string, method: string, metadata: Header[], message: ArrayBuffer, timeoutMs: u32): u32 {
  const c = utf8(cluster), s = utf8(service), m = utf8(method), md = serializePairs(metadata);
  store<u32>(TOKEN_PTR, 0);
  const status = proxy_grpc_call(changetype<usize>(c), c.byteLength, changetype<usize>(s), s.byteLength, changetype<usize>(m), m.byteLength,
    changetype<usize>(md), md.byteLength, changetype<usize>(message), message.byteLength, timeoutMs, TOKEN_PTR);
  return opened(status, `call ${service}/${method}`);
}

/** A stream (send messages with grpcSend): its token, or 0 when the host refused it (logged). */
export function dispatchGrpcStream(cluster: string, service: string, method: string, metadata: Header[]): u32 {
  const c = utf8(cluster), s = utf8(service), m = utf8(method), md = serializePairs(metadata);
  store<u32>(TOKEN_PTR, 0);
  const status = proxy_grpc_stream(changetype<usize>(c), c.byteLength, changetype<usize>(s), s.byteLength, changetype<usize>(m), m.byteLength,
    changetype<usize>(md), md.byteLength, TOKEN_PTR);
  return opened(status, `stream ${service}/${method}`);
}

export function grpcSend(token: u32, message: ArrayBuffer, endStream: bool = false): Status {
  return proxy_grpc_send(token, changetype<usize>(message), message.byteLength, endStream ? 1 : 0);
}

/** Half-closes a stream (its replies still come); cancels a call. */
export function grpcClose(token: u32): Status {
  return proxy_grpc_close(token);
}

/** Stops a call or stream: no further callback for it. */
export function grpcCancel(token: u32): Status {
  return proxy_grpc_cancel(token);
}

export function readGrpcMetadata(initial: bool): Header[] {
  clearOut();
  const map = initial ? HeaderMapType.GrpcReceiveInitialMetadata : HeaderMapType.GrpcReceiveTrailingMetadata;
  return proxy_get_header_map_pairs(map, OUT_PTR, OUT_LEN) == Status.Ok ? deserializePairs(takeBytes()) : [];
}

export function readGrpcMessage(size: u32): ArrayBuffer {
  clearOut();
  return proxy_get_buffer_bytes(BufferType.GrpcReceiveBuffer, 0, size, OUT_PTR, OUT_LEN) == Status.Ok ? takeBytes() : new ArrayBuffer(0);
}

/** The status message of the call that closed (proxy_get_status). */
export function readGrpcStatusMessage(): string {
  clearOut();
  return proxy_get_status(CODE_PTR, OUT_PTR, OUT_LEN) == Status.Ok ? takeString() : "";
}
