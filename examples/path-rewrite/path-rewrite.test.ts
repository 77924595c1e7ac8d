import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { Harness } from "../../host/testing/index.ts";

const wasm = join(import.meta.dirname, "../../build/path-rewrite.wasm");
const configuration = JSON.stringify({
  rules: [
    { from: "/banana/{n}", to: "/status/{n}" },
    { from: "/api/v1/{rest*}", to: "/v2/{rest}" },
    { from: "/img/{name}.png", to: "/static/images/{name}.png" },
  ],
});

async function rewrite(path: string, config = configuration) {
  const h = await Harness.load(wasm, { rootId: "path_rewrite", configuration: config });
  const s = h.http();
  s.sendRequestHeaders({ ":method": "GET", ":path": path, ":authority": "example.com" }, true);
  return s;
}

describe("path-rewrite example", () => {
  it("rewrites /banana/N to /status/N and records the original path", async () => {
    const s = await rewrite("/banana/418");
    expect(s.request.header(":path")).toBe("/status/418");
    expect(s.request.header("x-envoy-original-path")).toBe("/banana/418");
  });

  it("keeps the query string", async () => {
    const s = await rewrite("/banana/42?ripe=yes&x=1");
    expect(s.request.header(":path")).toBe("/status/42?ripe=yes&x=1");
  });

  it("leaves paths no rule matches alone", async () => {
    for (const path of ["/banana", "/banana/", "/banana/1/2", "/apple/1", "/"]) {
      const s = await rewrite(path);
      expect(s.request.header(":path")).toBe(path);
      expect(s.request.header("x-envoy-original-path")).toBeUndefined();
    }
  });

  it("captures the rest of a path and literal text inside a segment", async () => {
    expect((await rewrite("/api/v1/users/7/orders")).request.header(":path")).toBe("/v2/users/7/orders");
    expect((await rewrite("/api/v1/")).request.header(":path")).toBe("/v2/");
    expect((await rewrite("/img/cat.png")).request.header(":path")).toBe("/static/images/cat.png");
    expect((await rewrite("/img/cat.jpg")).request.header(":path")).toBe("/img/cat.jpg");
  });

  it("uses the first rule that matches", async () => {
    const config = JSON.stringify({ rules: [{ from: "/{a}", to: "/first/{a}" }, { from: "/{b}", to: "/second/{b}" }] });
    expect((await rewrite("/x", config)).request.header(":path")).toBe("/first/x");
  });

  it("refuses bad rules, naming the rule and the problem", async () => {
    const load = (rules: unknown) =>
      Harness.load(wasm, { rootId: "path_rewrite", configuration: JSON.stringify({ rules }) });
    await expect(load([])).rejects.toThrow(/no rules/);
    await expect(load([{ from: "banana/{n}", to: "/s" }])).rejects.toThrow(/rules\[0\].*must start with "\/"/);
    await expect(load([{ from: "/ok", to: "/ok" }, { from: "/a/{n", to: "/b" }])).rejects.toThrow(/rules\[1\].*unclosed/);
    await expect(load([{ from: "/a/{n}", to: "/b/{m}" }])).rejects.toThrow(/refers to \{m\}/);
  });
});
