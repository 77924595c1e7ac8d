import { defineConfig } from "vitest/config";
import { proxyWasm } from "./toolchain/vitest-plugin.js";

export default defineConfig({
  // A suite reruns in watch mode (npm test -- --watch) when a module it names is rebuilt.
  plugins: [proxyWasm()],
  test: {
    include: ["tests/**/*.test.ts", "examples/*/*.test.ts"],
    testTimeout: 20_000,
  },
});
