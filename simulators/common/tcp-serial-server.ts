/**
 * A loopback "serial device server" (what a Moxa NPort does in the field): whatever the simulator
 * writes goes to every connected TCP client. Used by the demo when socat is not installed, so the
 * gateway reads the same byte stream over its `tcp` transport instead of a pty.
 */
import net from 'node:net';
import type { Logger } from '../../drivers/sdk/log.js';

export interface TcpSerialServer {
  readonly port: number;
  /** Give this to the simulator as its output. */
  readonly sink: { write(data: Buffer): void };
  close(): Promise<void>;
}

export function startTcpSerialServer(log: Logger, host = '127.0.0.1'): Promise<TcpSerialServer> {
  const clients = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    clients.add(socket);
    log.info({ remote: `${socket.remoteAddress}:${socket.remotePort}` }, 'Serial server client connected');
    socket.on('error', () => socket.destroy());
    socket.on('close', () => clients.delete(socket));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      resolve({
        port,
        sink: {
          write(data) {
            // A slow reader loses bytes, as on a real serial line; never buffer without bound.
            for (const c of clients) if (c.writableLength < 64 * 1024) c.write(data);
          },
        },
        close: () =>
          new Promise<void>((done) => {
            for (const c of clients) c.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
