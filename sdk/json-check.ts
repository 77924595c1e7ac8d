// A JSON syntax check (RFC 8259), run before json-as parses: json-as aborts on malformed
// input and AssemblyScript cannot catch, so a bad configuration must be caught here.

class Checker {
  pos: i32 = 0;
  error: string | null = null;
  constructor(private text: string) {}

  fail(expected: string): bool {
    if (this.error == null) {
      const found = this.pos < this.text.length ? `"${this.text.charAt(this.pos)}"` : "end of input";
      this.error = `expected ${expected} at position ${this.pos}, found ${found}`;
    }
    return false;
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

  value(depth: i32): bool {
    if (depth > 64) return this.fail("nesting no deeper than 64");
    this.skipSpace();
    const c = this.peek();
    if (c == 0x7b) return this.object(depth);
    if (c == 0x5b) return this.array(depth);
    if (c == 0x22) return this.string();
    if (c == 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    if (this.word("true") || this.word("false") || this.word("null")) return true;
    return this.fail("a JSON value");
  }

  word(w: string): bool {
    if (this.text.substr(this.pos, w.length) != w) return false;
    this.pos += w.length;
    return true;
  }

  object(depth: i32): bool {
    this.pos++; // {
    this.skipSpace();
    if (this.peek() == 0x7d) { this.pos++; return true; }
    while (true) {
      this.skipSpace();
      if (this.peek() != 0x22) return this.fail("a quoted member name");
      if (!this.string()) return false;
      this.skipSpace();
      if (this.peek() != 0x3a) return this.fail('":"');
      this.pos++;
      if (!this.value(depth + 1)) return false;
      this.skipSpace();
      const c = this.peek();
      this.pos++;
      if (c == 0x7d) return true;
      if (c != 0x2c) { this.pos--; return this.fail('"," or "}"'); }
    }
  }

  array(depth: i32): bool {
    this.pos++; // [
    this.skipSpace();
    if (this.peek() == 0x5d) { this.pos++; return true; }
    while (true) {
      if (!this.value(depth + 1)) return false;
      this.skipSpace();
      const c = this.peek();
      this.pos++;
      if (c == 0x5d) return true;
      if (c != 0x2c) { this.pos--; return this.fail('"," or "]"'); }
    }
  }

  string(): bool {
    this.pos++; // opening quote
    while (true) {
      const c = this.peek();
      if (c < 0) return this.fail("a closing quote");
      if (c < 0x20) return this.fail("no control character inside a string");
      this.pos++;
      if (c == 0x22) return true;
      if (c == 0x5c) {
        const e = this.peek();
        if (e == 0x75) {
          this.pos++;
          for (let i = 0; i < 4; i++) {
            const h = this.peek();
            if (!((h >= 0x30 && h <= 0x39) || (h >= 0x41 && h <= 0x46) || (h >= 0x61 && h <= 0x66))) return this.fail("four hex digits after \\u");
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

  digits(): bool {
    const start = this.pos;
    while (this.peek() >= 0x30 && this.peek() <= 0x39) this.pos++;
    return this.pos > start;
  }

  number(): bool {
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

/** null when `text` is one well-formed JSON value; otherwise what was expected, and where. */
export function checkJson(text: string): string | null {
  const checker = new Checker(text);
  if (!checker.value(0)) return checker.error;
  checker.skipSpace();
  if (checker.pos != text.length) {
    checker.fail("end of input after the JSON value");
    return checker.error;
  }
  return null;
}
