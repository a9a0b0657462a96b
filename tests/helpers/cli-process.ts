/**
 * Runs the real `citygrid` CLI as a child process for end-to-end tests: output captured to a
 * log file (kept for post-mortems), waits for a line, stopped by its PID.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'bin/citygrid.mjs');

export interface CliProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  /** Everything the process printed so far (stdout + stderr). */
  output(): string;
  /** Resolves with the first output line matching `re`; rejects on exit or timeout. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  /** SIGTERM (or the given signal), then SIGKILL after `graceMs`; resolves with the exit code. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | null>;
  readonly exited: Promise<number | null>;
}

export function startCli(args: string[], opts: { env?: NodeJS.ProcessEnv; logFile: string }): CliProcess {
  return startNode([CLI], args, opts);
}

/**
 * Runs a TypeScript entry point of the tests (through tsx) as a real process, with the same
 * CliProcess handle: e.g. an edge agent with a test driver added to the shipped ones.
 */
export function startTsScript(
  script: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; logFile: string },
): CliProcess {
  return startNode(['--import', 'tsx', script], args, opts);
}

function startNode(entry: string[], args: string[], opts: { env?: NodeJS.ProcessEnv; logFile: string }): CliProcess {
  const child = spawn(process.execPath, [...entry, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (!child.pid) throw new Error(`cannot start citygrid ${args.join(' ')}`);
  const pid = child.pid;
  const log = createWriteStream(opts.logFile, { flags: 'a' });
  let text = '';
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    log.write(chunk);
    if (text.length < 4_000_000) text += chunk.toString('utf8');
    for (const w of waiters) w();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      log.end();
      for (const w of waiters) w();
      resolve(code);
    }),
  );

  return {
    pid,
    child,
    exited,
    output: () => text,
    waitFor(re, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const line = text.split('\n').find((l) => re.test(l));
          if (line !== undefined) return finish(() => resolve(line));
          if (child.exitCode !== null || child.signalCode !== null) {
            return finish(() =>
              reject(new Error(`citygrid ${args[0]} exited before printing ${re}:\n${text.slice(-3000)}`)),
            );
          }
        };
        const timer = setTimeout(
          () =>
            finish(() =>
              reject(new Error(`timeout waiting for ${re} from citygrid ${args[0]}:\n${text.slice(-3000)}`)),
            ),
          timeoutMs,
        );
        const finish = (fn: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          fn();
        };
        waiters.add(check);
        check();
      });
    },
    async stop(signal = 'SIGTERM', graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      process.kill(pid, signal);
      const timer = setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGKILL');
      }, graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Polls `fn` until it returns a value that is not undefined, or throws after `timeoutMs`. */
export async function eventually<T>(
  fn: () => Promise<T | undefined>,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
