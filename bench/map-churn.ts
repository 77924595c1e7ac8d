// Why host/id-table.ts is neither a Map nor an object's integer keys: a long-lived container
// with one insertion and one removal per item (LIVE items at a time, as stream contexts under
// as many connections; 32 by default), with one pause part-way where other objects are
// allocated and no item is added. Compare the kinds (none: no container at all):
//   LIVE=32 node --trace-gc --import tsx bench/map-churn.ts map|object|table|none
// After the pause the container's hash table sits in the old generation; a Map's (and, above
// ~128 entries, an object's) later tables are then born old, and each one replaced holds its
// items until a full collection, so every later item survives its scavenge and is promoted.
import { IdTable } from "../host/id-table.ts";

const kind = process.argv[2] ?? "map";
const liveCount = Number(process.env.LIVE ?? 32);
const map = new Map<number, object>();
const object: Record<number, object> = Object.create(null);
const table = new IdTable<object>();
const live: { id: number }[] = [];
const pause: object[] = [];

const start = performance.now();
for (let id = 1; id <= 400_000; id++) {
  if (id === 50_000) for (let k = 0; k < 3_000_000; k++) pause[k & 1023] = { k }; // the pause
  const item = { id, payload: new Array(200).fill(0).map((_, i) => ({ i })) };
  if (kind === "map") map.set(id, item);
  else if (kind === "object") object[id] = item;
  else if (kind === "table") table.set(id, item);
  live.push(item);
  if (live.length > liveCount) {
    const old = live.shift()!;
    if (kind === "map") map.delete(old.id);
    else if (kind === "object") delete object[old.id];
    else if (kind === "table") table.delete(old.id);
  }
}
console.log(`${kind}, ${liveCount} live: ${(performance.now() - start).toFixed(0)} ms`);
