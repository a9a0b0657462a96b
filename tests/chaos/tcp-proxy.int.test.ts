/**
 * The link-cutting TCP proxy of the chaos test, against a real echo server on loopback.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

let echo: net.Server;
let echoPort: number;
let proxy: TcpProxy;

beforeAll(async () => {
  echo = net.createServer((s) => {
    s.on('error', () => undefined);
    s.pipe(s);
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', () => resolve()));
  echoPort = (echo.address() as net.AddressInfo).port;
  proxy = await startTcpProxy({ port: echoPort });
});

afterAll(async () => {
  await proxy.close();
  await new Promise<void>((resolve) => echo.close(() => resolve()));
});

/** Connects through the proxy; resolves with what came back for `text`, or how the socket ended. */
function roundTrip(text: string, waitMs = 1000): Promise<{ echoed: string; ended: 'open' | 'closed' | 'error' }> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port: proxy.port });
    let echoed = '';
    let ended: 'open' | 'closed' | 'error' = 'open';
    s.on('data', (d) => {
      echoed += d.toString();
    });
    s.on('error', () => {
      ended = 'error';
    });
    s.on('close', () => {
      if (ended === 'open') ended = 'closed';
    });
    s.on('connect', () => s.write(text));
    setTimeout(() => {
      s.destroy();
      resolve({ echoed, ended });
    }, waitMs);
  });
}

describe('tcp proxy', () => {
  it('forwards, cuts live connections, refuses or blackholes new ones, and restores', async () => {
    expect(await roundTrip('hello')).toEqual({ echoed: 'hello', ended: 'open' });

    const s = net.connect({ host: '127.0.0.1', port: proxy.port });
    const closed = new Promise<void>((resolve) => s.on('close', () => resolve()));
    s.on('error', () => undefined);
    await new Promise<void>((resolve) => s.on('connect', () => resolve()));
    await new Promise((r) => setTimeout(r, 50));
    proxy.cut();
    await closed;
    expect(proxy.isCut).toBe(true);

    const refused = await roundTrip('lost');
    expect(refused.echoed).toBe('');
    expect(refused.ended).not.toBe('open');

    proxy.cut('blackhole');
    const pending = roundTrip('swallowed', 1500);
    await new Promise((r) => setTimeout(r, 500));
    proxy.restore();
    const swallowed = await pending;
    expect(swallowed.echoed).toBe('');
    expect(swallowed.ended).not.toBe('open');

    expect(await roundTrip('back')).toEqual({ echoed: 'back', ended: 'open' });
    expect(proxy.forwarded).toBe(3);
  });
});
