// Event handlers that cannot take the host down: an error thrown by the host's own code (a
// bug; a module's trap is handled in its stream) goes to `onError`, which ends only the
// exchange or connection it happened in.

export function guarded<A extends unknown[]>(handler: (...args: A) => void, onError: (e: Error) => void): (...args: A) => void {
  return (...args: A) => {
    try {
      handler(...args);
    } catch (e) {
      onError(e instanceof Error ? e : new Error(String(e)));
    }
  };
}
