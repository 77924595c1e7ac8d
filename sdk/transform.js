// The SDK's compiler transform (asconfig.json lists it after json-as's).
//
// json-as 1.6 marks any source whose path is `assembly/index` as a library, meaning its own
// `assembly/index.ts`, but the template's filter lives at exactly that path: as a library
// its top-level code (registerRootContext) would never run and the filter would load with
// no root context. The entry files named on the command line are put back as entries here.
import { Transform } from "assemblyscript/transform";

const USER_ENTRY = 1; // SourceKind.UserEntry
const LIBRARY = 2; // what json-as sets

export default class ProxyWasmTransform extends Transform {
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
