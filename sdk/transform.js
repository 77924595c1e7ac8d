// The SDK's compiler transform. `npm run asbuild` passes it as `--transform ./sdk/transform.js`
// (asc 0.28 cannot load a transform by relative path from asconfig.json); json-as's comes from
// asconfig.json and runs first. It does two things:
//
// 1. It adds the ABI exports (sdk/abi/exports.ts: proxy_abi_version_0_2_1, malloc,
//    proxy_on_*) to every build, so a filter's entry file needs no
//    `export * from ".../sdk/abi/exports"` line. A build that already has that file (as an
//    entry, or through such a line) is left alone.
//
// 2. json-as 1.6 marks any source whose path is `assembly/index` as a library, meaning its
//    own `assembly/index.ts`, but the template's filter lives at exactly that path: as a
//    library its top-level code (registerRootContext) would never run and the filter would
//    load with no root context. Such a source outside json-as is put back as an entry.
import { Transform } from "assemblyscript/transform";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { relative, resolve } from "node:path";

const USER_ENTRY = 1; // SourceKind.UserEntry
const LIBRARY = 2; // what json-as sets

const EXPORTS_FILE = fileURLToPath(new URL("./abi/exports.ts", import.meta.url));

export default class ProxyWasmTransform extends Transform {
  afterParse(parser) {
    // asc names sources relative to its base directory, with forward slashes.
    const path = relative(resolve(this.baseDir), EXPORTS_FILE).replace(/\\/g, "/");
    const internal = path.replace(/\.ts$/, "");
    if (parser.sources.some((source) => source.internalPath === internal)) return;
    // asc parses this entry's imports (the dispatcher, contexts, …) right after afterParse.
    parser.parseFile(readFileSync(EXPORTS_FILE, "utf8"), path, true);
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
