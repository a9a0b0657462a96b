/**
 * Starts a private InfluxDB 1.x (Debian's `influxd`) for integration tests: its own temp dir for
 * meta/data/wal, loopback-only HTTP and RPC ports picked free, no reporting, no self-monitoring.
 * Stopped by its PID (SIGTERM, then SIGKILL), never by name.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RunningInfluxd {
  /** Base URL, e.g. http://127.0.0.1:41234. */
  url: string;
  port: number;
  pid: number;
  /** Directory of its config, meta, data and wal. */
  dir: string;
  /** Sends a signal to influxd (SIGSTOP/SIGCONT to make it hang and resume). */
  signal(sig: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL; removes the directory unless it was given in the options. */
  stop(): Promise<void>;
}

export interface StartInfluxdOptions {
  /** Path or name of the binary. Default: $INFLUXD_PATH, else `influxd` on PATH. */
  binary?: string;
  /** How long to wait for GET /ping to answer 204. Default 30 s (a loaded CI box can be slow). */
  readyTimeoutMs?: number;
  /**
   * Run on this directory (created when missing) and keep it on stop(), so that a later start with
   * the same dir and ports finds the same data. Default: a fresh temp dir, removed on stop().
   */
  dir?: string;
  /** HTTP port. Default: a free one. */
  httpPort?: number;
  /** RPC (backup) port. Default: a free one. */
  rpcPort?: number;
}

/** True when the binary can be executed (it prints its version). */
export function influxdAvailable(binary = process.env.INFLUXD_PATH ?? 'influxd'): boolean {
  const r = spawnSync(binary, ['version'], { stdio: 'ignore' });
  return r.error === undefined && r.status === 0;
}

/** A port the kernel just handed out on 127.0.0.1; free unless someone grabs it in between. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function config(dir: string, httpPort: number, rpcPort: number): string {
  return `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"

[meta]
  dir = "${join(dir, 'meta')}"
  logging-enabled = false

[data]
  dir = "${join(dir, 'data')}"
  wal-dir = "${join(dir, 'wal')}"
  index-version = "inmem"
  query-log-enabled = false
  trace-logging-enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:${httpPort}"
  log-enabled = false
  auth-enabled = false

[monitor]
  store-enabled = false

[continuous_queries]
  log-enabled = false
  run-interval = "1s"

[subscriber]
  enabled = false

[logging]
  level = "error"
  suppress-logo = true
`;
}

async function pingOk(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) });
    return res.status === 204;
  } catch {
    return false;
  }
}

function waitExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Starts influxd and resolves once it answers /ping; rejects (and cleans up) if it does not. */
export async function startInfluxd(opts: StartInfluxdOptions = {}): Promise<RunningInfluxd> {
  const binary = opts.binary ?? process.env.INFLUXD_PATH ?? 'influxd';
  const readyTimeoutMs = opts.readyTimeoutMs ?? 30_000;
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'citygrid-influxd-')));
  await mkdir(dir, { recursive: true });
  const httpPort = opts.httpPort ?? (await freePort());
  const rpcPort = opts.rpcPort ?? (await freePort());
  const confFile = join(dir, 'influxdb.conf');
  await writeFile(confFile, config(dir, httpPort, rpcPort));
  const url = `http://127.0.0.1:${httpPort}`;

  const child = spawn(binary, ['run', '-config', confFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderrTail = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString()).slice(-4000);
  });
  let spawnError: Error | undefined;
  child.on('error', (err) => {
    spawnError = err;
  });

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      child.kill('SIGTERM');
      // A stopped (SIGSTOP) influxd handles SIGTERM only once it runs again.
      child.kill('SIGCONT');
      if (!(await waitExit(child, 10_000))) {
        child.kill('SIGKILL');
        await waitExit(child, 5_000);
      }
    }
    if (ownDir) await rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + readyTimeoutMs;
  while (!(await pingOk(url))) {
    if (spawnError || child.exitCode !== null || Date.now() > deadline) {
      await stop();
      const why = spawnError
        ? spawnError.message
        : child.exitCode !== null
          ? `exited with ${child.exitCode}`
          : 'timed out';
      throw new Error(`influxd did not become ready on ${url} (${why}): ${stderrTail.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  const pid = child.pid as number;
  const signal = (sig: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) process.kill(pid, sig);
  };
  return { url, port: httpPort, pid, dir, signal, stop };
}
