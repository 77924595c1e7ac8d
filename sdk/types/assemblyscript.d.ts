// Corrections to AssemblyScript's own editor definitions (assemblyscript/std/assembly/index.d.ts,
// 0.28), for `tsc` and editors only: asc never reads this file.
//
// - index.d.ts declares `type Number = _Float`, but TypeScript takes the methods of number
//   values (`count.toString()`) only from a global *interface* Number: with the alias every
//   `.toString()` on an i32, u64 or f64 is an error. This interface gives them _Float's
//   methods. It clashes with the alias ("Duplicate identifier"), an error inside declaration
//   files that `skipLibCheck` (set in tsconfig.assembly.json) leaves unreported.
// - index.d.ts gives String.startsWith/endsWith one parameter; the compiler's String takes a
//   position too (std/assembly/string.ts), and filter code uses it.
interface Number extends _Float {}

interface String {
  startsWith(search: string, start?: i32): bool;
  endsWith(search: string, end?: i32): bool;
}
