import { checkJson } from "../../sdk/json-check";

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
