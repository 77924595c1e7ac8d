// A module exports the callbacks its filter can handle and no others (sdk/transform.js): the
// dispatch code for the rest (TCP, callouts, gRPC, ticks, queues, foreign functions) is not
// linked. Read from the built modules' export lists.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const callbacks = (name: string) =>
  WebAssembly.Module.exports(new WebAssembly.Module(readFileSync(join(import.meta.dirname, `../../build/${name}.wasm`))))
    .map((e) => e.name).filter((n) => n.startsWith("proxy_on_")).sort();

const ALWAYS = ["proxy_on_configure", "proxy_on_context_create", "proxy_on_delete", "proxy_on_done", "proxy_on_log", "proxy_on_memory_allocate", "proxy_on_vm_start"];
const HTTP = ["proxy_on_request_body", "proxy_on_request_headers", "proxy_on_request_trailers", "proxy_on_response_body", "proxy_on_response_headers", "proxy_on_response_trailers"];
const TCP = ["proxy_on_downstream_connection_close", "proxy_on_downstream_data", "proxy_on_new_connection", "proxy_on_upstream_connection_close", "proxy_on_upstream_data"];
const GRPC = ["proxy_on_grpc_close", "proxy_on_grpc_receive", "proxy_on_grpc_receive_initial_metadata", "proxy_on_grpc_receive_trailing_metadata"];

describe("the callbacks a module exports", () => {
  it("an HTTP filter: the lifecycle and the HTTP callbacks only", () => {
    expect(callbacks("add-header")).toEqual([...ALWAYS, ...HTTP].sort());
  });

  it("a TCP filter: the lifecycle and the TCP callbacks only", () => {
    expect(callbacks("tcp-deny")).toEqual([...ALWAYS, ...TCP].sort());
  });

  it("a filter that makes callouts and ticks gets their callbacks", () => {
    expect(callbacks("denylist-service")).toEqual(expect.arrayContaining(["proxy_on_http_call_response", "proxy_on_tick"]));
    expect(callbacks("grpc-check")).toEqual(expect.arrayContaining(GRPC));
    expect(callbacks("test-sdk-probe")).toEqual(expect.arrayContaining([...HTTP, ...GRPC, "proxy_on_http_call_response"]));
  });
});
