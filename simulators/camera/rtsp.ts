/**
 * RTSP for simulated cameras: a real gst-rtsp-server (rtsp-server.py, run with Debian's
 * /usr/bin/python3 because python3-gi is not in pyenv's python) serving one live H.264 test
 * pattern per camera, or a "stalled" server that accepts TCP and never answers (an RTSP stream
 * that never starts).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const LAUNCHER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'rtsp-server.py');

export interface RtspServer {
  readonly port: number;
  readonly pid: number | undefined;
  url(mount: string): string;
  stop(): Promise<void>;
}

/** Starts gst-rtsp-server on 127.0.0.1 with `mounts`; resolves once it listens. */
export async function startRtspServer(
  mounts: readonly string[],
  opts: { port?: number; python?: string; readyTimeoutMs?: number } = {},
): Promise<RtspServer> {
  const child = spawn(opts.python ?? '/usr/bin/python3', [LAUNCHER, String(opts.port ?? 0), ...mounts], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => fail(new Error('gst-rtsp-server did not start in time')),
      opts.readyTimeoutMs ?? 10_000,
    );
    let out = '';
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${err.message}${stderr ? `: ${stderr.trim()}` : ''}`));
    };
    child.once('error', fail);
    child.once('exit', (code) => fail(new Error(`gst-rtsp-server exited with ${code}`)));
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /READY (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve(Number(m[1]));
      }
    });
  });
  return {
    port,
    pid: child.pid,
    url: (mount) => `rtsp://127.0.0.1:${port}/${mount}`,
    stop: () => stopChild(child),
  };
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is reaped. */
export function stopChild(child: ChildProcess, graceMs = 2000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** A TCP server on 127.0.0.1 that accepts connections and never says a word: RTSP that never starts. */
export async function startStalledRtsp(): Promise<RtspServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    pid: undefined,
    url: (mount) => `rtsp://127.0.0.1:${port}/${mount}`,
    stop: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
