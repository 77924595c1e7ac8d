// Helpers for the small hostile modules of the isolation tests: WAT data strings for text and
// for the pairs encoding, and the imports those modules use.
import type { HeaderList } from "../../host/abi/types.ts";

/** Bytes as a WAT data string ("\0d" for CR, and so on). */
export function watBytes(bytes: Uint8Array | string): string {
  const b = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
  return Array.from(b, (x) => `\\${x.toString(16).padStart(2, "0")}`).join("");
}

/** The pairs encoding of `pairs`, as a WAT data string, and its length. */
export function watPairs(pairs: HeaderList): [string, number] {
  const enc = new TextEncoder();
  const parts: number[] = [];
  const u32 = (n: number) => parts.push(n & 255, (n >> 8) & 255, (n >> 16) & 255, (n >>> 24) & 255);
  u32(pairs.length);
  for (const [n, v] of pairs) {
    u32(enc.encode(n).length);
    u32(enc.encode(v).length);
  }
  for (const [n, v] of pairs) parts.push(...enc.encode(n), 0, ...enc.encode(v), 0);
  return [watBytes(new Uint8Array(parts)), parts.length];
}

export const IMPORTS = `
  (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
  (import "env" "proxy_add_header_map_value" (func $add (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_replace_header_map_value" (func $replace (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_set_header_map_pairs" (func $set_pairs (param i32 i32 i32) (result i32)))
  (import "env" "proxy_send_local_response" (func $reply (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_set_effective_context" (func $effective (param i32) (result i32)))
  (import "env" "proxy_set_property" (func $set_prop (param i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_get_property" (func $get_prop (param i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_http_call" (func $http_call (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_set_tick_period_milliseconds" (func $tick_period (param i32) (result i32)))`;
