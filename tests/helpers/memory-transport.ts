/**
 * An in-memory ByteTransport for protocol unit tests (aedes duplexPair style): the test plays
 * the device by pushing bytes in and reading what the driver wrote.
 */
import type { ByteTransport } from '../../drivers/sdk/driver.js';
import { StartupError } from '../../drivers/sdk/errors.js';

export interface MemoryTransport extends ByteTransport {
  /** Ask the reopen logic for this delay, ms. */
  readonly reopenDelayMs: number;
  /** Bytes the driver wrote, in order. */
  readonly written: Buffer[];
  readonly isOpen: boolean;
  /** How many times open() succeeded. */
  readonly opens: number;
  /** Delivers bytes as if the device sent them. Throws if the transport is not open. */
  push(chunk: Buffer | string): void;
  /** Ends the stream from the device side (cable pulled). */
  drop(err?: Error): void;
  /** Makes the next open() calls fail, until set back to undefined. */
  failOpenWith: Error | undefined;
}

export function createMemoryTransport(opts: { address?: string; reopenDelayMs?: number } = {}): MemoryTransport {
  const dataListeners: ((chunk: Buffer) => void)[] = [];
  const closeListeners: ((err?: Error) => void)[] = [];
  const written: Buffer[] = [];
  let open = false;
  let opens = 0;
  const t: MemoryTransport = {
    address: opts.address ?? 'memory:test',
    reopenDelayMs: opts.reopenDelayMs ?? 50,
    written,
    failOpenWith: undefined,
    get isOpen() {
      return open;
    },
    get opens() {
      return opens;
    },
    async open() {
      if (t.failOpenWith) throw new StartupError(t.failOpenWith.message, true, { cause: t.failOpenWith });
      open = true;
      opens++;
    },
    async write(data) {
      if (!open) throw new Error('not open');
      written.push(Buffer.from(data));
    },
    async close() {
      open = false;
    },
    onData(l) {
      dataListeners.push(l);
    },
    onClose(l) {
      closeListeners.push(l);
    },
    push(chunk) {
      if (!open) throw new Error('memory transport is not open');
      const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
      for (const l of dataListeners) l(buf);
    },
    drop(err) {
      if (!open) return;
      open = false;
      for (const l of closeListeners) l(err);
    },
  };
  return t;
}
