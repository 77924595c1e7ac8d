// HTTP callouts from filters, sent to the proxy's clusters over the same pools as proxied
// requests; the whole response is collected, then handed to the plugin.
import { Readable } from "node:stream";
import type { HeaderList } from "../abi/types.ts";
import type { Cluster } from "../cluster.ts";
import type { CalloutResult, CalloutSender } from "../outbound.ts";

const DEFAULT_TIMEOUT_MS = 5_000;

export function clusterCallouts(clusters: Map<string, Cluster>): CalloutSender {
  return {
    hasCluster: (name) => clusters.has(name),
    send(request, done) {
      const once = (result: CalloutResult) => {
        const answer = done;
        done = () => {};
        answer(result);
      };
      const cluster = clusters.get(request.cluster)!;
      const header = (name: string) => request.headers.find(([n]) => n === name)?.[1] ?? "";
      const headers: string[] = ["host", header(":authority")];
      for (const [name, value] of request.headers) if (!name.startsWith(":")) headers.push(name, value);
      const timeout = request.timeoutMs || DEFAULT_TIMEOUT_MS;
      const go = () => {
        const chunks: Buffer[] = [];
        let responseHeaders: HeaderList = [];
        cluster.pick().pool.dispatch({
          method: header(":method"), path: header(":path"), headers,
          body: request.body.length ? Readable.from([Buffer.from(request.body)]) : null, headersTimeout: timeout, bodyTimeout: timeout,
        }, {
          onRequestStart: () => {}, // (undici takes a handler as its newer kind only with this)
          onResponseStart: (_c, statusCode, h) => {
            responseHeaders = [[":status", String(statusCode)]];
            for (const name in h) for (const v of ([] as string[]).concat(h[name] ?? [])) responseHeaders.push([name, v]);
          },
          onResponseData: (_c, chunk) => {
            chunks.push(chunk);
          },
          onResponseEnd: (_c, trailers) => {
            const trailerList: HeaderList = [];
            for (const name in trailers) for (const v of ([] as string[]).concat(trailers[name] ?? [])) trailerList.push([name, v]);
            once({ response: { headers: responseHeaders, body: new Uint8Array(Buffer.concat(chunks)), trailers: trailerList } });
          },
          onResponseError: (_c, error) => once({ failure: (error as { code?: string }).code ?? error.message }),
        });
      };
      // Always answer on a later turn of the event loop, never inside the module's call.
      const start = cluster.needsResolving ? cluster.resolve() : Promise.resolve();
      start.then(go).catch((e: Error) => once({ failure: e.message }));
    },
  };
}
