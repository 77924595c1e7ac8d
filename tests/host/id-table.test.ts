// IdTable (the plugin's live stream contexts and gRPC calls by id) against a Map doing the same.
import { describe, expect, it } from "vitest";
import { IdTable } from "../../host/id-table.ts";

/** A small deterministic generator, so a failure replays. */
function random(seed: number): () => number {
  return () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
}

describe("IdTable", () => {
  it("answers as a Map does under churn: sequential ids, some long-lived, colliding, growing past its capacity", () => {
    const table = new IdTable<string>(4);
    const oracle = new Map<number, string>();
    const next = random(7);
    let id = 1;
    for (let step = 0; step < 20_000; step++) {
      const r = next();
      if (r < 0.45 || oracle.size === 0) {
        table.set(id, `v${id}`);
        oracle.set(id, `v${id}`);
        id++;
      } else if (r < 0.9) {
        // Mostly the oldest entries go, but not always: survivors collide with later ids.
        const keys = [...oracle.keys()];
        const victim = keys[Math.floor(next() * next() * keys.length)];
        table.delete(victim);
        oracle.delete(victim);
      } else {
        const probe = Math.floor(next() * (id + 2));
        expect(table.get(probe)).toBe(oracle.get(probe));
        expect(table.has(probe)).toBe(oracle.has(probe));
      }
    }
    for (let probe = 0; probe <= id; probe++) expect(table.get(probe)).toBe(oracle.get(probe));
    const live: [number, string][] = [];
    table.forEach((value, key) => live.push([key, value]));
    expect(live.sort(([a], [b]) => a - b)).toEqual([...oracle].sort(([a], [b]) => a - b));
  });

  it("answers as a Map does when ids crowd a few home slots (long displacements), through deletions anywhere", () => {
    const table = new IdTable<number>(64);
    const oracle = new Map<number, number>();
    const next = random(11);
    for (let step = 0; step < 5_000; step++) {
      // Ids sharing home slots 0-3 of any capacity up to 1024, and sequential ones between them.
      const id = next() < 0.5 ? 1024 * (1 + Math.floor(next() * 40)) + Math.floor(next() * 4) : 1 + Math.floor(next() * 2000);
      if (oracle.has(id) && next() < 0.6) {
        table.delete(id);
        oracle.delete(id);
      } else {
        table.set(id, step);
        oracle.set(id, step);
      }
      if (step % 97 === 0) for (const key of oracle.keys()) expect(table.get(key)).toBe(oracle.get(key));
    }
    for (let probe = 0; probe <= 50_000; probe++) expect(table.get(probe)).toBe(oracle.get(probe));
  });

  it("moves back an entry exactly as far from the hole as the farthest shift", () => {
    const table = new IdTable<string>(64);
    table.set(64, "a"); // home 0, slot 0
    table.set(1, "b"); // home 1, slot 1
    table.set(128, "c"); // home 0, slot 2: the farthest shift, 2
    table.delete(64);
    expect([table.get(1), table.get(128), table.get(64)]).toEqual(["b", "c", undefined]);
  });

  it("replaces a value set twice, ignores deleting an absent id, and is empty after clear", () => {
    const table = new IdTable<number>();
    table.set(5, 1);
    table.set(5, 2);
    table.delete(6);
    expect(table.get(5)).toBe(2);
    table.clear();
    expect(table.has(5)).toBe(false);
    table.set(5, 3);
    expect(table.get(5)).toBe(3);
  });
});
