// The calls a module makes out of the proxy, HTTP callouts and gRPC calls and streams: the
// token each gets, where it is sent (the proxy's clusters, or a test's recorder), and each
// answer delivered to the root context with what it may read during that callback (header
// maps 4-7, buffers 4 and 5, proxy_get_status).
//
// As in Envoy: tokens are numbered per VM as proxy-wasm-cpp-host numbers them (HTTP callouts
// 4, 8, 12, …; gRPC calls 5, 9, 13, …; gRPC streams 6, 10, 14, …: the token's residue mod 4
// names its kind); a unary gRPC call ends with exactly one callback, proxy_on_grpc_receive
// with its one message on success or proxy_on_grpc_close with the status on failure, while
// a stream gets initial metadata, messages, trailing metadata and its close.
import type { CalloutResponse, GrpcReceived, GrpcRequest, HttpCallRequest, Outbound } from "../abi/host.ts";
import { type HeaderList, LogLevel, Status } from "../abi/types.ts";
import { IdTable } from "../id-table.ts";

/** The kinds of callout, as cpp-host numbers them: a token's residue mod 4. */
const enum CalloutKind { HttpCall = 0, GrpcCall = 1, GrpcStream = 2 }
const CALLOUT_INCREMENT = 4;
const GRPC_OK = 0, GRPC_INTERNAL = 13;

export type CalloutResult = { response: CalloutResponse } | { failure: string };

/** What a gRPC call or stream reports back; the plugin turns each into a root-context callback. */
export interface GrpcEvents {
  initialMetadata(metadata: HeaderList): void;
  message(message: Uint8Array): void;
  trailingMetadata(metadata: HeaderList): void;
  /** The call ended with this gRPC status (never during a call into the module). */
  close(status: number, message: string): void;
}

export interface GrpcHandle {
  send(message: Uint8Array, endStream: boolean): void;
  /** Half-closes a stream: no more messages from the module; replies still come. */
  close(): void;
  cancel(): void;
}

export interface GrpcSender {
  hasCluster(cluster: string): boolean;
  open(request: GrpcRequest, events: GrpcEvents): GrpcHandle;
}

export interface CalloutSender {
  /** Whether `cluster` names a cluster callouts may go to (else proxy_http_call answers BadArgument). */
  hasCluster(cluster: string): boolean;
  /** Sends the callout and, later (never during the call), calls `done` once with its outcome. */
  send(request: HttpCallRequest, done: (result: CalloutResult) => void): void;
}

/**
 * The last token given per kind in one VM (cpp-host's next_http_call_id_ and friends): every
 * plugin in the VM takes its tokens from here, so that no two of its calls share one.
 */
export class CalloutTokens {
  private last = [CalloutKind.HttpCall, CalloutKind.GrpcCall, CalloutKind.GrpcStream];

  next(kind: CalloutKind): number {
    return (this.last[kind] = (this.last[kind] + CALLOUT_INCREMENT) >>> 0);
  }

  /** A fresh VM numbers from the start again. */
  reset(): void {
    this.last = [CalloutKind.HttpCall, CalloutKind.GrpcCall, CalloutKind.GrpcStream];
  }
}

/** What the calls need of the plugin that makes them. */
export interface OutboundOwner {
  /** Its VM's tokens. */
  readonly tokens: CalloutTokens;
  readonly failed: boolean;
  /** Changes when the VM is re-created: answers to calls the old VM made are dropped. */
  readonly restarts: number;
  readonly rootContextId: number;
  log(level: LogLevel, message: string): void;
  /** A root callback whose failure (a trap, or the host's own error) is contained and logged. */
  callRootGuarded(what: string, name: string, a?: number, b?: number, c?: number, d?: number, e?: number): void;
}

export class OutboundCalls implements Outbound {
  /** The callout response whose callback is running, else null. */
  calloutResponse: CalloutResponse | null = null;
  /** What the gRPC callback under way may read, else null. */
  grpcReceived: GrpcReceived | null = null;
  /** What proxy_get_status answers: the status of the last answer delivered. */
  callStatus = { code: 0, message: "" };
  /** The VM its calls under way were made in (the owner's restarts then). */
  private callsGeneration = 0;
  private readonly grpcCalls = new IdTable<{ handle: GrpcHandle; stream: boolean }>();
  /** The plugin was released: answers still to come are dropped. */
  private closed = false;

  constructor(private readonly owner: OutboundOwner, private readonly callouts: CalloutSender | null, private readonly grpc: GrpcSender | null) {}

  /** The next token of a kind, in the VM now running: the gRPC calls a predecessor VM made are cancelled first. */
  private nextToken(kind: CalloutKind): number {
    if (this.callsGeneration !== this.owner.restarts) {
      this.callsGeneration = this.owner.restarts;
      this.cancelAll();
    }
    return this.owner.tokens.next(kind);
  }

  httpCall(request: HttpCallRequest): { token: number } | { status: number } {
    const missing = [":method", ":path", ":authority"].filter((h) => !request.headers.some(([n]) => n === h));
    if (missing.length) {
      this.owner.log(LogLevel.Debug, `proxy_http_call to ${request.cluster}: missing ${missing.join(", ")}; answering BadArgument`);
      return { status: Status.BadArgument };
    }
    if (!this.callouts?.hasCluster(request.cluster)) {
      this.owner.log(LogLevel.Debug, `proxy_http_call: no cluster named "${request.cluster}"; answering BadArgument`);
      return { status: Status.BadArgument };
    }
    const token = this.nextToken(CalloutKind.HttpCall);
    const generation = this.owner.restarts;
    this.callouts.send(request, (result) => this.deliverHttpCallResponse(token, generation, result));
    return { token };
  }

  /** The callout's outcome reaches the root context, as Envoy delivers it; the response is readable only then. */
  private deliverHttpCallResponse(token: number, generation: number, result: CalloutResult): void {
    if (this.closed || this.owner.failed || generation !== this.owner.restarts) return; // the VM that asked is gone
    const response = "response" in result ? result.response : { headers: [], trailers: [], body: new Uint8Array(0) };
    this.calloutResponse = response;
    this.callStatus = "response" in result ? { code: Status.Ok, message: "" } : { code: Status.BrokenConnection, message: result.failure };
    try {
      this.owner.callRootGuarded("an HTTP callout's answer", "proxy_on_http_call_response", this.owner.rootContextId, token,
        response.headers.length, response.body.length, response.trailers.length);
    } finally {
      this.calloutResponse = null;
    }
  }

  grpcOpen(request: GrpcRequest): { token: number } | { status: number } {
    if (!this.grpc?.hasCluster(request.cluster)) {
      this.owner.log(LogLevel.Debug, `gRPC to ${request.service}/${request.method}: no cluster named "${request.cluster}"; answering BadArgument`);
      return { status: Status.BadArgument };
    }
    const stream = request.message === null;
    const token = this.nextToken(stream ? CalloutKind.GrpcStream : CalloutKind.GrpcCall);
    const generation = this.owner.restarts;
    const deliver = (name: string, received: GrpcReceived, count: number) => {
      if (this.closed || this.owner.failed || generation !== this.owner.restarts || !this.grpcCalls.has(token)) return;
      this.grpcReceived = received;
      try {
        this.owner.callRootGuarded("a gRPC answer", name, this.owner.rootContextId, token, count);
      } finally {
        this.grpcReceived = null;
      }
    };
    const ended = (status: number, message: string) => {
      this.callStatus = { code: status, message };
      deliver("proxy_on_grpc_close", {}, status);
    };
    let events: GrpcEvents;
    if (stream) {
      events = {
        initialMetadata: (m) => deliver("proxy_on_grpc_receive_initial_metadata", { initialMetadata: m }, m.length),
        message: (m) => deliver("proxy_on_grpc_receive", { message: m }, m.length),
        trailingMetadata: (m) => deliver("proxy_on_grpc_receive_trailing_metadata", { trailingMetadata: m }, m.length),
        close: (status, message) => {
          if (!this.grpcCalls.has(token)) return;
          ended(status, message);
          this.grpcCalls.delete(token);
        },
      };
    } else {
      // Envoy's unary client keeps the last message and decides at the close: OK with a
      // message is a success (receive only), anything else a failure (close only; OK without
      // a message is Internal).
      let answer: Uint8Array | null = null;
      events = {
        initialMetadata: () => {},
        message: (m) => { answer = m; },
        trailingMetadata: () => {},
        close: (status, message) => {
          if (!this.grpcCalls.has(token)) return;
          if (status === GRPC_OK && answer !== null) {
            const m: Uint8Array = answer;
            this.callStatus = { code: GRPC_OK, message: "" };
            deliver("proxy_on_grpc_receive", { message: m }, m.length);
          } else {
            ended(status === GRPC_OK ? GRPC_INTERNAL : status, status === GRPC_OK ? "" : message);
          }
          this.grpcCalls.delete(token);
        },
      };
    }
    const handle = this.grpc.open(request, events);
    this.grpcCalls.set(token, { handle, stream });
    return { token };
  }

  /** The plugin is released: gRPC calls and streams under way are cancelled, and no answer reaches it any more. */
  close(): void {
    this.closed = true;
    this.cancelAll();
  }

  private cancelAll(): void {
    const tokens: number[] = [];
    this.grpcCalls.forEach((_call, token) => tokens.push(token));
    for (const token of tokens) this.grpcCancel(token);
  }

  private unknownGrpc(call: string, token: number): number {
    this.owner.log(LogLevel.Debug, `${call}: no gRPC call or stream with token ${token}`);
    return Status.NotFound;
  }

  /** A token that names no gRPC call or stream by its kind: BadArgument, as in Envoy. */
  private notGrpc(call: string, token: number): number {
    this.owner.log(LogLevel.Debug, `${call}: token ${token} is not a gRPC ${call === "proxy_grpc_send" ? "stream" : "call or stream"}'s`);
    return Status.BadArgument;
  }

  grpcSend(token: number, message: Uint8Array, endStream: boolean): number {
    if (token % 4 !== CalloutKind.GrpcStream) return this.notGrpc("proxy_grpc_send", token);
    const call = this.grpcCalls.get(token);
    if (!call) return this.unknownGrpc("proxy_grpc_send", token);
    call.handle.send(message, endStream);
    return Status.Ok;
  }

  /** A call is cancelled; a stream is half-closed (its replies still come). */
  grpcClose(token: number): number {
    if (token % 4 === CalloutKind.GrpcCall) return this.grpcCancel(token);
    if (token % 4 !== CalloutKind.GrpcStream) return this.notGrpc("proxy_grpc_close", token);
    const call = this.grpcCalls.get(token);
    if (!call) return this.unknownGrpc("proxy_grpc_close", token);
    call.handle.close();
    return Status.Ok;
  }

  /** Stops the call or stream: no further callback for it. */
  grpcCancel(token: number): number {
    if (token % 4 !== CalloutKind.GrpcCall && token % 4 !== CalloutKind.GrpcStream) return this.notGrpc("proxy_grpc_cancel", token);
    const call = this.grpcCalls.get(token);
    if (!call) return this.unknownGrpc("proxy_grpc_cancel", token);
    this.grpcCalls.delete(token);
    call.handle.cancel();
    return Status.Ok;
  }
}
