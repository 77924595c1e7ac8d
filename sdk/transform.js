// The SDK's compiler transform; `proxy-wasm-as build` passes it to every compile, after
// json-as's. It does three things:
//
// 1. It adds the ABI exports (sdk/abi/exports.ts: proxy_abi_version_0_2_1, malloc,
//    proxy_on_*) to every build, so a filter's entry file needs no export line. They are
//    added under the path the filter's own import of the SDK takes
//    (`~lib/proxy-wasm-as/sdk/…`), so one copy of the SDK is compiled.
//
// 2. It refuses a build that reaches the SDK by a relative path: that would compile a second
//    copy of the SDK beside the package's, with its own (empty) registry of root contexts.
//
// 3. It gives every class marked @json the members the SDK's JSON checker (sdk/json-check.ts)
//    reads T's shape from, so that config.parse<T> and safeJson.tryParse<T> can report a wrong
//    type, a missing field or an unknown one before json-as parses (json-as's own transform
//    generates parsing code, but no description of the fields that code could consult):
//      __PWAS_KEYS(): StaticArray<string>      the JSON names (an @alias, else the field's name)
//      __PWAS_REQUIRED(): StaticArray<bool>    not @optional and not nullable
//      __PWAS_FIELD<C>(c: C, i: i32, depth: i32): bool   c.check<type of field i>(depth)
//    The fields are the ones json-as reads: instance fields, not private, protected, static or
//    @omit (a lazy one as json-as lowered it: optional, of its getter's type), a parent @json
//    class's first (found by name). A class with a custom @deserializer gets none (its JSON
//    can be any shape), nor one whose parent class is not found: both are checked for syntax
//    only (and a class still has to be a JSON object).
//
// 4. json-as 1.6 marks any source whose path is `assembly/index` as a library, meaning its
//    own `assembly/index.ts`, but the template's filter lives at exactly that path: as a
//    library its top-level code (registerRootContext) would never run and the filter would
//    load with no root context. Such a source outside json-as is put back as an entry.
import { Transform } from "assemblyscript/transform";
import { ASTBuilder, CommonFlags, NodeKind, Parser, Source, SourceKind, Tokenizer } from "assemblyscript/dist/assemblyscript.js";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const USER_ENTRY = 1; // SourceKind.UserEntry
const LIBRARY = 2; // what json-as sets

const EXPORTS_FILE = fileURLToPath(new URL("./abi/exports.ts", import.meta.url));
const SDK = "~lib/proxy-wasm-as/sdk/";

export default class ProxyWasmTransform extends Transform {
  afterParse(parser) {
    const stray = parser.sources.find((source) => /(^|\/)sdk\/dispatcher$/.test(source.internalPath) && !source.internalPath.startsWith(SDK));
    if (stray) {
      throw new Error(`${stray.normalizedPath.replace(/\/dispatcher\.ts$/, "")} is the proxy-wasm-as SDK imported by a relative path: ` +
        `import it as "proxy-wasm-as/sdk" so that one copy of it is compiled`);
    }
    addJsonShapes(parser.sources);
    const internal = `${SDK}abi/exports`;
    if (parser.sources.some((source) => source.internalPath === internal)) return;
    const used = usedCallbacks(parser.sources);
    // asc parses this entry's imports (the dispatcher, contexts, …) right after afterParse.
    parser.parseFile(readFileSync(EXPORTS_FILE, "utf8"), `${internal}.ts`, true);
    const exports = parser.sources.find((source) => source.internalPath === internal);
    for (const statement of exports.statements) {
      // Not exported, a callback nothing handles is not compiled: the host treats a missing
      // proxy_on_* as "continue", as Envoy's does.
      if (statement.kind === NodeKind.FunctionDeclaration && !used(statement.name.text)) statement.flags &= ~CommonFlags.Export;
    }
  }

  // After every transform's afterParse (json-as's included), before compilation.
  afterInitialize(program) {
    for (const source of program.sources) {
      const fromJsonAs = source.normalizedPath.includes("node_modules/json-as/");
      if (source.internalPath === "assembly/index" && source.sourceKind === LIBRARY && !fromJsonAs) {
        source.sourceKind = USER_ENTRY;
      }
    }
  }
}

// The callbacks a filter can handle, each with the names whose presence in the filter's sources
// (its own files and any library besides the SDK) says it may: a module exports only those, so
// it links no dispatch code for what it never does (TCP, callouts, gRPC, ticks, queues).
const CALLBACKS = [
  [/^proxy_on_(request|response)_/, /\bHttpContext\b/],
  [/^proxy_on_(new_connection|downstream_|upstream_)/, /\bTcpContext\b/],
  [/^proxy_on_tick$/, /\bonTick\b/],
  [/^proxy_on_queue_ready$/, /\bonQueueReady\b/],
  [/^proxy_on_http_call_response$/, /\b(httpCall|onHttpCallResponse)\b/],
  [/^proxy_on_grpc_/, /\b(grpcCall|grpcStream|onGrpc\w*)\b/],
  [/^proxy_on_foreign_function$/, /\bonForeignFunction\b/],
];

/** Whether an export of sdk/abi/exports.ts is needed, judged from the text of every source outside the SDK and the standard library. */
function usedCallbacks(sources) {
  const texts = sources.filter((s) => !s.internalPath.startsWith(SDK) && !isStandardLibrary(s)).map((s) => s.text);
  return (name) => {
    const rule = CALLBACKS.find(([exported]) => exported.test(name));
    return !rule || texts.some((text) => rule[1].test(text));
  };
}
const isStandardLibrary = (source) => source.internalPath.startsWith("~lib/") && !source.normalizedPath.includes("node_modules/");

const hasDecorator = (node, ...names) => node.decorators?.some((d) => names.includes(d.name.text)) ?? false;
const isJsonClass = (node) => node.kind === NodeKind.ClassDeclaration && hasDecorator(node, "json", "serializable");

function classesIn(statements, out) {
  for (const statement of statements) {
    if (isJsonClass(statement)) out.push(statement);
    else if (statement.kind === NodeKind.NamespaceDeclaration) classesIn(statement.members, out);
  }
  return out;
}

/** The JSON fields of `node` as json-as reads them, a parent's first; null when they can't be known. */
function jsonFields(node, byName, seen = new Set()) {
  if (seen.has(node)) return null;
  seen.add(node);
  if (node.members.some((m) => m.kind === NodeKind.MethodDeclaration && hasDecorator(m, "deserializer"))) return null;
  let fields = [];
  if (node.extendsType) {
    // By name, the same file's class first (two files may each have a `Config`).
    const candidates = byName.get(node.extendsType.name.identifier.text) ?? [];
    const parent = candidates.find((c) => c.range.source === node.range.source) ?? candidates[0];
    const inherited = parent && jsonFields(parent, byName, seen);
    if (!inherited) return null;
    fields = inherited;
  }
  for (const member of node.members) {
    if (member.kind !== NodeKind.FieldDeclaration || !member.type || hasDecorator(member, "omit")) continue;
    const alias = member.decorators?.find((d) => d.name.text === "alias")?.args?.[0]?.value;
    // A lazy field (@lazy, JSON.Lazy<T>) json-as has already lowered to a private
    // `@alias("name") __name_lz` slot and a getter: its type is the getter's.
    const lazy = member.is(CommonFlags.Private) && alias !== undefined && /^__(.+)_lz$/.exec(member.name.text);
    if (lazy) {
      const getter = node.members.find((m) => m.kind === NodeKind.MethodDeclaration && m.is(CommonFlags.Get) && m.name.text === lazy[1]);
      const type = getter?.signature?.returnType;
      fields = fields.filter((f) => f.key !== String(alias)).concat({ key: String(alias), required: false, type: type ? ASTBuilder.build(type) : null });
      continue;
    }
    if (member.is(CommonFlags.Static) || member.is(CommonFlags.Private) || member.is(CommonFlags.Protected)) continue;
    const key = alias !== undefined ? String(alias) : member.name.text;
    const required = !hasDecorator(member, "optional") && !member.type.isNullable;
    fields = fields.filter((f) => f.key !== key).concat({ key, required, type: ASTBuilder.build(member.type) });
  }
  return fields;
}

/** Adds the shape members to every @json class in `sources`. */
function addJsonShapes(sources) {
  const classes = [];
  for (const source of sources) {
    if (source.normalizedPath.includes("node_modules/json-as/")) continue;
    classesIn(source.statements, classes);
  }
  const byName = new Map();
  for (const c of classes) byName.set(c.name.text, [...(byName.get(c.name.text) ?? []), c]);
  for (const node of classes) {
    if (node.members.some((m) => m.name?.text === "__PWAS_KEYS")) continue;
    const fields = jsonFields(node, byName);
    if (!fields) continue;
    const branches = fields.map((f, i) => `  if (i == ${i}) return ${f.type ? `c.check<${f.type}>(depth)` : "c.any(depth)"};\n`).join("");
    const members = [
      `__PWAS_KEYS(): StaticArray<string> { return [${fields.map((f) => JSON.stringify(f.key)).join(", ")}]; }`,
      `__PWAS_REQUIRED(): StaticArray<bool> { return [${fields.map((f) => f.required).join(", ")}]; }`,
      `__PWAS_FIELD<__C>(c: __C, i: i32, depth: i32): bool {\n${branches}  return false;\n}`,
    ];
    for (const text of members) {
      const tokenizer = new Tokenizer(new Source(SourceKind.User, node.range.source.normalizedPath, text));
      const member = new Parser().parseClassMember(tokenizer, node);
      if (!member) throw new Error(`proxy-wasm-as: could not add the JSON shape of ${node.name.text}`);
      node.members.push(member);
    }
  }
}
