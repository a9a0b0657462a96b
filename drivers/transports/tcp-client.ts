/** ByteTransport over a TCP connection the gateway opens (serial servers, DTUs in client-less mode). */
import net from 'node:net';
import type { ByteTransport } from '../sdk/driver.js';
import { StartupError } from '../sdk/errors.js';
import type { ReopenHint } from '../sdk/stream-driver.js';

/** Matches the gateway config's `transport` (type tcp) after parsing. */
export interface TcpClientTransportConfig {
  type: 'tcp';
  host: string;
  port: number;
  /** Wait before reconnecting, ms. */
  reopenDelay: number;
  /** Give up a connect attempt after this long, ms. Default 10000. */
  connectTimeout?: number;
}

export function createTcpClientTransport(cfg: TcpClientTransportConfig): ByteTransport & ReopenHint {
  const dataListeners: ((chunk: Buffer) => void)[] = [];
  const closeListeners: ((err?: Error) => void)[] = [];
  let socket: net.Socket | undefined;
  const address = `tcp:${cfg.host}:${cfg.port}`;

  return {
    address,
    reopenDelayMs: cfg.reopenDelay,
    open() {
      if (socket) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const s = net.connect({ host: cfg.host, port: cfg.port });
        const fail = (err: Error) => {
          s.destroy();
          reject(new StartupError(`cannot connect to ${address}: ${err.message}`, true, { cause: err }));
        };
        s.setTimeout(cfg.connectTimeout ?? 10_000, () => fail(new Error('connect timeout')));
        s.once('error', fail);
        s.once('connect', () => {
          s.setTimeout(0);
          s.removeListener('error', fail);
          s.setNoDelay(true);
          s.setKeepAlive(true, 30_000);
          socket = s;
          let lastError: Error | undefined;
          s.on('error', (err) => {
            lastError = err;
          });
          s.on('data', (chunk: Buffer) => {
            for (const l of dataListeners) l(chunk);
          });
          s.on('close', () => {
            if (socket !== s) return;
            socket = undefined;
            for (const l of closeListeners) l(lastError ?? new Error('connection closed by peer'));
          });
          resolve();
        });
      });
    },
    write(data) {
      const s = socket;
      if (!s) return Promise.reject(new Error(`${address} is not connected`));
      return new Promise<void>((resolve, reject) => s.write(data, (err) => (err ? reject(err) : resolve())));
    },
    close() {
      const s = socket;
      socket = undefined;
      if (!s) return Promise.resolve();
      return new Promise<void>((resolve) => {
        s.once('close', () => resolve());
        s.end();
        setTimeout(() => s.destroy(), 1000).unref();
      });
    },
    onData(listener) {
      dataListeners.push(listener);
    },
    onClose(listener) {
      closeListeners.push(listener);
    },
  };
}
