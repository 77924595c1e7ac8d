import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { Harness, HeadersAction, SharedState } from "../../host/testing/index.ts";

const wasm = join(import.meta.dirname, "../../build/rate-limit.wasm");
const load = (configuration: object, more: { shared?: SharedState; vmId?: string } = {}) =>
  Harness.load(wasm, { rootId: "rate_limit", configuration: JSON.stringify(configuration), ...more });

function hit(h: Harness, headers: Record<string, string> = {}) {
  const s = h.http();
  const action = s.sendRequestHeaders({ ":method": "GET", ":path": "/", ...headers }, true);
  if (!s.localReply) s.sendResponseHeaders({ ":status": "200" }, true);
  s.complete();
  return { s, action };
}

describe("rate-limit example", () => {
  it("admits a full bucket, then answers 429 with retry-after", async () => {
    const h = await load({ capacity: 3, refill_per_second: 0.5 });
    const results = [hit(h), hit(h), hit(h), hit(h)];
    expect(results.slice(0, 3).map((r) => r.action)).toEqual([HeadersAction.Continue, HeadersAction.Continue, HeadersAction.Continue]);
    expect(results.slice(0, 3).map((r) => r.s.response.header("x-ratelimit-remaining"))).toEqual(["2", "1", "0"]);
    const limited = results[3].s;
    expect(limited.localReply).toMatchObject({ status: 429, bodyText: "rate limited\n", details: "wasm_rate_limited" });
    expect(limited.response.header("retry-after")).toBe("2");
    expect(limited.request.headersSent).toBe(false);
    expect(h.metric("rate_limit.global.limited")).toEqual({ type: "counter", value: 1 });
  });

  it("refills over time: a token every 1/refill_per_second seconds", async () => {
    const h = await load({ capacity: 1, refill_per_second: 20 }); // a token per 50 ms
    expect(hit(h).s.localReply).toBeNull();
    expect(hit(h).s.localReply?.status).toBe(429);
    h.advance(40); // the harness's clock: nothing refills until the test moves it
    expect(hit(h).s.localReply?.status).toBe(429);
    h.advance(20);
    expect(hit(h).s.localReply).toBeNull();
    expect(hit(h).s.localReply?.status).toBe(429);
  });

  it("gives each value of by_header its own bucket", async () => {
    const h = await load({ capacity: 1, refill_per_second: 0.1, by_header: "x-api-key" });
    expect(hit(h, { "x-api-key": "alice" }).s.localReply).toBeNull();
    expect(hit(h, { "x-api-key": "bob" }).s.localReply).toBeNull();
    expect(hit(h, { "x-api-key": "alice" }).s.localReply?.status).toBe(429);
  });

  it("shares one bucket between VMs with the same vm_id, not across vm_ids", async () => {
    const shared = new SharedState();
    const a = await load({ capacity: 2, refill_per_second: 0.1 }, { shared, vmId: "edge" });
    const b = await load({ capacity: 2, refill_per_second: 0.1 }, { shared, vmId: "edge" });
    const other = await load({ capacity: 2, refill_per_second: 0.1 }, { shared, vmId: "other" });
    expect(hit(a).s.localReply).toBeNull();
    expect(hit(b).s.localReply).toBeNull();
    expect(hit(a).s.localReply?.status).toBe(429);
    expect(hit(other).s.localReply).toBeNull();
  });

  it("refuses a capacity below 1 or a refill that is not positive", async () => {
    await expect(load({ capacity: 0 })).rejects.toThrow(/capacity 0.0 is below 1|capacity 0 is below 1/);
    await expect(load({ refill_per_second: 0 })).rejects.toThrow(/refill_per_second 0(\.0)? must be above 0/);
  });
});
