// Envoy's safe_regex: RE2 syntax, matched in time linear in the input (Envoy links RE2 itself).
// re2js is RE2's engine ported to JavaScript: no native build, no backtracking, so a pattern
// such as (a|a)+b cannot stall the proxy however long the path.
import { RE2JS } from "re2js";

export interface Regex {
  /** The pattern as configured. */
  readonly source: string;
  /** Whether the pattern matches the whole of `input`, as Envoy's safe_regex route match. */
  test(input: string): boolean;
}

/** Compiles an RE2 pattern; throws an Error naming what RE2 refuses (backreferences, lookaround, …). */
export function compileRegex(source: string): Regex {
  const re = RE2JS.compile(source);
  return {
    source,
    test: (input) => re.matches(input),
    toJSON: () => source,
  } as Regex;
}
