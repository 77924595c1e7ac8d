// The ABI's numbers, named (values from the Proxy-Wasm spec, ABI 0.2.1).

/** What a host function answered (WasmResult). */
export enum Status {
  Ok = 0, NotFound = 1, BadArgument = 2, SerializationFailure = 3, ParseFailure = 4, BadExpression = 5,
  InvalidMemoryAccess = 6, Empty = 7, CasMismatch = 8, ResultMismatch = 9, InternalFailure = 10,
  BrokenConnection = 11, Unimplemented = 12,
}

export enum LogLevel { Trace = 0, Debug = 1, Info = 2, Warn = 3, Error = 4, Critical = 5 }

export enum HeaderMapType {
  RequestHeaders = 0, RequestTrailers = 1, ResponseHeaders = 2, ResponseTrailers = 3,
  GrpcReceiveInitialMetadata = 4, GrpcReceiveTrailingMetadata = 5, HttpCallResponseHeaders = 6,
  HttpCallResponseTrailers = 7,
}

export enum BufferType {
  HttpRequestBody = 0, HttpResponseBody = 1, NetworkDownstreamData = 2, NetworkUpstreamData = 3,
  HttpCallResponseBody = 4, GrpcReceiveBuffer = 5, VmConfiguration = 6, PluginConfiguration = 7, CallData = 8,
}

export enum StreamType { Request = 0, Response = 1, Downstream = 2, Upstream = 3 }

/**
 * What a headers callback (onRequestHeaders, onResponseHeaders) tells the host to do next.
 * Envoy (through proxy-wasm-cpp-host) treats every stop alike: the side's headers, body and
 * trailers all wait at this filter until it calls continueRequest()/continueResponse()
 * (or answers with sendLocalReply). A filter that stops and never continues stalls the
 * client: the proxy logs such a stream once it has waited a few seconds.
 */
export enum HeadersAction {
  /** Pass the headers on to the next filter (then the upstream, or the client). */
  Continue = 0,
  /** Hold this side here: Envoy turns it into StopAllIterationAndWatermark, so the body waits too (not only the headers). */
  StopIteration = 1,
  /** Continue; the host treats it as Continue. */
  ContinueAndEndStream = 2,
  /** Hold this side here, buffering the body behind the headers until the filter continues. */
  StopAllIterationAndBuffer = 3,
  /** Hold this side here; the body waits, with flow control on the connection. */
  StopAllIterationAndWatermark = 4,
}

/** What a body callback (onRequestBody, onResponseBody) tells the host to do with the data. */
export enum DataAction {
  /** Pass the data seen so far (the whole buffer, if this filter buffered) on to the next filter. */
  Continue = 0,
  /**
   * Keep the data in this filter's buffer: the next body callback sees it all (size = the
   * whole buffer), until the filter returns Continue or calls continueRequest()/continueResponse().
   * Past the listener's buffer limit Envoy answers 413 (request) or 500 (response).
   */
  StopIterationAndBuffer = 1,
  /** As StopIterationAndBuffer, with flow control on the connection. */
  StopIterationAndWatermark = 2,
  /** Stop, and keep nothing: this chunk goes no further (the filter replaces or drops it). */
  StopIterationNoBuffer = 3,
}

/** What a trailers callback tells the host to do next. */
export enum TrailersAction {
  /** Pass the trailers on. */
  Continue = 0,
  /** Hold the trailers (and whatever this filter buffered) until the filter continues. */
  StopIteration = 1,
}

/**
 * What a TCP callback (onNewConnection, onDownstreamData, onUpstreamData) tells the host to do.
 * A TCP connection has one read and one write buffer shared by its filters (as in Envoy).
 */
export enum TcpAction {
  /** Pass the buffered bytes on to the next filter (then the upstream, or the client). */
  Continue = 0,
  /**
   * Leave the bytes in the connection's buffer: the next bytes run the chain again with
   * everything held so far. From onNewConnection alone it holds nothing. Client bytes go on
   * with continueDownstream(); upstream bytes have no continue in Envoy and go on with the
   * next upstream bytes this filter lets through.
   */
  StopIteration = 1,
}

export enum MetricType { Counter = 0, Gauge = 1, Histogram = 2 }

/** Which side closed a connection. */
export enum PeerType { Unknown = 0, Local = 1, Remote = 2 }

export enum GrpcStatus {
  Ok = 0, Cancelled = 1, Unknown = 2, InvalidArgument = 3, DeadlineExceeded = 4, NotFound = 5, AlreadyExists = 6,
  PermissionDenied = 7, ResourceExhausted = 8, FailedPrecondition = 9, Aborted = 10, OutOfRange = 11,
  Unimplemented = 12, Internal = 13, Unavailable = 14, DataLoss = 15, Unauthenticated = 16,
}
