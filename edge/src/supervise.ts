/**
 * Starts something that may fail to start (a driver, a bus poller): retries a retryable
 * StartupError with doubling backoff until it starts or the agent stops; gives up at once on
 * any other error.
 */
import { describeError, StartupError } from '../../drivers/sdk/errors.js';
import type { Logger } from '../../drivers/sdk/log.js';

export interface SuperviseOptions {
  start(): Promise<void>;
  stopped(): boolean;
  /** Aborts the wait between attempts. */
  signal: AbortSignal;
  retry: { initialDelay: number; maxDelay: number };
  log: Logger;
  onFailure(err: unknown, retryable: boolean): void;
}

/** Resolves true once started, false when it gave up or the agent stopped first. */
export async function superviseStart(opts: SuperviseOptions): Promise<boolean> {
  let delay = opts.retry.initialDelay;
  while (!opts.stopped()) {
    try {
      await opts.start();
      return !opts.stopped();
    } catch (err) {
      if (opts.stopped()) return false;
      const retryable = err instanceof StartupError && err.retryable;
      opts.onFailure(err, retryable);
      if (!retryable) {
        opts.log.error({ err: describeError(err) }, 'Failed to start, giving up');
        return false;
      }
      opts.log.debug({ err: describeError(err), retryIn: delay }, 'Failed to start, retrying');
      await sleep(delay, opts.signal);
      delay = Math.min(delay * 2, opts.retry.maxDelay);
    }
  }
  return false;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
