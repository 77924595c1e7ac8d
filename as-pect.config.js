// as-pect: the SDK's own specs (tests/sdk). Its compiler settings are in as-pect.asconfig.json;
// filter builds take theirs from proxy-wasm-as build (toolchain/build.ts), so neither leaks into the other.
//
// A spec that drives the SDK through its ABI exports gets a small mock host: properties
// (proxy_get_property / proxy_set_property, values handed over through the spec module's
// own `malloc`), and proxy_log, which records the last message as the property
// "test\0last_log" ("<level> <message>") so a spec can read it back. The log level the host
// reports is the property "test\0log_level" (a digit), trace when unset.
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function mockHost(exports) {
  const properties = new Map();
  const bytes = (ptr, len) => new Uint8Array(exports().memory.buffer, ptr, len);
  const view = () => new DataView(exports().memory.buffer);
  const key = (ptr, len) => decoder.decode(bytes(ptr, len)).replace(/\0+$/, "");
  return {
    proxy_log(level, ptr, len) {
      properties.set("test\0last_log", encoder.encode(`${level} ${decoder.decode(bytes(ptr, len))}`));
      return 0;
    },
    proxy_get_log_level(levelPtr) {
      const level = properties.get("test\0log_level");
      view().setUint32(levelPtr, level ? Number(decoder.decode(level)) : 0, true);
      return 0;
    },
    proxy_set_property(pathPtr, pathLen, valuePtr, valueLen) {
      properties.set(key(pathPtr, pathLen), bytes(valuePtr, valueLen).slice());
      return 0;
    },
    proxy_get_property(pathPtr, pathLen, valuePtrPtr, valueLenPtr) {
      const value = properties.get(key(pathPtr, pathLen));
      if (value === undefined) return 1; // NotFound
      const ptr = value.length ? exports().malloc(value.length) >>> 0 : 0;
      if (value.length) bytes(ptr, value.length).set(value);
      view().setUint32(valuePtrPtr, ptr, true);
      view().setUint32(valueLenPtr, value.length, true);
      return 0;
    },
  };
}

export default {
  entries: ["tests/sdk/**/*.spec.ts"],
  include: [],
  disclude: [/node_modules/],
  async instantiate(memory, createImports, instantiate, binary) {
    let module;
    const env = { memory, ...mockHost(() => module.exports) };
    module = await instantiate(binary, createImports({ env }));
    return module;
  },
  outputBinary: false,
};
