// Types of vitest-plugin.js (plain JavaScript: vitest loads its config with Node alone).
import type { Plugin } from "vite";

/** Makes each test file depend on the modules it names (build/<name>.wasm), so a rebuild reruns it in watch mode. */
export function proxyWasm(options?: { root?: string }): Plugin;
