// Types of asc-runner.js (plain JavaScript, so worker threads load it without a TypeScript loader).
export interface CompileResult {
  ok: boolean;
  /** What the compiler printed: its diagnostics. */
  output: string;
  /** The files it would have written (absolute path → contents); the caller writes them. */
  outputs: Record<string, Uint8Array | string>;
  /** Absolute paths of every file it read. */
  inputs: string[];
  /** Milliseconds by phase. */
  stats: Partial<Record<"parse" | "compile" | "optimize" | "emit" | "transform" | "total", number>>;
}

export function compile(job: { args: string[] }): Promise<CompileResult>;
