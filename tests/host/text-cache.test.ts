import { describe, expect, it } from "vitest";
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
});
