import { Replacer, indexOf, utf8Bytes } from "../../sdk/bytes";

function text(bytes: Uint8Array): string {
  return String.UTF8.decodeUnsafe(bytes.dataStart, bytes.length);
}

/** Runs `input` through a fresh copy of `rules`, cut into chunks at `cuts` (byte positions). */
function streamed(rules: Replacer, input: string, cuts: i32[]): string {
  const r = rules.fresh();
  const bytes = utf8Bytes(input);
  let out = "";
  let from = 0;
  for (let i = 0; i <= cuts.length; i++) {
    const to = i < cuts.length ? cuts[i] : bytes.length;
    out += text(r.push(bytes.subarray(from, to), i == cuts.length));
    from = to;
  }
  return out;
}

describe("indexOf", () => {
  it("finds a needle at the start, the middle and the end, or answers -1", () => {
    const data = utf8Bytes("abcabcab");
    expect(indexOf(data, utf8Bytes("abc"))).toBe(0);
    expect(indexOf(data, utf8Bytes("abc"), 1)).toBe(3);
    expect(indexOf(data, utf8Bytes("cab"), 4)).toBe(5);
    expect(indexOf(data, utf8Bytes("abcd"))).toBe(-1);
    expect(indexOf(data, utf8Bytes("b"), 8)).toBe(-1);
  });

  it("finds an empty needle where it starts, and nothing in empty data", () => {
    expect(indexOf(utf8Bytes("ab"), new Uint8Array(0), 1)).toBe(1);
    expect(indexOf(new Uint8Array(0), utf8Bytes("a"))).toBe(-1);
  });

  it("searches UTF-8 as bytes", () => {
    expect(indexOf(utf8Bytes("größe ✓ ok"), utf8Bytes("✓"))).toBe(8); // g r ö(2) ß(2) e, space
  });
});

// No closures in AssemblyScript: the rules are a global the tests share.
const rules = new Replacer().add("Hello", "Goodbye").add("lo", "LO").add("ü", "ue");

describe("Replacer", () => {
  it("replaces in one chunk, first rule first, with longer and shorter replacements", () => {
    expect(streamed(rules, "Hello, hallo, München", [])).toBe("Goodbye, halLO, Muenchen");
  });

  it("gives the same output wherever the input is cut", () => {
    const input = "Hello lo Hellü world Hello";
    const whole = streamed(rules, input, []);
    const length = utf8Bytes(input).length;
    for (let cut = 0; cut <= length; cut++) expect(streamed(rules, input, [cut])).toBe(whole);
    const everyByte: i32[] = [];
    for (let i = 1; i < length; i++) everyByte.push(i);
    expect(streamed(rules, input, everyByte)).toBe(whole);
  });

  it("does not pass a short rule's whole match in a chunk's tail through unreplaced", () => {
    // "lo" sits in the last bytes, which are held back as a possible start of "Hello".
    expect(streamed(rules, "xxlo", [4])).toBe("xxLO");
  });

  it("holds back only bytes that could start a match, and answers the chunk itself when nothing changed", () => {
    const r = rules.fresh();
    const chunk = utf8Bytes("plain text");
    expect(r.push(chunk, false) === chunk).toBe(true);
    expect(r.holding).toBe(0);
    expect(text(r.push(utf8Bytes("tail He"), false))).toBe("tail ");
    expect(r.holding).toBe(2);
    expect(text(r.push(utf8Bytes("llo"), true))).toBe("Goodbye");
    expect(r.count).toBe(1);
  });

  it("passes empty chunks and an empty end", () => {
    const r = rules.fresh();
    expect(r.push(new Uint8Array(0), false).length).toBe(0);
    expect(text(r.push(utf8Bytes("Hel"), false))).toBe("");
    expect(text(r.push(new Uint8Array(0), true))).toBe("Hel");
  });
});
