// Buffers: proxy_get_buffer_status, proxy_get_buffer_bytes, proxy_set_buffer_bytes.
// Configuration buffers are readable only while the module is being started/configured.
import type { AbiHost, ByteBuffer, HostFunctions } from "./host.ts";
import { BufferType, Status } from "./types.ts";

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

export function bufferFunctions(host: AbiHost): HostFunctions {
  const { vm } = host;

  const buffer = (bufferType: number): ByteBuffer | null => {
    if (bufferType === BufferType.VmConfiguration) return host.phase === "vm_start" ? { data: host.vmConfiguration } : null;
    if (bufferType === BufferType.PluginConfiguration) return host.phase === "configure" ? { data: host.configuration } : null;
    if (bufferType === BufferType.HttpCallResponseBody) return host.outbound.calloutResponse ? { data: host.outbound.calloutResponse.body } : null;
    if (bufferType === BufferType.GrpcReceiveBuffer) return host.outbound.grpcReceived?.message ? { data: host.outbound.grpcReceived.message } : null;
    return host.current?.buffer(bufferType) ?? null;
  };
  const readOnly = (bufferType: number) =>
    bufferType === BufferType.VmConfiguration || bufferType === BufferType.PluginConfiguration ||
    bufferType === BufferType.HttpCallResponseBody || bufferType === BufferType.GrpcReceiveBuffer;

  return {
    proxy_get_buffer_status(bufferType: number, lenPtr: number, flagsPtr: number): number {
      const buf = buffer(bufferType);
      if (buf === null) return Status.NotFound;
      return vm.setU32(lenPtr, buf.data.length) && vm.setU32(flagsPtr, 0) ? Status.Ok : Status.InvalidMemoryAccess;
    },

    proxy_get_buffer_bytes(bufferType: number, start: number, length: number, ptrPtr: number, lenPtr: number): number {
      const buf = buffer(bufferType);
      if (buf === null) return Status.NotFound;
      start >>>= 0;
      length >>>= 0;
      if (start > buf.data.length) return Status.BadArgument;
      const end = Math.min(buf.data.length, start + length);
      return vm.giveOut(buf.data.subarray(start, end), ptrPtr, lenPtr) ? Status.Ok : Status.InvalidMemoryAccess;
    },

    proxy_set_buffer_bytes(bufferType: number, start: number, length: number, dataPtr: number, dataLen: number): number {
      const data = vm.bytes(dataPtr, dataLen);
      if (data === null) return Status.InvalidMemoryAccess;
      if (readOnly(bufferType)) return Status.BadArgument;
      const buf = buffer(bufferType);
      if (buf === null) return Status.NotFound;
      start >>>= 0;
      length >>>= 0;
      // Envoy's Buffer::copyFrom: start 0 drains `length` bytes, then prepends (so (0,0)
      // prepends and (0, ≥size) replaces); start ≥ size appends; anything else is refused.
      const old = buf.data;
      const copy = data.slice(); // the view dies when the module runs again
      if (start === 0) buf.data = length === 0 ? concat(copy, old) : length >= old.length ? copy : concat(copy, old.subarray(length));
      else if (start >= old.length) buf.data = concat(old, copy);
      else return Status.BadArgument;
      return Status.Ok;
    },
  };
}
