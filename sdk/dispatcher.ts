// Routes each proxy_on_* call to the object it concerns. Root contexts are chosen among the
// registered ones by the plugin's root id; a stream's own context is created, through its
// root's newHttpContext or newTcpContext, on the stream's first HTTP or TCP callback (the
// ABI's context_create does not say which kind a stream is, so one root can serve both).
import { RootContext, StreamContext, HttpContext, TcpContext, setRootIdInCreation, httpCallers, grpcCallers, grpcUnaryCalls } from "./contexts";
import { readHttpCallResponse } from "./http-call";
import { readGrpcMessage, readGrpcMetadata, readGrpcStatusMessage } from "./grpc-call";
import { proxy_set_effective_context } from "./abi/imports";
import { DataAction, HeadersAction, LogLevel, PeerType, TcpAction, TrailersAction } from "./abi/types";
import { forgetLogLevel, log } from "./log";
import { properties } from "./properties";
import { decimal } from "./format";

export type RootFactory = (contextId: u32) => RootContext;

class Registration {
  constructor(public rootId: string, public factory: RootFactory) {}
}

const registrations = new Array<Registration>();
const roots = new Map<u32, RootContext>();

/**
 * A stream the host created: its root, until its first HTTP or TCP callback says which kind
 * it is and makes its context. One map entry per stream, set at create and deleted at delete.
 */
class Stream {
  opened: bool = false;
  http: HttpContext | null = null;
  tcp: TcpContext | null = null;
  constructor(public root: RootContext) {}
}

const streams = new Map<u32, Stream>();

/** How many streams are open (the collector scales its pace to them). */
export function streamCount(): i32 { return streams.size; }

/**
 * Registers a root context: `factory` makes it for a plugin whose root id is `rootId`.
 * With one registration, or with one registered under "" (the default), a plugin whose
 * root id matches none uses it.
 */
export function registerRootContext(factory: RootFactory, rootId: string = ""): void {
  registrations.push(new Registration(rootId, factory));
}

/** Which of `names` serves `requested`: the exact match, else the only one, else "", else -1. */
export function chooseRoot(names: string[], requested: string): i32 {
  const exact = names.indexOf(requested);
  if (exact >= 0) return exact;
  if (names.length == 1) return 0;
  return names.indexOf("");
}

function registeredNames(): string[] {
  const names = new Array<string>(registrations.length);
  for (let i = 0; i < registrations.length; i++) names[i] = registrations[i].rootId;
  return names;
}

export function onContextCreate(contextId: u32, parentId: u32): void {
  forgetLogLevel();
  if (parentId != 0) {
    const root = rootOf(parentId);
    if (root != null) streams.set(contextId, new Stream(root));
    else log.error("context " + decimal(contextId) + " created under " + decimal(parentId) + ", which is not a root context");
    return;
  }
  const prop = properties.getString(["plugin_root_id"]);
  const requested = prop != null ? prop : "";
  const names = registeredNames();
  const chosen = chooseRoot(names, requested);
  if (chosen < 0) {
    const list = names.length == 0 ? "none (call registerRootContext in your entry file)" : '"' + names.join('", "') + '"';
    log.error('no root context for root id "' + requested + '"; registered: ' + list);
    return;
  }
  setRootIdInCreation(requested.length > 0 ? requested : registrations[chosen].rootId);
  roots.set(contextId, registrations[chosen].factory(contextId));
}

// The root last looked up: a plugin has one, so a stream's creation skips the map.
let lastRootId: u32 = 0;
let lastRoot: RootContext | null = null;

function rootOf(contextId: u32): RootContext | null {
  if (contextId == lastRootId && lastRoot != null) return lastRoot;
  if (!roots.has(contextId)) return null;
  lastRootId = contextId;
  return lastRoot = roots.get(contextId);
}

/** The root made no context for this stream: the stream passes through untouched. */
function passThrough(contextId: u32, factory: string): void {
  if (log.enabled(LogLevel.Debug)) log.debug("context " + decimal(contextId) + ": " + factory + " gave null, the stream passes through this filter untouched");
}

// The stream the last callback went to: a stream's callbacks mostly come one after another
// (headers, done, log, delete), so most of them skip the map's hashing.
let lastId: u32 = 0;
let last: Stream | null = null;

function streamEntry(contextId: u32): Stream | null {
  if (contextId == lastId && last != null) return last;
  if (!streams.has(contextId)) return null;
  const stream = streams.get(contextId);
  lastId = contextId;
  last = stream;
  return stream;
}

function httpOf(contextId: u32): HttpContext | null {
  const stream = streamEntry(contextId);
  if (stream == null) return null;
  if (!stream.opened) {
    stream.opened = true;
    stream.http = stream.root.newHttpContext(contextId);
    if (stream.http == null) passThrough(contextId, "newHttpContext");
  }
  return stream.http;
}

function tcpOf(contextId: u32): TcpContext | null {
  const stream = streamEntry(contextId);
  if (stream == null) return null;
  if (!stream.opened) {
    stream.opened = true;
    stream.tcp = stream.root.newTcpContext(contextId);
    if (stream.tcp == null) passThrough(contextId, "newTcpContext");
  }
  return stream.tcp;
}

export function onVmStart(rootId: u32, size: u32): bool {
  forgetLogLevel();
  const root = rootOf(rootId);
  return root != null && root.onVmStart(size);
}

export function onConfigure(rootId: u32, size: u32): bool {
  forgetLogLevel();
  const root = rootOf(rootId);
  return root != null && root.onConfigure(size);
}

export function onTick(rootId: u32): void {
  forgetLogLevel();
  const root = rootOf(rootId);
  if (root != null) root.onTick();
}

export function onQueueReady(rootId: u32, queueId: u32): void {
  forgetLogLevel();
  const root = rootOf(rootId);
  if (root != null) root.onQueueReady(queueId);
}

export function onRequestHeaders(contextId: u32, count: u32, endOfStream: bool): HeadersAction {
  forgetLogLevel();
  const http = httpOf(contextId);
  return http != null ? http.onRequestHeaders(count, endOfStream) : HeadersAction.Continue;
}

export function onRequestBody(contextId: u32, size: u32, endOfStream: bool): DataAction {
  forgetLogLevel();
  const http = httpOf(contextId);
  return http != null ? http.onRequestBody(size, endOfStream) : DataAction.Continue;
}

export function onRequestTrailers(contextId: u32, count: u32): TrailersAction {
  forgetLogLevel();
  const http = httpOf(contextId);
  return http != null ? http.onRequestTrailers(count) : TrailersAction.Continue;
}

export function onResponseHeaders(contextId: u32, count: u32, endOfStream: bool): HeadersAction {
  forgetLogLevel();
  const http = httpOf(contextId);
  return http != null ? http.onResponseHeaders(count, endOfStream) : HeadersAction.Continue;
}

export function onResponseBody(contextId: u32, size: u32, endOfStream: bool): DataAction {
  forgetLogLevel();
  const http = httpOf(contextId);
  return http != null ? http.onResponseBody(size, endOfStream) : DataAction.Continue;
}

export function onResponseTrailers(contextId: u32, count: u32): TrailersAction {
  forgetLogLevel();
  const http = httpOf(contextId);
  return http != null ? http.onResponseTrailers(count) : TrailersAction.Continue;
}

export function onNewConnection(contextId: u32): TcpAction {
  forgetLogLevel();
  const tcp = tcpOf(contextId);
  return tcp != null ? tcp.onNewConnection() : TcpAction.Continue;
}

export function onDownstreamData(contextId: u32, size: u32, endOfStream: bool): TcpAction {
  forgetLogLevel();
  const tcp = tcpOf(contextId);
  return tcp != null ? tcp.onDownstreamData(size, endOfStream) : TcpAction.Continue;
}

export function onUpstreamData(contextId: u32, size: u32, endOfStream: bool): TcpAction {
  forgetLogLevel();
  const tcp = tcpOf(contextId);
  return tcp != null ? tcp.onUpstreamData(size, endOfStream) : TcpAction.Continue;
}

export function onDownstreamClose(contextId: u32, peer: PeerType): void {
  forgetLogLevel();
  const tcp = tcpOf(contextId);
  if (tcp != null) tcp.onDownstreamClose(peer);
}

export function onUpstreamClose(contextId: u32, peer: PeerType): void {
  forgetLogLevel();
  const tcp = tcpOf(contextId);
  if (tcp != null) tcp.onUpstreamClose(peer);
}

/** The open stream context (HTTP or TCP) with this id, or null. */
function streamOf(contextId: u32): StreamContext | null {
  const stream = streamEntry(contextId);
  if (stream == null) return null;
  const http = stream.http;
  if (http != null) return http;
  return stream.tcp;
}

function isOpenStream(contextId: u32): bool {
  return streamOf(contextId) != null;
}

/** The root an answer to a call is for: the context itself, or the root of the stream that made the call. */
function callerRoot(contextId: u32): RootContext | null {
  forgetLogLevel();
  if (roots.has(contextId)) return roots.get(contextId);
  const stream = streamOf(contextId);
  return stream != null ? stream.root : null;
}

/**
 * Envoy delivers a callout's response to the root context; a call an HTTP context made goes
 * on to that context, made effective so that continue and local replies act on its stream.
 */
export function onHttpCallResponse(contextId: u32, token: u32, headers: u32, bodySize: u32, trailers: u32): void {
  const root = callerRoot(contextId);
  const response = readHttpCallResponse(headers, bodySize, trailers);
  if (httpCallers.has(token)) {
    const caller = httpCallers.get(token);
    httpCallers.delete(token);
    if (!isOpenStream(caller.contextId)) return; // the stream ended first: the answer has nowhere to go
    proxy_set_effective_context(caller.contextId);
    caller.onHttpCallResponse(token, response);
  } else if (root != null) {
    root.onHttpCallResponse(token, response);
  }
}

/** The stream context a gRPC answer goes to (made effective), or null for the root. */
function grpcCaller(token: u32, last: bool): StreamContext | null {
  if (!grpcCallers.has(token)) return null;
  const caller = grpcCallers.get(token);
  if (last) {
    grpcCallers.delete(token);
    grpcUnaryCalls.delete(token);
  }
  if (!isOpenStream(caller.contextId)) return null;
  proxy_set_effective_context(caller.contextId);
  return caller;
}

export function onGrpcReceiveInitialMetadata(contextId: u32, token: u32, count: u32): void {
  const root = callerRoot(contextId);
  const metadata = readGrpcMetadata(true);
  const caller = grpcCaller(token, false);
  if (caller != null) caller.onGrpcReceiveInitialMetadata(token, metadata);
  else if (root != null && !grpcCallers.has(token)) root.onGrpcReceiveInitialMetadata(token, metadata);
}

export function onGrpcReceive(contextId: u32, token: u32, size: u32): void {
  const root = callerRoot(contextId);
  const message = readGrpcMessage(size);
  // A unary call's answer is its last callback.
  const unary = grpcUnaryCalls.has(token);
  const known = grpcCallers.has(token);
  const caller = grpcCaller(token, unary);
  if (caller != null) caller.onGrpcReceive(token, message);
  else if (root != null && !known) root.onGrpcReceive(token, message);
}

export function onGrpcReceiveTrailingMetadata(contextId: u32, token: u32, count: u32): void {
  const root = callerRoot(contextId);
  const metadata = readGrpcMetadata(false);
  const caller = grpcCaller(token, false);
  if (caller != null) caller.onGrpcReceiveTrailingMetadata(token, metadata);
  else if (root != null && !grpcCallers.has(token)) root.onGrpcReceiveTrailingMetadata(token, metadata);
}

export function onGrpcClose(contextId: u32, token: u32, status: u32): void {
  const root = callerRoot(contextId);
  const message = readGrpcStatusMessage();
  const known = grpcCallers.has(token);
  const caller = grpcCaller(token, true);
  if (caller != null) caller.onGrpcClose(token, status, message);
  else if (root != null && !known) root.onGrpcClose(token, status, message);
}

export function onForeignFunction(rootId: u32, functionId: u32, size: u32): void {
  const root = callerRoot(rootId);
  if (root != null) root.onForeignFunction(functionId, size);
}

export function onDone(contextId: u32): bool {
  forgetLogLevel();
  const stream = streamOf(contextId);
  if (stream != null) return stream.onDone();
  const root = rootOf(contextId);
  return root != null ? root.onDone() : true;
}

export function onLog(contextId: u32): void {
  forgetLogLevel();
  const stream = streamOf(contextId);
  if (stream != null) stream.onLog();
  else if (roots.has(contextId)) roots.get(contextId).onLog();
}

export function onDelete(contextId: u32): void {
  forgetLogLevel();
  const entry = streamEntry(contextId);
  if (entry != null) {
    const stream = streamOf(contextId);
    streams.delete(contextId);
    lastId = 0;
    last = null;
    if (stream != null) stream.onDelete();
  } else if (roots.has(contextId)) {
    const root = roots.get(contextId);
    roots.delete(contextId);
    lastRootId = 0;
    lastRoot = null;
    root.onDelete();
  }
}
