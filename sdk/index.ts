// The SDK's public surface: a filter imports from here only.
export {
  Status, LogLevel, HeaderMapType, BufferType, StreamType, HeadersAction, DataAction, TrailersAction, TcpAction,
  MetricType, PeerType, GrpcStatus,
} from "./abi/types";
export { RootContext, StreamContext, HttpContext, TcpContext } from "./contexts";
export { registerRootContext, RootFactory } from "./dispatcher";
export { Header, EncodedHeader, HeaderMap, lowerAscii, trimOws, listItems } from "./headers";
export { Body } from "./buffers";
export { Replacer, Splitter, indexOf, utf8Bytes } from "./bytes";
export { HttpMessage, HttpRequest, request, response, continueRequest, continueResponse, closeStream, sendLocalReply, sendLocalReplyBytes } from "./stream";
export { log } from "./log";
export { decimal } from "./format";
export { config } from "./config";
export { safeJson } from "./json";
export { JsonNumber, StringPairs } from "./json-values";
export { time } from "./time";
export { properties } from "./properties";
export { Counter, Gauge, Histogram } from "./metrics";
export { setTickPeriod } from "./timers";
export { sharedData, SharedValue, INCREMENT_FAILED } from "./shared-data";
export { HttpCallResponse } from "./http-call";
export { queues } from "./queues";
export { callForeignFunction } from "./foreign";
export { grpcSend, grpcClose, grpcCancel } from "./grpc-call";
export { setEffectiveContext, done } from "./context";
export { downstreamData, upstreamData, continueDownstream, closeConnection } from "./stream";
export { base64, base64url } from "./base64";
export { random } from "./random";
export { Sha256, sha256, hmacSha256, constantTimeEqual } from "./sha256";
export { Address, address } from "./address";
