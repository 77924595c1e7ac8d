// Walks parsed configuration with the path of every value at hand, so an error names the
// file, the path in it (and its line when known), what was expected and what was found.
import { closest, ENVOY_MESSAGES } from "./envoy-fields.ts";

export class ConfigError extends Error {
  override name = "ConfigError";
}

export type Locate = (path: (string | number)[]) => string;

function describe(value: unknown): string {
  if (value === null || value === undefined) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value)}`;
  return `${typeof value} ${String(value)}`;
}

/** One value in the configuration, with where it is. */
export class Node {
  constructor(
    readonly value: unknown,
    readonly path: (string | number)[],
    private readonly ctx: { file: string; locate: Locate; warnings: string[] },
  ) {}

  get where(): string {
    const path = this.path.length ? this.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${p}`)).join("").slice(1) : "(top level)";
    const line = this.ctx.locate(this.path);
    return `${this.ctx.file}${line}: ${path}`;
  }

  fail(expected: string): never {
    throw new ConfigError(`${this.where}: expected ${expected}, found ${describe(this.value)}`);
  }

  get present(): boolean {
    return this.value !== undefined && this.value !== null;
  }

  /** A field of this mapping (absent fields are nodes whose value is undefined). */
  field(key: string): Node {
    const map = this.mapping();
    return new Node(map[key], [...this.path, key], this.ctx);
  }

  mapping(): Record<string, unknown> {
    if (this.value === undefined || this.value === null) return {};
    if (typeof this.value !== "object" || Array.isArray(this.value)) this.fail("a mapping");
    return this.value as Record<string, unknown>;
  }

  /**
   * Checks the fields of this mapping, an Envoy `message`: those outside `known` (what this
   * host implements) are warned about when Envoy has them and they cannot change behaviour,
   * refused when Envoy has them and they would, and refused as unknown (naming the closest
   * field Envoy has) when Envoy does not have them.
   */
  only(message: string, ...known: string[]): this {
    const envoy = ENVOY_MESSAGES[message] ?? { harmless: [], unsupported: [] };
    for (const key of Object.keys(this.mapping())) {
      if (known.includes(key) || key === "@type") continue;
      const at = new Node(undefined, [...this.path, key], this.ctx).where;
      if (envoy.harmless.includes(key)) {
        this.ctx.warnings.push(`${at}: not supported by this host; ignored`);
      } else if (envoy.unsupported.includes(key)) {
        throw new ConfigError(`${at}: ${message}.${key} is not supported by this host (it would change what the proxy does)`);
      } else {
        const guess = closest(key, [...known, ...envoy.harmless, ...envoy.unsupported]);
        throw new ConfigError(`${at}: unknown field ${JSON.stringify(key)} in ${message}${guess ? `; did you mean ${guess}?` : ""}`);
      }
    }
    return this;
  }

  /**
   * A google.protobuf.Any as Envoy reads it: the message, and its type (the full name, from
   * its "@type"). A udpa.type.v1.TypedStruct or xds.type.v3.TypedStruct wrapper is unwrapped:
   * the message is its `value`, its type the one `type_url` names. Type null: no "@type".
   */
  anyMessage(): { message: Node; type: string | null } {
    const typeOf = (url: unknown) => (typeof url === "string" && url.length ? url.slice(url.lastIndexOf("/") + 1) : null);
    const type = typeOf(this.mapping()["@type"]);
    if (type !== "udpa.type.v1.TypedStruct" && type !== "xds.type.v3.TypedStruct") return { message: this, type };
    this.only("TypedStruct", "type_url", "value");
    const url = this.field("type_url");
    const inner = typeOf(url.value);
    if (inner === null) url.fail(`the type_url of the message this ${type} carries`);
    const value = this.field("value");
    value.mapping(); // a mapping (or nothing), as a Struct is
    return { message: value, type: inner };
  }

  list(): Node[] {
    if (!this.present) return [];
    if (!Array.isArray(this.value)) this.fail("a list");
    return (this.value as unknown[]).map((v, i) => new Node(v, [...this.path, i], this.ctx));
  }

  string(fallback?: string): string {
    if (!this.present && fallback !== undefined) return fallback;
    if (typeof this.value === "number" || typeof this.value === "boolean") return String(this.value);
    if (typeof this.value !== "string") this.fail("a string");
    return this.value as string;
  }

  bool(fallback: boolean): boolean {
    if (!this.present) return fallback;
    if (typeof this.value !== "boolean") this.fail("true or false");
    return this.value as boolean;
  }

  port(): number {
    const n = typeof this.value === "string" && /^\d+$/.test(this.value) ? Number(this.value) : this.value;
    if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > 65535) this.fail("a port number (0-65535)");
    return n as number;
  }

  integer(fallback: number): number {
    if (!this.present) return fallback;
    const n = typeof this.value === "string" && /^\d+$/.test(this.value) ? Number(this.value) : this.value;
    if (typeof n !== "number" || !Number.isInteger(n) || n < 0) this.fail("a whole number");
    return n as number;
  }

  /** A protobuf Duration as Envoy's YAML writes it ("1.5s", "250ms" is not valid there); in ms. */
  duration(fallbackMs: number): number {
    if (!this.present) return fallbackMs;
    const text = typeof this.value === "number" ? `${this.value}s` : this.value;
    const m = typeof text === "string" ? /^(\d+(?:\.\d+)?)s$/.exec(text.trim()) : null;
    if (!m) this.fail('a duration such as "1s" or "0.25s"');
    return Math.round(Number(m![1]) * 1000);
  }

  /** One of `choices` (Envoy's enum names). */
  oneOf<T extends string>(choices: readonly T[], fallback: T): T {
    if (!this.present) return fallback;
    if (typeof this.value !== "string" || !choices.includes(this.value as T)) this.fail(`one of ${choices.join(", ")}`);
    return this.value as T;
  }

  warn(message: string): void {
    this.ctx.warnings.push(`${this.where}: ${message}`);
  }
}
