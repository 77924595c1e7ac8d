import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { Harness } from "../../host/testing/index.ts";

const wasm = join(import.meta.dirname, "../../build/request-metrics.wasm");

async function exchange(h: Harness, method: string, status: string, length?: string) {
  const s = h.http();
  s.sendRequestHeaders({ ":method": method, ":path": "/" }, true);
  s.sendResponseHeaders(length === undefined ? { ":status": status } : { ":status": status, "content-length": length }, true);
  return s;
}

describe("request-metrics example", () => {
  it("counts requests by method and responses by status class", async () => {
    const h = await Harness.load(wasm, { rootId: "request_metrics" });
    for (const [method, status] of [["GET", "200"], ["GET", "404"], ["POST", "201"], ["GET", "503"], ["DELETE", "204"]]) {
      (await exchange(h, method, status)).complete();
    }
    expect(h.metric("request_metrics.requests.method.GET")).toEqual({ type: "counter", value: 3 });
    expect(h.metric("request_metrics.requests.method.POST")).toEqual({ type: "counter", value: 1 });
    expect(h.metric("request_metrics.requests.method.DELETE")).toEqual({ type: "counter", value: 1 });
    expect(h.metric("request_metrics.responses.status.2xx")).toEqual({ type: "counter", value: 3 });
    expect(h.metric("request_metrics.responses.status.4xx")).toEqual({ type: "counter", value: 1 });
    expect(h.metric("request_metrics.responses.status.5xx")).toEqual({ type: "counter", value: 1 });
  });

  it("keeps a gauge of requests in flight", async () => {
    const h = await Harness.load(wasm, { rootId: "request_metrics" });
    const a = await exchange(h, "GET", "200");
    const b = await exchange(h, "GET", "200");
    expect(h.metric("request_metrics.requests_in_flight")).toEqual({ type: "gauge", value: 2 });
    a.complete();
    b.complete();
    expect(h.metric("request_metrics.requests_in_flight")).toEqual({ type: "gauge", value: 0 });
  });

  it("records response sizes in a histogram", async () => {
    const h = await Harness.load(wasm, { rootId: "request_metrics" });
    for (const size of ["100", "200", "300", "4000"]) (await exchange(h, "GET", "200", size)).complete();
    const histogram = h.metric("request_metrics.response_bytes");
    expect(histogram).toMatchObject({ type: "histogram", count: 4, sum: 4600 });
    expect(histogram?.type === "histogram" && histogram.quantiles.P100).toBe(4000);
    expect(histogram?.type === "histogram" && histogram.quantiles.P0).toBe(100);
  });

  it("names metrics under the configured prefix", async () => {
    const h = await Harness.load(wasm, { rootId: "request_metrics", configuration: '{"prefix": "shop"}' });
    (await exchange(h, "PUT", "200")).complete();
    expect(h.metricNames).toEqual(expect.arrayContaining(["shop.requests.method.PUT", "shop.responses.status.2xx", "shop.requests_in_flight"]));
  });
});
