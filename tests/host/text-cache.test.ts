import { describe, expect, it, vi } from "vitest";
import { TextCache } from "../../host/vm/text-cache.ts";

describe("TextCache", () => {
  it("answers what the bytes say now, whatever it decoded there before", () => {
    const memory = Buffer.alloc(256);
    const cache = new TextCache();
    memory.write("x-added-by", 16);
    expect(cache.decode(memory, 16, 10)).toBe("x-added-by");
    expect(cache.decode(memory, 16, 10)).toBe("x-added-by"); // a hit
    memory.write("x-added-BY", 16); // same place, other bytes
    expect(cache.decode(memory, 16, 10)).toBe("x-added-BY");
    expect(cache.decode(memory, 16, 7)).toBe("x-added"); // same place, shorter
    memory.write("größe", 100);
    expect(cache.decode(memory, 100, Buffer.byteLength("größe"))).toBe("größe");
    const long = "v".repeat(200);
    const big = Buffer.alloc(300);
    big.write(long, 10);
    expect(cache.decode(big, 10, 200)).toBe(long);
  });

  it("keeps texts apart whose slots collide", () => {
    const memory = Buffer.alloc(64 * 1024);
    const cache = new TextCache();
    const at = Array.from({ length: 500 }, (_, i) => i * 64);
    at.forEach((ptr, i) => memory.write(`name-${i}`, ptr));
    for (let round = 0; round < 2; round++) at.forEach((ptr, i) => expect(cache.decode(memory, ptr, `name-${i}`.length)).toBe(`name-${i}`));
  });

  it("decodes each text once when four plugins in one VM hand over their constants from sixteen places", () => {
    // Where four add-header plugins sharing a VM keep their header names and values (measured):
    // a one-way table of 64 slots thrashed two of them on every stream.
    const places: [number, string][] = [
      [10784, "x-added-by"], [10816, "proxy-wasm-as"], [11008, "x-frame-options"], [11056, "DENY"],
      [13952, "x-added-by"], [13984, "proxy-wasm-as"], [14176, "x-frame-options"], [14224, "DENY"],
      [17104, "x-added-by"], [17136, "proxy-wasm-as"], [17328, "x-frame-options"], [17376, "DENY"],
      [20256, "x-added-by"], [20288, "proxy-wasm-as"], [20480, "x-frame-options"], [20528, "DENY"],
    ];
    const memory = Buffer.alloc(32 * 1024);
    for (const [ptr, text] of places) memory.write(text, ptr);
    const decodes = vi.spyOn(memory, "toString");
    const cache = new TextCache();
    for (let stream = 0; stream < 10; stream++) {
      for (const [ptr, text] of places) expect(cache.decode(memory, ptr, text.length)).toBe(text);
    }
    expect(decodes).toHaveBeenCalledTimes(places.length);
  });
});
