/**
 * Transport factory. The config types here are structural twins of config/schema/gateway.ts's
 * `TransportConfig` (drivers/ must not import config/); the zod output is assignable to them.
 */
import type { ByteTransport } from '../sdk/driver.js';
import type { ReopenHint } from '../sdk/stream-driver.js';
import { createSerialTransport, type SerialTransportConfig } from './serial.js';
import { createTcpClientTransport, type TcpClientTransportConfig } from './tcp-client.js';

export type { SerialTransportConfig } from './serial.js';
export { createSerialTransport } from './serial.js';
export type { TcpClientTransportConfig } from './tcp-client.js';
export { createTcpClientTransport } from './tcp-client.js';

export type TransportConfig = SerialTransportConfig | TcpClientTransportConfig;

export function createTransport(cfg: TransportConfig): ByteTransport & ReopenHint {
  switch (cfg.type) {
    case 'serial':
      return createSerialTransport(cfg);
    case 'tcp':
      return createTcpClientTransport(cfg);
  }
}
