// Tests of your filter (assembly/index.ts, built to build/filter.wasm by npm test). Each test
// drives one connection through the filter in the in-process harness and checks what the
// client, the upstream and the logs would see.
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { Harness } from "proxy-wasm-as/testing";

const wasm = join(import.meta.dirname, "../build/filter.wasm");

describe("the filter", () => {
  it("passes bytes both ways and logs how many at close", async () => {
    const h = await Harness.load(wasm, { configuration: "redis" });
    const c = h.tcp();
    c.sendDownstream("PING\r\n");
    c.sendUpstream("+PONG\r\n");
    expect(c.upstreamText).toBe("PING\r\n");
    expect(c.downstreamText).toBe("+PONG\r\n");
    c.closeDownstream();
    expect(h.logMessages("info")).toContain("redis: 6 bytes in, 7 bytes out");
  });
});
