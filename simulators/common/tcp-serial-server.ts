/**
 * A loopback "serial device server" (what a Moxa NPort does in the field): whatever the simulator
 * writes goes to every connected TCP client, and what a client writes reaches the simulator (a
 * meter bus answers the gateway's requests). Used by the demo when socat is not installed, so the
 * gateway speaks the same bytes over its `tcp` transport instead of a pty.
 */
import net from 'node:net';
import type { Logger } from '../../drivers/sdk/log.js';
import type { SerialLine } from './serial-line.js';

export interface TcpSerialServer {
  readonly port: number;
  /** Give this to the simulator as its output. */
  readonly sink: { write(data: Buffer): void };
  /** Both directions, for simulators that answer (the meter bus); closing it closes the server. */
  readonly line: SerialLine;
  close(): Promise<void>;
}

export function startTcpSerialServer(log: Logger, host = '127.0.0.1'): Promise<TcpSerialServer> {
  const clients = new Set<net.Socket>();
  const listeners: ((chunk: Buffer) => void)[] = [];
  const server = net.createServer((socket) => {
    clients.add(socket);
    socket.on('data', (chunk) => {
      for (const l of listeners) l(chunk);
    });
    log.info({ remote: `${socket.remoteAddress}:${socket.remotePort}` }, 'Serial server client connected');
    socket.on('error', () => socket.destroy());
    socket.on('close', () => clients.delete(socket));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      const write = (data: Buffer) => {
        // A slow reader loses bytes, as on a real serial line; never buffer without bound.
        for (const c of clients) if (c.writableLength < 64 * 1024) c.write(data);
      };
      const close = () =>
        new Promise<void>((done) => {
          for (const c of clients) c.destroy();
          server.close(() => done());
        });
      resolve({
        port,
        sink: { write },
        line: { write, onData: (l) => void listeners.push(l), close },
        close,
      });
    });
  });
}
