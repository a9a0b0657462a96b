/**
 * Coalesces a socket's writes per turn of the event loop.
 *
 * Why: MQTT.js writes each PUBACK on its own (mqtt-packet corks and uncorks on the next tick, and
 * the next packet of the same read is handled on a later tick), so at one reading per message the
 * hub made one writev syscall per message: the largest single cost of its ingest, and as many
 * small reads for the broker. Corking once more until `setImmediate` (after every tick of the
 * current read) sends those PUBACKs in one write. Nothing waits on them: they only leave later
 * within the same turn of the event loop.
 */

interface Corkable {
  cork(): void;
  uncork(): void;
}

/** Returns `corkThisTurn(stream)`: the first call of a turn corks `stream`, `setImmediate` uncorks it. */
export function turnCorker(): (stream: Partial<Corkable> | undefined) => void {
  let corked: Corkable | undefined;
  const uncork = (): void => {
    const stream = corked;
    corked = undefined;
    stream?.uncork();
  };
  return (stream) => {
    if (corked !== undefined || typeof stream?.cork !== 'function' || typeof stream.uncork !== 'function') return;
    stream.cork();
    corked = stream as Corkable;
    setImmediate(uncork);
  };
}
