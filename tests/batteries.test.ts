// The SDK's batteries (sdk/base64.ts, random.ts, sha256.ts, address.ts, shared-data.ts's
// increment, the request shortcuts in stream.ts) through the host, with the test filter
// tests/filters/batteries: published vectors (RFC 4648, FIPS 180-4, RFC 4231), Node's own
// implementations on many inputs, and the edge cases (empty input, padding, non-ASCII,
// IPv6 with a zone, compare-and-swap contention between two VMs).
import { describe, expect, it } from "vitest";
import { createHash, createHmac, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Harness, SharedState } from "../host/testing/index.ts";

const wasm = join(import.meta.dirname, "../build/test-batteries.wasm");
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

function call(h: Harness, path: string, body: string | Uint8Array = "", headers: Record<string, string> = {}) {
  const s = h.http();
  const withBody = typeof body === "string" ? body.length > 0 : body.length > 0;
  s.sendRequestHeaders({ ":method": withBody ? "POST" : "GET", ":path": path, ":authority": "example.com", ...headers }, !withBody);
  if (withBody) s.sendRequestBody(body, true);
  const reply = s.localReply;
  if (!reply) throw new Error(`no reply for ${path}: ${JSON.stringify(s.failure)}`);
  return reply;
}

describe("base64 and base64url", () => {
  it("encode the RFC 4648 §10 vectors, with padding in base64 and without in base64url", async () => {
    const h = await Harness.load(wasm);
    const vectors: [string, string][] = [["", ""], ["f", "Zg=="], ["fo", "Zm8="], ["foo", "Zm9v"], ["foob", "Zm9vYg=="], ["fooba", "Zm9vYmE="], ["foobar", "Zm9vYmFy"]];
    for (const [plain, encoded] of vectors) {
      expect(call(h, "/base64/encode", plain).bodyText).toBe(encoded);
      expect(call(h, "/base64url/encode", plain).bodyText).toBe(encoded.replace(/=+$/, ""));
      if (encoded) expect(call(h, "/base64/decode", encoded).bodyText).toBe(plain);
      if (encoded) expect(call(h, "/base64url/decode", encoded.replace(/=+$/, "")).bodyText).toBe(plain);
    }
  });

  it("use + and / in base64, - and _ in base64url", async () => {
    const h = await Harness.load(wasm);
    const bytes = new Uint8Array([0xfb, 0xff, 0xbf]);
    expect(call(h, "/base64/encode", bytes).bodyText).toBe("+/+/");
    expect(call(h, "/base64url/encode", bytes).bodyText).toBe("-_-_");
    expect(call(h, "/base64url/encode", new Uint8Array([0xfb, 0xff])).bodyText).toBe("-_8");
    expect(hex(call(h, "/base64url/decode", "-_8").body)).toBe("fbff");
    expect(hex(call(h, "/base64url/decode", "-_8=").body)).toBe("fbff"); // padding optional but accepted
  });

  it("agree with Node on every length from 0 to 70 bytes of random data, both ways", async () => {
    const h = await Harness.load(wasm);
    for (let n = 1; n <= 70; n++) {
      const data = randomBytes(n);
      const std = data.toString("base64");
      const url = data.toString("base64url");
      expect(call(h, "/base64/encode", data).bodyText).toBe(std);
      expect(call(h, "/base64url/encode", data).bodyText).toBe(url);
      expect(hex(call(h, "/base64/decode", std).body)).toBe(data.toString("hex"));
      expect(hex(call(h, "/base64url/decode", url).body)).toBe(data.toString("hex"));
    }
  });

  it("carry non-ASCII text as its UTF-8 bytes", async () => {
    const h = await Harness.load(wasm);
    const text = "été ✓ 😀";
    expect(call(h, "/base64/text", text).bodyText).toBe(`${Buffer.from(text).toString("base64")} ${text}`);
  });

  it("give null for anything but canonical input", async () => {
    const h = await Harness.load(wasm);
    const badStandard = ["Zg", "Zg=", "Zg===", "Z===", "Zm8", "Zm9v!", "Zh==", "Zm9=", "Zg=a", "=Zg=", " Zg==", "Zg==\n", "-_8=", "A", "AAAAA", "Zm 9v", "Zm9v\u00e9AAA"];
    for (const text of badStandard) expect(call(h, "/base64/decode", text), text).toMatchObject({ status: 400, bodyText: "null" });
    const badUrl = ["Zg=", "Zm8==", "+/8", "A", "Zh", "Zm9vYmE==", "Zm9vY=="];
    for (const text of badUrl) expect(call(h, "/base64url/decode", text), text).toMatchObject({ status: 400, bodyText: "null" });
  });
});

describe("SHA-256 and HMAC-SHA-256", () => {
  it("give the FIPS 180-4 example digests", async () => {
    const h = await Harness.load(wasm);
    const digest = (data: string | Uint8Array) => hex(call(h, "/sha256", data).body);
    expect(digest("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(digest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))
      .toBe("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    expect(digest("a".repeat(1_000_000))).toBe("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    // The empty message (a GET: no body at all).
    expect(hex(call(h, "/sha256").body)).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  });

  it("agree with Node around the padding boundaries and when fed in pieces", async () => {
    const h = await Harness.load(wasm);
    for (const n of [1, 54, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000]) {
      const data = randomBytes(n);
      const expected = createHash("sha256").update(data).digest("hex");
      expect(hex(call(h, "/sha256", data).body), `${n} bytes`).toBe(expected);
      for (const piece of [1, 7, 64, 100]) {
        expect(hex(call(h, "/sha256/pieces", data, { "x-piece": String(piece) }).body), `${n} bytes by ${piece}`).toBe(expected);
      }
    }
  });

  it("give the RFC 4231 HMAC-SHA-256 values (test cases 1 to 7)", async () => {
    const h = await Harness.load(wasm);
    const mac = (key: Uint8Array, data: string | Uint8Array) => hex(call(h, "/hmac", data, { "x-key": Buffer.from(key).toString("base64") }).body);
    const fill = (n: number, byte: number) => new Uint8Array(n).fill(byte);
    expect(mac(fill(20, 0x0b), "Hi There")).toBe("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    expect(mac(Buffer.from("Jefe"), "what do ya want for nothing?")).toBe("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    expect(mac(fill(20, 0xaa), fill(50, 0xdd))).toBe("773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
    expect(mac(Uint8Array.from({ length: 25 }, (_, i) => i + 1), fill(50, 0xcd)))
      .toBe("82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
    expect(mac(fill(20, 0x0c), "Test With Truncation").slice(0, 32)).toBe("a3b6167473100ee06e0c796c2955552b");
    expect(mac(fill(131, 0xaa), "Test Using Larger Than Block-Size Key - Hash Key First"))
      .toBe("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    expect(mac(fill(131, 0xaa), "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm."))
      .toBe("9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
  });

  it("agrees with Node for keys of 0, 64 and 65 bytes and an empty message", async () => {
    const h = await Harness.load(wasm);
    for (const keyLength of [0, 1, 63, 64, 65]) {
      const key = randomBytes(keyLength);
      const data = randomBytes(77);
      const got = hex(call(h, "/hmac", data, { "x-key": key.toString("base64") }).body);
      expect(got, `key of ${keyLength}`).toBe(createHmac("sha256", key).update(data).digest("hex"));
    }
    const key = randomBytes(32);
    expect(hex(call(h, "/hmac", "", { "x-key": key.toString("base64") }).body)).toBe(createHmac("sha256", key).update("").digest("hex"));
  });

  it("compares signatures byte for byte", async () => {
    const h = await Harness.load(wasm);
    const sig = randomBytes(32);
    expect(call(h, "/equal", sig, { "x-other": sig.toString("base64") }).bodyText).toBe("equal");
    const other = Buffer.from(sig);
    other[31] ^= 1;
    expect(call(h, "/equal", sig, { "x-other": other.toString("base64") }).bodyText).toBe("different");
    expect(call(h, "/equal", sig, { "x-other": sig.subarray(0, 31).toString("base64") }).bodyText).toBe("different");
  });
});

describe("random", () => {
  it("gives the bytes asked for, different each time, through WASI random_get", async () => {
    const h = await Harness.load(wasm);
    const a = call(h, "/random", "", { "x-n": "32" }).body;
    const b = call(h, "/random", "", { "x-n": "32" }).body;
    expect(a.length).toBe(32);
    expect(hex(a)).not.toBe(hex(b));
    expect(call(h, "/random", "", { "x-n": "0" }).body.length).toBe(0);
    const big = call(h, "/random", "", { "x-n": "65536" }).body;
    expect(big.length).toBe(65536);
    // Every byte value turns up in 64 KiB of random bytes (a stuck or zero source would not).
    expect(new Set(big).size).toBe(256);
    const words = new Set(Array.from({ length: 20 }, () => call(h, "/random/words").bodyText));
    expect(words.size).toBe(20);
  });

  it("is imported only by a module that uses it", async () => {
    const imports = (file: string) => WebAssembly.Module.imports(new WebAssembly.Module(readFileSync(join(import.meta.dirname, "../build", file))))
      .map((i) => `${i.module}.${i.name}`);
    expect(imports("test-batteries.wasm")).toContain("wasi_snapshot_preview1.random_get");
    expect(imports("test-json-probe.wasm").filter((i) => !i.startsWith("env.proxy_"))).toEqual([]);
  });
});

describe("address.parse", () => {
  it("splits IPv4, bracketed IPv6 and IPv6 with a zone into IP, port, family and zone", async () => {
    const h = await Harness.load(wasm);
    const parse = (text: string) => call(h, "/address", "", { "x-address": text }).bodyText;
    expect(parse("1.2.3.4:5678")).toBe("1.2.3.4|5678|4||1.2.3.4:5678");
    expect(parse("[::1]:80")).toBe("::1|80|6||[::1]:80");
    expect(parse("[fe80::1%eth0]:80")).toBe("fe80::1|80|6|eth0|[fe80::1%eth0]:80");
    expect(parse("[2001:db8::ff00:42:8329]:443")).toBe("2001:db8::ff00:42:8329|443|6||[2001:db8::ff00:42:8329]:443");
    expect(parse("[::ffff:192.0.2.1]:0")).toBe("::ffff:192.0.2.1|0|6||[::ffff:192.0.2.1]:0");
    expect(parse("[1:2:3:4:5:6:7:8]:65535")).toBe("1:2:3:4:5:6:7:8|65535|6||[1:2:3:4:5:6:7:8]:65535");
    expect(parse("10.0.0.1")).toBe("10.0.0.1|-1|4||10.0.0.1");
    expect(parse("::1")).toBe("::1|-1|6||::1");
    expect(parse("fe80::1%eth0")).toBe("fe80::1|-1|6|eth0|fe80::1%eth0");
    expect(parse("[::]")).toBe("::|-1|6||::");
  });

  it("gives null for hostnames, bad IPs, bad ports and malformed brackets", async () => {
    const h = await Harness.load(wasm);
    const bad = ["", "example.com:80", "1.2.3:80", "1.2.3.4.5:80", "256.0.0.1:80", "01.2.3.4:80", "1.2.3.4:", "1.2.3.4:65536", "1.2.3.4:-1",
      "1.2.3.4:8a", "[::1]80", "[::1", "::1]:80", "[1:2:3:4:5:6:7:8:9]:80", "[1::2::3]:80", "[12345::]:80", "[fe80::1%]:80",
      "[:1]:80", "[1:]:80", "[1.2.3.4]:80", "[::ffff:1.2.3]:80", "/var/run/envoy.sock", "[g::1]:80"];
    for (const text of bad) {
      expect(call(h, "/address", "", { "x-address": text }).bodyText, text).toBe("null");
    }
    expect(call(h, "/address", "", { "x-address": "[::1]" }).bodyText).toBe("::1|-1|6||::1"); // brackets without a port: the IP alone
  });

  it("reads the client's and the destination's address from the stream", async () => {
    const v4 = await Harness.load(wasm, { streamInfo: { source: { address: "203.0.113.7", port: 51000 }, destination: { address: "10.0.0.1", port: 10000 } } });
    expect(call(v4, "/source").bodyText).toBe("203.0.113.7|51000|4||203.0.113.7:51000 10.0.0.1|10000|4||10.0.0.1:10000");
    const v6 = await Harness.load(wasm, { streamInfo: { source: { address: "fe80::1%eth0", port: 80 } } });
    expect(call(v6, "/source").bodyText).toMatch(/^fe80::1\|80\|6\|eth0\|\[fe80::1%eth0\]:80 /);
  });
});

describe("sharedData.increment", () => {
  const incr = (h: Harness, key: string, delta: number) => call(h, "/increment", "", { "x-key": key, "x-delta": String(delta) });

  it("counts from 0, by any delta, and stores an 8-byte little-endian integer", async () => {
    const shared = new SharedState();
    const h = await Harness.load(wasm, { shared, vmId: "counters" });
    expect(incr(h, "hits", 1).bodyText).toBe("1 1");
    expect(incr(h, "hits", 41).bodyText).toBe("42 42");
    expect(incr(h, "hits", -50).bodyText).toBe("-8 -8");
    expect(hex(shared.get("counters", "hits")!.value)).toBe("f8ffffffffffffff");
    expect(incr(h, "other", 0).bodyText).toBe("0 0");
  });

  it("counts across the streams of one VM and across VMs with the same vm_id", async () => {
    const shared = new SharedState();
    const a = await Harness.load(wasm, { shared, vmId: "edge" });
    const b = await Harness.load(wasm, { shared, vmId: "edge" });
    const other = await Harness.load(wasm, { shared, vmId: "elsewhere" });
    for (let i = 0; i < 10; i++) incr(i % 2 ? a : b, "n", 1);
    expect(incr(a, "n", 0).bodyText).toBe("10 10");
    expect(incr(other, "n", 1).bodyText).toBe("1 1");
  });

  it("loses no increment when another VM writes between its read and its write (CAS retry)", async () => {
    const shared = new SharedState();
    const a = await Harness.load(wasm, { shared, vmId: "edge" });
    const b = await Harness.load(wasm, { shared, vmId: "edge" });
    incr(a, "n", 1);
    // Interleave as two worker threads could: right after VM a reads "n", VM b increments it.
    const get = shared.get.bind(shared);
    let interleave: (() => void) | null = () => expect(incr(b, "n", 10).bodyText).toBe("11 11");
    const sets: string[] = [];
    const set = shared.set.bind(shared);
    shared.get = (vmId, key) => {
      const value = get(vmId, key);
      const run = interleave;
      interleave = null;
      run?.();
      return value;
    };
    shared.set = (vmId, key, value, cas) => {
      const result = set(vmId, key, value, cas);
      sets.push(result);
      return result;
    };
    expect(incr(a, "n", 100).bodyText).toBe("111 111");
    // b's write, a's refused one (stale cas), a's retry.
    expect(sets).toEqual(["ok", "cas-mismatch", "ok"]);
  });

  it("gives up (500 here) on a value of another size, leaving it alone, and on a host that never lets the swap through", async () => {
    const shared = new SharedState();
    const h = await Harness.load(wasm, { shared, vmId: "v" });
    call(h, "/shared/set", "text", { "x-key": "word" });
    expect(incr(h, "word", 1)).toMatchObject({ status: 500, bodyText: "failed" });
    expect(new TextDecoder().decode(shared.get("v", "word")!.value)).toBe("text");
    incr(h, "n", 1);
    let attempts = 0;
    shared.set = () => (attempts++, "cas-mismatch");
    expect(incr(h, "n", 1)).toMatchObject({ status: 500, bodyText: "failed" });
    expect(attempts).toBe(64);
  });
});

describe("request shortcuts", () => {
  it("give :method, :path and :authority in request and response callbacks", async () => {
    const h = await Harness.load(wasm);
    const s = h.http();
    s.sendRequestHeaders({ ":method": "GET", ":path": "/shortcuts?q=1", ":authority": "example.com:8080" }, true);
    expect(s.localReply?.bodyText).toBe("GET /shortcuts?q=1 example.com:8080");
    expect(s.response.header("x-request-line")).toBe("GET /shortcuts?q=1 example.com:8080");
  });

  it("give the value as it is now, after a change", async () => {
    const h = await Harness.load(wasm);
    expect(call(h, "/shortcuts/rewrite").bodyText).toBe("/rewritten?x=1");
  });
});
