// sdk/json-values.ts: JsonNumber (a number kept as written, scaled exactly) and StringPairs (an
// object of strings as two arrays), read by the SDK's reader. The SDK's reader builds them as
// fields of a @json class under the SDK transform, which as-pect builds do not run (the jwt and
// rate-limit examples read them so: examples/*/…test.ts); here such a class is json-as's, and
// the two types' own serializer and deserializer are what json-as uses.
import { JsonNumber, StringPairs } from "../../sdk/json-values";
import { safeJson } from "../../sdk/json";

@json
class Limits {
  rate: JsonNumber = new JsonNumber("1");
  headers: StringPairs = new StringPairs();
}

function number(text: string): JsonNumber {
  return safeJson.tryParse<JsonNumber>(text)!;
}

describe("JsonNumber", () => {
  it("keeps a number as it is written", () => {
    expect(number(" 1.50e+3 ").text).toBe("1.50e+3");
    expect(number("-0").text).toBe("-0");
    expect(new JsonNumber().text).toBe("");
  });

  it("refuses what is not a number as an f64 field does", () => {
    expect(safeJson.tryParse<JsonNumber>('"5"') == null).toBe(true);
    expect(safeJson.error()).toBe('$: expected a number, found "5" at line 1 column 1');
    expect(safeJson.tryParse<JsonNumber>("null") == null).toBe(true);
    expect(safeJson.error()).toBe("$: expected a number, found null at line 1 column 1");
    expect(safeJson.tryParse<JsonNumber>("1.") == null).toBe(true);
    expect(safeJson.error()).toBe("$: expected a digit after the decimal point, found end of input at line 1 column 3");
    expect(safeJson.tryParse<JsonNumber | null>("null") == null).toBe(true);
    expect(safeJson.error()).toBe("");
  });

  it("reads arrays of them", () => {
    const list = safeJson.tryParse<JsonNumber[]>("[1, 2.5, -3e2]")!;
    expect(list.length).toBe(3);
    expect(list[2].text).toBe("-3e2");
  });

  it("scales exactly, rounding up or down", () => {
    expect(number("1.5").ceil()).toBe(2);
    expect(number("1.5").floor()).toBe(1);
    expect(number("-1.5").ceil()).toBe(-1);
    expect(number("-1.5").floor()).toBe(-2);
    expect(number("1700000000").ceil(3)).toBe(1700000000000);
    expect(number("1700000000.0005").ceil(3)).toBe(1700000000001);
    expect(number("1700000000.0005").floor(3)).toBe(1700000000000);
    expect(number("1.7e9").ceil(3)).toBe(1700000000000);
    expect(number("17E+8").floor(3)).toBe(1700000000000);
    expect(number("12345").floor(-2)).toBe(123);
    expect(number("12345").ceil(-2)).toBe(124);
    expect(number("-0").ceil()).toBe(0);
    expect(number("0.000").floor(3)).toBe(0);
    expect(new JsonNumber().ceil(3)).toBe(0);
  });

  it("keeps every digit, however many, and never overflows", () => {
    expect(number("123456789012345678901234567890e-20").floor()).toBe(1234567890);
    expect(number("123456789012345678901234567890e-20").ceil()).toBe(1234567891);
    expect(number("0.00000000000000000000000000001").ceil()).toBe(1);
    expect(number("5e-324").ceil(3)).toBe(1);
    expect(number("5e-324").floor(3)).toBe(0);
    expect(number("-5e-324").ceil(3)).toBe(0);
    expect(number("-5e-324").floor(3)).toBe(-1);
    expect(number("9223372036854775807").ceil()).toBe(i64.MAX_VALUE);
    expect(number("922337203685477580.7").floor(1)).toBe(i64.MAX_VALUE);
    expect(number("-9223372036854775808").floor()).toBe(i64.MIN_VALUE);
    expect(number("9223372036854775808").ceil()).toBe(i64.MAX_VALUE);
    expect(number("99999999999999999999").floor()).toBe(i64.MAX_VALUE);
    expect(number("1e19").ceil()).toBe(i64.MAX_VALUE);
    expect(number("-1e19").ceil()).toBe(i64.MIN_VALUE);
    expect(number("1e999999999999").floor()).toBe(i64.MAX_VALUE);
    expect(number("1e-999999999999").ceil()).toBe(1);
    expect(number("0e999999999999").ceil()).toBe(0);
  });

  it("converts to f64 as parseFloat does", () => {
    expect(number("0.1").toF64()).toBe(0.1);
    expect(number("-2.5e-3").toF64()).toBe(-0.0025);
    expect(isNaN(new JsonNumber().toF64())).toBe(true);
  });
});

describe("StringPairs", () => {
  it("reads an object of strings in order; a name given twice keeps its place and its last value", () => {
    const pairs = safeJson.tryParse<StringPairs>('{"b": "2", "a\\u0041": "1", "b": "3"}')!;
    expect(pairs.names.length).toBe(2);
    expect(pairs.names[0]).toBe("b");
    expect(pairs.values[0]).toBe("3");
    expect(pairs.names[1]).toBe("aA");
    expect(pairs.values[1]).toBe("1");
    expect(safeJson.tryParse<StringPairs>("{}")!.names.length).toBe(0);
  });

  it("refuses what is not an object of strings, saying where", () => {
    expect(safeJson.tryParse<StringPairs>('{"a": 1}') == null).toBe(true);
    expect(safeJson.error()).toBe("$.a: expected a string, found 1 at line 1 column 7");
    expect(safeJson.tryParse<StringPairs>("[]") == null).toBe(true);
    expect(safeJson.error()).toBe("$: expected an object, found an array at line 1 column 1");
  });

  it("looks names up, and sets them in place or last", () => {
    const pairs = new StringPairs();
    pairs.set("x", "1");
    pairs.set("y", "2");
    pairs.set("x", "3");
    expect(pairs.indexOf("y")).toBe(1);
    expect(pairs.indexOf("z")).toBe(-1);
    expect(pairs.get("x")).toBe("3");
    expect(pairs.get("z")).toBeNull();
    expect(pairs.names.length).toBe(2);
  });
});

describe("JsonNumber and StringPairs through json-as", () => {
  it("stringify as a number and an object of strings, not as their fields", () => {
    expect(safeJson.stringify(new JsonNumber("1.50e+3"))).toBe("1.50e+3");
    expect(safeJson.stringify(new JsonNumber())).toBe("null");
    const pairs = new StringPairs();
    pairs.set("x-a", 'say "hi"');
    pairs.set("é", "\n");
    expect(safeJson.stringify(pairs)).toBe('{"x-a":"say \\"hi\\"","é":"\\n"}');
    expect(safeJson.stringify(new StringPairs())).toBe("{}");
    const limits = new Limits();
    limits.rate = new JsonNumber("-0.25");
    limits.headers = pairs;
    expect(safeJson.stringify(limits)).toBe('{"rate":-0.25,"headers":{"x-a":"say \\"hi\\"","é":"\\n"}}');
  });

  it("parse back from a class json-as builds", () => {
    const limits = safeJson.tryParse<Limits>('{"rate": 2.5e1, "headers": {"b": "2", "a": "1", "b": "3"}}')!;
    expect(limits.rate.text).toBe("2.5e1");
    expect(limits.rate.ceil()).toBe(25);
    expect(limits.headers.names.length).toBe(2);
    expect(limits.headers.get("b")).toBe("3");
    expect(limits.headers.names[0]).toBe("b");
    expect(limits.headers.get("a")).toBe("1");
    const round = safeJson.tryParse<Limits>(safeJson.stringify(limits))!;
    expect(round.rate.text).toBe("2.5e1");
    expect(round.headers.get("b")).toBe("3");
  });
});
