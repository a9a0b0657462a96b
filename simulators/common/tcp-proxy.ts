/**
 * A loopback TCP proxy that can cut a link, for tests and drills of what a gateway does when its uplink
 * drops (a 4G link gone for minutes). It listens on 127.0.0.1 and forwards every connection to
 * `target`. `cut()` destroys every live connection; while cut, new connections are refused
 * (accepted and reset at once) or blackholed (accepted and held, nothing forwarded, nothing
 * answered, as a link that silently swallows packets). `restore()` lets new connections through
 * and resets the blackholed ones, so the client's next attempt gets through.
 */
import net from 'node:net';

export type CutMode = 'refuse' | 'blackhole';

export interface TcpProxy {
  readonly port: number;
  /** Connections forwarded since the start. */
  readonly forwarded: number;
  readonly isCut: boolean;
  cut(mode?: CutMode): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host?: string; port: number }, listenPort = 0): Promise<TcpProxy> {
  const live = new Set<net.Socket>();
  const held = new Set<net.Socket>();
  let mode: CutMode | undefined;
  let forwarded = 0;

  const server = net.createServer((client) => {
    client.on('error', () => undefined);
    if (mode === 'refuse') {
      client.resetAndDestroy();
      return;
    }
    if (mode === 'blackhole') {
      held.add(client);
      client.on('close', () => held.delete(client));
      client.resume();
      return;
    }
    forwarded++;
    const upstream = net.connect({ host: target.host ?? '127.0.0.1', port: target.port });
    upstream.on('error', () => undefined);
    for (const s of [client, upstream]) {
      live.add(s);
      s.on('close', () => {
        live.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listenPort, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;

  return {
    port,
    get forwarded() {
      return forwarded;
    },
    get isCut() {
      return mode !== undefined;
    },
    cut(how: CutMode = 'refuse') {
      mode = how;
      for (const s of live) s.resetAndDestroy();
    },
    restore() {
      mode = undefined;
      for (const s of held) s.resetAndDestroy();
    },
    close() {
      for (const s of [...live, ...held]) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
