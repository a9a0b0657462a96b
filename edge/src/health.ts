/**
 * Optional local HTTP endpoint of the edge agent: `/healthz` (JSON status; 200 when connected to
 * the hub, 503 when not) and `/metrics` (Prometheus text). Off when the configured port is 0.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../drivers/sdk/log.js';
import type { MetricsRegistry } from '../../drivers/sdk/metrics.js';

export interface EdgeStatus {
  gateway: string;
  bootId: string;
  connected: boolean;
  devices: number;
  devicesOnline: number;
  /** Readings and events taken and not acknowledged by the hub. */
  outboxDepth: number;
  /** Composed messages not acknowledged. */
  outboxMessages: number;
  /** Readings taken while the link was down and not sent yet. */
  outboxBacklog: number;
  outboxBytes: number;
  inFlight: number;
  /** ms the oldest unacknowledged message has waited; 0 when none. */
  oldestUnackedAgeMs: number;
}

export interface HealthServer {
  /** `http://host:port`. */
  readonly url: string;
  close(): Promise<void>;
}

export async function startHealthServer(opts: {
  host: string;
  port: number;
  metrics: MetricsRegistry;
  status: () => EdgeStatus;
  log: Logger;
}): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/healthz') {
      const status = opts.status();
      res.writeHead(status.connected ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify(status));
    } else if (req.method === 'GET' && path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(opts.metrics.render());
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  const url = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  opts.log.info({ url }, 'Listening');
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
