// The ABI's numbers on the host side (values from the Proxy-Wasm spec; see shared/abi.md).

export const enum Status {
  Ok = 0, NotFound = 1, BadArgument = 2, SerializationFailure = 3, ParseFailure = 4, BadExpression = 5,
  InvalidMemoryAccess = 6, Empty = 7, CasMismatch = 8, ResultMismatch = 9, InternalFailure = 10,
  BrokenConnection = 11, Unimplemented = 12,
}

/** proxy_on_{downstream,upstream}_connection_close's peer type. */
export const enum PeerType { Unknown = 0, Local = 1, Remote = 2 }

export enum LogLevel { Trace = 0, Debug = 1, Info = 2, Warn = 3, Error = 4, Critical = 5 }
export type LogLevelName = "trace" | "debug" | "info" | "warn" | "error" | "critical";
export const LOG_LEVEL_NAMES: readonly LogLevelName[] = ["trace", "debug", "info", "warn", "error", "critical"];

export const enum HeaderMapType {
  RequestHeaders = 0, RequestTrailers = 1, ResponseHeaders = 2, ResponseTrailers = 3,
  GrpcReceiveInitialMetadata = 4, GrpcReceiveTrailingMetadata = 5, HttpCallResponseHeaders = 6,
  HttpCallResponseTrailers = 7,
}

export const enum BufferType {
  HttpRequestBody = 0, HttpResponseBody = 1, NetworkDownstreamData = 2, NetworkUpstreamData = 3,
  HttpCallResponseBody = 4, GrpcReceiveBuffer = 5, VmConfiguration = 6, PluginConfiguration = 7, CallData = 8,
}

export const enum StreamType { Request = 0, Response = 1, Downstream = 2, Upstream = 3 }

export enum HeadersAction {
  Continue = 0, StopIteration = 1, ContinueAndEndStream = 2, StopAllIterationAndBuffer = 3,
  StopAllIterationAndWatermark = 4,
}
export enum DataAction { Continue = 0, StopIterationAndBuffer = 1, StopIterationAndWatermark = 2, StopIterationNoBuffer = 3 }
export enum TrailersAction { Continue = 0, StopIteration = 1 }

export type AbiVersion = "0.1.0" | "0.2.0" | "0.2.1";

/** A header map: ordered (name, value) pairs; names are kept lowercase. */
export type HeaderList = [string, string][];
