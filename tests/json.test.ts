// Typed JSON (sdk/json.ts, sdk/json-reader.ts, the members sdk/transform.js adds to @json
// classes), through the test filter tests/filters/json-probe: what a wrong configuration
// logs and how the plugin refuses to start, and what request data that is not of the
// expected shape gives (null and the reason) while the VM goes on serving. The reader's
// decoding itself, through tests/filters/json-lean, a filter whose build leaves json-as out.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Harness } from "../host/testing/index.ts";

const wasm = join(import.meta.dirname, "../build/test-json-probe.wasm");
const lean = join(import.meta.dirname, "../build/test-json-lean.wasm");
// Text, not JSON.stringify: JavaScript numbers cannot hold -9223372036854775808 exactly.
const good = '{"id": "edge", "limit-list": [{"rate": 1}, {"rate": -5, "burst": 255, "label": "b"}], "names": {"a": [1, -9223372036854775808]}}';

/** Loads with `configuration` (text): the error the load rejects with, or "" when it started. */
async function refusal(configuration: string): Promise<string> {
  try {
    await Harness.load(wasm, { configuration });
    return "";
  } catch (e) {
    return String((e as Error).message);
  }
}

function post(h: Harness, path: string, body: string) {
  const s = h.http();
  s.sendRequestHeaders({ ":method": "POST", ":path": path }, false);
  s.sendRequestBody(body, true);
  return s.localReply!;
}

describe("config.parse<T>", () => {
  it("reads the declared types, with aliases, inherited fields and defaults for absent @optional ones", async () => {
    const h = await Harness.load(wasm, { configuration: good });
    expect(h.logMessages("info")).toContain("configured edge: 2 limits, first rate 1 burst 10 label (none), scale 1.0, 1 names");
  });

  it("refuses a wrong type with its JSON path and position, and logs it", async () => {
    const text = '{"id": "x", "limit-list": [{"rate": 1}, {"rate": 2}, {"rate": "three"}]}';
    const message = '$["limit-list"][2].rate: expected an integer from -2147483648 to 2147483647, found "three" at line 1 column 63';
    expect(await refusal(text)).toContain(message);
    const h = await Harness.load(wasm, { configuration: good }); // (the same module still starts when right)
    expect(h.plugin).toBeDefined();
  });

  it("refuses 3.5 for an integer rather than reading 285 or 3", async () => {
    expect(await refusal('{"id": "x", "limit-list": [{"rate": 3.5}]}'))
      .toContain('$["limit-list"][0].rate: expected an integer, found 3.5 at line 1 column 37');
    expect(await refusal('{"id": "x", "limit-list": [{"rate": 1e2}]}')).toContain("expected an integer, found 1e2");
  });

  it("refuses an integer out of its type's range", async () => {
    expect(await refusal('{"id": "x", "limit-list": [{"rate": 1, "burst": 256}]}'))
      .toContain('$["limit-list"][0].burst: expected an integer from 0 to 255, found 256 at line 1 column 49');
    expect(await refusal('{"id": "x", "limit-list": [{"rate": 1, "burst": -1}]}')).toContain("expected an integer from 0 to 255, found -1");
    expect(await refusal('{"id": "x", "limit-list": [], "names": {"a": [9223372036854775808]}}'))
      .toContain('$.names.a[0]: expected an integer from -9223372036854775808 to 9223372036854775807, found 9223372036854775808');
  });

  it("refuses a missing required field, naming the object it belongs in (a parent class's fields count)", async () => {
    expect(await refusal('{"id": "x", "limit-list": [{"rate": 1},\n  {"burst": 2}]}'))
      .toContain('$["limit-list"][1]: missing field "rate" at line 2 column 3');
    expect(await refusal('{"limit-list": []}')).toContain('$: missing field "id" at line 1 column 1');
  });

  it("refuses an unknown field, listing the known ones, and a repeated one", async () => {
    expect(await refusal('{"id": "x", "limit-list": [{"rate": 1, "rat": 2}]}'))
      .toContain('$["limit-list"][0].rat: unknown field (expected "rate", "burst" or "label") at line 1 column 40');
    expect(await refusal('{"id": "x", "limits": []}'))
      .toContain('$.limits: unknown field (expected "id", "limit-list", "scale", "names" or "note") at line 1 column 13');
    expect(await refusal('{"id": "x", "limit-list": [], "id": "y"}')).toContain("$.id: duplicate field at line 1 column 31");
  });

  it("refuses null where the type is not nullable, and takes it where it is", async () => {
    expect(await refusal('{"id": "x", "limit-list": null}')).toContain('$["limit-list"]: expected an array, found null');
    expect(await refusal('{"id": "x", "limit-list": [{"rate": 1, "label": null}], "note": null}')).toBe("");
    expect(await refusal('{"id": "x", "limit-list": [{"rate": 1, "label": 7}]}')).toContain('$["limit-list"][0].label: expected a string, found 7');
  });

  it("refuses malformed JSON with the path where it broke", async () => {
    expect(await refusal('{"id": "x", "limit-list": [{"rate": 1}')).toContain('$["limit-list"]: expected "," or "]", found end of input at line 1 column 39');
  });

  it("puts the message in the plugin's error log, which the refusal quotes", async () => {
    expect(await refusal('{"id": 1, "limit-list": []}'))
      .toMatch(/refused\); it logged: configuration: \$\.id: expected a string, found 1 at line 1 column 8$/);
  });
});

describe("safeJson.tryParse<T> on request data", () => {
  it("parses data of the type's shape", async () => {
    const h = await Harness.load(wasm, { configuration: good });
    expect(post(h, "/claims", '{"sub": "ann", "exp": 1700000000, "admin": true}')).toMatchObject({ status: 200, bodyText: "sub=ann exp=1700000000 admin=true" });
    expect(post(h, "/claims", '{"sub": "\\u00e9t\\u00e9 \\ud83d\\ude00"}')).toMatchObject({ status: 200, bodyText: "sub=été 😀 exp=0 admin=false" });
    expect(post(h, "/u64s", "[0, 18446744073709551615]")).toMatchObject({ status: 200, bodyText: "0,18446744073709551615" });
    expect(post(h, "/names", '{"a b": "1", "\\u0063": "2"}')).toMatchObject({ status: 200, bodyText: "a b,c" });
  });

  it("gives null and the reason for malformed, truncated or mistyped data, and the VM goes on", async () => {
    const h = await Harness.load(wasm, { configuration: good });
    const bad: [string, string, string][] = [
      ["/claims", '{"sub": "ann", "ex', "$: expected a closing quote, found end of input at line 1 column 19"],
      ["/claims", '{"sub": 5}', "$.sub: expected a string, found 5 at line 1 column 9"],
      ["/claims", "", "$: expected an object, found end of input at line 1 column 1"],
      ["/claims", '{"sub": "a", "exp": "soon"}', '$.exp: expected an integer from -9223372036854775808 to 9223372036854775807, found "soon" at line 1 column 21'],
      ["/claims", '{"sub": "a"} x', '$: expected end of input after the JSON value, found x at line 1 column 14'],
      ["/claims", "[" + "[".repeat(80), "$: expected an object, found an array at line 1 column 1"],
      ["/u64s", "[" .repeat(80) + "]".repeat(80), "$[0]: expected an integer from 0 to 18446744073709551615, found an array at line 1 column 2"],
      ["/u64s", "[-0]", "$[0]: expected an integer from 0 to 18446744073709551615, found -0 at line 1 column 2"],
      ["/u64s", "[1, 2", '$: expected "," or "]", found end of input at line 1 column 6'],
      ["/u64s", "[18446744073709551616]", "$[0]: expected an integer from 0 to 18446744073709551615, found 18446744073709551616 at line 1 column 2"],
      ["/names", '{"a": 1}', "$.a: expected a string, found 1 at line 1 column 7"],
      ["/names", '{"a": "\u0001"}', "$.a: control character inside a string at line 1 column 8"],
    ];
    for (const [path, body, error] of bad) {
      expect(post(h, path, body), body).toMatchObject({ status: 400, bodyText: error });
    }
    expect(post(h, "/claims", '{"sub": "still serving"}')).toMatchObject({ status: 200 });
    expect(h.logMessages("critical")).toEqual([]);
  });

  it("skips undeclared members when asked (a token's custom claims), still checking the declared ones and the syntax", async () => {
    const h = await Harness.load(wasm, { configuration: good });
    expect(post(h, "/claims", '{"sub": "ann", "role": ["a"]}')).toMatchObject({ status: 400, bodyText: '$.role: unknown field (expected "sub", "exp" or "admin") at line 1 column 16' });
    expect(post(h, "/claims/lenient", '{"sub": "ann", "role": ["a", {"x": null}], "exp": 5}')).toMatchObject({ status: 200, bodyText: "sub=ann exp=5 admin=false" });
    expect(post(h, "/claims/lenient", '{"role": 1, "sub": "ann", "exp": 5.5}')).toMatchObject({ status: 400, bodyText: "$.exp: expected an integer, found 5.5 at line 1 column 34" });
    expect(post(h, "/claims/lenient", '{"role": [1,, "sub": "ann"}')).toMatchObject({ status: 400, bodyText: "$.role[1]: expected a JSON value, found \",\" at line 1 column 13" });
    expect(post(h, "/claims/lenient", '{"role": 1}')).toMatchObject({ status: 400, bodyText: '$: missing field "sub" at line 1 column 1' });
  });

  it("parses any object into json-as's JSON.Obj, and refuses what is not an object", async () => {
    const h = await Harness.load(wasm, { configuration: good });
    expect(post(h, "/object", '{"sub": "ann", "role": "admin", "n": [1, 2]}')).toMatchObject({ status: 200, bodyText: '3 members, role "admin"' });
    expect(post(h, "/object", "[1]")).toMatchObject({ status: 400, bodyText: "$: expected an object, found an array at line 1 column 1" });
    expect(post(h, "/object", '{"a": tru}')).toMatchObject({ status: 400, bodyText: "$.a: expected a JSON value, found tru at line 1 column 7" });
  });

  it("checks a lazy field (json-as parses it on first read) by its declared type", async () => {
    const h = await Harness.load(wasm, { configuration: good });
    expect(post(h, "/lazy", '{"id": "a", "detail": {"rate": 4}}')).toMatchObject({ status: 200, bodyText: "a rate 4" });
    expect(post(h, "/lazy", '{"id": "a", "detail": {"rate": "4"}}'))
      .toMatchObject({ status: 400, bodyText: '$.detail.rate: expected an integer from -2147483648 to 2147483647, found "4" at line 1 column 32' });
    expect(post(h, "/lazy", '{"id": "a", "details": {}}').bodyText).toBe('$.details: unknown field (expected "id" or "detail") at line 1 column 13');
  });

  it("reads and writes the SDK's JsonNumber and StringPairs in a class json-as builds, as a number and an object", async () => {
    const h = await Harness.load(wasm, { configuration: good });
    const body = '{"rate": 2.5e1, "headers": {"x-b": "say \\"2\\"", "x-a": "1", "x-b": "3"}, "detail": {"rate": 4}}';
    expect(post(h, "/quota", body)).toMatchObject({
      // detail: json-as's lazy field writes its text as it came.
      status: 200, bodyText: 'rate 2500 first x-b: {"rate":2.5e1,"headers":{"x-b":"3","x-a":"1"},"detail":{"rate": 4}}',
    });
    expect(post(h, "/quota", '{"rate": "25", "headers": {}, "detail": {"rate": 4}}').bodyText).toBe('$.rate: expected a number, found "25" at line 1 column 10');
  });

  it("gives the README's messages", async () => {
    const h = await Harness.load(wasm, { configuration: good });
    const readme = readFileSync(join(import.meta.dirname, "../README.md"), "utf8");
    const examples = [...readme.matchAll(/^(\{.*\})\n  configuration: (.*)$/gm)];
    expect(examples.length).toBe(3);
    for (const [, input, message] of examples) expect(post(h, "/readme", input)).toMatchObject({ status: 400, bodyText: message });
    expect(post(h, "/readme", '{"limits": [{"rate": 1, "burst": 2, "label": null}], "scale": 2}').bodyText).toBe("ok");
  });

  it("reads one member as text without a type: strings unescaped, other values as JSON", async () => {
    const h = await Harness.load(wasm, { configuration: good });
    const body = '{"sub": "ann \\"x\\" \\u00e9", "n": -1.5e3, "ok": true, "list": [1, {"a": null}], "o": {}, "\\u0072ole": "admin", "sub2": ""}';
    const member = (name: string, text = body) => post(h, `/member/${name}`, text).bodyText;
    expect(member("sub")).toBe('[ann "x" é]');
    expect(member("n")).toBe("[-1.5e3]");
    expect(member("ok")).toBe("[true]");
    expect(member("list")).toBe('[[1, {"a": null}]]');
    expect(member("o")).toBe("[{}]");
    expect(member("role")).toBe("[admin]");
    expect(member("sub2")).toBe("[]");
    expect(member("missing")).toBe("null");
    expect(member("sub", '{"sub": "ann"')).toBe("null"); // malformed
    expect(member("sub", '["sub"]')).toBe("null");
    expect(member("a", '{"x": {"a": 1}}')).toBe("null"); // top level only
  });

  it("checks nesting depth for any-typed values without trapping", async () => {
    const h = await Harness.load(wasm, { configuration: good });
    expect(post(h, "/names", '{"a": ' + "[".repeat(100))).toMatchObject({ status: 400, bodyText: "$.a: expected a string, found an array at line 1 column 7" });
  });
});

describe("the reader's decoding, in a filter without json-as", () => {
  const decode = async (body: string) => post(await Harness.load(lean, {}), "/", body);
  const defaults = "level=3 small=-7 least=1 most=2 ratio=0.5 tiny=0.25 text=default lists= flag=true pair=none";

  it("links no json-as code when only the reader's types are read", () => {
    for (const name of ["test-json-lean", "add-header"]) {
      const map = JSON.parse(readFileSync(join(import.meta.dirname, `../build/${name}.wasm.map`), "utf8"));
      const functions: string[] = map.x_functions.filter(Boolean);
      expect(functions.some((f) => f.includes("json-reader/JsonReader#read")), name).toBe(true);
      expect(functions.filter((f) => f.includes("json-as")), name).toEqual([]);
    }
  });

  it("keeps the defaults of absent @optional fields, a parent class's too, and starts a class whose constructor takes arguments from its initializers", async () => {
    expect(await decode('{"id": "x"}')).toMatchObject({ status: 200, bodyText: `id=x ${defaults}` });
    expect((await decode('{"id": "x", "pair": {"left": 4}, "level": 5, "flag": false}')).bodyText)
      .toBe("id=x level=5 small=-7 least=1 most=2 ratio=0.5 tiny=0.25 text=default lists= flag=false pair=4,9");
    expect(await decode('{"id": "x", "pair": {"right": 4}}')).toMatchObject({ status: 400, bodyText: '$.pair: missing field "left" at line 1 column 21' });
  });

  it("reads integers at the edges of their types", async () => {
    expect((await decode('{"id": "x", "small": -128, "least": -9223372036854775808, "most": 18446744073709551615}')).bodyText)
      .toContain("small=-128 least=-9223372036854775808 most=18446744073709551615 ");
    expect((await decode('{"id": "x", "small": 127, "least": 9223372036854775807, "most": 0}')).bodyText)
      .toContain("small=127 least=9223372036854775807 most=0 ");
    expect((await decode('{"id": "x", "small": 128}')).bodyText).toBe("$.small: expected an integer from -128 to 127, found 128 at line 1 column 22");
  });

  it("reads floats, with exponents, exactly as JavaScript does", async () => {
    const ratio = async (text: string) => Number(/ratio=(\S+)/.exec((await decode(`{"id": "x", "ratio": ${text}}`)).bodyText)![1]);
    for (const text of ["-1.25e-3", "1.5E+2", "6.02214076E23", "1e308", "5e-324", "2.2250738585072014e-308", "0.30000000000000004",
      "123456789012345678901234567890", "0.1", "1E-7", "9007199254740993", "3.141592653589793"]) {
      expect(Object.is(await ratio(text), Number(text)), text).toBe(true);
    }
    expect((await decode('{"id": "x", "tiny": 1.5e2, "ratio": 1e400}')).bodyText).toContain("ratio=Infinity tiny=150.0 ");
  });

  it("resolves every escape in a string, \\u surrogate pairs included", async () => {
    const text = String.raw`a\"b\\c\/d\b\f\n\r\t\u0041\u00e9\ud83d\ude00`;
    expect((await decode(`{"id": "x", "text": "${text}"}`)).bodyText).toContain(`text=a"b\\c/d\b\f\n\r\tAé😀 `);
  });

  it("reads maps of arrays of 64-bit integers", async () => {
    expect((await decode('{"id": "x", "lists": {"a": [1, -2, 9223372036854775807], "b": [], "a b": [-9223372036854775808]}}')).bodyText)
      .toContain("lists=a:[1,-2,9223372036854775807];b:[];a b:[-9223372036854775808] ");
    expect((await decode('{"id": "x", "lists": {"a": [1, 2.5]}}')).bodyText).toBe("$.lists.a[1]: expected an integer, found 2.5 at line 1 column 32");
  });
});
