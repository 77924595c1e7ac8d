// Two types the SDK's JSON reader (sdk/json-reader.ts) builds for a filter that wants a
// smaller module than the general ones give: a number kept as its text (no float parser or
// formatter) and an object of strings kept as two arrays (no hashing). The reader reads them
// by their own rules, not as objects of their fields, and the SDK's transform knows them by
// name (a filter reading them leaves json-as out). For json-as, where a build keeps it
// (safeJson.stringify, a class json-as builds), they bring their own serializer and
// deserializer: a number, and an object of strings.
import { JSON } from "json-as";
import { JsonReader } from "./json-reader";

/**
 * A JSON number as it was written (`1.5e3`, `-0.25`): a field of this type takes any number
 * an f64 field takes (the same checks and messages) without converting it, so a filter that
 * compares or prints numbers links neither the float parser (parseFloat, about 1.7 KB) nor
 * the formatter (f64#toString, about 2.7 KB). `text` is "" for one not read: an absent
 * `@optional` field keeps its initializer.
 */
@json
export class JsonNumber {
  text: string;

  constructor(text: string = "") {
    this.text = text;
  }

  /** The value as parseFloat reads it (NaN for ""): this links the float parser. */
  toF64(): f64 {
    return parseFloat(this.text);
  }

  /** The value × 10^decimals rounded up (toward +∞) to an integer, exactly; i64's limits beyond them. */
  ceil(decimals: i32 = 0): i64 {
    return scaled(this.text, decimals, true);
  }

  /** The value × 10^decimals rounded down (toward -∞) to an integer, exactly; i64's limits beyond them. */
  floor(decimals: i32 = 0): i64 {
    return scaled(this.text, decimals, false);
  }

  /** For json-as: the number as written; null for one never read (""). */
  // @ts-ignore: decorator
  @serializer("number")
  serializer(self: JsonNumber): string {
    return self.text.length ? self.text : "null";
  }

  /** For json-as: the number's text as it stands. */
  // @ts-ignore: decorator
  @deserializer("number")
  deserializer(data: string): JsonNumber {
    return new JsonNumber(data.trim());
  }
}

/** `text` (a JSON number) × 10^decimals rounded up or down, in decimal digits: no float on the way. */
function scaled(text: string, decimals: i32, up: bool): i64 {
  // The digits as an integer (the first 19 or so: those below are kept only as `rest`), and
  // the power of ten that scales it.
  let magnitude: u64 = 0;
  let shift = decimals;
  let rest = false; // a digit other than 0 below those kept
  let negative = false;
  let fraction = false;
  let exponent = -1; // -1 before an "e" or "E"
  let exponentNegative = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const digit = c - 0x30;
    if (<u32>digit <= 9) {
      if (exponent >= 0) {
        exponent = min(exponent * 10 + digit, 1_000_000);
      } else if (magnitude < 1_000_000_000_000_000_000) {
        magnitude = magnitude * 10 + <u64>digit;
        if (fraction) shift--;
      } else {
        if (digit != 0) rest = true;
        if (!fraction) shift++;
      }
    } else if (c == 0x2e) {
      fraction = true;
    } else if (c == 0x2d) {
      if (exponent < 0) negative = true;
      else exponentNegative = true;
    } else if (c != 0x2b) {
      exponent = 0;
    }
  }
  if (exponent > 0) shift += exponentNegative ? -exponent : exponent;
  for (; shift < 0 && magnitude != 0; shift++) {
    if (magnitude % 10 != 0) rest = true;
    magnitude /= 10;
  }
  for (; shift > 0 && magnitude != 0 && magnitude < 1_000_000_000_000_000_000; shift--) magnitude *= 10;
  if (rest && up != negative) magnitude++;
  // Past i64: over its largest, or still to be multiplied from 10^18 on.
  if (magnitude > <u64>i64.MAX_VALUE || shift > 0 && magnitude != 0) return negative ? i64.MIN_VALUE : i64.MAX_VALUE;
  return negative ? -(<i64>magnitude) : <i64>magnitude;
}

/**
 * A JSON object whose members are strings, in their order: `names[i]` → `values[i]`. What a
 * field such as `{"sub": "x-jwt-sub"}` reads into without a Map (Map<string, string> links
 * about 1.1 KB more: the hashing). Lookups go through the names one by one: for the few
 * members of a configuration. A name given twice keeps its first place and its last value,
 * as a Map does.
 */
@json
export class StringPairs {
  names: string[] = [];
  values: string[] = [];

  /** The place of `name`, or -1. */
  indexOf(name: string): i32 {
    const names = this.names;
    for (let i = 0; i < names.length; i++) if (unchecked(names[i]) == name) return i;
    return -1;
  }

  /** The value of `name`, or null. */
  get(name: string): string | null {
    const i = this.indexOf(name);
    return i < 0 ? null : unchecked(this.values[i]);
  }

  /** Sets the value of `name`: in its place when there, else added last. */
  set(name: string, value: string): void {
    const i = this.indexOf(name);
    if (i >= 0) {
      unchecked(this.values[i] = value);
      return;
    }
    this.names.push(name);
    this.values.push(value);
  }

  /** For json-as: an object of the pairs in their order. */
  // @ts-ignore: decorator
  @serializer("object")
  serializer(self: StringPairs): string {
    let out = "{";
    for (let i = 0; i < self.names.length; i++) {
      if (i) out += ",";
      out += JSON.stringify<string>(unchecked(self.names[i])) + ":" + JSON.stringify<string>(unchecked(self.values[i]));
    }
    return out + "}";
  }

  /** For json-as: an object of strings, read by the SDK's reader as it reads one anywhere (the reader checked it already). */
  // @ts-ignore: decorator
  @deserializer("object")
  deserializer(data: string): StringPairs {
    return new JsonReader(data).read<StringPairs>(0);
  }
}
