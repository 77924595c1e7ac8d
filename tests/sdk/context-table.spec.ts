// The dispatcher's table of contexts (sdk/context-table.ts): ids that share a home slot, a
// removal that moves the entries after it back, growth, and a long run of adds and removes
// checked against a Map.
import { ContextTable, HTTP, ROOT, UNOPENED } from "../../sdk/context-table";
import { RootContext } from "../../sdk/contexts";

const root = new RootContext(1);

/** Whether find() finds each of `ids`. */
function found(table: ContextTable, ids: u32[]): bool {
  for (let i = 0; i < ids.length; i++) if (table.find(ids[i]) < 0) return false;
  return true;
}

describe("ContextTable", () => {
  it("finds ids that share a home slot, and still finds the others after one of them is removed", () => {
    const table = new ContextTable();
    table.add(1, ROOT, root);
    table.add(65, UNOPENED, root); // 65 & 63 == 1: the same home slot as 1
    table.add(129, UNOPENED, root);
    table.add(2, UNOPENED, root); // its home slot is taken by 65: it goes after 129
    expect(found(table, [1, 65, 129, 2])).toBe(true);
    table.remove(table.find(65));
    expect(table.find(65)).toBe(-1);
    expect(found(table, [1, 129, 2])).toBe(true);
    expect(table.find(129)).toBe(2); // both moved back one slot, toward their home slots
    expect(table.find(2)).toBe(3);
    expect(table.streams).toBe(2);
    expect(table.kind(table.find(1))).toBe(ROOT);
  });

  it("moves back an entry exactly as far from the gap as the farthest shift, and no farther one is looked at", () => {
    const table = new ContextTable();
    table.add(64, UNOPENED, root); // home 0, slot 0
    table.add(1, UNOPENED, root); // home 1, slot 1
    table.add(128, UNOPENED, root); // home 0, slot 2: the farthest shift, 2
    table.remove(table.find(64));
    expect(table.find(128)).toBe(0); // two slots past the gap, its home: moved into it
    expect(found(table, [1, 128])).toBe(true);
    // A long run of ids at home (the streams of several plugins): removals keep the others.
    for (let id: u32 = 2; id < 30; id++) table.add(id, UNOPENED, root);
    for (let id: u32 = 2; id < 30; id += 3) table.remove(table.find(id));
    for (let id: u32 = 2; id < 30; id++) expect(table.find(id) >= 0).toBe(id % 3 != 2);
    expect(found(table, [1, 128])).toBe(true);
  });

  it("keeps a stream's context once opened, and grows past its first 32 entries", () => {
    const table = new ContextTable();
    for (let id: u32 = 1; id <= 500; id++) table.add(id, UNOPENED, root);
    expect(table.streams).toBe(500);
    const slot = table.find(300);
    table.open(slot, HTTP, null);
    expect(table.kind(table.find(300))).toBe(HTTP);
    expect(changetype<usize>(table.object(table.find(300)))).toBe(0);
    expect(changetype<usize>(table.object(table.find(299)))).toBe(changetype<usize>(root));
    expect(table.find(501)).toBe(-1);
  });

  it("agrees with a Map over a long run of adds and removes with colliding ids", () => {
    const table = new ContextTable();
    const live = new Map<u32, bool>();
    let x: u32 = 12345;
    for (let step = 0; step < 20000; step++) {
      x = x * 1103515245 + 12345;
      const id = ((x >> 8) % 40) * 64 + 1 + ((x >> 20) % 3); // few home slots, many collisions
      if (live.has(id)) {
        table.remove(table.find(id));
        live.delete(id);
      } else {
        table.add(id, UNOPENED, root);
        live.set(id, true);
      }
      if (step % 499 == 0) {
        let agree = true;
        for (let k: u32 = 1; k < 40 * 64 + 4; k++) agree = agree && (table.find(k) >= 0) == live.has(k);
        expect(agree).toBe(true);
      }
    }
    expect(table.streams).toBe(live.size);
  });
});
