// A small path matcher (AssemblyScript has no RegExp). A pattern is literal text with
// captures: `{name}` matches one path segment (one or more characters, no `/`), `{name*}`
// matches the rest of the path (zero or more characters, `/` included). A template is
// literal text with `{name}` references to the captures of the pattern it goes with.
//
//   from "/banana/{n}"         to "/status/{n}"      /banana/418     → /status/418
//   from "/api/v1/{rest*}"     to "/v2/{rest}"       /api/v1/a/b     → /v2/a/b

class Part {
  constructor(public text: string, public capture: bool, public rest: bool) {}
}

/** Splits `text` into literal and `{…}` parts; null (and `error` set) when malformed. */
function parseParts(text: string, allowRest: bool, errors: string[]): Part[] | null {
  const parts: Part[] = [];
  let i = 0;
  while (i < text.length) {
    const open = text.indexOf("{", i);
    const close = text.indexOf("}", i);
    if (close >= 0 && (open < 0 || close < open)) {
      errors.push(`unmatched "}" at position ${close} of "${text}"`);
      return null;
    }
    if (open < 0) {
      parts.push(new Part(text.substring(i), false, false));
      break;
    }
    if (open > i) parts.push(new Part(text.substring(i, open), false, false));
    if (close < 0) {
      errors.push(`unclosed "{" at position ${open} of "${text}"`);
      return null;
    }
    let name = text.substring(open + 1, close);
    const rest = name.endsWith("*");
    if (rest) name = name.substring(0, name.length - 1);
    if (name.length == 0 || name.includes("{")) {
      errors.push(`bad capture "${text.substring(open, close + 1)}" in "${text}": expected {name} or {name*}`);
      return null;
    }
    if (rest && !allowRest) {
      errors.push(`"{${name}*}" in "${text}": a template refers to captures as {${name}}`);
      return null;
    }
    parts.push(new Part(name, true, rest));
    i = close + 1;
  }
  return parts;
}

export class PathPattern {
  private constructor(private parts: Part[]) {}

  /** The pattern, or null with a message in `errors`. */
  static parse(text: string, errors: string[]): PathPattern | null {
    if (!text.startsWith("/")) {
      errors.push(`pattern "${text}" must start with "/"`);
      return null;
    }
    const parts = parseParts(text, true, errors);
    if (parts == null) return null;
    for (let i = 1; i < parts.length; i++) {
      if (parts[i].capture && parts[i - 1].capture) {
        errors.push(`captures {${parts[i - 1].text}} and {${parts[i].text}} in "${text}" need literal text between them`);
        return null;
      }
    }
    return new PathPattern(parts);
  }

  names(): string[] {
    const names: string[] = [];
    for (let i = 0; i < this.parts.length; i++) if (this.parts[i].capture) names.push(this.parts[i].text);
    return names;
  }

  /** The captures when `path` matches the whole pattern, else null. */
  match(path: string): Map<string, string> | null {
    const captures = new Map<string, string>();
    return this.matchFrom(0, path, 0, captures) ? captures : null;
  }

  private matchFrom(index: i32, path: string, at: i32, captures: Map<string, string>): bool {
    if (index == this.parts.length) return at == path.length;
    const part = this.parts[index];
    if (!part.capture) {
      if (!path.startsWith(part.text, at)) return false;
      return this.matchFrom(index + 1, path, at + part.text.length, captures);
    }
    // The longest run first; shorter ones when what follows does not match.
    let end = path.length;
    if (!part.rest) {
      const slash = path.indexOf("/", at);
      if (slash >= 0) end = slash;
    }
    const shortest = part.rest ? at : at + 1;
    for (let stop = end; stop >= shortest; stop--) {
      if (this.matchFrom(index + 1, path, stop, captures)) {
        captures.set(part.text, path.substring(at, stop));
        return true;
      }
    }
    return false;
  }
}

export class PathTemplate {
  private constructor(private parts: Part[]) {}

  /** The template, or null with a message in `errors` (also for a name `pattern` lacks). */
  static parse(text: string, pattern: PathPattern, errors: string[]): PathTemplate | null {
    const parts = parseParts(text, false, errors);
    if (parts == null) return null;
    const names = pattern.names();
    for (let i = 0; i < parts.length; i++) {
      if (parts[i].capture && !names.includes(parts[i].text)) {
        errors.push(`template "${text}" refers to {${parts[i].text}}, which its pattern does not capture`);
        return null;
      }
    }
    return new PathTemplate(parts);
  }

  render(captures: Map<string, string>): string {
    let out = "";
    for (let i = 0; i < this.parts.length; i++) {
      const part = this.parts[i];
      out += part.capture ? captures.get(part.text) : part.text;
    }
    return out;
  }
}
