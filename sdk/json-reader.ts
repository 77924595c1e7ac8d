// The SDK's JSON reader: one pass over the text that checks it against the JSON grammar (RFC
// 8259) and T's shape and builds the T at the same time. json-as alone aborts on malformed
// input (AssemblyScript cannot catch) and trusts the text to have T's shape (it reads `3.5`
// into an i32 as 285, `"three"` as 0, passes missing and unknown fields silently), so the
// reader reports the first problem instead, with its JSON path and position, as serde and
// Go's encoding/json do:
//
//   {"limits": [{"rate": 1}, {"rate": 2}, {"rate": "three"}]}
//   $.limits[2].rate: expected an integer from -2147483648 to 2147483647, found "three" at line 1 column 48
//
// T's shape comes from the type system where AssemblyScript can answer at compile time (bool,
// integers and their ranges, floats, strings, nullability, arrays, maps with string keys, the
// SDK's JsonNumber and StringPairs of sdk/json-values.ts) and, for a class marked @json, from
// members the SDK's transform (sdk/transform.js) adds:
// `__PWAS_KEYS()` (the JSON names of its fields), `__PWAS_REQUIRED()` (which must be present:
// not @optional and not nullable) and `__PWAS_FIELD(reader, index, depth)` (reads field
// `index` as its declared type into the object). Anything else (json-as's JSON.Obj and
// JSON.Value, Set, Date, a class with a custom deserializer or a lazy field) is checked for
// syntax here and built by json-as (sdk/json-fallback.ts); the transform leaves that file and
// json-as out of builds that need neither, so a filter using only these types links no json-as.
import { jsonAsRead, jsonAsParse } from "./json-fallback";
import { JsonNumber, StringPairs } from "./json-values";
import { decimal } from "./format";

const MAX_DEPTH = 64;

// @ts-ignore: decorator
@inline function isDigit(c: i32): bool { return <u32>(c - 0x30) < 10; }

/** What a read gives back after a failure: never used, the reader's error says why. */
// @ts-ignore: decorator
@inline function nothing<T>(): T {
  // @ts-ignore: a zero of T, whatever T is
  return isReference<T>() ? changetype<T>(0) : <T>0;
}

export class JsonReader {
  pos: i32 = 0;
  /** The first problem, with its path and position; set with `failed` (a flag, not `error != null`: smaller where tested). */
  error: string | null = null;
  failed: bool = false;
  // The path to the value being read: pairs (start, end) of a member name's raw text between
  // its quotes, or (-1, index) for an array element. Formatted only on error.
  private path: i32[] = [];
  // The member name just read: its raw text lies between keyStart and keyEnd.
  private keyStart: i32 = 0;
  private keyEnd: i32 = 0;
  // Whether the string just scanned had escapes (its raw text is not its value).
  private escaped: bool = false;

  /** Skip members a @json class does not declare, as serde and Go do by default (true), or refuse them (false). */
  ignoreUnknown: bool = false;

  constructor(readonly text: string) {}

  /** Fails with `expected <expected>, found <what is at pos>`. Always false. */
  fail(expected: string): bool {
    return this.report("expected " + expected + ", found " + this.found());
  }

  /** Records `message` (the first one wins) with the current path and position. Always false. */
  report(message: string): bool {
    if (!this.failed) this.error = this.pathText() + ": " + message + " at " + this.where(this.pos);
    this.failed = true;
    return false;
  }

  private where(pos: i32): string {
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < pos && i < this.text.length; i++) {
      if (this.text.charCodeAt(i) == 0x0a) { line++; lineStart = i + 1; }
    }
    return "line " + decimal(line) + " column " + decimal((pos - lineStart + 1));
  }

  private pathText(): string {
    let out = "$";
    for (let i = 0; i < this.path.length; i += 2) {
      const start = unchecked(this.path[i]);
      const end = unchecked(this.path[i + 1]);
      if (start < 0) { out += "[" + decimal(end) + "]"; continue; }
      const name = this.text.substring(start, end);
      out += isIdentifier(name) ? "." + name : "[\"" + name + "\"]";
    }
    return out;
  }

  /** What is at pos, as a message shows it: a short value, "an object", "end of input", … */
  private found(): string {
    const c = this.peek();
    if (c < 0) return "end of input";
    if (c == 0x7b) return "an object";
    if (c == 0x5b) return "an array";
    const text = this.text;
    let end = this.pos;
    if (c == 0x22) {
      // To the closing quote (past escaped characters) or the end. (charCodeAt is -1 past the end.)
      do end += text.charCodeAt(end) == 0x5c ? 2 : 1; while (end < text.length && text.charCodeAt(end) != 0x22);
      end = min(end + 1, text.length);
    } else {
      while (isValueChar(text.charCodeAt(end))) end++;
      if (end == this.pos) return "\"" + text.substring(end, end + 1) + "\"";
    }
    const token = text.substring(this.pos, end);
    return token.length > 40 ? token.substring(0, 37) + "..." : token;
  }

  peek(): i32 {
    // charCodeAt answers -1 past the end too, but this bound compiles smaller (measured).
    return this.pos < this.text.length ? this.text.charCodeAt(this.pos) : -1;
  }

  skipSpace(): void {
    while (true) {
      const c = this.peek();
      if (c != 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) return;
      this.pos++;
    }
  }

  /** Nothing but space follows the value just read. */
  end(): bool {
    this.skipSpace();
    return this.pos == this.text.length || this.fail("end of input after the JSON value");
  }

  /**
   * The value at pos as a T, pos moved past it; on a problem, `error` says what and the value
   * is not to be used. The transform's __PWAS_FIELD calls this for each field.
   */
  read<T>(depth: i32): T {
    const c = this.begin(depth);
    if (c < -1) return nothing<T>();
    if (isBoolean<T>()) {
      if (this.word("true")) return <T>true;
      if (!this.word("false")) this.fail("true or false");
      return <T>false;
    } else if (isInteger<T>()) {
      return <T>this.integer(maxNegative<T>(), maxPositive<T>());
    } else if (isFloat<T>()) {
      if (c == 0x2d || isDigit(c)) return <T>this.float();
      this.fail("a number");
      return <T>0;
    } else if (isReference<T>()) {
      // (null for another type: the branch below finds no value of its kind at "n".)
      if (isNullable<T>() && c == 0x6e && this.word("null")) return changetype<T>(0);
      if (isString<T>()) {
        if (c == 0x22) return changetype<T>(this.string());
        this.fail("a string");
      } else if (isArray<T>()) {
        if (c == 0x5b) return this.array<T>(depth);
        this.fail("an array");
      } else if (changetype<nonnull<T>>(0) instanceof JsonNumber) {
        if (c == 0x2d || isDigit(c)) return changetype<T>(this.numberText());
        this.fail("a number");
      } else if (changetype<nonnull<T>>(0) instanceof StringPairs) {
        if (c == 0x7b) return changetype<T>(this.pairs(depth));
        this.fail("an object");
      } else if (changetype<nonnull<T>>(0) instanceof Map) {
        // @ts-ignore: AssemblyScript's indexof on a type the editor cannot narrow
        if (!isString<indexof<nonnull<T>>>()) return this.viaJsonAs<T>(depth);
        if (c == 0x7b) return this.map<T>(depth);
        this.fail("an object");
        // @ts-ignore: a member the SDK's transform adds to @json classes
      } else if (isDefined(changetype<nonnull<T>>(0).__PWAS_KEYS)) {
        if (c == 0x7b) return this.object<T>(depth);
        this.fail("an object");
      } else {
        return this.viaJsonAs<T>(depth);
      }
      return changetype<T>(0);
    }
    return this.viaJsonAs<T>(depth);
  }

  /** The first character of the value at depth `depth`, past any space; -2 (reported) when that is too deep. */
  private begin(depth: i32): i32 {
    if (depth > MAX_DEPTH) {
      this.report("nesting deeper than 64");
      return -2;
    }
    this.skipSpace();
    return this.peek();
  }

  /** A type only json-as builds: checked for syntax (and its kind) here, then parsed by json-as. */
  private viaJsonAs<T>(depth: i32): T {
    if (isDefined(jsonAsRead)) return jsonAsRead<T>(this, depth);
    ERROR("proxy-wasm-as: this type is built by json-as, which the build left out; import json-as in the filter (import { JSON } from \"json-as\")");
  }

  /**
   * The integer at pos, of a type that holds -maxNegative to maxPositive, as its bits in a u64
   * (0 after a problem). One function for every integer type: the caller truncates.
   */
  private integer(maxNegative: u64, maxPositive: u64): u64 {
    const start = this.pos;
    const c = this.peek();
    // No sign at all for an unsigned type, not even "-0" (json-as aborted on it).
    if (!isDigit(c) && (c != 0x2d || maxNegative == 0)) return this.outOfRange(maxNegative, maxPositive);
    if (!this.number()) return 0;
    const negative = c == 0x2d;
    let magnitude: u64 = 0;
    let overflow = false;
    for (let i = negative ? start + 1 : start; i < this.pos; i++) {
      const d = this.text.charCodeAt(i);
      if (!isDigit(d)) { // a fraction or an exponent
        this.pos = start;
        this.fail("an integer");
        return 0;
      }
      const digit = <u64>(d - 0x30);
      if (magnitude > (u64.MAX_VALUE - digit) / 10) overflow = true; // magnitude * 10 + digit would not fit
      magnitude = magnitude * 10 + digit;
    }
    if (overflow || magnitude > (negative ? maxNegative : maxPositive)) {
      this.pos = start;
      return this.outOfRange(maxNegative, maxPositive);
    }
    return negative ? 0 - magnitude : magnitude;
  }

  private outOfRange(maxNegative: u64, maxPositive: u64): u64 {
    this.fail("an integer from " + (maxNegative != 0 ? "-" + decimal(maxNegative) : "0") + " to " + decimal(maxPositive));
    return 0;
  }

  /** The number at pos, as the standard library's parseFloat reads it (json-as read long ones so too). */
  private float(): f64 {
    const start = this.pos;
    return this.number() ? parseFloat(this.text.substring(start, this.pos)) : 0;
  }

  /** The number at pos as it is written (null after a problem). */
  private numberText(): JsonNumber | null {
    const start = this.pos;
    return this.number() ? new JsonNumber(this.text.substring(start, this.pos)) : null;
  }

  private pairs(depth: i32): StringPairs {
    const out = new StringPairs();
    if (this.enterObject()) {
      do out.set(this.keyText(), this.read<string>(depth + 1)); while (this.nextMember());
    }
    return out;
  }

  private array<T>(depth: i32): T {
    const out = instantiate<nonnull<T>>();
    if (this.enterArray()) {
      // @ts-ignore: AssemblyScript's valueof on a type the editor cannot narrow
      do out.push(this.read<valueof<nonnull<T>>>(depth + 1)); while (this.nextElement());
    }
    return out;
  }

  private map<T>(depth: i32): T {
    const out = instantiate<nonnull<T>>();
    if (this.enterObject()) {
      // @ts-ignore: AssemblyScript's valueof on a type the editor cannot narrow
      do out.set(this.keyText(), this.read<valueof<nonnull<T>>>(depth + 1)); while (this.nextMember());
    }
    return out;
  }

  private object<T>(depth: i32): T {
    const open = this.pos;
    // With its defaults: a class the transform found no argument-free constructor for
    // (__PWAS_BLANK) gets json-as's __INITIALIZE (the field initializers, no constructor).
    // @ts-ignore: members json-as and the SDK's transform add to @json classes
    const out = isDefined(changetype<nonnull<T>>(0).__PWAS_BLANK)
      // @ts-ignore: AssemblyScript runtime builtin and a member json-as adds to @json classes
      ? changetype<nonnull<T>>(__new(offsetof<nonnull<T>>(), idof<nonnull<T>>())).__INITIALIZE()
      : instantiate<nonnull<T>>();
    // @ts-ignore: members the SDK's transform adds to @json classes
    const keys = out.__PWAS_KEYS();
    const seen = new StaticArray<bool>(keys.length);
    if (this.enterObject()) {
      do {
        const index = this.field(keys, seen, depth);
        // @ts-ignore: members the SDK's transform adds to @json classes
        if (index >= 0) out.__PWAS_FIELD<JsonReader>(this, index, depth + 1);
      } while (this.nextMember());
    }
    // @ts-ignore: members the SDK's transform adds to @json classes
    this.requireAll(keys, out.__PWAS_REQUIRED(), seen, open);
    // A class with a lazy field: checked here, built by json-as (which keeps the lazy part's text).
    // @ts-ignore: members the SDK's transform adds to @json classes
    if (isDefined(out.__PWAS_JSON_AS)) {
      if (this.failed) return changetype<T>(0);
      if (isDefined(jsonAsParse)) return jsonAsParse<T>(this.text.substring(open, this.pos));
      ERROR("proxy-wasm-as: a class with a lazy field is built by json-as, which the build left out");
    }
    return out;
  }

  /** The index in `keys` of the member name just read; -1 for a member skipped or refused. */
  private field(keys: StaticArray<string>, seen: StaticArray<bool>, depth: i32): i32 {
    const keyAt = this.keyStart - 1;
    const name = this.keyText();
    let index = keys.length - 1;
    while (index >= 0 && unchecked(keys[index]) != name) index--;
    if (index < 0) {
      if (this.ignoreUnknown) {
        this.skip(depth + 1);
        return -1;
      }
      this.pos = keyAt;
      this.report("unknown field" + knownFields(keys));
      return -1;
    }
    if (unchecked(seen[index])) {
      this.pos = keyAt;
      this.report("duplicate field");
      return -1;
    }
    unchecked(seen[index] = true);
    return index;
  }

  /** Unless a problem came first: refuses the object (at `open`) when a required field was not seen. */
  private requireAll(keys: StaticArray<string>, required: StaticArray<bool>, seen: StaticArray<bool>, open: i32): void {
    if (this.failed) return;
    for (let i = 0; i < keys.length; i++) {
      if (unchecked(required[i]) && !unchecked(seen[i])) {
        this.pos = open;
        this.report("missing field \"" + unchecked(keys[i]) + "\"");
        return;
      }
    }
  }

  /** Steps past "[" or "{"; false when `close` follows at once (stepped past too). */
  private open(close: i32): bool {
    this.pos++;
    this.skipSpace();
    return !this.eat(close);
  }

  /** At "[": steps in; true when an element follows (its index on the path), false for "[]". */
  private enterArray(): bool {
    if (!this.open(0x5d)) return false;
    this.path.push(-1);
    this.path.push(0);
    return true;
  }

  /** After an element: true when another follows; false after "]" or on a problem. */
  private nextElement(): bool {
    if (this.failed) return false;
    this.skipSpace();
    if (this.eat(0x2c)) {
      const index = this.path.dataStart + (<usize>(this.path.length - 1) << 2); // the element's, last on the path
      store<i32>(index, load<i32>(index) + 1);
      return true;
    }
    this.path.length -= 2; // what follows the elements belongs to the array
    if (!this.eat(0x5d)) this.fail('"," or "]"');
    return false;
  }

  /** At "{": steps in; true when a member follows (its name read and on the path, and the ":"), false for "{}". */
  private enterObject(): bool {
    return this.open(0x7d) && this.member();
  }

  /** After a member's value: true when another member follows (read as enterObject does); false after "}" or on a problem. */
  private nextMember(): bool {
    if (this.failed) return false;
    this.path.length -= 2;
    this.skipSpace();
    if (this.eat(0x2c)) return this.member();
    if (!this.eat(0x7d)) this.fail('"," or "}"');
    return false;
  }

  /** Reads `"name" :` and pushes the name on the path. */
  private member(): bool {
    this.skipSpace();
    if (this.peek() != 0x22) return this.fail("a quoted member name");
    this.keyStart = this.pos + 1;
    if (!this.scanString()) return false;
    this.keyEnd = this.pos - 1;
    this.path.push(this.keyStart);
    this.path.push(this.keyEnd);
    this.skipSpace();
    return this.eat(0x3a) || this.fail('":"');
  }

  /** The member name just read, escapes resolved. */
  private keyText(): string {
    return this.raw(this.keyStart, this.keyEnd);
  }

  /** Any JSON value (syntax only); member names and indexes still go on the path for messages. */
  skip(depth: i32): bool {
    const c = this.begin(depth);
    if (c == 0x7b) {
      if (this.enterObject()) do this.skip(depth + 1); while (this.nextMember());
    } else if (c == 0x5b) {
      if (this.enterArray()) do this.skip(depth + 1); while (this.nextElement());
    } else if (c == 0x22) {
      this.scanString();
    } else if (c == 0x2d || isDigit(c)) {
      this.number();
    } else if (!this.word("true") && !this.word("false") && !this.word("null")) {
      this.fail("a JSON value");
    }
    return !this.failed;
  }

  /**
   * The value of the member `name` of the JSON object that is the whole text (the first, if
   * it is there twice): a string's characters (escapes resolved), anything else as its JSON.
   * null when there is none, or the text is not one well-formed object. One pass: the members
   * after it are checked too.
   */
  memberValue(name: string): string | null {
    let value: string | null = null;
    this.skipSpace();
    if (this.peek() == 0x7b && this.enterObject()) {
      do {
        const key = this.keyText();
        this.skipSpace();
        const start = this.pos;
        if (!this.skip(1)) return null;
        if (value == null && key == name) {
          value = this.text.charCodeAt(start) == 0x22 ? this.raw(start + 1, this.pos - 1) : this.text.substring(start, this.pos);
        }
      } while (this.nextMember());
    }
    return this.end() && !this.failed ? value : null;
  }

  private word(w: string): bool {
    for (let i = 0; i < w.length; i++) if (this.text.charCodeAt(this.pos + i) != w.charCodeAt(i)) return false;
    this.pos += w.length;
    return true;
  }

  /** The string at pos, escapes resolved; pos moved past it. */
  private string(): string {
    const start = this.pos + 1;
    if (!this.scanString()) return "";
    return this.raw(start, this.pos - 1);
  }

  /** The string scanned last, between `start` and `end`: its raw text, escapes resolved if it had any. */
  private raw(start: i32, end: i32): string {
    return this.escaped ? unescape(this.text, start, end) : this.text.substring(start, end);
  }

  /** Moves past the string at pos (at its opening quote), checking its characters and escapes. */
  private scanString(): bool {
    this.pos++;
    this.escaped = false;
    while (true) {
      const c = this.peek();
      if (c < 0) return this.fail("a closing quote");
      if (c < 0x20) return this.report("control character inside a string");
      this.pos++;
      if (c == 0x22) return true;
      if (c == 0x5c) {
        this.escaped = true;
        if (this.eat(0x75)) {
          for (let i = 0; i < 4; i++) {
            if (hexValue(this.peek()) < 0) return this.fail("four hex digits after \\u");
            this.pos++;
          }
        } else if (escapeValue(this.peek()) < 0) {
          return this.fail("an escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)");
        } else {
          this.pos++;
        }
      }
    }
  }

  private digits(): bool {
    const start = this.pos;
    while (isDigit(this.peek())) this.pos++;
    return this.pos > start;
  }

  private number(): bool {
    this.eat(0x2d);
    if (!this.eat(0x30) && !this.digits()) return this.fail("a digit");
    if (this.eat(0x2e) && !this.digits()) return this.fail("a digit after the decimal point");
    if ((this.peek() | 0x20) == 0x65) { // "e" or "E"
      this.pos++;
      if (!this.eat(0x2b)) this.eat(0x2d);
      if (!this.digits()) return this.fail("a digit in the exponent");
    }
    return true;
  }

  /** Steps past `c` when it is at pos. */
  private eat(c: i32): bool {
    if (this.peek() != c) return false;
    this.pos++;
    return true;
  }
}

// The largest magnitude an integer type holds on each side of zero.
// @ts-ignore: decorator
@inline function maxPositive<T>(): u64 {
  const bits = <u64>(sizeof<T>() * 8);
  return isSigned<T>() ? (<u64>1 << (bits - 1)) - 1 : bits == 64 ? u64.MAX_VALUE : (<u64>1 << bits) - 1;
}
// @ts-ignore: decorator
@inline function maxNegative<T>(): u64 {
  const bits = <u64>(sizeof<T>() * 8);
  return isSigned<T>() ? (<u64>1) << (bits - 1) : 0;
}

function isIdentifier(name: string): bool {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (!isLetter(c) && c != 0x5f && c != 0x24 && !(i > 0 && isDigit(c))) return false;
  }
  return name.length > 0;
}

// A-Z or a-z (setting bit 5 makes a capital small, and nothing else a small letter).
// @ts-ignore: decorator
@inline function isLetter(c: i32): bool { return <u32>((c | 0x20) - 0x61) < 26; }

// Characters of a bare token (number, true, false, null, or a mistyped word) for messages.
function isValueChar(c: i32): bool {
  return isDigit(c) || isLetter(c) || c == 0x2d || c == 0x2b || c == 0x2e || c == 0x5f;
}

function hexValue(c: i32): i32 {
  if (isDigit(c)) return c - 0x30;
  const letter = (c | 0x20) - 0x61; // a-f or A-F: 0 to 5
  return <u32>letter < 6 ? letter + 10 : -1;
}

/** What `\e` stands for (`\"` `\\` `\/` `\b` `\f` `\n` `\r` `\t`: e is not "u"); -1 when it is no escape. */
function escapeValue(e: i32): i32 {
  if (e == 0x62) return 0x08;
  if (e == 0x66) return 0x0c;
  if (e == 0x6e) return 0x0a;
  if (e == 0x72) return 0x0d;
  if (e == 0x74) return 0x09;
  return e == 0x22 || e == 0x5c || e == 0x2f ? e : -1;
}

/** The characters of `text` from `start` to `end` (a scanned string's inside) with escapes resolved. */
function unescape(text: string, start: i32, end: i32): string {
  // An escape is never shorter than what it stands for: the raw length bounds the result.
  const out = heap.alloc(<usize>(end - start) << 1);
  let n: usize = 0;
  for (let i = start; i < end; i++) {
    let c = text.charCodeAt(i);
    if (c == 0x5c) {
      const e = text.charCodeAt(++i);
      if (e == 0x75) {
        c = (hexValue(text.charCodeAt(i + 1)) << 12) | (hexValue(text.charCodeAt(i + 2)) << 8) |
          (hexValue(text.charCodeAt(i + 3)) << 4) | hexValue(text.charCodeAt(i + 4));
        i += 4;
      } else {
        c = escapeValue(e);
      }
    }
    store<u16>(out + (n++ << 1), c);
  }
  const value = String.UTF16.decodeUnsafe(out, n << 1);
  heap.free(out);
  return value;
}

function knownFields(keys: StaticArray<string>): string {
  if (keys.length == 0) return " (none are expected here)";
  let out = " (expected ";
  for (let i = 0; i < keys.length; i++) out += (i == 0 ? "" : i == keys.length - 1 ? " or " : ", ") + "\"" + unchecked(keys[i]) + "\"";
  return out + ")";
}

/** null when `text` is one well-formed JSON value; otherwise what was expected, where. */
export function checkJson(text: string): string | null {
  const reader = new JsonReader(text);
  return reader.skip(0) && reader.end() ? null : reader.error;
}
