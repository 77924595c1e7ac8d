// Splitter (sdk/bytes.ts) through the host, with the test filter tests/filters/records: the
// records reach the upstream whole and with their offsets, however the body is cut (a
// delimiter split across chunks included), for empty, one-byte and non-ASCII bodies.
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { Harness } from "../host/testing/index.ts";

const wasm = join(import.meta.dirname, "../build/test-records.wasm");

/** A POST stream through the filter, its headers sent (with a content-length the filter drops). */
async function open(configuration = "") {
  const h = await Harness.load(wasm, { rootId: "records", configuration });
  const s = h.http();
  s.sendRequestHeaders({ ":method": "POST", ":path": "/", ":authority": "example.com", "content-length": "9" });
  return s;
}

async function post(chunks: (string | Uint8Array)[], configuration = "") {
  const s = await open(configuration);
  chunks.forEach((chunk, i) => s.sendRequestBody(chunk, i === chunks.length - 1));
  return s;
}

describe("Splitter through the host", () => {
  it("sends each chunk's complete records at once and the rest when it completes", async () => {
    const s = await open();
    expect(s.request.header("content-length")).toBeUndefined();
    s.sendRequestBody("ab\ncd", false);
    expect(s.request.bodyText).toBe("0:ab;");
    s.sendRequestBody("\nef", false);
    expect(s.request.bodyText).toBe("0:ab;3:cd;");
    s.sendRequestBody("", true);
    expect(s.request.bodyText).toBe("0:ab;3:cd;6:ef!");
  });

  it("gives the same records however the body is cut: at every point, and byte by byte", async () => {
    const body = Buffer.from("POST x\r\n\r\nünï\r\ncödé ✓\r\n\r");
    const expected = "0:POST x;8:;10:ünï;17:cödé ✓;29:\r!";
    for (let cut = 0; cut <= body.length; cut++) {
      const s = await post([body.subarray(0, cut), body.subarray(cut)], "\r\n");
      expect(s.request.bodyText, `cut at ${cut}`).toBe(expected);
    }
    const bytes = [...body].map((b) => Uint8Array.of(b));
    expect((await post(bytes, "\r\n")).request.bodyText).toBe(expected);
  });

  it("handles an empty body, a one-byte body and a body that is one delimiter", async () => {
    expect((await post([""])).request.bodyText).toBe("");
    expect((await post(["x"])).request.bodyText).toBe("0:x!");
    expect((await post(["\n"])).request.bodyText).toBe("0:;");
  });

  it("cuts at a multi-byte UTF-8 delimiter split across chunks", async () => {
    const body = Buffer.from("a→b→");
    const s = await post([body.subarray(0, 2), body.subarray(2, 6), body.subarray(6)], "→");
    expect(s.request.bodyText).toBe("0:a;4:b;");
  });
});
