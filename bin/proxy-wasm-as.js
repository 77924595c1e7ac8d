#!/usr/bin/env node
// The proxy-wasm-as command: runs the TypeScript host through tsx.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../host/cli.ts");
await main(process.argv.slice(2));
