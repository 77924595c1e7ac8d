// Parsing JSON into typed values without the risk of aborting the VM: the SDK's reader
// (sdk/json-reader.ts) checks the text against the grammar and T's shape while it builds the
// T, and reports what is wrong, where, instead of trapping as json-as alone would.
import { JsonReader } from "./json-reader";
import { jsonAsStringify } from "./json-fallback";

let lastProblem: string = "";

/** Whether `reader` read one whole document (nothing but space after the value); keeps the reason why not. */
function finished(reader: JsonReader): bool {
  reader.end();
  lastProblem = reader.failed ? reader.error! : "";
  return !reader.failed;
}

export namespace safeJson {
  /**
   * `text` parsed into T (a class marked @json, an array, a map with string keys, a string,
   * a number, a bool), or null when it is not well-formed JSON of T's shape: a wrong type, a
   * missing field (one not marked @optional and not nullable), an unknown field. Then
   * `safeJson.error()` says what and where, e.g. `$.limits[2].rate: expected an integer from
   * -2147483648 to 2147483647, found "three" at line 1 column 48`. Safe on request data:
   * nothing a client sends can abort the VM.
   *
   * `ignoreUnknown` skips members the class does not declare instead of refusing them: for
   * data others extend (a token's custom claims, an API's response), where configuration
   * (config.parse) wants a typo caught. For any members, parse into json-as's `JSON.Obj`.
   */
  export function tryParse<T>(text: string, ignoreUnknown: bool = false): T | null {
    const reader = new JsonReader(text);
    reader.ignoreUnknown = ignoreUnknown;
    const value = reader.read<T>(0);
    return finished(reader) ? value : null;
  }

  /**
   * One top-level member of a JSON object, as text, without parsing the rest into a type: a
   * string's characters, anything else as its JSON (`5`, `true`, `[1,2]`). null when `text`
   * is not a well-formed JSON object or has no member `name`. (For many members, json-as's
   * JSON.Obj does more, at about 30 KB of module size.)
   */
  export function member(text: string, name: string): string | null {
    return new JsonReader(text).memberValue(name);
  }

  /** Why the last tryParse gave null ("" after one that succeeded). */
  export function error(): string {
    return lastProblem;
  }

  /** `value` as JSON text (json-as's serializer). */
  export function stringify<T>(value: T): string {
    if (isDefined(jsonAsStringify)) return jsonAsStringify<T>(value);
    ERROR("proxy-wasm-as: safeJson.stringify is json-as's, which the build left out; import json-as in the filter (import { JSON } from \"json-as\")");
  }
}
