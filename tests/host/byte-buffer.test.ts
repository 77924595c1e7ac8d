import { describe, expect, it } from "vitest";
import { ByteBuffer, copyOf } from "../../host/byte-buffer.ts";

const enc = new TextEncoder(), dec = new TextDecoder();
const text = (buffer: ByteBuffer) => dec.decode(buffer.data);

describe("ByteBuffer", () => {
  it("keeps appended chunks as they are until the bytes are wanted whole, then joins them once", () => {
    const a = enc.encode("ab"), b = enc.encode("cd");
    const buffer = new ByteBuffer();
    buffer.append(a);
    expect(buffer.data).toBe(a); // one chunk: no copy
    buffer.append(b);
    buffer.append(new Uint8Array(0));
    expect(buffer.length).toBe(4);
    const joined = buffer.data;
    expect(dec.decode(joined)).toBe("abcd");
    expect(buffer.data).toBe(joined); // joined once, then kept
    expect(dec.decode(buffer.take())).toBe("abcd");
    expect(buffer.length).toBe(0);
    expect(buffer.data.length).toBe(0);
  });

  it("copies any range straight out of the chunks", () => {
    const buffer = new ByteBuffer(enc.encode("hel"));
    buffer.append(enc.encode("lo "));
    buffer.append(enc.encode("world"));
    for (const [start, end] of [[0, 11], [2, 4], [3, 6], [4, 9], [6, 11], [5, 5]]) {
      const out = new Uint8Array(end - start + 2);
      buffer.copyTo(out, 1, start, end);
      expect(dec.decode(out.subarray(1, 1 + end - start))).toBe("hello world".slice(start, end));
    }
  });

  it("edits as Envoy's copyFrom: (0, n) drains n then prepends, (0, ≥ size) replaces, start ≥ size appends, else refuses", () => {
    const buffer = new ByteBuffer(enc.encode("hello"));
    buffer.append(enc.encode(" world"));
    expect(buffer.edit(0, 0, enc.encode(">"))).toBe(true);
    expect(text(buffer)).toBe(">hello world");
    buffer.append(enc.encode("!"));
    expect(buffer.edit(0, 7, enc.encode("HELLO "))).toBe(true); // drains across chunks
    expect(text(buffer)).toBe("HELLO world!");
    expect(buffer.edit(12, 0, enc.encode("?"))).toBe(true);
    expect(text(buffer)).toBe("HELLO world!?");
    expect(buffer.edit(3, 1, enc.encode("x"))).toBe(false);
    expect(buffer.edit(0, 100, enc.encode("new"))).toBe(true);
    expect(text(buffer)).toBe("new");
    expect(buffer.length).toBe(3);
  });

  it("copyOf makes a copy the caller's later writes do not reach", () => {
    const view = enc.encode("abc");
    const copy = copyOf(view);
    view.fill(0x7a);
    expect(dec.decode(copy)).toBe("abc");
  });
});
