// Reading structured arguments host functions receive. A bad pointer never throws: the
// caller answers InvalidMemoryAccess.
import type { WasmVm } from "../vm/vm.ts";

/** A property path: segments joined by NUL, with or without a trailing NUL. */
export function readPath(vm: WasmVm, ptr: number, len: number): string[] | null {
  const text = vm.string(ptr, len);
  if (text === null) return null;
  const path = text.split("\0");
  if (path.length > 1 && path[path.length - 1] === "") path.pop();
  return path;
}
