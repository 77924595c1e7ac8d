// What the SDK uses of json-as, for `tsc` and editors only (asc compiles json-as's own
// sources, with its transform). json-as ships declarations for its decorators (@json,
// @optional, …: json-as/assembly/index.d.ts, loaded by tsconfig.assembly.json) but not for
// its JSON namespace, and its sources do not type-check under TypeScript.
export declare namespace JSON {
  /** Parses `data` into T (a class marked @json, an array, a map, a string, a number, …). */
  function parse<T>(data: string): T;
  /** Serializes `value` to JSON text. */
  function stringify<T>(value: T): string;
}
