// A module exports the callbacks its filter can handle and no others (sdk/transform.js): the
// dispatch code for the rest (TCP, callouts, gRPC, ticks, queues, foreign functions) is not
// linked, and the host does not call into a module for what it would answer with the SDK's
// default (Continue, true, nothing), as Envoy does not for a missing export. Read from the
// built modules' export lists.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const callbacks = (name: string) =>
  WebAssembly.Module.exports(new WebAssembly.Module(readFileSync(join(import.meta.dirname, `../../build/${name}.wasm`))))
    .map((e) => e.name).filter((n) => n.startsWith("proxy_on_")).sort();

const ALWAYS = ["proxy_on_configure", "proxy_on_context_create", "proxy_on_delete", "proxy_on_memory_allocate", "proxy_on_vm_start"];
const GRPC = ["proxy_on_grpc_close", "proxy_on_grpc_receive", "proxy_on_grpc_receive_initial_metadata", "proxy_on_grpc_receive_trailing_metadata"];

describe("the callbacks a module exports", () => {
  it("an HTTP filter: request headers (which make the stream's context) and what its context overrides", () => {
    expect(callbacks("add-header")).toEqual([...ALWAYS, "proxy_on_request_headers", "proxy_on_response_headers"].sort());
    expect(callbacks("body-rewrite")).toEqual([...ALWAYS, "proxy_on_request_headers", "proxy_on_response_headers", "proxy_on_response_body"].sort());
  });

  it("on_done and on_log only where a context overrides onDone or onLog", () => {
    expect(callbacks("request-log")).toContain("proxy_on_log");
    expect(callbacks("request-log")).not.toContain("proxy_on_done");
    expect(callbacks("add-header")).not.toContain("proxy_on_log");
  });

  it("a TCP filter: the new connection (which makes its context) and what its context overrides", () => {
    expect(callbacks("tcp-deny")).toEqual([...ALWAYS, "proxy_on_new_connection", "proxy_on_downstream_data"].sort());
    expect(callbacks("tcp-metrics")).toEqual(expect.arrayContaining(["proxy_on_upstream_data", "proxy_on_downstream_connection_close"]));
  });

  it("a filter that makes callouts and ticks gets their callbacks", () => {
    expect(callbacks("denylist-service")).toEqual(expect.arrayContaining(["proxy_on_http_call_response", "proxy_on_tick"]));
    expect(callbacks("grpc-check")).toEqual(expect.arrayContaining(GRPC));
    expect(callbacks("test-sdk-probe")).toEqual(expect.arrayContaining(["proxy_on_request_headers", ...GRPC, "proxy_on_http_call_response"]));
  });
});
