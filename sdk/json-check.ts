// The JSON checker run before json-as parses: json-as aborts on malformed input and
// AssemblyScript cannot catch, and it trusts the text to have T's shape (it reads `3.5` into
// an i32 as 285 and `"three"` as 0, passes missing and unknown fields silently). So the text
// is checked first, in one pass, against the JSON grammar (RFC 8259) and, when T is known,
// against T's shape: the first problem is reported with its JSON path and position, as serde
// and Go's encoding/json do:
//
//   {"limits": [{"rate": 1}, {"rate": 2}, {"rate": "three"}]}
//   $.limits[2].rate: expected an integer from -2147483648 to 2147483647, found "three" at line 1 column 48
//
// T's shape comes from the type system where AssemblyScript can answer at compile time (bool,
// integers and their ranges, floats, strings, nullability, arrays, maps with string keys) and,
// for a class marked @json, from three members the SDK's transform (sdk/transform.js) adds:
// `__PWAS_KEYS()` (the JSON names of its fields), `__PWAS_REQUIRED()` (which of them must be
// present: those not marked @optional and not nullable) and `__PWAS_FIELD(checker, index,
// depth)` (checks the value of field `index` as its declared type). Any other type (Set, Date,
// typed arrays, JSON.Value, a class with a custom deserializer) is checked for syntax only.

import { JSON } from "json-as";

const MAX_DEPTH = 64;

// @ts-ignore: decorator
@inline function isDigit(c: i32): bool { return c >= 0x30 && c <= 0x39; }

export class JsonChecker {
  pos: i32 = 0;
  error: string | null = null;
  // The path to the value being checked: pairs (start, end) of a member name's raw text
  // between its quotes, or (-1, index) for an array element. Formatted only on error.
  private path: i32[] = [];

  /** Skip members a @json class does not declare, as serde and Go do by default (true), or refuse them (false). */
  ignoreUnknown: bool = false;

  constructor(private text: string) {}

  /** Fails with `expected <expected>, found <what is at pos>`. Always false. */
  fail(expected: string): bool {
    return this.report(`expected ${expected}, found ${this.found()}`);
  }

  /** Records `message` (the first one wins) with the current path and position. Always false. */
  report(message: string): bool {
    if (this.error == null) this.error = `${this.pathText()}: ${message} at ${this.where(this.pos)}`;
    return false;
  }

  private where(pos: i32): string {
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < pos && i < this.text.length; i++) {
      if (this.text.charCodeAt(i) == 0x0a) { line++; lineStart = i + 1; }
    }
    return `line ${line} column ${pos - lineStart + 1}`;
  }

  private pathText(): string {
    let out = "$";
    for (let i = 0; i < this.path.length; i += 2) {
      const start = this.path[i];
      const end = this.path[i + 1];
      if (start < 0) { out += `[${end}]`; continue; }
      const name = this.text.substring(start, end);
      out += isIdentifier(name) ? "." + name : `["${name}"]`;
    }
    return out;
  }

  /** What is at pos, as a message shows it: a short value, "an object", "end of input", … */
  private found(): string {
    const c = this.peek();
    if (c < 0) return "end of input";
    if (c == 0x7b) return "an object";
    if (c == 0x5b) return "an array";
    let end = this.pos;
    if (c == 0x22) {
      end++;
      while (end < this.text.length && this.text.charCodeAt(end) != 0x22) end += this.text.charCodeAt(end) == 0x5c ? 2 : 1;
      end = min(end + 1, this.text.length);
    } else {
      while (end < this.text.length && isValueChar(this.text.charCodeAt(end))) end++;
      if (end == this.pos) return `"${this.text.charAt(this.pos)}"`;
    }
    const token = this.text.substring(this.pos, end);
    return token.length > 40 ? token.substring(0, 37) + "..." : token;
  }

  peek(): i32 {
    return this.pos < this.text.length ? this.text.charCodeAt(this.pos) : -1;
  }

  skipSpace(): void {
    while (true) {
      const c = this.peek();
      if (c != 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) return;
      this.pos++;
    }
  }

  /** The whole text is one JSON value of type T (or any JSON value, for T = JSON.Value and the like). */
  document<T>(): bool {
    if (!this.check<T>(0)) return false;
    this.skipSpace();
    return this.pos == this.text.length || this.fail("end of input after the JSON value");
  }

  /** Checks the value at pos as a T and moves past it. The transform's __PWAS_FIELD calls this. */
  check<T>(depth: i32): bool {
    if (depth > MAX_DEPTH) return this.report("nesting deeper than 64");
    this.skipSpace();
    const c = this.peek();
    if (isBoolean<T>()) {
      return this.word("true") || this.word("false") || this.fail("true or false");
    } else if (isInteger<T>()) {
      return this.integer<T>();
    } else if (isFloat<T>()) {
      return c == 0x2d || isDigit(c) ? this.number() : this.fail("a number");
    } else if (isReference<T>()) {
      if (c == 0x6e && this.word("null")) {
        if (isNullable<T>()) return true;
        this.pos -= 4;
      }
      if (isString<T>()) {
        return c == 0x22 ? this.string() : this.fail("a string");
      } else if (isArray<T>()) {
        // @ts-ignore: AssemblyScript's valueof/indexof on a type the editor cannot narrow
        return c == 0x5b ? this.array<valueof<nonnull<T>>>(depth) : this.fail("an array");
      }
      const probe = changetype<nonnull<T>>(0);
      if (probe instanceof Map) {
        // @ts-ignore: AssemblyScript's valueof/indexof on a type the editor cannot narrow
        if (!isString<indexof<nonnull<T>>>()) return this.any(depth);
        // @ts-ignore: AssemblyScript's valueof/indexof on a type the editor cannot narrow
        return c == 0x7b ? this.map<valueof<nonnull<T>>>(depth) : this.fail("an object");
      }
      // json-as's own dynamic containers: their kind is known, their contents are anything.
      // @ts-ignore: json-as types beyond the editor's declarations (sdk/types/json-as.d.ts)
      if (probe instanceof JSON.Obj) return c == 0x7b ? this.any(depth) : this.fail("an object");
      // @ts-ignore: json-as types beyond the editor's declarations (sdk/types/json-as.d.ts)
      if (probe instanceof JSON.Arr) return c == 0x5b ? this.any(depth) : this.fail("an array");
      // @ts-ignore: members json-as and the SDK's transform add to @json classes
      if (isDefined(probe.__PWAS_KEYS)) {
        return c == 0x7b ? this.object<nonnull<T>>(depth) : this.fail("an object");
      }
      // A @json class whose fields the transform could not describe is still an object to
      // json-as, unless it brings its own deserializer.
      // @ts-ignore: members json-as and the SDK's transform add to @json classes
      if (isDefined(probe.__DESERIALIZE_SLOW) && !isDefined(probe.__DESERIALIZE_CUSTOM)) {
        return c == 0x7b ? this.any(depth) : this.fail("an object");
      }
    }
    return this.any(depth);
  }

  private integer<T>(): bool {
    const start = this.pos;
    const c = this.peek();
    // json-as aborts on "-0" for an unsigned type, so no sign at all there.
    if (!isDigit(c) && (c != 0x2d || !isSigned<T>())) return this.fail(integerRange<T>());
    if (!this.number()) return false;
    const negative = c == 0x2d;
    let magnitude: u64 = 0;
    let overflow = false;
    for (let i = negative ? start + 1 : start; i < this.pos; i++) {
      const d = this.text.charCodeAt(i);
      if (!isDigit(d)) { this.pos = start; return this.fail("an integer"); } // a fraction or an exponent
      const digit = <u64>(d - 0x30);
      if (magnitude > u64.MAX_VALUE / 10 || (magnitude == u64.MAX_VALUE / 10 && digit > u64.MAX_VALUE % 10)) overflow = true;
      magnitude = magnitude * 10 + digit;
    }
    if (overflow || magnitude > (negative ? maxNegative<T>() : maxPositive<T>())) {
      this.pos = start;
      return this.fail(integerRange<T>());
    }
    return true;
  }

  private array<E>(depth: i32): bool {
    this.pos++; // [
    this.skipSpace();
    if (this.peek() == 0x5d) { this.pos++; return true; }
    this.path.push(-1);
    this.path.push(0);
    let index = 0;
    while (true) {
      this.path[this.path.length - 1] = index++;
      if (!this.check<E>(depth + 1)) return false;
      this.skipSpace();
      const c = this.peek();
      if (c != 0x2c) {
        this.path.length -= 2; // what follows an element belongs to the array
        if (c != 0x5d) return this.fail('"," or "]"');
        this.pos++;
        return true;
      }
      this.pos++;
    }
  }

  // A member name: its raw text lies between keyStart and keyEnd; pushed on the path.
  private keyStart: i32 = 0;
  private keyEnd: i32 = 0;

  /** Reads `"name" :` and pushes the name on the path. */
  private member(): bool {
    this.skipSpace();
    if (this.peek() != 0x22) return this.fail("a quoted member name");
    this.keyStart = this.pos + 1;
    if (!this.string()) return false;
    this.keyEnd = this.pos - 1;
    this.path.push(this.keyStart);
    this.path.push(this.keyEnd);
    this.skipSpace();
    if (this.peek() != 0x3a) return this.fail('":"');
    this.pos++;
    return true;
  }

  /** After a member's value: `,` (true, another member follows) or `}` (done is set). */
  private afterMember(): bool {
    this.path.length -= 2;
    this.skipSpace();
    const c = this.peek();
    if (c == 0x7d) { this.pos++; this.closed = true; return true; }
    if (c != 0x2c) return this.fail('"," or "}"');
    this.pos++;
    return true;
  }
  private closed: bool = false;

  private map<V>(depth: i32): bool {
    this.pos++; // {
    this.skipSpace();
    if (this.peek() == 0x7d) { this.pos++; return true; }
    this.closed = false;
    while (!this.closed) {
      if (!this.member() || !this.check<V>(depth + 1) || !this.afterMember()) return false;
    }
    this.closed = false;
    return true;
  }

  private object<T>(depth: i32): bool {
    const shape = changetype<T>(0);
    // @ts-ignore: members json-as and the SDK's transform add to @json classes
    const keys = shape.__PWAS_KEYS();
    // @ts-ignore: members json-as and the SDK's transform add to @json classes
    const required = shape.__PWAS_REQUIRED();
    const open = this.pos;
    const seen = new StaticArray<bool>(keys.length);
    this.pos++; // {
    this.skipSpace();
    this.closed = this.peek() == 0x7d;
    if (this.closed) this.pos++;
    while (!this.closed) {
      if (!this.member()) return false;
      const keyAt = this.keyStart - 1;
      const index = this.lookup(keys);
      if (index < 0) {
        if (this.ignoreUnknown) {
          if (!this.any(depth + 1) || !this.afterMember()) return false;
          continue;
        }
        this.pos = keyAt;
        return this.report(`unknown field${knownFields(keys)}`);
      }
      if (seen[index]) {
        this.pos = keyAt;
        return this.report("duplicate field");
      }
      seen[index] = true;
      // @ts-ignore: members json-as and the SDK's transform add to @json classes
      if (!shape.__PWAS_FIELD<JsonChecker>(this, index, depth + 1) || !this.afterMember()) return false;
    }
    this.closed = false;
    for (let i = 0; i < keys.length; i++) {
      if (required[i] && !seen[i]) {
        const end = this.pos;
        this.pos = open;
        this.report(`missing field "${keys[i]}"`);
        this.pos = end;
        return false;
      }
    }
    return true;
  }

  /** The index in `keys` of the member name just read, or -1. */
  private lookup(keys: StaticArray<string>): i32 {
    let name = this.text.substring(this.keyStart, this.keyEnd);
    if (name.includes("\\")) name = unescape(name);
    for (let i = 0; i < keys.length; i++) if (keys[i] == name) return i;
    return -1;
  }

  /** Any JSON value (syntax only); member names and indexes still go on the path for messages. */
  any(depth: i32): bool {
    if (depth > MAX_DEPTH) return this.report("nesting deeper than 64");
    this.skipSpace();
    const c = this.peek();
    if (c == 0x7b) {
      this.pos++;
      this.skipSpace();
      if (this.peek() == 0x7d) { this.pos++; return true; }
      this.closed = false;
      while (!this.closed) {
        if (!this.member() || !this.any(depth + 1) || !this.afterMember()) return false;
      }
      this.closed = false;
      return true;
    }
    if (c == 0x5b) return this.array<JsonChecker>(depth); // JsonChecker: no shape, so any()
    if (c == 0x22) return this.string();
    if (c == 0x2d || isDigit(c)) return this.number();
    if (this.word("true") || this.word("false") || this.word("null")) return true;
    return this.fail("a JSON value");
  }

  /**
   * With pos at a JSON object: finds its member `name` and answers where that member's value
   * starts (pos then at its end), or -1 when the object has none (or the text is malformed).
   */
  findMember(name: string): i32 {
    this.skipSpace();
    if (this.peek() != 0x7b) return -1;
    this.pos++;
    this.skipSpace();
    if (this.peek() == 0x7d) return -1;
    this.closed = false;
    while (!this.closed) {
      if (!this.member()) return -1;
      let key = this.text.substring(this.keyStart, this.keyEnd);
      if (key.includes("\\")) key = unescape(key);
      this.skipSpace();
      const start = this.pos;
      if (!this.any(1)) return -1;
      if (key == name) return start;
      if (!this.afterMember()) return -1;
    }
    return -1;
  }

  private word(w: string): bool {
    if (this.text.substr(this.pos, w.length) != w) return false;
    this.pos += w.length;
    return true;
  }

  private string(): bool {
    this.pos++; // opening quote
    while (true) {
      const c = this.peek();
      if (c < 0) return this.fail("a closing quote");
      if (c < 0x20) return this.report("control character inside a string");
      this.pos++;
      if (c == 0x22) return true;
      if (c == 0x5c) {
        const e = this.peek();
        if (e == 0x75) {
          this.pos++;
          for (let i = 0; i < 4; i++) {
            if (hexValue(this.peek()) < 0) return this.fail("four hex digits after \\u");
            this.pos++;
          }
        } else if (e == 0x22 || e == 0x5c || e == 0x2f || e == 0x62 || e == 0x66 || e == 0x6e || e == 0x72 || e == 0x74) {
          this.pos++;
        } else {
          return this.fail("an escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)");
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
    if (this.peek() == 0x2d) this.pos++;
    if (this.peek() == 0x30) this.pos++;
    else if (!this.digits()) return this.fail("a digit");
    if (this.peek() == 0x2e) {
      this.pos++;
      if (!this.digits()) return this.fail("a digit after the decimal point");
    }
    if (this.peek() == 0x65 || this.peek() == 0x45) {
      this.pos++;
      if (this.peek() == 0x2b || this.peek() == 0x2d) this.pos++;
      if (!this.digits()) return this.fail("a digit in the exponent");
    }
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
function integerRange<T>(): string {
  return `an integer from ${isSigned<T>() ? "-" + maxNegative<T>().toString() : "0"} to ${maxPositive<T>().toString()}`;
}

function isIdentifier(name: string): bool {
  if (name.length == 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const letter = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x5f || c == 0x24;
    if (!letter && !(i > 0 && isDigit(c))) return false;
  }
  return true;
}

// Characters of a bare token (number, true, false, null, or a mistyped word) for messages.
function isValueChar(c: i32): bool {
  return isDigit(c) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x2d || c == 0x2b || c == 0x2e || c == 0x5f;
}

function hexValue(c: i32): i32 {
  if (isDigit(c)) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** A member name's or string's escapes resolved (the text has passed the string check). */
export function unescape(raw: string): string {
  let out = "";
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c != 0x5c) { out += String.fromCharCode(c); continue; }
    const e = raw.charCodeAt(++i);
    if (e == 0x75) {
      out += String.fromCharCode((hexValue(raw.charCodeAt(i + 1)) << 12) | (hexValue(raw.charCodeAt(i + 2)) << 8) |
        (hexValue(raw.charCodeAt(i + 3)) << 4) | hexValue(raw.charCodeAt(i + 4)));
      i += 4;
    } else {
      out += e == 0x62 ? "\b" : e == 0x66 ? "\f" : e == 0x6e ? "\n" : e == 0x72 ? "\r" : e == 0x74 ? "\t" : String.fromCharCode(e);
    }
  }
  return out;
}

function knownFields(keys: StaticArray<string>): string {
  if (keys.length == 0) return " (none are expected here)";
  let out = " (expected ";
  for (let i = 0; i < keys.length; i++) out += (i == 0 ? "" : i == keys.length - 1 ? " or " : ", ") + `"${keys[i]}"`;
  return out + ")";
}

/** null when `text` is one well-formed JSON value; otherwise what was expected, where. */
export function checkJson(text: string): string | null {
  const checker = new JsonChecker(text);
  return checker.document<JsonChecker>() ? null : checker.error;
}

/**
 * null when `text` is a JSON value of type T's shape; otherwise the first problem, with its
 * path and position. Members a @json class does not declare are refused unless `ignoreUnknown`.
 */
export function checkJsonAs<T>(text: string, ignoreUnknown: bool = false): string | null {
  const checker = new JsonChecker(text);
  checker.ignoreUnknown = ignoreUnknown;
  return checker.document<T>() ? null : checker.error;
}

/**
 * The value of `text`'s top-level member `name` as text: a string's characters (escapes
 * resolved), anything else as its JSON (`5`, `true`, `[1,2]`); null when `text` is not a
 * well-formed JSON object or has no such member.
 */
export function memberText(text: string, name: string): string | null {
  if (checkJson(text) != null) return null;
  const checker = new JsonChecker(text);
  const start = checker.findMember(name);
  if (start < 0) return null;
  const raw = text.substring(start, checker.pos);
  return raw.charCodeAt(0) == 0x22 ? unescape(raw.substring(1, raw.length - 1)) : raw;
}
