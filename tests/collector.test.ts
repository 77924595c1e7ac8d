// The SDK's collector (sdk/collector.ts): modules are built with AssemblyScript's
// stop-the-world collector, which only runs when the SDK calls it at the end of a callback.
// Observed as a user would: the module's linear memory (which only grows) stays flat over many
// streams, and over large bodies.
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { Harness } from "../host/testing/index.ts";

const build = (name: string) => join(import.meta.dirname, `../build/${name}.wasm`);

function stream(h: Harness, body?: Uint8Array): void {
  const s = h.http();
  s.sendRequestHeaders({ ":method": "GET", ":path": "/", "x-request-id": "abc" }, true);
  s.sendResponseHeaders({ ":status": "200", "content-type": "text/plain" }, body === undefined);
  if (body !== undefined) s.sendResponseBody(body, true);
  s.complete();
}

describe("garbage collection in a module", () => {
  it("memory stays flat over 30,000 streams of add-header", async () => {
    const h = await Harness.load(build("add-header"), { rootId: "add_header", configuration: JSON.stringify({ request: { "x-a": "1", "x-b": "2" }, response: { "x-c": "3" } }) });
    for (let i = 0; i < 3_000; i++) stream(h);
    const warm = h.memorySize;
    for (let i = 0; i < 27_000; i++) stream(h);
    expect(h.memorySize).toBe(warm);
  });

  it("large bodies are reclaimed: forty 1 MB responses through body-rewrite leave memory under 16 MB", async () => {
    const h = await Harness.load(build("body-rewrite"), { rootId: "body_rewrite", configuration: JSON.stringify({ rules: [{ find: "Hello", replace: "Goodbye" }] }) });
    const body = new Uint8Array(1 << 20).fill(0x61);
    for (let i = 0; i < 40; i++) stream(h, body);
    expect(h.memorySize).toBeLessThan(16 << 20);
  });
});
