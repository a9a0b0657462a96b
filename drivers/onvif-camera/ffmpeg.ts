/**
 * Runs ffmpeg for one capture: output read from stdout (no temp files), a hard timeout after which
 * the process is SIGKILLed, and the promise settles only once the process has exited (reaped, so
 * no zombie is left). `stopAll()` kills whatever still runs when the driver stops.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { CameraError } from './errors.js';
import { chooseFfmpeg, type FfmpegSource } from './ffmpeg-args.js';

/** ffmpeg-static's binary path when its install script managed to download one (it usually cannot offline). */
export function ffmpegStaticPath(): string | undefined {
  try {
    const p = createRequire(import.meta.url)('ffmpeg-static') as unknown;
    return typeof p === 'string' ? p : undefined;
  } catch {
    return undefined;
  }
}

export function resolveFfmpeg(configured: string | undefined): { path: string; source: FfmpegSource } {
  return chooseFfmpeg(configured, process.env, ffmpegStaticPath());
}

export interface FfmpegRun {
  data: Buffer;
  ms: number;
}

export class FfmpegRunner {
  private readonly running = new Set<ChildProcess>();

  constructor(readonly path: string) {}

  /** PIDs of ffmpeg processes still running (tests check none is left behind). */
  get pids(): number[] {
    return [...this.running].map((c) => c.pid).filter((p): p is number => p !== undefined);
  }

  /**
   * Runs ffmpeg with `args`; resolves with stdout. Rejects FFMPEG_TIMEOUT when it runs past
   * `timeoutMs`, EVIDENCE_TOO_LARGE when stdout passes `maxBytes` (both kill it first),
   * FFMPEG_FAILED on a nonzero exit or empty output.
   */
  run(args: readonly string[], opts: { timeoutMs: number; maxBytes: number }): Promise<FfmpegRun> {
    const started = Date.now();
    return new Promise((resolve, reject) => {
      let child: ChildProcess;
      try {
        child = spawn(this.path, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      } catch (err) {
        reject(new CameraError('FFMPEG_FAILED', `cannot start ffmpeg (${this.path})`, { cause: err }));
        return;
      }
      this.running.add(child);
      const chunks: Buffer[] = [];
      let size = 0;
      let stderr = '';
      let failure: CameraError | undefined;
      const kill = (err: CameraError) => {
        failure ??= err;
        child.kill('SIGKILL');
      };
      const timer = setTimeout(
        () =>
          kill(new CameraError('FFMPEG_TIMEOUT', `ffmpeg gave no complete output within ${opts.timeoutMs} ms; killed`)),
        opts.timeoutMs,
      );
      child.stdout?.on('data', (d: Buffer) => {
        size += d.length;
        if (size > opts.maxBytes) {
          kill(new CameraError('EVIDENCE_TOO_LARGE', `ffmpeg output passed maxEvidenceBytes (${opts.maxBytes})`));
          return;
        }
        chunks.push(d);
      });
      child.stderr?.on('data', (d: Buffer) => {
        stderr = (stderr + d.toString()).slice(-1000);
      });
      child.once('error', (err) => {
        failure ??= new CameraError('FFMPEG_FAILED', `cannot run ffmpeg (${this.path}): ${err.message}`, {
          cause: err,
        });
      });
      // 'close' fires after the process exited and its pipes closed: the child is reaped by then.
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        this.running.delete(child);
        if (failure) return reject(failure);
        const data = Buffer.concat(chunks);
        if (code !== 0 || data.length === 0)
          return reject(
            new CameraError(
              'FFMPEG_FAILED',
              `ffmpeg exited with ${signal ?? code}${stderr ? `: ${stderr.trim().split('\n').slice(-2).join(' | ')}` : ''}`,
            ),
          );
        resolve({ data, ms: Date.now() - started });
      });
    });
  }

  /** Kills every running ffmpeg and waits until each has exited. */
  async stopAll(): Promise<void> {
    await Promise.all(
      [...this.running].map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('close', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
  }
}
