// json-as, for what the SDK's reader (sdk/json-reader.ts) does not build itself: json-as's
// JSON.Obj, JSON.Arr and JSON.Value, Set, Date, typed arrays, a class with a custom
// deserializer or a lazy field; and for safeJson.stringify. The reader checks the text first,
// so json-as only ever sees text it can parse. The SDK's transform drops the import of this
// file (and every import of json-as) from a build that needs none of it: importing json-as
// compiles its tables and top-level code even when nothing of it is called.
import { JSON } from "json-as";
import { JsonReader } from "./json-reader";

/** The value at the reader's position (past any space) as a T that json-as builds. */
export function jsonAsRead<T>(reader: JsonReader, depth: i32): T {
  if (!isReference<T>()) ERROR("proxy-wasm-as: JSON cannot be read into this type");
  const probe = changetype<nonnull<T>>(0);
  const c = reader.peek();
  // json-as's own dynamic containers have a known kind, and so does a @json class (unless it
  // brings its own deserializer); their contents are anything, checked for syntax.
  // @ts-ignore: json-as types beyond the editor's declarations (sdk/types/json-as.d.ts)
  const object = probe instanceof JSON.Obj || (isDefined(probe.__DESERIALIZE_SLOW) && !isDefined(probe.__DESERIALIZE_CUSTOM));
  // @ts-ignore: json-as types beyond the editor's declarations (sdk/types/json-as.d.ts)
  const array = probe instanceof JSON.Arr;
  if (object && c != 0x7b) reader.fail("an object");
  else if (array && c != 0x5b) reader.fail("an array");
  const start = reader.pos;
  if (reader.failed || !reader.skip(depth)) return changetype<T>(0);
  return jsonAsParse<T>(reader.text.substring(start, reader.pos));
}

/** `text` (checked already) parsed by json-as into T. */
export function jsonAsParse<T>(text: string): T {
  // @ts-ignore: a member json-as adds to @json classes
  if (isReference<T>() && !isString<T>() && !isArray<T>() && isDefined(changetype<nonnull<T>>(0).__INITIALIZE)) {
    // A @json class: hand json-as an object with its defaults already set. json-as 1.6 would
    // skip setting them for a class extending another whose fields are all required (it sees
    // the parent's __DESERIALIZE_FULL_WRITE marker, inherited, and zeroes the object instead):
    // an absent @optional field would read 0, or null for a string.
    // @ts-ignore: AssemblyScript runtime builtin
    const fresh = changetype<nonnull<T>>(__new(offsetof<nonnull<T>>(), idof<nonnull<T>>()));
    // @ts-ignore: a member json-as adds to @json classes
    return JSON.parse<T>(text, changetype<T>(fresh.__INITIALIZE()));
  }
  return JSON.parse<T>(text);
}

/** `value` as JSON text (json-as's serializer). */
export function jsonAsStringify<T>(value: T): string {
  return JSON.stringify<T>(value);
}
