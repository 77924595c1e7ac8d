import { Header, deserializePairs, listItems, lowerAscii, serializePairs, trimOws } from "../../sdk/headers";
import { decimal } from "../../sdk/format";

function roundTrip(pairs: Header[]): Header[] {
  return deserializePairs(serializePairs(pairs));
}

describe("pairs encoding", () => {
  it("lays out the count, the lengths, then NUL-terminated names and values", () => {
    const bytes = Uint8Array.wrap(serializePairs([new Header("ab", "c")]));
    expect(bytes.length).toBe(17);
    expect(load<u32>(bytes.dataStart)).toBe(1);
    expect(load<u32>(bytes.dataStart + 4)).toBe(2);
    expect(load<u32>(bytes.dataStart + 8)).toBe(1);
    expect(bytes[12]).toBe(97);
    expect(bytes[14]).toBe(0);
    expect(bytes[15]).toBe(99);
    expect(bytes[16]).toBe(0);
  });

  it("round-trips an empty map", () => {
    expect(serializePairs([]).byteLength).toBe(4);
    expect(roundTrip([]).length).toBe(0);
  });

  it("round-trips empty values, repeated names and UTF-8", () => {
    const pairs = [new Header("x-empty", ""), new Header("x-a", "1"), new Header("x-a", "2"), new Header("ключ", "värde ✓")];
    const back = roundTrip(pairs);
    expect(back.length).toBe(4);
    for (let i = 0; i < pairs.length; i++) {
      expect(back[i].name).toBe(pairs[i].name);
      expect(back[i].value).toBe(pairs[i].value);
    }
  });

  it("reads what it can of a truncated encoding and stops", () => {
    const full = serializePairs([new Header("a", "1"), new Header("b", "2")]);
    expect(deserializePairs(full.slice(0, full.byteLength - 2)).length).toBe(1);
    expect(deserializePairs(full.slice(0, 3)).length).toBe(0);
  });
});

describe("lowerAscii", () => {
  it("lowercases A-Z and keeps everything else, non-ASCII included", () => {
    expect(lowerAscii("Content-Type")).toBe("content-type");
    expect(lowerAscii("X-ÄBC-Ω")).toBe("x-Äbc-Ω");
    expect(lowerAscii("@[`{")).toBe("@[`{");
    expect(lowerAscii("")).toBe("");
  });

  it("answers the same string when there is nothing to lowercase", () => {
    const text = "already-lower";
    expect(changetype<usize>(lowerAscii(text))).toBe(changetype<usize>(text));
  });
});

describe("trimOws", () => {
  it("removes spaces and tabs around the text, and nothing else", () => {
    expect(trimOws(" \t a b \t ")).toBe("a b");
    expect(trimOws("\u00a0a\n")).toBe("\u00a0a\n"); // not HTTP's whitespace
    expect(trimOws("   ")).toBe("");
    expect(trimOws("")).toBe("");
  });

  it("answers the same string when there is nothing to remove", () => {
    const text = "token";
    expect(changetype<usize>(trimOws(text))).toBe(changetype<usize>(text));
  });
});

describe("listItems", () => {
  it("splits at commas, trims each item, and leaves empty ones out", () => {
    const items = listItems(" a, b\t,,c ,  ,");
    expect(items.length).toBe(3);
    expect(items[0]).toBe("a");
    expect(items[1]).toBe("b");
    expect(items[2]).toBe("c");
    expect(listItems("one").length).toBe(1);
    expect(listItems("one")[0]).toBe("one");
    expect(listItems("").length).toBe(0);
    expect(listItems(" , ").length).toBe(0);
  });
});

describe("decimal", () => {
  it("writes unsigned integers in decimal, u64's limits included", () => {
    expect(decimal(0)).toBe("0");
    expect(decimal(7)).toBe("7");
    expect(decimal(10)).toBe("10");
    expect(decimal(4294967295)).toBe("4294967295");
    expect(decimal(u64.MAX_VALUE)).toBe("18446744073709551615");
  });
});
