/**
 * ByteTransport over a serial line (`serialport`). One SerialPort object per open(), so a port
 * that vanished (USB adapter unplugged) can be reopened by the stream driver.
 */
import { SerialPort } from 'serialport';
import type { ByteTransport } from '../sdk/driver.js';
import { describeError, StartupError } from '../sdk/errors.js';
import type { ReopenHint } from '../sdk/stream-driver.js';

/** Line settings of a serial device; matches the gateway config's `transport` (type serial) after parsing. */
export interface SerialTransportConfig {
  type: 'serial';
  path: string;
  baudRate: number;
  dataBits: 7 | 8;
  parity: 'none' | 'even' | 'odd';
  stopBits: 1 | 2;
  /** Wait before reopening after the port closed, ms. */
  reopenDelay: number;
}

/** The part of a serialport stream this transport uses; SerialPort and SerialPortMock both fit. */
export interface SerialPortLike {
  open(cb: (err: Error | null) => void): void;
  write(data: Buffer, cb: (err: Error | null | undefined) => void): boolean;
  drain(cb: (err: Error | null) => void): void;
  close(cb: (err: Error | null) => void): void;
  readonly isOpen: boolean;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'close', listener: (err?: Error | null) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  removeAllListeners(): unknown;
}

export interface SerialOpenOptions {
  path: string;
  baudRate: number;
  dataBits: 7 | 8;
  parity: 'none' | 'even' | 'odd';
  stopBits: 1 | 2;
  autoOpen: false;
}

/** Builds the port object; tests pass `(o) => new SerialPortMock(o)`. */
export type SerialPortFactory = (options: SerialOpenOptions) => SerialPortLike;

const realPort: SerialPortFactory = (options) => new SerialPort(options);

/** A port path that does not exist now may appear later (adapter plugged in): retry. Permission problems need a person. */
function isRetryable(err: unknown): boolean {
  const text = describeError(err);
  return !/EACCES|permission denied/i.test(text);
}

export function createSerialTransport(
  cfg: SerialTransportConfig,
  factory: SerialPortFactory = realPort,
): ByteTransport & ReopenHint {
  const dataListeners: ((chunk: Buffer) => void)[] = [];
  const closeListeners: ((err?: Error) => void)[] = [];
  let port: SerialPortLike | undefined;

  const address = `serial:${cfg.path}@${cfg.baudRate}`;

  const detach = (p: SerialPortLike): void => {
    p.removeAllListeners();
    // a late 'error' from a detached port must not become an uncaught exception
    p.on('error', () => undefined);
  };

  return {
    address,
    reopenDelayMs: cfg.reopenDelay,
    open() {
      if (port) return Promise.resolve();
      let p: SerialPortLike;
      try {
        p = factory({
          path: cfg.path,
          baudRate: cfg.baudRate,
          dataBits: cfg.dataBits,
          parity: cfg.parity,
          stopBits: cfg.stopBits,
          autoOpen: false,
        });
      } catch (err) {
        // serialport validates options in the constructor: a bad setting will not fix itself
        return Promise.reject(new StartupError(`cannot open ${address}: ${describeError(err)}`, false, { cause: err }));
      }
      return new Promise<void>((resolve, reject) => {
        p.open((err) => {
          if (err) {
            detach(p);
            reject(new StartupError(`cannot open ${address}: ${err.message}`, isRetryable(err), { cause: err }));
            return;
          }
          port = p;
          p.on('data', (chunk) => {
            for (const l of dataListeners) l(chunk);
          });
          p.on('error', () => undefined);
          p.on('close', (closeErr) => {
            if (port !== p) return;
            port = undefined;
            detach(p);
            for (const l of closeListeners) l(closeErr ?? undefined);
          });
          resolve();
        });
      });
    },
    write(data) {
      const p = port;
      if (!p) return Promise.reject(new Error(`${address} is not open`));
      return new Promise<void>((resolve, reject) => {
        p.write(data, (err) => {
          if (err) reject(err);
          else p.drain((drainErr) => (drainErr ? reject(drainErr) : resolve()));
        });
      });
    },
    close() {
      const p = port;
      port = undefined;
      if (!p) return Promise.resolve();
      detach(p);
      if (!p.isOpen) return Promise.resolve();
      return new Promise<void>((resolve) => p.close(() => resolve()));
    },
    onData(listener) {
      dataListeners.push(listener);
    },
    onClose(listener) {
      closeListeners.push(listener);
    },
  };
}
