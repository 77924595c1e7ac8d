// Acting on another context: from a root context's callback (a timer, a queue, a callout's
// answer), make a stream's context the current one so helpers act on that stream; and
// finish a root's deferred shutdown.
import { proxy_done, proxy_set_effective_context } from "./abi/imports";
import { Status } from "./abi/types";

/** Makes `contextId` the context later helper calls act on, until the callback returns. False when it is not a live context. */
export function setEffectiveContext(contextId: u32): bool {
  return proxy_set_effective_context(contextId) == Status.Ok;
}

/** Tells the host a root context whose onDone returned false has finished shutting down. */
export function done(): void {
  proxy_done();
}
