// gRPC: proxy_grpc_call, proxy_grpc_stream, proxy_grpc_send, proxy_grpc_close,
// proxy_grpc_cancel. What comes back reaches the root context through the plugin (maps 4/5,
// buffer 5, proxy_get_status for the close).
import type { AbiHost, HostFunctions } from "./host.ts";
import { deserializePairs, lowercaseNames } from "./pairs.ts";
import { Status } from "./types.ts";

export function grpcFunctions(host: AbiHost): HostFunctions {
  const { vm } = host;
  const target = (servicePtr: number, serviceLen: number, namePtr: number, nameLen: number, methodPtr: number, methodLen: number,
    metadataPtr: number, metadataLen: number) => {
    const cluster = vm.string(servicePtr, serviceLen), service = vm.string(namePtr, nameLen), method = vm.string(methodPtr, methodLen);
    const metadataBytes = vm.bytes(metadataPtr, metadataLen);
    if (cluster === null || service === null || method === null || metadataBytes === null) return null;
    const metadata = deserializePairs(metadataBytes);
    return metadata === null ? undefined : { cluster, service, method, metadata: lowercaseNames(metadata) };
  };
  const answer = (sent: { token: number } | { status: number }, tokenPtr: number) =>
    "status" in sent ? sent.status : vm.setU32(tokenPtr, sent.token) ? Status.Ok : Status.InvalidMemoryAccess;

  return {
    proxy_grpc_call(servicePtr: number, serviceLen: number, namePtr: number, nameLen: number, methodPtr: number, methodLen: number,
      metadataPtr: number, metadataLen: number, messagePtr: number, messageLen: number, timeoutMs: number, tokenPtr: number): number {
      const t = target(servicePtr, serviceLen, namePtr, nameLen, methodPtr, methodLen, metadataPtr, metadataLen);
      const message = vm.bytes(messagePtr, messageLen);
      if (t === null || message === null || vm.u32(tokenPtr) === null) return Status.InvalidMemoryAccess;
      if (t === undefined) return Status.BadArgument;
      return answer(host.outbound.grpcOpen({ ...t, message: message.slice(), timeoutMs: timeoutMs >>> 0 }), tokenPtr);
    },
    proxy_grpc_stream(servicePtr: number, serviceLen: number, namePtr: number, nameLen: number, methodPtr: number, methodLen: number,
      metadataPtr: number, metadataLen: number, tokenPtr: number): number {
      const t = target(servicePtr, serviceLen, namePtr, nameLen, methodPtr, methodLen, metadataPtr, metadataLen);
      if (t === null || vm.u32(tokenPtr) === null) return Status.InvalidMemoryAccess;
      if (t === undefined) return Status.BadArgument;
      return answer(host.outbound.grpcOpen({ ...t, message: null, timeoutMs: 0 }), tokenPtr);
    },
    proxy_grpc_send(token: number, messagePtr: number, messageLen: number, endStream: number): number {
      const message = vm.bytes(messagePtr, messageLen);
      if (message === null) return Status.InvalidMemoryAccess;
      return host.outbound.grpcSend(token >>> 0, message.slice(), endStream !== 0);
    },
    proxy_grpc_close(token: number): number {
      return host.outbound.grpcClose(token >>> 0);
    },
    proxy_grpc_cancel(token: number): number {
      return host.outbound.grpcCancel(token >>> 0);
    },
  };
}
