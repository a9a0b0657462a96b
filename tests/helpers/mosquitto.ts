/**
 * Debian's Mosquitto as a private broker for tests and benchmarks: a temp config, a loopback
 * port, stopped by PID. Used where a broker we did not write matters (external-broker mode, the
 * ingest benchmark baseline).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function stopProcess(proc: ChildProcess, graceMs = 8000): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null || !proc.pid) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  process.kill(proc.pid, 'SIGTERM');
  const timer = setTimeout(() => {
    if (proc.exitCode === null && proc.signalCode === null && proc.pid) process.kill(proc.pid, 'SIGKILL');
  }, graceMs);
  await exited;
  clearTimeout(timer);
}

export interface RunningMosquitto {
  proc: ChildProcess;
  pid: number;
  url: string;
  stop(): Promise<void>;
}

/**
 * Debian's Mosquitto on 127.0.0.1:`port`: anonymous, no persistence, unlimited queue (the 2.0.11
 * default drops QoS 1 messages for a slow subscriber). Started as root it drops to the user
 * `mosquitto`, so it gets nothing to write: the config is world-readable and the log is stderr.
 */
export async function startMosquitto(dir: string, port: number): Promise<RunningMosquitto> {
  const conf = path.join(dir, 'mosquitto.conf');
  await writeFile(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      'max_queued_messages 0',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      '',
    ].join('\n'),
  );
  await chmod(dir, 0o755);
  await chmod(conf, 0o644);
  const binary =
    process.env.MOSQUITTO ?? ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((f) => existsSync(f)) ?? 'mosquitto';
  const proc = spawn(binary, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr?.on('data', (b: Buffer) => {
    stderr = (stderr + b.toString()).slice(-4000);
  });
  const deadline = Date.now() + 10_000;
  while (!(await canConnect(port))) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      await stopProcess(proc);
      throw new Error(`mosquitto did not listen on ${port}: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return { proc, pid: proc.pid as number, url: `mqtt://127.0.0.1:${port}`, stop: () => stopProcess(proc) };
}
