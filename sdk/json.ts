// Parsing JSON into typed values without the risk of aborting the VM: json-as aborts on
// malformed input (AssemblyScript has no try/catch), so the text is checked first against
// the grammar and T's shape (sdk/json-check.ts) and json-as only ever sees text it can parse.
import { JSON } from "json-as";
import { checkJsonAs, memberText } from "./json-check";

let lastProblem: string = "";

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
    const problem = checkJsonAs<T>(text, ignoreUnknown);
    if (problem != null) {
      lastProblem = problem;
      return null;
    }
    lastProblem = "";
    // @ts-ignore: members json-as and the SDK's transform add to @json classes
    if (isReference<T>() && !isString<T>() && !isArray<T>() && isDefined(changetype<nonnull<T>>(0).__INITIALIZE)) {
      // A @json class: hand json-as an object with its defaults already set. json-as 1.6
      // would skip setting them for a class extending another whose fields are all required
      // (it sees the parent's __DESERIALIZE_FULL_WRITE marker, inherited, and zeroes the
      // object instead): an absent @optional field would read 0, or null for a string.
      // @ts-ignore: AssemblyScript runtime builtin
      const fresh = changetype<nonnull<T>>(__new(offsetof<nonnull<T>>(), idof<nonnull<T>>()));
      // @ts-ignore: members json-as and the SDK's transform add to @json classes
      return JSON.parse<T>(text, changetype<T>(fresh.__INITIALIZE()));
    }
    return JSON.parse<T>(text);
  }

  /**
   * One top-level member of a JSON object, as text, without parsing the rest into a type: a
   * string's characters, anything else as its JSON (`5`, `true`, `[1,2]`). null when `text`
   * is not a well-formed JSON object or has no member `name`. (For many members, json-as's
   * JSON.Obj does more, at about 30 KB of module size.)
   */
  export function member(text: string, name: string): string | null {
    return memberText(text, name);
  }

  /** Why the last tryParse gave null ("" after one that succeeded). */
  export function error(): string {
    return lastProblem;
  }

  /** `value` as JSON text (json-as's serializer). */
  export function stringify<T>(value: T): string {
    return JSON.stringify<T>(value);
  }
}
