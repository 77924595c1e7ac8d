// The calls a module makes out of the proxy, HTTP callouts and gRPC calls and streams: the
// token each gets, where it is sent (the proxy's clusters, or a test's recorder), and each
// answer delivered to the root context with what it may read during that callback (header
// maps 4-7, buffers 4 and 5, proxy_get_status).
import type { CalloutResponse, GrpcReceived, GrpcRequest, HttpCallRequest, Outbound } from "./abi/host.ts";
import { type HeaderList, LogLevel, Status } from "./abi/types.ts";
import { IdTable } from "./id-table.ts";

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

/** What the calls need of the plugin that makes them. */
export interface OutboundOwner {
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
  private nextToken = 1;
  private readonly grpcCalls = new IdTable<{ handle: GrpcHandle; stream: boolean }>();

  constructor(private readonly owner: OutboundOwner, private readonly callouts: CalloutSender | null, private readonly grpc: GrpcSender | null) {}

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
    const token = this.nextToken++;
    const generation = this.owner.restarts;
    this.callouts.send(request, (result) => this.deliverHttpCallResponse(token, generation, result));
    return { token };
  }

  /** The callout's outcome reaches the root context, as Envoy delivers it; the response is readable only then. */
  private deliverHttpCallResponse(token: number, generation: number, result: CalloutResult): void {
    if (this.owner.failed || generation !== this.owner.restarts) return; // the VM that asked is gone
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
    const token = this.nextToken++;
    const generation = this.owner.restarts;
    const deliver = (name: string, received: GrpcReceived, count: number) => {
      if (this.owner.failed || generation !== this.owner.restarts || !this.grpcCalls.has(token)) return;
      this.grpcReceived = received;
      try {
        this.owner.callRootGuarded("a gRPC answer", name, this.owner.rootContextId, token, count);
      } finally {
        this.grpcReceived = null;
      }
    };
    const handle = this.grpc.open(request, {
      initialMetadata: (m) => deliver("proxy_on_grpc_receive_initial_metadata", { initialMetadata: m }, m.length),
      message: (m) => deliver("proxy_on_grpc_receive", { message: m }, m.length),
      trailingMetadata: (m) => deliver("proxy_on_grpc_receive_trailing_metadata", { trailingMetadata: m }, m.length),
      close: (status, message) => {
        if (!this.grpcCalls.has(token)) return;
        this.callStatus = { code: status, message };
        deliver("proxy_on_grpc_close", {}, status);
        this.grpcCalls.delete(token);
      },
    });
    this.grpcCalls.set(token, { handle, stream: request.message === null });
    return { token };
  }

  private unknownGrpc(call: string, token: number): number {
    this.owner.log(LogLevel.Debug, `${call}: no gRPC call or stream with token ${token}`);
    return Status.NotFound;
  }

  grpcSend(token: number, message: Uint8Array, endStream: boolean): number {
    const call = this.grpcCalls.get(token);
    if (!call) return this.unknownGrpc("proxy_grpc_send", token);
    if (!call.stream) return Status.BadArgument;
    call.handle.send(message, endStream);
    return Status.Ok;
  }

  /** A call is cancelled; a stream is half-closed (its replies still come). */
  grpcClose(token: number): number {
    const call = this.grpcCalls.get(token);
    if (!call) return this.unknownGrpc("proxy_grpc_close", token);
    if (call.stream) call.handle.close();
    else return this.grpcCancel(token);
    return Status.Ok;
  }

  /** Stops the call or stream: no further callback for it. */
  grpcCancel(token: number): number {
    const call = this.grpcCalls.get(token);
    if (!call) return this.unknownGrpc("proxy_grpc_cancel", token);
    this.grpcCalls.delete(token);
    call.handle.cancel();
    return Status.Ok;
  }
}
