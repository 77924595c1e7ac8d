// HTTP callouts: proxy_http_call, and proxy_get_status for the response's status.
import type { AbiHost, HostFunctions } from "./host.ts";
import { deserializePairs, lowercaseNames } from "./pairs.ts";
import { Status } from "./types.ts";

export function httpCallFunctions(host: AbiHost): HostFunctions {
  const { vm } = host;
  return {
    proxy_http_call(clusterPtr: number, clusterLen: number, headersPtr: number, headersLen: number, bodyPtr: number, bodyLen: number,
      trailersPtr: number, trailersLen: number, timeoutMs: number, tokenPtr: number): number {
      const cluster = vm.string(clusterPtr, clusterLen);
      const headerBytes = vm.bytes(headersPtr, headersLen);
      const body = vm.bytes(bodyPtr, bodyLen);
      const trailerBytes = vm.bytes(trailersPtr, trailersLen);
      if (cluster === null || headerBytes === null || body === null || trailerBytes === null || vm.u32(tokenPtr) === null) {
        return Status.InvalidMemoryAccess;
      }
      const headers = deserializePairs(headerBytes), trailers = deserializePairs(trailerBytes);
      if (headers === null || trailers === null) return Status.BadArgument;
      const sent = host.outbound.httpCall({ cluster, headers: lowercaseNames(headers), body: body.slice(), trailers: lowercaseNames(trailers), timeoutMs: timeoutMs >>> 0 });
      if ("status" in sent) return sent.status;
      return vm.setU32(tokenPtr, sent.token) ? Status.Ok : Status.InvalidMemoryAccess;
    },
    proxy_get_status(codePtr: number, messagePtrPtr: number, messageLenPtr: number): number {
      const { code, message } = host.outbound.callStatus;
      if (!vm.setU32(codePtr, code)) return Status.InvalidMemoryAccess;
      return vm.giveStringOut(message, messagePtrPtr, messageLenPtr) ? Status.Ok : Status.InvalidMemoryAccess;
    },
  };
}
