/**
 * Points a store refused for good (InfluxDB: field type conflict, beyond retention, unparseable)
 * are never retried: they go to `<dataDir>/dead-letter.jsonl`, one JSON object per line
 * `{ at, reason, detail, point }` (at = ISO time of the refusal, point = the TelemetryPoint as
 * written), and are counted in citygrid_sink_dead_letters_total{reason}.
 *
 * Bound: when the file passes `maxBytes` (default 64 MB) it is renamed to `dead-letter.jsonl.1`
 * (replacing an older one) and a new file is started, so at most about 2 × maxBytes are kept.
 * Appends are synchronous (refusals are rare, and the line must be there before the points are
 * acknowledged); a failing disk is logged and counted, never thrown at the writer.
 */
import { appendFileSync, mkdirSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';
import { describeError } from '../../../drivers/sdk/errors.js';
import type { Logger } from '../../../drivers/sdk/log.js';
import type { Counter, MetricsRegistry } from '../../../drivers/sdk/metrics.js';
import type { TelemetryPoint } from './types.js';

export const DEAD_LETTER_FILE = 'dead-letter.jsonl';

/** Where a store reports points it refused for good. */
/**
 * `points` are the refused points when the store can name them; when it cannot (InfluxDB names
 * only the first of several conflicts, and not which points were beyond retention) `count` says
 * how many were refused, and one line with `point: null` and the unnamed rest as `count` is written.
 */
export type DeadLetterSink = (
  reason: string,
  detail: string,
  points: readonly TelemetryPoint[],
  count?: number,
) => void;

export class DeadLetterFile {
  readonly file: string;
  private size: number;
  private readonly counter: Counter;
  private readonly failures: Counter;

  constructor(
    dataDir: string,
    private readonly log: Logger,
    metrics: MetricsRegistry,
    private readonly maxBytes = 64e6,
    private readonly now: () => number = Date.now,
  ) {
    mkdirSync(dataDir, { recursive: true });
    this.file = path.join(dataDir, DEAD_LETTER_FILE);
    this.size = sizeOf(this.file);
    this.counter = metrics.counter(
      'citygrid_sink_dead_letters_total',
      'Telemetry points the store refused for good, written to dead-letter.jsonl in dataDir (never retried), by reason.',
    );
    this.failures = metrics.counter(
      'citygrid_sink_dead_letter_write_errors_total',
      'Dead-letter lines that could not be written to disk (the points are counted and logged only).',
    );
  }

  /** The DeadLetterSink to hand to a store. */
  readonly sink: DeadLetterSink = (reason, detail, points, count) => this.append(reason, detail, points, count);

  append(reason: string, detail: string, points: readonly TelemetryPoint[], count = points.length): void {
    const refused = Math.max(count, points.length);
    if (refused === 0) return;
    this.counter.inc({ reason }, refused);
    const at = new Date(this.now()).toISOString();
    let text = '';
    if (refused > points.length)
      text = `${JSON.stringify({ at, reason, detail, point: null, count: refused - points.length })}\n`;
    for (const p of points) {
      const point = { measurement: p.measurement, tags: p.tags, fields: p.fields, ts: p.ts };
      text += `${JSON.stringify({ at, reason, detail, point })}\n`;
    }
    try {
      if (this.size > 0 && this.size + text.length > this.maxBytes) this.rotate();
      appendFileSync(this.file, text);
      this.size += Buffer.byteLength(text);
    } catch (err) {
      this.failures.inc({}, refused);
      this.log.error({ reason, points: refused, err: describeError(err) }, 'Dead-letter write failed');
    }
  }

  private rotate(): void {
    renameSync(this.file, `${this.file}.1`);
    this.size = 0;
  }
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}
