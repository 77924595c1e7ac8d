// Unsigned integers as decimal text for the SDK's messages: `n.toString()` links the standard
// library's any-radix formatter with its radix check and message, about 400 bytes in a module.

/** `n` in decimal. */
export function decimal(n: u64): string {
  let digits = 1;
  for (let rest = n / 10; rest != 0; rest /= 10) digits++;
  // @ts-ignore: AssemblyScript runtime builtin
  const out = changetype<string>(__new(<usize>digits << 1, idof<string>()));
  const at = changetype<usize>(out);
  for (let i = digits - 1; i >= 0; i--) {
    store<u16>(at + (<usize>i << 1), <u16>(0x30 + n % 10));
    n /= 10;
  }
  return out;
}
