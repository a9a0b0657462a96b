/**
 * A real pseudo-terminal pair from socat (simulators, the demo and integration tests): one end is
 * the "device" (a simulator writes there), the other the gateway's serial port. Stopped by PID.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

export interface PtyPair {
  /** Path of the first end (a symlink to /dev/pts/N). */
  a: string;
  /** Path of the second end. */
  b: string;
  pid: number;
  /** SIGTERM to socat, then waits for it to exit (its links vanish with it). */
  stop(): Promise<void>;
}

const READY = 'starting data transfer loop';

export function openPtyPair(dir: string, names: { a?: string; b?: string } = {}): Promise<PtyPair> {
  const a = path.join(dir, names.a ?? 'ttyA');
  const b = path.join(dir, names.b ?? 'ttyB');
  const child = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise<PtyPair>((resolve, reject) => {
    let stderr = '';
    const timer = setTimeout(() => {
      if (child.pid) process.kill(child.pid, 'SIGTERM');
      reject(new Error(`socat not ready after 5 s: ${stderr}`));
    }, 5000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot start socat (is it installed?): ${err.message}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`socat exited with ${code} before it was ready: ${stderr}`));
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      if (stderr.length < 10_000) stderr += text;
      if (!stderr.includes(READY) || !child.pid) return;
      clearTimeout(timer);
      const pid = child.pid;
      resolve({
        a,
        b,
        pid,
        async stop() {
          if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGTERM');
          await exited;
        },
      });
    });
  });
}

/** Absolute path of an executable on PATH, or undefined. */
export function whichSync(binary: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const full = path.join(dir, binary);
    try {
      accessSync(full, constants.X_OK);
      return full;
    } catch {}
  }
  return undefined;
}
