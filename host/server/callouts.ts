// HTTP callouts from filters, sent to the proxy's clusters over the same pools as proxied
// requests; the whole response is collected, then handed to the plugin.
import { Readable } from "node:stream";
import type { Dispatcher } from "undici";
import type { HeaderList } from "../abi/types.ts";
import type { Cluster } from "../upstream/cluster.ts";
import type { HttpCallRequest as CalloutRequest } from "../abi/host.ts";
import type { CalloutResult, CalloutSender } from "../upstream/outbound.ts";

const DEFAULT_TIMEOUT_MS = 5_000;

const headerOf = (request: CalloutRequest, name: string) => request.headers.find(([n]) => n === name)?.[1] ?? "";

/**
 * One callout under way: undici's handler, collecting the response, answering once. A class
 * rather than closures per callout: the TypeScript loader redefines the name of each named
 * arrow as it is made (see server/exchange.ts).
 */
class Callout implements Dispatcher.DispatchHandler {
  private readonly chunks: Buffer[] = [];
  private headers: HeaderList = [];
  private answered = false;

  constructor(private readonly request: CalloutRequest, private readonly done: (result: CalloutResult) => void) {}

  send(cluster: Cluster): void {
    const { request } = this;
    const headers: string[] = ["host", headerOf(request, ":authority")];
    for (const [name, value] of request.headers) if (!name.startsWith(":")) headers.push(name, value);
    const timeout = request.timeoutMs || DEFAULT_TIMEOUT_MS;
    cluster.pick().pool.dispatch({
      method: headerOf(request, ":method"), path: headerOf(request, ":path"), headers,
      body: request.body.length ? Readable.from([Buffer.from(request.body)]) : null, headersTimeout: timeout, bodyTimeout: timeout,
    }, this);
  }

  answer(result: CalloutResult): void {
    if (this.answered) return;
    this.answered = true;
    this.done(result);
  }

  onRequestStart(): void {} // (undici takes a handler as its newer kind only with this)

  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number, h: Record<string, string | string[] | undefined>): void {
    this.headers = [[":status", String(statusCode)]];
    for (const name in h) for (const v of ([] as string[]).concat(h[name] ?? [])) this.headers.push([name, v]);
  }

  onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer): void {
    this.chunks.push(chunk);
  }

  onResponseEnd(_c: Dispatcher.DispatchController, trailers: Record<string, string | string[] | undefined>): void {
    const trailerList: HeaderList = [];
    for (const name in trailers) for (const v of ([] as string[]).concat(trailers[name] ?? [])) trailerList.push([name, v]);
    this.answer({ response: { headers: this.headers, body: new Uint8Array(Buffer.concat(this.chunks)), trailers: trailerList } });
  }

  onResponseError(_c: Dispatcher.DispatchController, error: Error): void {
    this.answer({ failure: (error as { code?: string }).code ?? error.message });
  }
}

export function clusterCallouts(clusters: Map<string, Cluster>): CalloutSender {
  return {
    hasCluster: (name) => clusters.has(name),
    send(request, done) {
      const cluster = clusters.get(request.cluster)!;
      const callout = new Callout(request, done);
      // Always answer on a later turn of the event loop, never inside the module's call.
      const start = cluster.needsResolving ? cluster.resolve() : Promise.resolve();
      start.then(() => callout.send(cluster)).catch((e: Error) => callout.answer({ failure: e.message }));
    },
  };
}
