// The proxy's own log: Envoy-style lines on stderr, at a level the admin endpoint can change.
import { LOG_LEVEL_NAMES, type LogLevelName } from "./abi/types.ts";
import type { LogEntry } from "./plugin.ts";

export class Logger {
  private threshold: number;

  constructor(level: LogLevelName = "info", private readonly write: (line: string) => void = (l) => process.stderr.write(l + "\n")) {
    this.threshold = LOG_LEVEL_NAMES.indexOf(level);
  }

  get level(): LogLevelName {
    return LOG_LEVEL_NAMES[this.threshold];
  }

  setLevel(level: LogLevelName): void {
    this.threshold = LOG_LEVEL_NAMES.indexOf(level);
  }

  enabled(level: LogLevelName): boolean {
    return LOG_LEVEL_NAMES.indexOf(level) >= this.threshold;
  }

  /** One line per message: a CR or LF inside it is written escaped (a filter cannot forge a line). */
  log(level: LogLevelName, scope: string, message: string): void {
    if (!this.enabled(level)) return;
    if (message.includes("\n") || message.includes("\r")) message = message.replaceAll("\r", "\\r").replaceAll("\n", "\\n");
    this.write(`[${new Date().toISOString()}][${level}][${scope}] ${message}`);
  }

  /** A filter's log line, tagged with its plugin and context id. */
  wasm(entry: LogEntry): void {
    this.log(entry.level, "wasm", `wasm log ${entry.plugin} ${entry.contextId}: ${entry.message}`);
  }
}
