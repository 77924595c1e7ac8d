// Logging through the host (`proxy_log`), at the host's level: a message below it is never
// sent, and `log.enabled` lets an author skip building one. The level is asked of the host
// once per callback (the dispatcher forgets it at each entry), not once per message.
import { proxy_get_log_level, proxy_log } from "./abi/imports";
import { LogLevel, Status } from "./abi/types";
import { utf8 } from "./abi/memory";
import { decimal } from "./format";

const LEVEL_PTR: usize = memory.data(4, 4);
let hostLevel: i32 = -1; // -1: not asked in this callback yet

/** Called by the dispatcher on entry to every callback. */
export function forgetLogLevel(): void {
  hostLevel = -1;
}

function currentLevel(): i32 {
  if (hostLevel < 0) {
    // Hosts without proxy_get_log_level (ABI 0.2.0) answer otherwise: then log everything.
    hostLevel = proxy_get_log_level(LEVEL_PTR) == Status.Ok ? load<i32>(LEVEL_PTR) : LogLevel.Trace;
  }
  return hostLevel;
}

function write(level: LogLevel, message: string): void {
  if (<i32>level < currentLevel()) return;
  const bytes = utf8(message);
  proxy_log(level, changetype<usize>(bytes), bytes.byteLength);
}

export namespace log {
  /** Whether a message at `level` would be written; use it to skip building costly messages. */
  export function enabled(level: LogLevel): bool {
    return <i32>level >= currentLevel();
  }
  export function trace(message: string): void { write(LogLevel.Trace, message); }
  export function debug(message: string): void { write(LogLevel.Debug, message); }
  export function info(message: string): void { write(LogLevel.Info, message); }
  export function warn(message: string): void { write(LogLevel.Warn, message); }
  export function error(message: string): void { write(LogLevel.Error, message); }
  export function critical(message: string): void { write(LogLevel.Critical, message); }
}

/**
 * AssemblyScript's abort (a failed assertion, an out-of-bounds access, …), wired in by the
 * build's `use: abort=sdk/log/abortFilter`: says where at critical level, then traps, which
 * the host turns into a failed stream. Real hosts provide no `env.abort`.
 */
export function abortFilter(message: string | null, fileName: string | null, line: u32, column: u32): void {
  const text = "abort: " + (message != null ? message : "(no message)") + " at " +
    (fileName != null ? fileName : "?") + ":" + decimal(line) + ":" + decimal(column);
  const bytes = utf8(text);
  proxy_log(LogLevel.Critical, changetype<usize>(bytes), bytes.byteLength);
  unreachable();
}
