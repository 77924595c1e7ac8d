// The WASI functions real hosts supply: stdout/stderr become logs, the environment comes from
// the plugin's configuration, clocks and random work; files and sockets are refused.
import { randomFillSync } from "node:crypto";
import type { AbiHost } from "./host.ts";
import { ProcExit } from "../vm/vm.ts";
import { LogLevel } from "./types.ts";

const ERRNO_SUCCESS = 0, ERRNO_BADF = 8, ERRNO_FAULT = 21, ERRNO_INVAL = 28, ERRNO_NOSYS = 52;

/** The longest stdout/stderr line kept waiting for its newline; a longer one is logged in pieces of this size. */
export const MAX_WASI_LINE = 64 * 1024;

export function wasiFunctions(host: AbiHost): Record<string, (...args: never[]) => number> {
  const { vm } = host;
  const lines: Record<number, string> = { 1: "", 2: "" };
  let reportedLong = false;
  const envEntries = () => Object.entries(host.environment).map(([k, v]) => Buffer.from(`${k}=${v}\0`));

  return {
    fd_write(fd: number, iovs: number, iovsLen: number, writtenPtr: number): number {
      if (fd !== 1 && fd !== 2) return ERRNO_BADF;
      let written = 0;
      let text = "";
      for (let i = 0; i < iovsLen; i++) {
        const ptr = vm.u32(iovs + i * 8), len = vm.u32(iovs + i * 8 + 4);
        if (ptr === null || len === null) return ERRNO_FAULT;
        const chunk = vm.string(ptr, len);
        if (chunk === null) return ERRNO_FAULT;
        text += chunk;
        written += len;
      }
      const level = fd === 1 ? LogLevel.Info : LogLevel.Error;
      const shown = level >= host.logLevel; // as proxy_log: lines below the host's level are not made
      const parts = (lines[fd] + text).split("\n");
      let pending = parts.pop()!;
      if (shown) for (const line of parts) host.log(level, line);
      if (pending.length > MAX_WASI_LINE) {
        if (!reportedLong) host.log(LogLevel.Warn, `fd_write: a line longer than ${MAX_WASI_LINE} characters is logged in pieces (logged once)`);
        reportedLong = true;
        while (pending.length > MAX_WASI_LINE) {
          if (shown) host.log(level, pending.slice(0, MAX_WASI_LINE));
          pending = pending.slice(MAX_WASI_LINE);
        }
      }
      lines[fd] = pending;
      return vm.setU32(writtenPtr, written) ? ERRNO_SUCCESS : ERRNO_FAULT;
    },
    fd_read: () => ERRNO_BADF,
    fd_close: () => ERRNO_BADF,
    fd_seek: () => ERRNO_BADF,
    fd_fdstat_get: (fd: number) => (fd <= 2 ? ERRNO_NOSYS : ERRNO_BADF),
    fd_prestat_get: () => ERRNO_BADF,
    fd_prestat_dir_name: () => ERRNO_BADF,
    environ_sizes_get(countPtr: number, sizePtr: number): number {
      const entries = envEntries();
      return vm.setU32(countPtr, entries.length) && vm.setU32(sizePtr, entries.reduce((n, e) => n + e.length, 0)) ? ERRNO_SUCCESS : ERRNO_FAULT;
    },
    environ_get(environPtr: number, bufPtr: number): number {
      let at = bufPtr;
      for (const [i, entry] of envEntries().entries()) {
        const dest = vm.bytes(at, entry.length);
        if (dest === null || !vm.setU32(environPtr + i * 4, at)) return ERRNO_FAULT;
        dest.set(entry);
        at += entry.length;
      }
      return ERRNO_SUCCESS;
    },
    args_sizes_get: (countPtr: number, sizePtr: number) => (vm.setU32(countPtr, 0) && vm.setU32(sizePtr, 0) ? ERRNO_SUCCESS : ERRNO_FAULT),
    args_get: () => ERRNO_SUCCESS,
    clock_time_get(clockId: number, _precision: bigint, timePtr: number): number {
      if (clockId > 3) return ERRNO_INVAL;
      const value = clockId === 0 ? host.clock.nowNanos() : host.clock.monotonicNanos();
      return vm.setU64(timePtr, value) ? ERRNO_SUCCESS : ERRNO_FAULT;
    },
    clock_res_get: (_clockId: number, resPtr: number) => (vm.setU64(resPtr, 1000n) ? ERRNO_SUCCESS : ERRNO_FAULT),
    random_get(bufPtr: number, bufLen: number): number {
      const dest = vm.bytes(bufPtr, bufLen);
      if (dest === null) return ERRNO_FAULT;
      randomFillSync(dest);
      return ERRNO_SUCCESS;
    },
    proc_exit(code: number): number {
      throw new ProcExit(code);
    },
    sched_yield: () => ERRNO_SUCCESS,
    poll_oneoff: () => ERRNO_NOSYS,
  };
}
