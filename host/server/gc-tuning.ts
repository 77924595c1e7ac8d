// The one V8 setting a running proxy changes: allocation-site pretenuring off. A proxy
// allocates the same objects for every request, each dying within milliseconds; V8 watches
// which allocation sites' objects survive a scavenge and, past 85%, allocates that site's
// objects straight in the old generation. Early on (a small young generation, JIT warm-up)
// requests in flight make sites look long-lived, a site gets tenured, and its old objects
// then keep the young ones they point to (the request, its streams, its closures) alive
// through every scavenge: those get promoted, their sites cross the threshold too, and the
// decision never reverts (tenured objects carry no survival feedback). Measured on POST
// 1 KB through the proxy: 8 KB promoted per request, a full collection a second, about 30%
// of the proxy's CPU; with pretenuring off, under 1 KB and one every few seconds
// (docs/performance.md). Flags are per process: set once, before the first request.
import { setFlagsFromString } from "node:v8";

let tuned = false;

export function tuneGarbageCollector(): void {
  if (tuned) return;
  tuned = true;
  setFlagsFromString("--no-allocation-site-pretenuring");
}
