// The service and the filter in the harness: Harness.service runs the refresher's root
// context (ticks and callouts driven by the test), the filter shares its data by vm_id.
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { Harness } from "../../host/testing/index.ts";

const wasm = join(import.meta.dirname, "../../build/denylist-service.wasm");
const configuration = JSON.stringify({ cluster: "lists", path: "/denied", refresh_every_ms: 2000 });

async function setUp(clientAddress: string) {
  const service = await Harness.service(wasm, { rootId: "denylist_refresher", vmId: "denylist", configuration, clusters: ["lists"] });
  const filter = await Harness.load(wasm, {
    rootId: "denylist_check", vmId: "denylist", shared: service.shared, streamInfo: { source: { address: clientAddress, port: 5555 } },
  });
  const request = () => {
    const s = filter.http();
    s.sendRequestHeaders({ ":method": "GET", ":path": "/", ":authority": "shop.example" }, true);
    return s;
  };
  return { service, filter, request };
}

describe("denylist-service example", () => {
  it("the service fetches the list on its tick; the filter denies the addresses on it", async () => {
    const { service, request } = await setUp("10.9.9.9");
    expect(service.tickPeriodMs).toBe(2000);
    expect(request().localReply).toBeNull(); // no list yet: everyone passes
    service.tick();
    const [call] = service.httpCalls;
    expect([call.cluster, call.header(":path"), call.header(":method"), call.header(":authority")]).toEqual(["lists", "/denied", "GET", "lists"]);
    call.respond(200, {}, "# denied clients\n10.9.9.9\n 192.168.7.7 \n");
    expect(service.logMessages("info")).toContain("denylist_refresher: 2 address(es) denied");
    expect(request().localReply).toMatchObject({ status: 403, bodyText: "your address is denied\n", details: "wasm_denylist" });
  });

  it("lets other addresses through, keeps the list when a refresh fails, and takes a new list", async () => {
    const { service, request } = await setUp("10.1.1.1");
    service.tick();
    service.httpCalls[0].respond(200, {}, "10.1.1.1\n");
    expect(request().localReply?.status).toBe(403);
    service.tick();
    service.httpCalls[1].fail();
    service.tick();
    service.httpCalls[2].respond(500, {}, "oops");
    expect(service.logMessages("warn")).toEqual([
      "denylist_refresher: refresh failed (status 0); the list in shared data stays",
      "denylist_refresher: refresh failed (status 500); the list in shared data stays",
    ]);
    expect(request().localReply?.status).toBe(403);
    service.tick();
    service.httpCalls[3].respond(200, {}, "10.2.2.2\n");
    expect(request().localReply).toBeNull();
  });

  it("refuses a zero refresh period", async () => {
    await expect(Harness.service(wasm, { rootId: "denylist_refresher", configuration: JSON.stringify({ refresh_every_ms: 0 }) }))
      .rejects.toThrow(/refresh_every_ms must be above 0/);
  });
});
