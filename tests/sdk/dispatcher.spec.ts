import { chooseRoot } from "../../sdk/dispatcher";

describe("choosing a root context", () => {
  it("picks the exact root id", () => {
    expect(chooseRoot(["auth", "metrics"], "metrics")).toBe(1);
  });
  it("uses the only registered root whatever the host asks for", () => {
    expect(chooseRoot(["my_root"], "")).toBe(0);
    expect(chooseRoot(["my_root"], "something_else")).toBe(0);
  });
  it("falls back to the root registered as the default (\"\")", () => {
    expect(chooseRoot(["auth", ""], "unknown")).toBe(1);
  });
  it("finds none among several named roots when nothing matches", () => {
    expect(chooseRoot(["auth", "metrics"], "unknown")).toBe(-1);
    expect(chooseRoot([], "any")).toBe(-1);
  });
});
