// The small objects an Exchange hands out for each request: where each side of its stream
// goes, undici's handler for the upstream request, and the request body undici reads. They
// are classes, so a request makes a few small objects and no functions: the object literals
// with methods they replaced made about fifteen closures per request.
import type { IncomingMessage } from "node:http";
import { Readable } from "node:stream";
import type { Dispatcher } from "undici";
import type { HeaderList } from "../abi/types.ts";
import type { SideSink } from "../http/stream.ts";

/** What the sinks and the handler call on their exchange. */
export interface ExchangeSide {
  route(headers: HeaderList, end: boolean): void;
  toUpstream(data: Uint8Array, end: boolean): void;
  endUpstreamBody(): void;
  responseHeaders(headers: HeaderList, end: boolean): void;
  responseData(data: Uint8Array, end: boolean): void;
  responseTrailers(trailers: HeaderList): void;
  upstreamStarted(controller: Dispatcher.DispatchController): void;
  upstreamHeaders(controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void;
  upstreamData(controller: Dispatcher.DispatchController, chunk: Buffer): void;
  upstreamEnd(trailers: Record<string, string | string[] | undefined>): void;
  upstreamError(error: Error): void;
}

/** The request as it leaves the filters: its headers route it, its body goes upstream. */
export class ToUpstream implements SideSink {
  constructor(private readonly exchange: ExchangeSide) {}
  headers(headers: HeaderList, end: boolean): void {
    this.exchange.route(headers, end);
  }
  data(data: Uint8Array, end: boolean): void {
    this.exchange.toUpstream(data, end);
  }
  trailers(): void {
    this.exchange.endUpstreamBody();
  }
}

/** The response as it leaves the filters: to the client. */
export class ToClient implements SideSink {
  constructor(private readonly exchange: ExchangeSide) {}
  headers(headers: HeaderList, end: boolean): void {
    this.exchange.responseHeaders(headers, end);
  }
  data(data: Uint8Array, end: boolean): void {
    this.exchange.responseData(data, end);
  }
  trailers(trailers: HeaderList): void {
    this.exchange.responseTrailers(trailers);
  }
}

/** undici's handler of the upstream request: each event to the exchange. */
export class UpstreamHandler implements Dispatcher.DispatchHandler {
  constructor(private readonly exchange: ExchangeSide) {}
  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.exchange.upstreamStarted(controller);
  }
  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    this.exchange.upstreamHeaders(controller, statusCode, headers);
  }
  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.exchange.upstreamData(controller, chunk);
  }
  onResponseEnd(_controller: Dispatcher.DispatchController, trailers: Record<string, string | string[] | undefined>): void {
    this.exchange.upstreamEnd(trailers);
  }
  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.exchange.upstreamError(error);
  }
}

/**
 * The request body as undici reads it: the chunks that passed the filters, pushed as they
 * come. Past its high-water mark (undici not reading: the upstream is slow) the client's
 * request is paused, and resumed when undici reads again. A readable alone, where a
 * PassThrough (what it replaced) kept a writable side and a transform step per chunk too.
 */
export class RequestBody extends Readable {
  constructor(private readonly client: IncomingMessage) {
    super();
  }

  override _read(): void {
    this.client.resume();
  }
}
