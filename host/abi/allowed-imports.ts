// What a Proxy-Wasm module may import and still load in Envoy: the `proxy_*` host
// functions in module `env`, and the WASI functions real hosts supply. The host supplies
// exactly these; `npm run asbuild` refuses any built module that imports anything else.

export const PROXY_IMPORT_MODULE = "env";

export const WASI_MODULES = ["wasi_snapshot_preview1", "wasi_unstable"] as const;

export const WASI_FUNCTIONS: ReadonlySet<string> = new Set([
  "fd_write", "fd_read", "fd_close", "fd_seek", "fd_fdstat_get", "fd_prestat_get",
  "fd_prestat_dir_name", "proc_exit", "clock_time_get", "clock_res_get", "random_get",
  "environ_get", "environ_sizes_get", "args_get", "args_sizes_get", "sched_yield", "poll_oneoff",
]);

/** Why an import is not allowed, or null when a real host provides it. */
export function disallowedImport(module: string, name: string): string | null {
  if (module === PROXY_IMPORT_MODULE) {
    return name.startsWith("proxy_") ? null : `env.${name} is not a Proxy-Wasm host function`;
  }
  if ((WASI_MODULES as readonly string[]).includes(module)) {
    return WASI_FUNCTIONS.has(name) ? null : `${module}.${name} is a WASI function hosts do not supply`;
  }
  return `${module}.${name}: hosts provide no import module "${module}"`;
}
