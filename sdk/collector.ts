// When garbage is collected. Filters are built with AssemblyScript's stop-the-world collector
// (`--runtime minimal`): it adds no shadow stack and no write barrier to the filter's code, which
// makes modules about a third smaller and callbacks cheaper than the incremental collector, but it
// must only run when no managed value lives on the Wasm stack. So it runs here, at the end of an
// outermost callback (a host may call in again from inside a host call: `depth` counts), when
// enough has happened since the last collection: a number of callbacks that grows with the live
// streams (so marking them costs a constant per callback), bytes the host handed in, or memory
// grown (the allocator found no room: collect before it grows again).
import { hostBytesSinceCollect, resetHostBytes } from "./abi/memory";
import { streamCount } from "./dispatcher";

// Measured on add-header in the harness (docs/performance.md): a collection every 256
// callbacks cost a third of the module's time per stream, every 1,024 to 4,096 about the same
// and little; 16,384 was slower again (a heap past the caches).
const MIN_CALLBACKS: i32 = 1024;
const CALLBACKS_PER_STREAM: i32 = 8;
const HOST_BYTES_PER_CALLBACK: u32 = 1024;

let depth: i32 = 0;
/** Callbacks until the next collection; host bytes count against the same budget. */
let budget: i32 = MIN_CALLBACKS;
let callbacks: i32 = 0;
let pagesAtCollect: i32 = 0;

/** A host callback begins. */
// @ts-ignore: decorator
@inline export function enter(): void {
  depth++;
}

/** A host callback ends: the collector runs if it is due and this was the outermost one. */
export function leave(): void {
  depth--;
  if (depth == 0 && (++callbacks + <i32>(hostBytesSinceCollect / HOST_BYTES_PER_CALLBACK) >= budget || memory.size() != pagesAtCollect)) collect();
}

function collect(): void {
  // @ts-ignore: a runtime builtin the editor does not declare
  __collect();
  callbacks = 0;
  resetHostBytes();
  pagesAtCollect = memory.size();
  // The pace for the streams live now, until the next collection looks again.
  budget = max(MIN_CALLBACKS, streamCount() * CALLBACKS_PER_STREAM);
}
