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
// 3. json-as 1.6 marks any source whose path is `assembly/index` as a library, meaning its
//    own `assembly/index.ts`, but the template's filter lives at exactly that path: as a
//    library its top-level code (registerRootContext) would never run and the filter would
//    load with no root context. Such a source outside json-as is put back as an entry.
import { Transform } from "assemblyscript/transform";
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
    const internal = `${SDK}abi/exports`;
    if (parser.sources.some((source) => source.internalPath === internal)) return;
    // asc parses this entry's imports (the dispatcher, contexts, …) right after afterParse.
    parser.parseFile(readFileSync(EXPORTS_FILE, "utf8"), `${internal}.ts`, true);
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
