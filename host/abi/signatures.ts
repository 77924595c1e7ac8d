// The exact types of every host function, as proxy-wasm-cpp-host registers them: a module
// importing one with another type fails to link in Envoy, so the host refuses it at load.
// Each entry is the parameter list ("i" = i32, "I" = i64); every result is one i32 unless
// listed in NO_RESULT.
import type { FunctionType } from "../vm/wasm-types.ts";

export const PROXY_SIGNATURES: Readonly<Record<string, string>> = {
  proxy_log: "iii", proxy_get_log_level: "i", proxy_get_status: "iii",
  proxy_get_property: "iiii", proxy_set_property: "iiii",
  proxy_get_header_map_value: "iiiii", proxy_add_header_map_value: "iiiii", proxy_replace_header_map_value: "iiiii",
  proxy_remove_header_map_value: "iii", proxy_get_header_map_pairs: "iii", proxy_set_header_map_pairs: "iii",
  proxy_get_header_map_size: "ii",
  proxy_get_buffer_status: "iii", proxy_get_buffer_bytes: "iiiii", proxy_set_buffer_bytes: "iiiii",
  proxy_continue_stream: "i", proxy_close_stream: "i", proxy_send_local_response: "iiiiiiii",
  proxy_get_shared_data: "iiiii", proxy_set_shared_data: "iiiii",
  proxy_register_shared_queue: "iii", proxy_resolve_shared_queue: "iiiii", proxy_enqueue_shared_queue: "iii",
  proxy_dequeue_shared_queue: "iii",
  proxy_set_tick_period_milliseconds: "i", proxy_get_current_time_nanoseconds: "i",
  proxy_http_call: "iiiiiiiiii", proxy_grpc_call: "iiiiiiiiiiii", proxy_grpc_stream: "iiiiiiiii",
  proxy_grpc_send: "iiii", proxy_grpc_close: "i", proxy_grpc_cancel: "i",
  proxy_define_metric: "iiii", proxy_increment_metric: "iI", proxy_record_metric: "iI", proxy_get_metric: "ii",
  proxy_set_effective_context: "i", proxy_done: "", proxy_call_foreign_function: "iiiiii",
  // ABI 0.1.0 only
  proxy_get_configuration: "ii", proxy_continue_request: "", proxy_continue_response: "", proxy_clear_route_cache: "",
};

export const WASI_SIGNATURES: Readonly<Record<string, string>> = {
  fd_write: "iiii", fd_read: "iiii", fd_close: "i", fd_seek: "iIii", fd_fdstat_get: "ii", fd_prestat_get: "ii",
  fd_prestat_dir_name: "iii", proc_exit: "i", clock_time_get: "iIi", clock_res_get: "ii", random_get: "ii",
  environ_get: "ii", environ_sizes_get: "ii", args_get: "ii", args_sizes_get: "ii", sched_yield: "", poll_oneoff: "iiii",
};

const NO_RESULT = new Set(["proc_exit"]);

/** The type a host function has, or undefined when the host has no such function. */
export function hostFunctionType(module: string, name: string): FunctionType | undefined {
  const table = module === "env" ? PROXY_SIGNATURES : WASI_SIGNATURES;
  if (!Object.hasOwn(table, name)) return undefined;
  const params = table[name];
  return {
    params: [...params].map((c) => (c === "I" ? "i64" : "i32")),
    results: NO_RESULT.has(name) ? [] : ["i32"],
  };
}
