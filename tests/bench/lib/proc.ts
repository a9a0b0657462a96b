/**
 * Process plumbing of the benches: forked TypeScript children with an IPC request helper, RSS
 * sampling from /proc, a private Mosquitto, stopping by PID. Nothing is ever killed by name.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export const log = (text: string): void => {
  process.stderr.write(`[bench] ${text}\n`);
};

export interface Child {
  proc: ChildProcess;
  /** Sends `msg` and resolves with the next message of `type` (rejects on an `error` message or exit). */
  request<T>(msg: object, type: string, timeoutMs?: number): Promise<T>;
  /** Resolves with the next message of `type`. */
  next<T>(type: string, timeoutMs?: number): Promise<T>;
  stop(): Promise<void>;
}

/** Forks a TypeScript module of this folder (tsx loader); its stdout goes to our stderr. */
export function forkTs(file: string): Child {
  const proc = fork(path.join(ROOT, file), [], {
    cwd: ROOT,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 2, 2, 'ipc'],
  });
  const next = <T>(type: string, timeoutMs = 600_000): Promise<T> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => finish(() => reject(new Error(`${file}: no '${type}' in ${timeoutMs} ms`))),
        timeoutMs,
      );
      const onMessage = (m: { type?: string; error?: string }) => {
        if (m.type === type) finish(() => resolve(m as T));
        else if (m.type === 'error') finish(() => reject(new Error(`${file}: ${m.error}`)));
      };
      const onExit = (code: number | null) => finish(() => reject(new Error(`${file} exited (${code})`)));
      const finish = (fn: () => void) => {
        clearTimeout(timer);
        proc.off('message', onMessage);
        proc.off('exit', onExit);
        fn();
      };
      proc.on('message', onMessage);
      proc.once('exit', onExit);
    });
  return {
    proc,
    next,
    request<T>(msg: object, type: string, timeoutMs?: number) {
      const answer = next<T>(type, timeoutMs);
      proc.send(msg);
      return answer;
    },
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      if (proc.connected) proc.send({ cmd: 'exit' });
      const timer = setTimeout(() => proc.pid && process.kill(proc.pid, 'SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function statusKb(pid: number, key: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

export interface RssSampler {
  /** MB: peak of the 100 ms samples, the kernel's high-water mark (VmHWM), and the last sample. */
  stop(): { rssPeakMb: number; vmHwmMb: number; rssEndMb: number };
}

export function sampleRss(pid: number, everyMs = 100): RssSampler {
  let peak = 0;
  let last = 0;
  const take = () => {
    const kb = statusKb(pid, 'VmRSS');
    if (kb === undefined) return;
    last = kb;
    peak = Math.max(peak, kb);
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      const mb = (kb: number) => Math.round(kb / 102.4) / 10;
      return { rssPeakMb: mb(peak), vmHwmMb: mb(statusKb(pid, 'VmHWM') ?? 0), rssEndMb: mb(last) };
    },
  };
}

/** User + system CPU seconds of one process so far. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

export async function stopPid(proc: ChildProcess, graceMs = 8000): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null || proc.pid === undefined) return;
  const exited = new Promise((r) => proc.once('exit', r));
  process.kill(proc.pid, 'SIGTERM');
  const timer = setTimeout(() => proc.pid && process.kill(proc.pid, 'SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export { type RunningMosquitto, startMosquitto } from '../../helpers/mosquitto.js';

/** Nearest-rank percentile of unsorted values (sorts a copy). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return Math.round((sorted[rank] as number) * 10) / 10;
}
