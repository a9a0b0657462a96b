/**
 * A tiny JT/T 808 platform for simulator tests, built on drivers/jt808 (the independent reader of
 * what the fleet simulator's own encoder sends): answers register (0x8100 with the code
 * `AC<last 4 phone digits>`, result 4 for phones `known` refuses), auth (0x8001 ok for that code,
 * else 1) and every other terminal message with 0x8001 ok, unless `ignore` says to stay silent.
 */
import net from 'node:net';
import {
  decodeJt808,
  encodePlatformReply,
  encodeRegisterReply,
  type Jt808Frame,
  splitJt808,
} from '../../drivers/jt808/codec.js';

export interface Received {
  /** Connection number, from 1. */
  conn: number;
  frame: Jt808Frame;
}

export interface Jt808Platform {
  port: number;
  received: Received[];
  of(msgId: number): Received[];
  close(): Promise<void>;
}

export async function startJt808Platform(
  opts: { known?: (phone: string) => boolean; ignore?: (f: Jt808Frame) => boolean } = {},
): Promise<Jt808Platform> {
  const received: Received[] = [];
  const sockets = new Set<net.Socket>();
  let conns = 0;
  let serial = 0;
  const server = net.createServer((socket) => {
    const conn = ++conns;
    sockets.add(socket);
    let rest: Buffer = Buffer.alloc(0);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      const split = splitJt808(Buffer.concat([rest, chunk]));
      rest = split.rest;
      for (const raw of split.frames) {
        const frame = decodeJt808(raw);
        received.push({ conn, frame });
        if (opts.ignore?.(frame)) continue;
        const h = frame.header;
        const head = { phone: h.phone, serial: serial++, v2019: h.v2019, protocolVersion: h.protocolVersion };
        if (h.msgId === 0x0100) {
          const ok = opts.known?.(h.phone) ?? true;
          socket.write(encodeRegisterReply(head, h.serial, ok ? 0 : 4, ok ? `AC${h.phone.slice(-4)}` : ''));
        } else if (h.msgId !== 0x0001) {
          const good =
            h.msgId !== 0x0102 || (frame.body.kind === 'auth' && frame.body.authCode === `AC${h.phone.slice(-4)}`);
          socket.write(encodePlatformReply(head, h.serial, h.msgId, good ? 0 : 1));
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    received,
    of: (msgId: number) => received.filter((r) => r.frame.header.msgId === msgId),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
