// as-pect: the SDK's own specs (tests/sdk). Its compiler settings are in as-pect.asconfig.json,
// kept apart from the project's asconfig.json so filter build settings do not leak into specs.
export default {
  entries: ["tests/sdk/**/*.spec.ts"],
  include: [],
  disclude: [/node_modules/],
  async instantiate(memory, createImports, instantiate, binary) {
    return instantiate(binary, createImports({ env: { memory } }));
  },
  outputBinary: false,
};
