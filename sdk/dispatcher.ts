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
import { ContextTable, HTTP, ROOT, TCP, UNOPENED } from "./context-table";

export type RootFactory = (contextId: u32) => RootContext;

class Registration {
  constructor(public rootId: string, public factory: RootFactory) {}
}

const registrations = new Array<Registration>();

/** Every context the host created, roots and streams: added at create, removed at delete. */
const contexts = new ContextTable();

/** How many streams are open (the collector scales its pace to them). */
export function streamCount(): i32 { return contexts.streams; }

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
  for (let i = 0; i < registrations.length; i++) names[i] = unchecked(registrations[i]).rootId;
  return names;
}

export function onContextCreate(contextId: u32, parentId: u32): void {
  forgetLogLevel();
  if (parentId != 0) {
    const root = rootOf(parentId);
    if (root != null) {
      contexts.add(contextId, UNOPENED, root);
      lastSlot = -1; // growing the table moves its entries
    } else log.error("context " + decimal(contextId) + " created under " + decimal(parentId) + ", which is not a root context");
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
  const registration = unchecked(registrations[chosen]); // chooseRoot answers an index of it
  setRootIdInCreation(requested.length > 0 ? requested : registration.rootId);
  contexts.add(contextId, ROOT, registration.factory(contextId));
  lastSlot = -1;
  lastRootId = 0;
}

// The root last looked up: a plugin has one, so a stream's creation skips the table's probe.
let lastRootId: u32 = 0;
let lastRoot: RootContext | null = null;

function rootOf(contextId: u32): RootContext | null {
  if (contextId == lastRootId && lastRoot != null) return lastRoot;
  const slot = contexts.find(contextId);
  if (slot < 0 || contexts.kind(slot) != ROOT) return null;
  lastRootId = contextId;
  return lastRoot = changetype<RootContext>(contexts.object(slot));
}

/** The root made no context for this stream: the stream passes through untouched. */
function passThrough(contextId: u32, factory: string): void {
  if (log.enabled(LogLevel.Debug)) log.debug("context " + decimal(contextId) + ": " + factory + " gave null, the stream passes through this filter untouched");
}

// The stream the last callback went to: a stream's callbacks mostly come one after another
// (headers, done, log, delete), so most of them skip the table's probe.
let lastId: u32 = 0;
let lastSlot: i32 = -1;

/** The slot of stream `contextId` in `contexts`, or -1 (for a root too). */
function streamSlot(contextId: u32): i32 {
  if (contextId == lastId && lastSlot >= 0) return lastSlot;
  let slot = contexts.find(contextId);
  if (slot >= 0 && contexts.kind(slot) == ROOT) slot = -1;
  if (slot >= 0) {
    lastId = contextId;
    lastSlot = slot;
  }
  return slot;
}

/** Stream `contextId`'s context if it is of `kind` (HTTP or TCP), made by its root (`factory` names the method) at the stream's first callback. */
function contextOf(contextId: u32, kind: u8, factory: string): StreamContext | null {
  let slot = streamSlot(contextId);
  if (slot < 0) return null;
  let held = contexts.kind(slot);
  if (held == UNOPENED) {
    const root = changetype<RootContext>(contexts.object(slot));
    const made: StreamContext | null = kind == HTTP ? root.newHttpContext(contextId) : root.newTcpContext(contextId);
    if (made == null) passThrough(contextId, factory);
    lastSlot = slot = contexts.find(contextId); // the filter's code may have made the host create or delete others
    if (slot < 0) return null;
    contexts.open(slot, held = kind, made);
  }
  return held == kind ? changetype<StreamContext | null>(contexts.object(slot)) : null;
}

function httpOf(contextId: u32): HttpContext | null {
  return changetype<HttpContext | null>(contextOf(contextId, HTTP, "newHttpContext"));
}

function tcpOf(contextId: u32): TcpContext | null {
  return changetype<TcpContext | null>(contextOf(contextId, TCP, "newTcpContext"));
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
  const slot = streamSlot(contextId);
  return slot >= 0 && contexts.kind(slot) != UNOPENED ? changetype<StreamContext | null>(contexts.object(slot)) : null;
}

function isOpenStream(contextId: u32): bool {
  return streamOf(contextId) != null;
}

/** The root an answer to a call is for: the context itself, or the root of the stream that made the call. */
function callerRoot(contextId: u32): RootContext | null {
  forgetLogLevel();
  const root = rootOf(contextId);
  if (root != null) return root;
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
  else {
    const root = rootOf(contextId);
    if (root != null) root.onLog();
  }
}

export function onDelete(contextId: u32): void {
  forgetLogLevel();
  const slot = contexts.find(contextId);
  if (slot < 0) return;
  const kind = contexts.kind(slot);
  const object = contexts.object(slot);
  contexts.remove(slot);
  lastId = 0;
  lastSlot = -1;
  if (kind == ROOT) {
    lastRootId = 0;
    lastRoot = null;
    changetype<RootContext>(object).onDelete();
  } else if (kind != UNOPENED && object != null) changetype<StreamContext>(object).onDelete();
}
