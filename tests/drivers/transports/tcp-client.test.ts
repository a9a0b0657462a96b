import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { StartupError } from '../../../drivers/sdk/errors.js';
import { createTransport } from '../../../drivers/transports/index.js';
import { createTcpClientTransport } from '../../../drivers/transports/tcp-client.js';

const servers: net.Server[] = [];

async function listen(onSocket: (s: net.Socket) => void): Promise<number> {
  const server = net.createServer(onSocket);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return (server.address() as net.AddressInfo).port;
}

afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(() => r(undefined)));
});

describe('tcp client transport', () => {
  it('moves bytes both ways and reports a close by the peer', async () => {
    let peer: net.Socket | undefined;
    const received: Buffer[] = [];
    const port = await listen((s) => {
      peer = s;
      s.on('data', (d) => received.push(d));
      s.write(Buffer.from([0x7e, 0x00, 0x7e]));
    });
    const transport = createTransport({ type: 'tcp', host: '127.0.0.1', port, reopenDelay: 500 });
    expect(transport.address).toBe(`tcp:127.0.0.1:${port}`);
    expect(transport.reopenDelayMs).toBe(500);
    const got: Buffer[] = [];
    const closed = new Promise<Error | undefined>((r) => transport.onClose(r));
    transport.onData((c) => got.push(c));
    await transport.open();
    await transport.write(Buffer.from('hello'));
    await new Promise((r) => setTimeout(r, 50));
    expect(Buffer.concat(got)).toEqual(Buffer.from([0x7e, 0x00, 0x7e]));
    expect(Buffer.concat(received).toString()).toBe('hello');
    peer?.destroy();
    expect(await closed).toBeInstanceOf(Error);
  });

  it('does not report a close it asked for', async () => {
    const port = await listen(() => undefined);
    const transport = createTcpClientTransport({ type: 'tcp', host: '127.0.0.1', port, reopenDelay: 500 });
    let closes = 0;
    transport.onClose(() => closes++);
    await transport.open();
    await transport.close();
    await new Promise((r) => setTimeout(r, 20));
    expect(closes).toBe(0);
  });

  it('rejects with a retryable StartupError when nobody listens', async () => {
    const port = await listen(() => undefined);
    await new Promise((r) => servers.pop()?.close(() => r(undefined)));
    const transport = createTcpClientTransport({ type: 'tcp', host: '127.0.0.1', port, reopenDelay: 500 });
    const err = await transport.open().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StartupError);
    expect((err as StartupError).retryable).toBe(true);
  });
});
