// HTTP/2 to an upstream in cleartext (h2c, prior knowledge), for clusters whose
// typed_extension_protocol_options ask for http2_protocol_options. One session per endpoint,
// streams multiplexed on it. It speaks undici's dispatch handler interface, so the proxy's
// exchange drives HTTP/1.1 and HTTP/2 upstreams the same way.
import { type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, connect, constants } from "node:http2";
import type { Readable } from "node:stream";
import type { Dispatcher } from "undici";

export interface H2DispatchOptions {
  path: string;
  method: string;
  /** Flat name, value list; `host` becomes `:authority`. */
  headers: string[];
  body: Readable | null;
  headersTimeout: number;
  bodyTimeout: number;
}

/** Connection-level headers HTTP/2 forbids. */
const CONNECTION_HEADERS = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "host", "te"]);

function headerObject(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (name.startsWith(":") || value === undefined) continue;
    out[name] = typeof value === "number" ? String(value) : value;
  }
  return out;
}

export class H2Pool {
  private session: ClientHttp2Session | null = null;
  private sessionError: Error | null = null;

  constructor(private readonly origin: string, private readonly connectTimeoutMs: number) {}

  private currentSession(): ClientHttp2Session {
    if (this.session && !this.session.closed && !this.session.destroyed) return this.session;
    this.sessionError = null;
    const session = connect(this.origin);
    const timer = setTimeout(() => {
      this.sessionError = Object.assign(new Error("connect timeout"), { code: "UND_ERR_CONNECT_TIMEOUT" });
      session.destroy(this.sessionError);
    }, this.connectTimeoutMs);
    session.once("connect", () => clearTimeout(timer));
    session.on("error", (e) => {
      clearTimeout(timer);
      this.sessionError ??= e;
    });
    session.once("close", () => {
      clearTimeout(timer);
      if (this.session === session) this.session = null;
    });
    this.session = session;
    return session;
  }

  dispatch(options: H2DispatchOptions, handler: Dispatcher.DispatchHandler): void {
    const headers: Record<string, string | string[]> = { ":method": options.method, ":path": options.path };
    for (let i = 0; i < options.headers.length; i += 2) {
      const name = options.headers[i].toLowerCase(), value = options.headers[i + 1];
      if (name === "host") headers[":authority"] = value;
      else if (!CONNECTION_HEADERS.has(name)) {
        const existing = headers[name];
        headers[name] = existing === undefined ? value : ([] as string[]).concat(existing, value);
      }
    }
    let stream: ClientHttp2Stream;
    let finished = false;
    let responded = false;
    let paused = false;
    const pool = this;
    // Shorthand methods, not named arrows or local functions: the TypeScript loader would
    // redefine each one's name per request (see server/exchange.ts).
    const call = {
      get aborted() { return finished; },
      get paused() { return paused; },
      abort() { if (!finished) { finished = true; stream?.close(constants.NGHTTP2_CANCEL); } },
      pause() { paused = true; stream?.pause(); },
      resume() { paused = false; stream?.resume(); },
      fail(error: Error) {
        if (finished) return;
        finished = true;
        // A stream canceled because its session never connected carries the session's error as its cause.
        const cause = (error as { cause?: Error }).cause;
        handler.onResponseError?.(controller, pool.sessionError ?? cause ?? error);
      },
    };
    const controller = call as unknown as Dispatcher.DispatchController;
    try {
      stream = this.currentSession().request(headers, { endStream: options.body === null });
    } catch (e) {
      return call.fail(e as Error);
    }
    handler.onRequestStart?.(controller, {});
    stream.setTimeout(options.headersTimeout || 0, () => {
      const code = responded ? "UND_ERR_BODY_TIMEOUT" : "UND_ERR_HEADERS_TIMEOUT";
      call.fail(Object.assign(new Error(`upstream ${responded ? "body" : "headers"} timeout`), { code }));
      stream.close(constants.NGHTTP2_CANCEL);
    });
    let trailers: Record<string, string | string[]> = {};
    stream.on("response", (h) => {
      const status = Number(h[":status"]);
      if (status >= 200) {
        responded = true;
        stream.setTimeout(options.bodyTimeout || 0);
      }
      if (!finished) handler.onResponseStart?.(controller, status, headerObject(h), "");
    });
    stream.on("trailers", (t) => (trailers = headerObject(t)));
    stream.on("data", (chunk: Buffer) => {
      if (!finished) handler.onResponseData?.(controller, chunk);
    });
    stream.on("end", () => {
      if (finished) return;
      finished = true;
      handler.onResponseEnd?.(controller, trailers);
    });
    stream.on("error", (e) => call.fail(e));
    stream.on("close", () => {
      if (!finished) call.fail(Object.assign(new Error("upstream stream closed"), { code: "UND_ERR_SOCKET" }));
    });
    options.body?.pipe(stream);
  }

  async close(): Promise<void> {
    const session = this.session;
    if (!session || session.closed) return;
    await new Promise<void>((resolve) => session.close(() => resolve()));
  }
}
