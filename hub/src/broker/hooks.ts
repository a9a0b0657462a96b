/**
 * aedes' hooks take callbacks. An `async` function handed to them directly would drop its
 * rejections and could call back twice (aedes #379/#483). This adapter runs the async work and
 * calls back exactly once, with the result or the error.
 */
const toError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

export function settleOnce<T>(
  work: () => Promise<T>,
  onResult: (value: T) => void,
  onError: (err: Error) => void,
): void {
  let settled = false;
  const finish = (fn: () => void) => {
    if (settled) return;
    settled = true;
    // A throw from aedes' own callback is a broker bug: surface it as a synchronous hook would,
    // instead of letting it become an unhandled rejection of this promise chain.
    try {
      fn();
    } catch (err) {
      queueMicrotask(() => {
        throw err;
      });
    }
  };
  let pending: Promise<T>;
  try {
    pending = work();
  } catch (err) {
    finish(() => onError(toError(err)));
    return;
  }
  pending.then(
    (value) => finish(() => onResult(value)),
    (err: unknown) => finish(() => onError(toError(err))),
  );
}
