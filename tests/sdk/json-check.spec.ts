import { checkJson } from "../../sdk/json-check";
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
    expect(checkJson('{"request": {"x-a": 1')).toBe('expected "," or "}" at position 21, found end of input');
    expect(checkJson("{'a': 1}")).toBe('expected a quoted member name at position 1, found "\'"');
    expect(checkJson('{"a" 1}')).toBe('expected ":" at position 5, found "1"');
    expect(checkJson("[1, 2,]")).toBe('expected a JSON value at position 6, found "]"');
    expect(checkJson('{"a": 01}')).toBe('expected "," or "}" at position 7, found "1"');
    expect(checkJson("")).toBe("expected a JSON value at position 0, found end of input");
    expect(checkJson('{} {}')).toBe('expected end of input after the JSON value at position 3, found "{"');
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
    expect(lastLog()).toBe('4 configuration is not valid JSON: expected a quoted member name at position 17, found "}"');
    expect(config.parse<Settings>("[1]") == null).toBe(true);
    expect(lastLog()).toBe("4 configuration is not valid JSON: expected a JSON object");
  });
});
