import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { Harness, SharedState } from "../../host/testing/index.ts";

const wasm = join(import.meta.dirname, "../../build/request-log.wasm");

function exchange(h: Harness, method: string, path: string, status: string): void {
  const s = h.http();
  s.sendRequestHeaders({ ":method": method, ":path": path }, true);
  s.sendResponseHeaders({ ":status": status }, true);
  s.complete();
}

describe("request-log example", () => {
  it("queues a summary per stream and logs them as one batch on the tick", async () => {
    const h = await Harness.load(wasm, { rootId: "request_log", configuration: '{"flush_every_ms": 250}' });
    expect(h.tickPeriodMs).toBe(250);
    exchange(h, "GET", "/a", "200");
    exchange(h, "POST", "/b", "201");
    exchange(h, "GET", "/c", "404");
    expect(h.logMessages("debug").filter((m) => m.startsWith("request-log: a summary is waiting"))).toHaveLength(3);
    expect(h.logMessages("info").filter((m) => m.startsWith("request-log: "))).toEqual([]);
    h.tick();
    expect(h.logMessages("info")).toContain("request-log: 3 request(s): GET /a 200 | POST /b 201 | GET /c 404");
    h.tick();
    expect(h.logMessages("info").filter((m) => m.startsWith("request-log: "))).toHaveLength(1); // nothing new: no line
  });

  it("logs at most max_batch lines per tick", async () => {
    const h = await Harness.load(wasm, { rootId: "request_log", configuration: '{"max_batch": 2}' });
    for (let i = 0; i < 5; i++) exchange(h, "GET", `/${i}`, "200");
    h.tick();
    h.tick();
    h.tick();
    expect(h.logMessages("info").filter((m) => m.startsWith("request-log: "))).toEqual([
      "request-log: 2 request(s): GET /0 200 | GET /1 200",
      "request-log: 2 request(s): GET /2 200 | GET /3 200",
      "request-log: 1 request(s): GET /4 200",
    ]);
  });

  it("gathers the summaries of every VM with the same vm_id on one queue", async () => {
    const shared = new SharedState();
    const a = await Harness.load(wasm, { rootId: "request_log", shared, vmId: "edge" });
    const b = await Harness.load(wasm, { rootId: "request_log", shared, vmId: "edge" });
    exchange(a, "GET", "/from-a", "200");
    exchange(b, "GET", "/from-b", "200");
    b.tick(); // b registered last: the queue's owner drains both
    expect(b.logMessages("info")).toContain("request-log: 2 request(s): GET /from-a 200 | GET /from-b 200");
  });
});
