// The SDK's compiler transform; `proxy-wasm-as build` passes it to every compile, after
// json-as's. It does five things:
//
// 1. It adds the ABI exports (sdk/abi/exports.ts: proxy_abi_version_0_2_1, malloc,
//    proxy_on_*) to every build, so a filter's entry file needs no export line. They are
//    added under the path the filter's own import of the SDK takes
//    (`~lib/proxy-wasm-as/sdk/…`), so one copy of the SDK is compiled.
//
// 2. It refuses a build that reaches the SDK by a relative path: that would compile a second
//    copy of the SDK beside the package's, with its own (empty) registry of root contexts.
//
// 3. It gives every class marked @json what the SDK's JSON reader (sdk/json-reader.ts)
//    builds it with, so that config.parse<T> and safeJson.tryParse<T> check and decode in one
//    pass (json-as's own transform generates parsing code, but nothing the SDK could consult
//    for a field's JSON name, type or presence):
//      __PWAS_KEYS(): StaticArray<string>      the JSON names (an @alias, else the field's name)
//      __PWAS_REQUIRED(): StaticArray<bool>    not @optional and not nullable
//      __PWAS_FIELD<R>(r: R, i: i32, depth: i32): void   this.<field i> = r.read<its type>(depth)
//    The fields are the ones json-as reads: instance fields, not private, protected, static or
//    @omit (a lazy one as json-as lowered it: optional, of its getter's type), a parent @json
//    class's first (found by name). Two markers: __PWAS_BLANK when no constructor can be
//    called without arguments (the reader starts from json-as's __INITIALIZE, the field
//    initializers, instead of `new`), __PWAS_JSON_AS when a field is lazy or readonly (the
//    reader checks, json-as builds). A class with a custom @deserializer gets none (its JSON
//    can be any shape), nor one whose parent class is not found: json-as builds both. The
//    SDK's JsonNumber and StringPairs (sdk/json-values.ts) are known by name: the reader builds
//    them by their own rules; their deserializers are for json-as, where it builds a class.
//
// 4. json-as 1.6 marks any source whose path is `assembly/index` as a library, meaning its
//    own `assembly/index.ts`, but the template's filter lives at exactly that path: as a
//    library its top-level code (registerRootContext) would never run and the filter would
//    load with no root context. Such a source outside json-as is put back as an entry.
//
// 5. It leaves json-as out of a build that does not use it. Importing json-as compiles its
//    tables and top-level code whether or not anything of it is called, and json-as's
//    transform imports it into every file with a @json class. So unless something needs it
//    (a filter's own import of json-as, safeJson.stringify, a type the SDK's reader does not
//    build: a @json class with a lazy field or a custom deserializer, Set, Date, a map with
//    other than string keys…), every import of json-as and of the SDK's sdk/json-fallback.ts
//    is removed; the methods json-as added to @json classes are then never compiled.
import { Transform } from "assemblyscript/transform";
import { ASTBuilder, CommonFlags, NodeKind, ParameterKind, Parser, Source, SourceKind, Tokenizer } from "assemblyscript/dist/assemblyscript.js";
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
    const classes = addJsonShapes(parser.sources);
    if (!needsJsonAs(parser.sources, classes)) leaveOutJsonAs(parser.sources);
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
      if (source.internalPath === "assembly/index" && source.sourceKind === LIBRARY && !fromJsonAs(source)) {
        source.sourceKind = USER_ENTRY;
      }
    }
  }
}

// The callbacks a filter can handle, each with the names whose presence in the filter's sources
// (its own files and any library besides the SDK) says it may: a module exports only those, so
// it links no dispatch code for what it never does (TCP, callouts, gRPC, ticks, queues), and the
// host does not call into it for what it would answer with the default (a body callback of a
// filter that only edits headers, on_done and on_log where no context overrides them): a missing
// export is Continue, true or nothing to Envoy, as the SDK's defaults are. The first callback
// of each kind of stream stays whenever the kind is used: it makes the stream's context.
const CALLBACKS = [
  [/^proxy_on_request_headers$/, /\bHttpContext\b/],
  [/^proxy_on_request_body$/, /\bonRequestBody\b/],
  [/^proxy_on_request_trailers$/, /\bonRequestTrailers\b/],
  [/^proxy_on_response_headers$/, /\bonResponseHeaders\b/],
  [/^proxy_on_response_body$/, /\bonResponseBody\b/],
  [/^proxy_on_response_trailers$/, /\bonResponseTrailers\b/],
  [/^proxy_on_new_connection$/, /\bTcpContext\b/],
  [/^proxy_on_downstream_data$/, /\bonDownstreamData\b/],
  [/^proxy_on_upstream_data$/, /\bonUpstreamData\b/],
  [/^proxy_on_downstream_connection_close$/, /\bonDownstreamClose\b/],
  [/^proxy_on_upstream_connection_close$/, /\bonUpstreamClose\b/],
  [/^proxy_on_done$/, /\bonDone\b/],
  [/^proxy_on_log$/, /\bonLog\b/],
  [/^proxy_on_tick$/, /\bonTick\b/],
  [/^proxy_on_queue_ready$/, /\bonQueueReady\b/],
  [/^proxy_on_http_call_response$/, /\b(httpCall|onHttpCallResponse)\b/],
  [/^proxy_on_grpc_/, /\b(grpcCall|grpcStream|onGrpc\w*)\b/],
  [/^proxy_on_foreign_function$/, /\bonForeignFunction\b/],
];

/** Whether an export of sdk/abi/exports.ts is needed, judged from the text of every source outside the SDK and the standard library. */
function usedCallbacks(sources) {
  const texts = sources.filter((s) => !fromSdk(s) && !isStandardLibrary(s)).map((s) => s.text);
  return (name) => {
    const rule = CALLBACKS.find(([exported]) => exported.test(name));
    return !rule || texts.some((text) => rule[1].test(text));
  };
}
const isStandardLibrary = (source) => source.internalPath.startsWith("~lib/") && !source.normalizedPath.includes("node_modules/");
const fromSdk = (source) => source.internalPath.startsWith(SDK);
/** The SDK's JsonNumber and StringPairs: the reader builds them by their own rules (their @deserializer is json-as's). */
const isSdkJsonValue = (node) => node.range.source.internalPath === `${SDK}json-values`;
const fromJsonAs = (source) => source.normalizedPath.includes("node_modules/json-as/") || source.internalPath.startsWith("~lib/json-as/");

const hasDecorator = (node, ...names) => node.decorators?.some((d) => names.includes(d.name.text)) ?? false;
const isJsonClass = (node) => node.kind === NodeKind.ClassDeclaration && hasDecorator(node, "json", "serializable");

function classesIn(statements, out) {
  for (const statement of statements) {
    if (isJsonClass(statement)) out.push(statement);
    else if (statement.kind === NodeKind.NamespaceDeclaration) classesIn(statement.members, out);
  }
  return out;
}


/** The @json class `node` extends, by name (the same file's first: two files may each have a `Config`), or null. */
function parentOf(node, classes) {
  if (!node.extendsType) return null;
  const candidates = classes.byName.get(node.extendsType.name.identifier.text) ?? [];
  return candidates.find((c) => c.range.source === node.range.source) ?? candidates[0] ?? null;
}

/** The JSON fields of `node` as json-as reads them, a parent's first; null when they can't be known. */
function jsonFields(node, classes, seen = new Set()) {
  if (seen.has(node)) return null;
  seen.add(node);
  if (node.members.some((m) => m.kind === NodeKind.MethodDeclaration && hasDecorator(m, "deserializer"))) return null;
  let fields = [];
  if (node.extendsType) {
    const parent = parentOf(node, classes);
    const inherited = parent && jsonFields(parent, classes, seen);
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
      const type = getter?.signature?.returnType ?? null;
      fields = fields.filter((f) => f.key !== String(alias)).concat({ key: String(alias), required: false, type, name: null });
      continue;
    }
    if (member.is(CommonFlags.Static) || member.is(CommonFlags.Private) || member.is(CommonFlags.Protected)) continue;
    const key = alias !== undefined ? String(alias) : member.name.text;
    const required = !hasDecorator(member, "optional") && !member.type.isNullable;
    // A readonly field cannot be assigned outside a constructor: json-as builds its class.
    const name = member.is(CommonFlags.Readonly) ? null : member.name.text;
    fields = fields.filter((f) => f.key !== key).concat({ key, required, type: member.type, name });
  }
  return fields;
}

/** Whether `new` cannot make a `node` without arguments (its constructor's, or the nearest parent's). */
function needsArguments(node, classes, seen = new Set()) {
  if (seen.has(node)) return false;
  seen.add(node);
  const constructor = node.members.find((m) => m.kind === NodeKind.MethodDeclaration && m.is(CommonFlags.Constructor));
  if (constructor) {
    return constructor.is(CommonFlags.Private) || constructor.is(CommonFlags.Protected) ||
      constructor.signature.parameters.some((p) => p.parameterKind === ParameterKind.Default && !p.initializer);
  }
  const parent = parentOf(node, classes);
  return parent ? needsArguments(parent, classes, seen) : false;
}

/** Adds the reader's members to every @json class in `sources`; answers the classes, with their fields. */
function addJsonShapes(sources) {
  const classes = { list: [], byName: new Map(), fields: new Map(), built: new Map() };
  for (const source of sources) {
    if (!fromJsonAs(source)) classesIn(source.statements, classes.list);
  }
  for (const c of classes.list) classes.byName.set(c.name.text, [...(classes.byName.get(c.name.text) ?? []), c]);
  for (const node of classes.list) {
    const fields = jsonFields(node, classes);
    classes.fields.set(node, fields);
    if (!fields || node.members.some((m) => m.name?.text === "__PWAS_KEYS")) continue;
    const read = (f) => (f.type ? `r.read<${ASTBuilder.build(f.type)}>(depth)` : "r.skip(depth)");
    const branches = fields.map((f, i) => `  ${i ? "else " : ""}if (i == ${i}) ${f.name && f.type ? `this.${f.name} = ` : ""}${read(f)};\n`).join("");
    const members = [
      `__PWAS_KEYS(): StaticArray<string> { return [${fields.map((f) => JSON.stringify(f.key)).join(", ")}]; }`,
      `__PWAS_REQUIRED(): StaticArray<bool> { return [${fields.map((f) => f.required).join(", ")}]; }`,
      `__PWAS_FIELD<__R>(r: __R, i: i32, depth: i32): void {\n${branches}}`,
    ];
    if (needsArguments(node, classes)) members.push("__PWAS_BLANK(): void {}");
    if (fields.some((f) => !f.name)) members.push("__PWAS_JSON_AS(): void {}");
    for (const text of members) {
      const tokenizer = new Tokenizer(new Source(SourceKind.User, node.range.source.normalizedPath, text));
      const member = new Parser().parseClassMember(tokenizer, node);
      if (!member) throw new Error(`proxy-wasm-as: could not add the JSON shape of ${node.name.text}`);
      node.members.push(member);
    }
  }
  return classes;
}

const isString = (type) => type.kind === NodeKind.NamedType && !type.name.next && ["string", "String"].includes(type.name.identifier.text) && !type.typeArguments?.length;
const PRIMITIVES = new Set(["bool", "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "isize", "usize", "f32", "f64", "string", "String"]);

/**
 * Whether the SDK's reader builds a value of `type` (a type node) by itself: a primitive, a
 * string, an array or a map with string keys of such, a @json class whose fields all are. A
 * name it does not know (an alias, a type parameter) counts as no: json-as stays in.
 */
function readerBuilds(type, classes) {
  if (!type || type.kind !== NodeKind.NamedType || type.name.next) return false;
  const name = type.name.identifier.text;
  const args = type.typeArguments ?? [];
  if (PRIMITIVES.has(name)) return args.length === 0;
  if (name === "Array") return args.length === 1 && readerBuilds(args[0], classes);
  if (name === "Map") return args.length === 2 && isString(args[0]) && readerBuilds(args[1], classes);
  const candidates = classes.byName.get(name) ?? [];
  if (args.length || candidates.length === 0) return false;
  return candidates.every((node) => {
    if (isSdkJsonValue(node)) return true;
    if (!classes.built.has(node)) {
      classes.built.set(node, true); // while its fields are looked at (a class may contain itself)
      const fields = classes.fields.get(node);
      classes.built.set(node, fields != null && fields.every((f) => f.name && readerBuilds(f.type, classes)));
    }
    return classes.built.get(node);
  });
}

/** Every node below `node` (an AST), depth first. */
function walk(node, visit, seen = new Set()) {
  if (node == null || typeof node !== "object" || seen.has(node)) return;
  seen.add(node);
  if (Array.isArray(node)) {
    for (const item of node) walk(item, visit, seen);
    return;
  }
  if (typeof node.kind !== "number") return;
  visit(node);
  for (const key in node) if (key !== "range") walk(node[key], visit, seen);
}

/** An import or re-export of json-as (or of `file`, a path inside the SDK). */
const importsJsonAs = (statement, file = null) => (statement.kind === NodeKind.Import || statement.kind === NodeKind.Export) &&
  statement.internalPath != null && (/(^|\/)json-as(\/|$)/.test(statement.internalPath) || statement.internalPath === file);

/**
 * Whether the build uses json-as (see 5. above): a source's own import of it, or a call that
 * needs it. A type is read by a call `….parse<T>(…)` or `….tryParse<T>(…)` (a field's type by
 * its class's).
 */
function needsJsonAs(sources, classes) {
  for (const source of sources) {
    if (fromJsonAs(source) || fromSdk(source)) continue;
    // (json-as's transform imports it too, into a file with a @json class: with the file's range.)
    if (source.statements.some((s) => importsJsonAs(s) && s.range !== source.range)) return true;
    if (isStandardLibrary(source)) continue;
    let uses = false;
    walk(source.statements, (node) => {
      if (uses || node.kind !== NodeKind.Call || node.expression.kind !== NodeKind.PropertyAccess) return;
      const name = node.expression.property.text;
      const type = node.typeArguments?.[0];
      if (name === "stringify" || ((name === "parse" || name === "tryParse") && type && !readerBuilds(type, classes))) uses = true;
    });
    if (uses) return true;
  }
  return false;
}

/** Removes every import of json-as and of the SDK's json-fallback (see 5. above). */
function leaveOutJsonAs(sources) {
  for (const source of sources) {
    if (fromJsonAs(source)) continue;
    const kept = source.statements.filter((s) => !importsJsonAs(s, `${SDK}json-fallback`));
    source.statements.length = 0;
    source.statements.push(...kept);
  }
}
