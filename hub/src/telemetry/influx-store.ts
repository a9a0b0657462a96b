/**
 * Telemetry in InfluxDB 1.x through the `influx` package.
 *
 * - No schema is declared: the package would throw synchronously on a mismatch, and the hub must
 *   store kinds and fields it does not know yet. Numbers are written as floats (the package does
 *   so without a schema), so a device cannot flip a field between integer and float.
 * - Precision ms; the retention policy is named on every write and query when configured
 *   (a default RP would otherwise capture the writes).
 * - The package's own retries and host back-off are switched off: the TelemetryWriter retries
 *   with its own backoff, and a host "disabled" for 10 s by the pool would delay recovery.
 *
 * What write() does with each answer:
 * - 204: resolves.
 * - 400 "partial write" (field type conflict, beyond retention): InfluxDB kept the other points
 *   and dropped `dropped=N`; those N are counted in citygrid_sink_points_rejected_total, logged
 *   with the measurement, field and devices concerned, and write() resolves (a retry would be
 *   refused again forever).
 * - any other 400: the request as a whole was refused. It is split in halves and retried until
 *   the refused points are single points; those are counted, logged and dropped, the rest written.
 * - 404 database not found (dropped under us): creates it once and writes again.
 * - connection errors, timeouts, 5xx, auth errors: rejects; the writer retries the same points.
 */
import Influx from 'influx';
import { Pool } from 'influx/lib/src/pool.js';
import { describeError, StartupError } from '../../../drivers/sdk/errors.js';
import type { Logger } from '../../../drivers/sdk/log.js';
import type { Counter, MetricsRegistry } from '../../../drivers/sdk/metrics.js';
import type { FieldValue } from '../../../drivers/sdk/reading.js';
import type { DeadLetterSink } from './dead-letter.js';
import { LineProtocolEncoder } from './line-protocol.js';
import type { TelemetryPoint, TelemetryQuery, TelemetryStore } from './types.js';

export interface InfluxStoreOptions {
  /** Base URL, e.g. http://127.0.0.1:8086 (a path prefix is kept). */
  url: string;
  database: string;
  retentionPolicy?: string;
  username?: string;
  password?: string;
  /** Per-request timeout, ms. Default 10 000. */
  requestTimeoutMs?: number;
  /** Receives the points refused for good (./dead-letter.ts). */
  deadLetters?: DeadLetterSink;
}

/** Back-off that never disables the only host: retry timing belongs to the TelemetryWriter. */
const NO_HOST_BACKOFF = {
  getDelay: () => 0,
  next: () => NO_HOST_BACKOFF,
  reset: () => NO_HOST_BACKOFF,
};

type RejectReason = 'field-type-conflict' | 'beyond-retention' | 'bad-point';

interface HttpError {
  status: number;
  /** The `error` text of InfluxDB's JSON body, or the raw message. */
  detail: string;
}

function httpErrorOf(err: unknown): HttpError | undefined {
  if (!err || typeof err !== 'object' || !('res' in err)) return undefined;
  const status = (err as { res?: { statusCode?: number } }).res?.statusCode;
  if (typeof status !== 'number') return undefined;
  const message = err instanceof Error ? err.message : String(err);
  const json = /error occurred: (\{.*\})\s*$/s.exec(message)?.[1];
  let detail = message;
  if (json) {
    try {
      detail = String((JSON.parse(json) as { error?: unknown }).error ?? message);
    } catch {
      // Not JSON after all: keep the raw message.
    }
  }
  return { status, detail };
}

const JS_TYPE_OF_INFLUX_TYPE: Record<string, string> = {
  float: 'number',
  integer: 'number',
  string: 'string',
  boolean: 'boolean',
};

export class InfluxTelemetryStore implements TelemetryStore {
  readonly name = 'influx';
  private readonly influx: Influx.InfluxDB;
  /** Writes go through the package's HTTP pool (same errors as writePoints) with our own serialiser. */
  private readonly writePool: Pool;
  private readonly rejected: Counter;
  private readonly encoder = new LineProtocolEncoder();

  constructor(
    private readonly opts: InfluxStoreOptions,
    private readonly log: Logger,
    metrics: MetricsRegistry,
  ) {
    const url = new URL(opts.url);
    const protocol = url.protocol === 'https:' ? 'https' : 'http';
    const port = Number(url.port || (protocol === 'https' ? 443 : 8086));
    const prefix = url.pathname === '/' ? '' : url.pathname;
    const pool = { maxRetries: 0, requestTimeout: opts.requestTimeoutMs ?? 10_000, backoff: NO_HOST_BACKOFF };
    this.writePool = new Pool(pool);
    this.writePool.addHost(`${protocol}://${url.hostname}:${port}${prefix}`);
    this.influx = new Influx.InfluxDB({
      host: url.hostname,
      port,
      protocol,
      path: prefix || undefined,
      database: opts.database,
      username: opts.username,
      password: opts.password,
      pool,
    });
    this.rejected = metrics.counter(
      'citygrid_sink_points_rejected_total',
      'Telemetry points the store refused for good (field type conflict, beyond retention, bad point), by reason.',
    );
  }

  async open(): Promise<void> {
    try {
      await this.influx.createDatabase(this.opts.database);
    } catch (err) {
      const http = httpErrorOf(err);
      // 4xx (auth, forbidden) will not heal by itself; anything else is the server not being there yet.
      throw new StartupError(
        `InfluxDB at ${this.opts.url} is not usable: ${describeError(err)}`,
        http === undefined || http.status >= 500,
        {
          cause: err,
        },
      );
    }
    const rp = this.opts.retentionPolicy;
    if (rp !== undefined) {
      const policies = await this.influx.showRetentionPolicies(this.opts.database);
      if (!policies.some((p) => p.name === rp)) {
        throw new StartupError(
          `retention policy "${rp}" does not exist in InfluxDB database "${this.opts.database}"`,
          false,
        );
      }
    }
  }

  async write(points: readonly TelemetryPoint[]): Promise<void> {
    if (points.length === 0) return;
    await this.writeChunk(points, true);
  }

  private async writeChunk(points: readonly TelemetryPoint[], mayCreateDatabase: boolean): Promise<void> {
    try {
      await this.writePool.discard({
        method: 'POST',
        path: '/write',
        query: { db: this.opts.database, precision: 'ms', rp: this.opts.retentionPolicy },
        // A Buffer, though typed string: the pool only passes it to Buffer.from and req.write.
        body: this.encoder.body(points) as unknown as string,
        auth: this.opts.username === undefined ? undefined : `${this.opts.username}:${this.opts.password ?? ''}`,
      });
      return;
    } catch (err) {
      const http = httpErrorOf(err);
      if (http?.status === 404 && mayCreateDatabase && /database not found/.test(http.detail)) {
        this.log.warn({ database: this.opts.database }, 'InfluxDB database missing; creating it');
        await this.influx.createDatabase(this.opts.database);
        return this.writeChunk(points, false);
      }
      if (http?.status !== 400) throw err;
      if (http.detail.startsWith('partial write')) {
        this.countPartialWrite(points, http.detail);
        return;
      }
      if (points.length === 1) {
        this.reject('bad-point', 1, { detail: http.detail, point: points[0] }, points);
        return;
      }
      const half = Math.ceil(points.length / 2);
      await this.writeChunk(points.slice(0, half), mayCreateDatabase);
      await this.writeChunk(points.slice(half), mayCreateDatabase);
    }
  }

  private countPartialWrite(points: readonly TelemetryPoint[], detail: string): void {
    const dropped = Number(/dropped=(\d+)/.exec(detail)?.[1] ?? 0);
    const conflict = /input field "([^"]+)" on measurement "([^"]+)" is type (\w+), already exists as type (\w+)/.exec(
      detail,
    );
    if (conflict) {
      const [, field, measurement, inputType] = conflict as unknown as [string, string, string, string];
      const jsType = JS_TYPE_OF_INFLUX_TYPE[inputType];
      const devices = new Set<string>();
      const conflicting: TelemetryPoint[] = [];
      for (const p of points) {
        const value: FieldValue | undefined = p.fields[field];
        if (p.measurement === measurement && value !== undefined && typeof value === jsType) {
          devices.add(p.tags.device ?? '');
          conflicting.push(p);
        }
      }
      // InfluxDB names only the first conflict: when it dropped more, the rest are counted unnamed.
      const named = conflicting.slice(0, dropped);
      this.reject(
        'field-type-conflict',
        dropped,
        { detail, measurement, field, devices: [...devices].slice(0, 20) },
        named,
      );
      return;
    }
    if (/beyond retention/.test(detail)) {
      this.reject('beyond-retention', dropped, { detail }, []);
      return;
    }
    // "unable to parse" reports dropped=0 although the line it names was not stored.
    this.reject('bad-point', Math.max(1, dropped), { detail }, []);
  }

  private reject(
    reason: RejectReason,
    count: number,
    context: Record<string, unknown> & { detail: string },
    points: readonly TelemetryPoint[],
  ): void {
    this.rejected.inc({ store: this.name, reason }, count);
    this.log.warn({ reason, rejected: count, ...context }, 'InfluxDB rejected telemetry points; dead-lettered them');
    this.opts.deadLetters?.(reason, context.detail, points, count);
  }

  /**
   * Points of one device and measurement with since <= ts < until, oldest first. With `limit`,
   * the most recent `limit` of them (still oldest first).
   */
  async query(q: TelemetryQuery): Promise<TelemetryPoint[]> {
    const esc = Influx.escape;
    const from = this.opts.retentionPolicy
      ? `${esc.quoted(this.opts.retentionPolicy)}.${esc.quoted(q.measurement)}`
      : esc.quoted(q.measurement);
    const upper = q.until === undefined ? '' : ` AND time < ${Math.floor(q.until)}ms`;
    const limit = q.limit === undefined ? '' : ` LIMIT ${Math.max(0, Math.floor(q.limit))}`;
    // GROUP BY * hands tags back per series, so tags and fields stay apart in the answer.
    const text =
      `SELECT * FROM ${from} WHERE "device" = ${esc.stringLit(q.device)} AND time >= ${Math.floor(q.since)}ms${upper}` +
      ` GROUP BY * ORDER BY time DESC${limit}`;
    const raw = (await this.influx.queryRaw(text, {
      database: this.opts.database,
      retentionPolicy: this.opts.retentionPolicy,
      precision: 'ms',
    })) as {
      results?: Array<{
        error?: string;
        series?: Array<{ name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }>;
      }>;
    };
    const result = raw.results?.[0];
    if (result?.error) throw new Error(`InfluxDB query failed: ${result.error}`);
    const points: TelemetryPoint[] = [];
    for (const series of result?.series ?? []) {
      const tags: Record<string, string> = {};
      for (const [k, v] of Object.entries(series.tags ?? {})) if (v !== '') tags[k] = v;
      for (const row of series.values) {
        const fields: Record<string, FieldValue> = {};
        let ts = 0;
        series.columns.forEach((column, i) => {
          const value = row[i];
          if (column === 'time') ts = Number(value);
          else if (value !== null && value !== undefined) fields[column] = value as FieldValue;
        });
        points.push({ measurement: series.name, tags, fields, ts });
      }
    }
    points.sort((a, b) => b.ts - a.ts);
    const kept = q.limit === undefined ? points : points.slice(0, q.limit);
    return kept.reverse();
  }

  async close(): Promise<void> {
    // The package keeps no sockets open between requests (no keep-alive agent): nothing to release.
  }
}
