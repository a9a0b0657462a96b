import { vi } from 'vitest';
import { createLogger, type Logger } from '../../drivers/sdk/log.js';

/** Collects what a CLI command prints (console.log / console.error) instead of showing it. */
export function captureConsole(): { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  return { out, err };
}

/** A pino logger whose lines are kept in memory, parsed, for tests that assert what was logged. */
export function captureLogger(): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const raw: string[] = [];
  const logger = createLogger({
    name: 'test',
    level: 'debug',
    destination: { write: (chunk: string) => void raw.push(chunk) },
  });
  return { logger, lines: () => raw.map((l) => JSON.parse(l) as Record<string, unknown>) };
}
