import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { Harness } from "../../host/testing/index.ts";

const wasm = join(import.meta.dirname, "../../build/denylist.wasm");
const configuration = JSON.stringify({ cluster: "lists", path: "/denied", refresh_every_ms: 2000 });


describe("denylist example", () => {
  it("fetches the list on each tick and denies the addresses on it", async () => {
    const h = await Harness.load(wasm, { rootId: "denylist", configuration, clusters: ["lists"], streamInfo: { source: { address: "10.9.9.9", port: 5555 } } });
    expect(h.tickPeriodMs).toBe(2000);
    expect(h.http().sendRequestHeaders({ ":method": "GET", ":path": "/" }, true)).toBe(0); // nothing loaded yet
    h.tick();
    const [call] = h.httpCalls;
    expect([call.cluster, call.header(":path"), call.header(":method")]).toEqual(["lists", "/denied", "GET"]);
    call.respond(200, {}, "# denied clients\n10.9.9.9\n192.168.7.7\n");
    expect(h.logMessages("info")).toContain("denylist: 2 address(es) denied");
    const s = h.http();
    s.sendRequestHeaders({ ":method": "GET", ":path": "/" }, true);
    expect(s.localReply).toMatchObject({ status: 403, bodyText: "your address is denied\n", details: "wasm_denylist" });
  });

  it("lets other addresses through, and keeps the list when a refresh fails", async () => {
    const h = await Harness.load(wasm, { rootId: "denylist", configuration, clusters: ["lists"], streamInfo: { source: { address: "10.1.1.1", port: 1 } } });
    h.tick();
    h.httpCalls[0].respond(200, {}, "10.1.1.1\n");
    h.tick();
    h.httpCalls[1].fail();
    expect(h.logMessages("warn")).toContain("denylist: refresh failed (status 0); keeping 1 address(es)");
    const s = h.http();
    s.sendRequestHeaders({ ":method": "GET", ":path": "/" }, true);
    expect(s.localReply?.status).toBe(403);
    h.tick();
    h.httpCalls[2].respond(200, {}, "10.2.2.2\n");
    const t = h.http();
    t.sendRequestHeaders({ ":method": "GET", ":path": "/" }, true);
    expect(t.localReply).toBeNull();
  });
});
