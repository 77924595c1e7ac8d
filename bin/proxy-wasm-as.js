#!/usr/bin/env node
// The proxy-wasm-as command: the TypeScript tools (toolchain/cli.ts) through tsx.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../toolchain/cli.ts");
await main(process.argv.slice(2));
