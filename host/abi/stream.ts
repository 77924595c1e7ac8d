// The stream: proxy_continue_stream, proxy_close_stream, proxy_send_local_response, and
// ABI 0.1.0's proxy_continue_request / proxy_continue_response / proxy_clear_route_cache.
import type { AbiHost, HostFunctions } from "./host.ts";
import { deserializePairs, invalidPairs, lowercaseNames } from "./pairs.ts";
import { LogLevel, Status, StreamType } from "./types.ts";

export function streamFunctions(host: AbiHost): HostFunctions {
  const { vm } = host;
  const continueStream = (streamType: number): number =>
    host.current ? host.current.continueStream(streamType) : Status.NotFound;

  return {
    proxy_continue_stream: continueStream,
    proxy_continue_request: () => continueStream(StreamType.Request),
    proxy_continue_response: () => continueStream(StreamType.Response),
    proxy_clear_route_cache: () => Status.Ok, // routes are matched once headers leave the filters
    proxy_close_stream(streamType: number): number {
      return host.current ? host.current.closeStream(streamType) : Status.NotFound;
    },
    proxy_send_local_response(status: number, detailsPtr: number, detailsLen: number, bodyPtr: number, bodyLen: number,
      headersPtr: number, headersLen: number, grpcStatus: number): number {
      const details = vm.string(detailsPtr, detailsLen);
      const body = vm.bytes(bodyPtr, bodyLen);
      const headerBytes = vm.bytes(headersPtr, headersLen);
      if (details === null || body === null || headerBytes === null) return Status.InvalidMemoryAccess;
      const headers = deserializePairs(headerBytes);
      if (headers === null) return Status.BadArgument;
      status >>>= 0;
      // What could not go out as an HTTP response is refused here, where the module can see why.
      const invalid = status < 200 || status > 599 ? `status ${status} is outside 200-599` : invalidPairs(headers);
      if (invalid !== null) {
        host.log(LogLevel.Debug, `proxy_send_local_response: ${invalid}; answering BadArgument`);
        return Status.BadArgument;
      }
      if (!host.current) return Status.NotFound;
      return host.current.sendLocalReply({
        status, details, body: body.slice(), grpcStatus,
        headers: lowercaseNames(headers),
      });
    },
  };
}
