import { checkJson } from "../../sdk/json-reader";
import { config } from "../../sdk/config";
import { properties } from "../../sdk/properties";
// The mock host (as-pect.config.js) hands values over through the module's allocator.
export { malloc } from "../../sdk/abi/exports";

function lastLog(): string {
  const text = properties.getString(["test", "last_log"]);
  return text != null ? text : "";
}

describe("JSON syntax check", () => {
  it("accepts well-formed JSON", () => {
    const good = ['{}', '[]', '{"a": [1, -2.5e3, true, false, null, "s\\n\\u00e9"]}', ' {"nested": {"x": {"y": []}}} ', '"text"', '0'];
    for (let i = 0; i < good.length; i++) expect(checkJson(good[i])).toBeNull();
  });

  it("says what was expected, and where", () => {
    expect(checkJson('{"request": {"x-a": 1')).toBe('$.request: expected "," or "}", found end of input at line 1 column 22');
    expect(checkJson("{'a': 1}")).toBe('$: expected a quoted member name, found "\'" at line 1 column 2');
    expect(checkJson('{"a" 1}')).toBe('$.a: expected ":", found 1 at line 1 column 6');
    expect(checkJson("[1, 2,]")).toBe('$[2]: expected a JSON value, found "]" at line 1 column 7');
    expect(checkJson('{"a": 01}')).toBe('$: expected "," or "}", found 1 at line 1 column 8');
    expect(checkJson("")).toBe("$: expected a JSON value, found end of input at line 1 column 1");
    expect(checkJson('{}\n {}')).toBe("$: expected end of input after the JSON value, found an object at line 2 column 2");
    expect(checkJson('"bad \\x"')).not.toBeNull();
  });

  it("refuses nesting deeper than 64", () => {
    expect(checkJson("[".repeat(70) + "]".repeat(70))).not.toBeNull();
  });
});

@json
class Settings {
  header: string = "";
  limit: i32 = 0;
  enabled: bool = false;
}

// Typed checks (wrong types, missing and unknown fields) need the SDK transform, which filter
// builds run and as-pect builds do not: they are tested through a filter, tests/json.test.ts.
describe("config.parse", () => {
  it("parses well-formed JSON into a class marked @json", () => {
    const settings = config.parse<Settings>('{"header": "x-a", "limit": 3, "enabled": true}');
    expect(settings == null).toBe(false); // (as-pect cannot reflect a json-as class)
    expect(settings!.header).toBe("x-a");
    expect(settings!.limit).toBe(3);
    expect(settings!.enabled).toBe(true);
  });

  it("gives null for malformed JSON, logging what was expected where, without trapping", () => {
    expect(config.parse<Settings>('{"header": "x-a",}') == null).toBe(true);
    expect(lastLog()).toBe('4 configuration: $: expected a quoted member name, found "}" at line 1 column 18');
    expect(config.parse<Settings>("[1]") == null).toBe(true);
    expect(lastLog()).toBe("4 configuration: $: expected an object, found an array at line 1 column 1");
  });
});
