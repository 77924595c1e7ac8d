import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { Harness, DataAction } from "../../host/testing/index.ts";

const wasm = join(import.meta.dirname, "../../build/body-rewrite.wasm");
const configuration = JSON.stringify({ rules: [{ find: "Hello", replace: "Goodbye" }, { find: "world", replace: "moon" }] });

async function respond(contentType: string, chunks: string[]) {
  const h = await Harness.load(wasm, { rootId: "body_rewrite", configuration });
  const s = h.http();
  s.sendRequestHeaders({ ":method": "GET", ":path": "/" }, true);
  const length = String(Buffer.byteLength(chunks.join("")));
  s.sendResponseHeaders({ ":status": "200", "content-type": contentType, "content-length": length });
  const actions = chunks.map((chunk, i) => s.sendResponseBody(chunk, i === chunks.length - 1));
  return { s, actions };
}

describe("body-rewrite example", () => {
  it("rewrites a text body and drops the now-wrong content-length", async () => {
    const { s } = await respond("text/plain", ["Hello, world! Hello!"]);
    expect(s.response.bodyText).toBe("Goodbye, moon! Goodbye!");
    expect(s.response.header("content-length")).toBeUndefined();
    expect(s.response.header("content-type")).toBe("text/plain");
  });

  it("streams: each chunk goes on at once, and a match split across chunks is still replaced", async () => {
    const { s, actions } = await respond("text/html; charset=utf-8", ["<p>Hel", "lo, wo", "rld</p>"]);
    expect(actions).toEqual([DataAction.Continue, DataAction.Continue, DataAction.Continue]);
    expect(s.response.bodyText).toBe("<p>Goodbye, moon</p>");
  });

  it("gives the same body however it is cut: at every point, and byte by byte", async () => {
    const text = "Hello world, Hello world! ¡Hello wörld — world Hello!";
    const expected = text.replaceAll("Hello", "Goodbye").replaceAll("world", "moon");
    const bytes = Buffer.from(text);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const { s } = await respond("text/plain", []);
      s.sendResponseBody(bytes.subarray(0, cut), false);
      s.sendResponseBody(bytes.subarray(cut), true);
      expect(s.response.bodyText, `cut at ${cut}`).toBe(expected);
    }
    const { s } = await respond("text/plain", []);
    for (let i = 0; i < bytes.length; i++) s.sendResponseBody(bytes.subarray(i, i + 1), i === bytes.length - 1);
    expect(s.response.bodyText).toBe(expected);
  });

  it("holds back only what could start a match: the rest of a chunk goes on at once", async () => {
    const { s } = await respond("text/plain", []);
    s.sendResponseBody("abc Hel", false);
    expect(s.response.bodyText).toBe("abc "); // "Hel" may be the start of "Hello"
    s.sendResponseBody("p!", true);
    expect(s.response.bodyText).toBe("abc Help!");
  });

  it("handles an empty body and a one-byte body", async () => {
    const empty = await respond("text/plain", []);
    empty.s.sendResponseBody("", true);
    expect(empty.s.response.bodyText).toBe("");
    const one = await respond("text/plain", ["H"]);
    expect(one.s.response.bodyText).toBe("H");
  });

  it("handles multi-byte UTF-8 split across chunks", async () => {
    const text = "Hello — ünïcödé world ✓";
    const bytes = Buffer.from(text);
    const h = await Harness.load(wasm, { rootId: "body_rewrite", configuration });
    const s = h.http();
    s.sendResponseHeaders({ ":status": "200", "content-type": "text/plain" });
    s.sendResponseBody(bytes.subarray(0, 7), false); // cuts the em dash in half
    s.sendResponseBody(bytes.subarray(7), true);
    expect(s.response.bodyText).toBe("Goodbye — ünïcödé moon ✓");
  });

  it("passes other content types through unbuffered and unchanged", async () => {
    const { s, actions } = await respond("image/png", ["Hello", " world"]);
    expect(actions).toEqual([DataAction.Continue, DataAction.Continue]);
    expect(s.response.bodyText).toBe("Hello world");
    expect(s.response.header("content-length")).toBe("11");
  });

  it("refuses a rule with nothing to find", async () => {
    await expect(Harness.load(wasm, { rootId: "body_rewrite", configuration: '{"rules": [{"replace": "x"}]}' }))
      .rejects.toThrow(/rules\[0\]\.find is empty/);
  });
});
