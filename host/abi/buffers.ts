// Buffers: proxy_get_buffer_status, proxy_get_buffer_bytes, proxy_set_buffer_bytes.
// Configuration buffers are readable only while the module is being started/configured.
import type { AbiHost, HostFunctions } from "./host.ts";
import { ByteBuffer, copyOf } from "../byte-buffer.ts";
import { BufferType, Status } from "./types.ts";

export function bufferFunctions(host: AbiHost): HostFunctions {
  const { vm } = host;

  const buffer = (bufferType: number): ByteBuffer | null => {
    if (bufferType === BufferType.VmConfiguration) return host.phase === "vm_start" ? new ByteBuffer(host.vmConfiguration) : null;
    if (bufferType === BufferType.PluginConfiguration) return host.phase === "configure" ? new ByteBuffer(host.configuration) : null;
    if (bufferType === BufferType.HttpCallResponseBody) return host.outbound.calloutResponse ? new ByteBuffer(host.outbound.calloutResponse.body) : null;
    if (bufferType === BufferType.GrpcReceiveBuffer) return host.outbound.grpcReceived?.message ? new ByteBuffer(host.outbound.grpcReceived.message) : null;
    return host.current?.buffer(bufferType) ?? null;
  };
  const readOnly = (bufferType: number) =>
    bufferType === BufferType.VmConfiguration || bufferType === BufferType.PluginConfiguration ||
    bufferType === BufferType.HttpCallResponseBody || bufferType === BufferType.GrpcReceiveBuffer;

  return {
    proxy_get_buffer_status(bufferType: number, lenPtr: number, flagsPtr: number): number {
      const buf = buffer(bufferType);
      if (buf === null) return Status.NotFound;
      return vm.setU32(lenPtr, buf.length) && vm.setU32(flagsPtr, 0) ? Status.Ok : Status.InvalidMemoryAccess;
    },

    proxy_get_buffer_bytes(bufferType: number, start: number, length: number, ptrPtr: number, lenPtr: number): number {
      const buf = buffer(bufferType);
      if (buf === null) return Status.NotFound;
      start >>>= 0;
      length >>>= 0;
      if (start > buf.length) return Status.BadArgument;
      const end = Math.min(buf.length, start + length);
      // Straight from the chunks held into the module's memory: the one copy.
      const ptr = vm.reserveOut(end - start, ptrPtr, lenPtr);
      if (ptr < 0) return Status.InvalidMemoryAccess;
      if (end > start) buf.copyTo(vm.memoryBytes, ptr, start, end);
      return Status.Ok;
    },

    proxy_set_buffer_bytes(bufferType: number, start: number, length: number, dataPtr: number, dataLen: number): number {
      const data = vm.bytes(dataPtr, dataLen);
      if (data === null) return Status.InvalidMemoryAccess;
      if (readOnly(bufferType)) return Status.BadArgument;
      const buf = buffer(bufferType);
      if (buf === null) return Status.NotFound;
      start >>>= 0;
      length >>>= 0;
      // The module's bytes copied once: the view dies when the module runs again.
      return buf.edit(start, length, copyOf(data)) ? Status.Ok : Status.BadArgument;
    },
  };
}
