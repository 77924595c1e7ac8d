// A Vite plugin for a filter project's vitest config: each test file depends on the modules it
// names (`build/<name>.wasm`), so in watch mode a rebuilt module reruns the suites that load
// it, and only those. Plain JavaScript: vitest loads its config with Node alone.
//
//   import { proxyWasm } from "proxy-wasm-as/vitest";
//   export default defineConfig({ plugins: [proxyWasm()] });
import { resolve } from "node:path";

const MODULE_NAMED = /\bbuild\/([\w.-]+\.wasm)\b/g;

/** @returns {import("vite").Plugin} */
export function proxyWasm({ root = process.cwd() } = {}) {
  return {
    name: "proxy-wasm-as:modules",
    transform(code, id) {
      if (!/\.test\.[cm]?[jt]s$/.test(id)) return null;
      for (const [, file] of code.matchAll(MODULE_NAMED)) this.addWatchFile(resolve(root, "build", file));
      return null;
    },
  };
}
