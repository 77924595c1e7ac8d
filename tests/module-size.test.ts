// Issue 15: every example's release module stays within 24 KB (24,000 bytes), and the examples that once
// linked the heavy general-purpose code (json-as, Map's string hashing, the float parser and
// formatter, String#split and #trim) link none of it: JsonNumber, StringPairs, listItems and
// trimOws (sdk/json-values.ts, sdk/headers.ts) do their part. Reads build/<name>.wasm and
// the function names in build/<name>.wasm.map.
import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");
const examples = readdirSync(join(root, "examples")).filter((name) => statSync(join(root, "examples", name)).isDirectory());
const functions = (name: string): string[] =>
  JSON.parse(readFileSync(join(root, `build/${name}.wasm.map`), "utf8")).x_functions.filter(Boolean);

describe("module size", () => {
  it("keeps every example's release module within 24 KB", () => {
    const over = examples
      .map((name) => ({ name, bytes: statSync(join(root, `build/${name}.wasm`)).size }))
      .filter(({ bytes }) => bytes > 24_000);
    expect(over).toEqual([]);
  });

  it("keeps add-header, the smallest useful filter with a JSON configuration, within 16 KB", () => {
    expect(statSync(join(root, "build/add-header.wasm")).size).toBeLessThanOrEqual(16_000);
  });

  it("links none of the general-purpose code the SDK's small helpers replace", () => {
    const heavy = [/json-as/, /Map<~lib\/string\/String/, /util\/number\/dtoa/, /String#split/, /String#trim/];
    for (const name of ["jwt", "cors", "rate-limit"]) {
      expect(functions(name).filter((f) => heavy.some((pattern) => pattern.test(f))), name).toEqual([]);
    }
    // rate-limit converts its two numbers with parseFloat once; jwt and cors parse no float at all.
    for (const name of ["jwt", "cors"]) expect(functions(name).filter((f) => f.includes("strtod")), name).toEqual([]);
    // The SDK's own messages format integers with decimal(): add-header and jwt link no any-radix formatter.
    for (const name of ["add-header", "jwt"]) expect(functions(name).filter((f) => /util\/number\/itoa/.test(f)), name).toEqual([]);
  });
});
