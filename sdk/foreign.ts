// Foreign functions: host functions outside the ABI, called by name (Envoy offers compress
// and uncompress; other hosts their own).
import { proxy_call_foreign_function } from "./abi/imports";
import { Status } from "./abi/types";
import { OUT_LEN, OUT_PTR, clearOut, takeBytes, utf8 } from "./abi/memory";

/** The result of the host's function `name` on `args`, or null when it has none by that name (or it failed). */
export function callForeignFunction(name: string, args: ArrayBuffer): ArrayBuffer | null {
  const bytes = utf8(name);
  clearOut();
  const status = proxy_call_foreign_function(changetype<usize>(bytes), bytes.byteLength, changetype<usize>(args), args.byteLength, OUT_PTR, OUT_LEN);
  return status == Status.Ok ? takeBytes() : null;
}
