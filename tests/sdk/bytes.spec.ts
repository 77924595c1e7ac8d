import { Replacer, Splitter, indexOf, utf8Bytes } from "../../sdk/bytes";

function text(bytes: Uint8Array): string {
  return String.UTF8.decodeUnsafe(bytes.dataStart, bytes.length);
}

/** `input` as UTF-8, cut into chunks at `cuts` (byte positions); the last chunk runs to the end. */
function chunks(input: string, cuts: i32[]): Uint8Array[] {
  const bytes = utf8Bytes(input);
  const out: Uint8Array[] = [];
  let from = 0;
  for (let i = 0; i <= cuts.length; i++) {
    const to = i < cuts.length ? cuts[i] : bytes.length;
    out.push(bytes.subarray(from, to));
    from = to;
  }
  return out;
}

/** Cut positions every `step` bytes of `input`'s UTF-8 (1: between every two bytes). */
function cutsEvery(step: i32, input: string): i32[] {
  const cuts: i32[] = [];
  const length = utf8Bytes(input).length;
  for (let at = step; at < length; at += step) cuts.push(at);
  return cuts;
}

/** Runs `input` through a fresh copy of `rules`, cut into chunks at `cuts`. */
function streamed(rules: Replacer, input: string, cuts: i32[]): string {
  const r = rules.fresh();
  const parts = chunks(input, cuts);
  let out = "";
  for (let i = 0; i < parts.length; i++) out += text(r.push(parts[i], i == parts.length - 1));
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
    expect(streamed(rules, input, cutsEvery(1, input))).toBe(whole);
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

/** The same rules applied the plain way, to the whole input at once: what any cutting must give. */
function naive(finds: string[], replaces: string[], input: string): string {
  const data = utf8Bytes(input);
  let out = "";
  let i = 0;
  while (i < data.length) {
    let matched = -1;
    for (let r = 0; r < finds.length && matched < 0; r++) {
      const find = utf8Bytes(finds[r]);
      if (indexOf(data, find, i) == i) matched = r;
    }
    if (matched >= 0) {
      out += replaces[matched];
      i += utf8Bytes(finds[matched]).length;
    } else {
      out += text(data.subarray(i, i + 1));
      i++;
    }
  }
  return out;
}

/** Runs `input` through a fresh copy of `rules` with pushAt, as Body.rewrite does, cut into chunks at `cuts`. */
function streamedAt(rules: Replacer, input: string, cuts: i32[]): string {
  const r = rules.fresh();
  const parts = chunks(input, cuts);
  let out = "";
  for (let i = 0; i < parts.length; i++) {
    const chunk = parts[i];
    if (r.pushAt(chunk.dataStart, chunk.length, i == parts.length - 1)) out += String.UTF8.decodeUnsafe(r.readyStart, r.readyLength);
    else out += text(chunk);
  }
  return out;
}

/** A deterministic text of `length` ASCII bytes over a small alphabet, so that rules match often. */
function sample(seed: u32, length: i32): string {
  const alphabet = "Hel lo!Hp";
  let out = "";
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = x * 1103515245 + 12345;
    out += alphabet.charAt(<i32>((x >> 16) % <u32>alphabet.length));
  }
  return out;
}

const oneStart = new Replacer().add("Hello", "Goodbye");
const sharedStart = new Replacer().add("Help", "H").add("Hello", "Bye").add("He", "[he]");

describe("Replacer scan", () => {
  it("with one rule (8 bytes at a time), matches at every alignment and up to the end", () => {
    for (let pad = 0; pad < 17; pad++) {
      const input = "x".repeat(pad) + "Hello" + "y".repeat(pad) + "Hello";
      expect(streamed(oneStart, input, [])).toBe(naive(["Hello"], ["Goodbye"], input));
    }
  });

  it("tries the rules that share a first byte in their order", () => {
    expect(streamed(sharedStart, "Help Hello Hex Hel", [])).toBe("H Bye [he]x [he]l");
  });

  it("gives what the plain replacement gives, for any input and any cutting, with push and pushAt", () => {
    for (let seed: u32 = 1; seed < 40; seed++) {
      const input = sample(seed, 20 + <i32>seed * 7);
      const expectOne = naive(["Hello"], ["Goodbye"], input);
      const expectShared = naive(["Help", "Hello", "He"], ["H", "Bye", "[he]"], input);
      const expectMixed = naive(["Hello", "lo", "ü"], ["Goodbye", "LO", "ue"], input);
      for (let step = 1; step <= 13; step += 3) {
        const cuts = cutsEvery(step, input);
        expect(streamed(oneStart, input, cuts)).toBe(expectOne);
        expect(streamed(sharedStart, input, cuts)).toBe(expectShared);
        expect(streamed(rules, input, cuts)).toBe(expectMixed);
        expect(streamedAt(oneStart, input, cuts)).toBe(expectOne);
        expect(streamedAt(sharedStart, input, cuts)).toBe(expectShared);
        expect(streamedAt(rules, input, cuts)).toBe(expectMixed);
      }
    }
  });

  it("compares long finds and copies long replacements and long runs between matches", () => {
    const longFind = "a body for the upstream"; // 23 bytes: compared 8, 8, 4, then 1 at a time
    const longReplace = "x".repeat(150); // copied by memory.copy
    const long = new Replacer().add(longFind, longReplace).add("a body", "A BODY");
    let input = "";
    for (let i = 0; i < 12; i++) input += "y".repeat(i * 13) + "a body for the upstream, " + "a body for the ups" + ".";
    const expected = naive([longFind, "a body"], [longReplace, "A BODY"], input);
    for (let step = 1; step <= 41; step += 8) {
      const cuts = cutsEvery(step, input);
      expect(streamed(long, input, cuts)).toBe(expected);
      expect(streamedAt(long, input, cuts)).toBe(expected);
    }
  });

  it("pushAt answers false, leaving the chunk itself, when nothing changed and nothing is held", () => {
    const r = oneStart.fresh();
    const chunk = utf8Bytes("no match in here at all");
    expect(r.pushAt(chunk.dataStart, chunk.length, false)).toBe(false);
    expect(r.readyStart).toBe(chunk.dataStart);
    expect(r.readyLength).toBe(chunk.length);
    const tail = utf8Bytes("ends with He");
    expect(r.pushAt(tail.dataStart, tail.length, false)).toBe(true);
    expect(r.readyLength).toBe(tail.length - 2);
    expect(r.holding).toBe(2);
  });
});

/** Runs `input` through a fresh copy of `splitter`, cut into chunks at `cuts`; each record as `offset:record;` (`!` for an undelimited last one). */
function records(splitter: Splitter, input: string, cuts: i32[]): string {
  const s = splitter.fresh();
  const parts = chunks(input, cuts);
  let out = "";
  for (let i = 0; i < parts.length; i++) {
    s.push(parts[i], i == parts.length - 1);
    while (s.next()) out += s.offset.toString() + ":" + text(s.record) + (s.delimited ? ";" : "!");
  }
  return out;
}

/** Every cut of `input` into two chunks, and byte by byte, must give `expected`. */
function everyCut(splitter: Splitter, input: string, expected: string): void {
  const length = utf8Bytes(input).length;
  for (let cut = 0; cut <= length; cut++) expect(records(splitter, input, [cut])).toBe(expected);
  expect(records(splitter, input, cutsEvery(1, input))).toBe(expected);
}

describe("Splitter", () => {
  it("cuts at each delimiter, with each record's offset, and gives an undelimited last record at the end", () => {
    expect(records(new Splitter("\n"), "ab\ncd\n\nef", [])).toBe("0:ab;3:cd;6:;7:ef!");
    expect(records(new Splitter("\n"), "ab\n", [])).toBe("0:ab;");
  });

  it("gives the same records wherever the input is cut, a delimiter split across chunks included", () => {
    everyCut(new Splitter("\r\n"), "GET\r\nHost: a\r\n\r\nbody", "0:GET;5:Host: a;14:;16:body!");
    everyCut(new Splitter("--sep--"), "one--sep--two--se--sep----sep--", "0:one;10:two--se;24:;");
    everyCut(new Splitter("aa"), "aaaaa", "0:;2:;4:a!");
  });

  it("cuts UTF-8 at a multi-byte delimiter, and multi-byte records split across chunks are whole", () => {
    everyCut(new Splitter("→"), "ünï→cödé→✓", "0:ünï;8:cödé;17:✓!");
  });

  it("handles an empty stream, a one-byte stream and empty chunks", () => {
    expect(records(new Splitter("\n"), "", [])).toBe("");
    expect(records(new Splitter("\n"), "x", [])).toBe("0:x!");
    expect(records(new Splitter("\n"), "\n", [])).toBe("0:;");
    expect(records(new Splitter("\n"), "a\nb", [0, 0, 2, 2, 3, 3])).toBe("0:a;2:b!");
  });

  it("holds what waits for its delimiter, and keeps records next() did not reach for the next push", () => {
    const s = new Splitter("\n");
    s.push(utf8Bytes("one\ntw"), false);
    expect(s.holding).toBe(6);
    s.push(utf8Bytes("o\nthr"), false); // "one" was never stepped to: it is still there
    expect(s.next()).toBe(true);
    expect(text(s.record)).toBe("one");
    expect(s.next()).toBe(true);
    expect(text(s.record)).toBe("two");
    expect(s.offset).toBe(4);
    expect(s.next()).toBe(false);
    expect(s.holding).toBe(3);
    s.push(utf8Bytes("ee"), true);
    expect(s.next()).toBe(true);
    expect(text(s.record)).toBe("three");
    expect(s.delimited).toBe(false);
    expect(s.next()).toBe(false);
    expect(s.count).toBe(3);
  });

  it("joins a record spanning many chunks, and cuts at bytes given as bytes", () => {
    const s = Splitter.bytes(utf8Bytes("|"));
    let expected = "";
    for (let i = 0; i < 1000; i++) {
      s.push(utf8Bytes("x"), false);
      expected += "x";
      expect(s.next()).toBe(false);
    }
    s.push(utf8Bytes("|y"), true);
    expect(s.next()).toBe(true);
    expect(text(s.record)).toBe(expected);
    expect(s.next()).toBe(true);
    expect(text(s.record)).toBe("y");
    expect(s.offset).toBe(1001);
  });
});
