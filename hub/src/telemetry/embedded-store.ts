/**
 * The embedded telemetry store: one SQLite file (libsql, better-sqlite3 API) in the hub's data
 * dir, so the demo needs nothing installed.
 *
 * - A point is identified by (measurement, series, ts), `series` being the canonical JSON of its
 *   sorted tags; writing it again merges its fields into the stored ones (json_patch), which is
 *   what InfluxDB does with a rewritten point. Retried batches are therefore idempotent.
 * - One transaction per write() call (= one writer batch).
 * - WAL with synchronous=FULL: write() resolving is what lets the hub acknowledge a seq and the
 *   edge delete it from its outbox, so the commit must survive a power loss too, not just a
 *   process crash (NORMAL may lose the last commits on power loss). The writer batches, so this
 *   costs one fsync per batch (~2k commits/s measured, far above the batch rate).
 */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'libsql';
import { StartupError } from '../../../drivers/sdk/errors.js';
import type { FieldValue } from '../../../drivers/sdk/reading.js';
import { seriesKey } from './point-mapping.js';
import type { TelemetryPoint, TelemetryQuery, TelemetryStore } from './types.js';

/** File name of the store inside the hub's data dir. */
export const EMBEDDED_STORE_FILE = 'telemetry.db';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS telemetry (
  measurement TEXT NOT NULL,
  series TEXT NOT NULL,
  ts INTEGER NOT NULL,
  device TEXT NOT NULL,
  fields TEXT NOT NULL,
  PRIMARY KEY (measurement, series, ts)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS telemetry_by_device ON telemetry (device, measurement, ts);
CREATE INDEX IF NOT EXISTS telemetry_by_ts ON telemetry (ts);
`;

interface Row {
  measurement: string;
  series: string;
  ts: number;
  fields: string;
}

export class EmbeddedTelemetryStore implements TelemetryStore {
  readonly name = 'embedded';
  /** Path of the SQLite file. */
  readonly file: string;
  private db: Database.Database | undefined;
  private writeBatch: ((points: readonly TelemetryPoint[]) => void) | undefined;

  constructor(dataDir: string) {
    this.file = join(dataDir, EMBEDDED_STORE_FILE);
  }

  async open(): Promise<void> {
    if (this.db) return;
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      const db = new Database(this.file);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('busy_timeout = 5000');
      db.exec(SCHEMA);
      const insert = db.prepare(
        `INSERT INTO telemetry (measurement, series, ts, device, fields) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (measurement, series, ts) DO UPDATE SET fields = json_patch(fields, excluded.fields)`,
      );
      this.writeBatch = db.transaction((points: readonly TelemetryPoint[]) => {
        for (const p of points) {
          insert.run(p.measurement, seriesKey(p.tags), p.ts, p.tags.device ?? '', JSON.stringify(p.fields));
        }
      });
      this.db = db;
    } catch (err) {
      throw new StartupError(`cannot open the embedded telemetry store ${this.file}`, false, { cause: err });
    }
  }

  async write(points: readonly TelemetryPoint[]): Promise<void> {
    if (!this.writeBatch) throw new StartupError('embedded telemetry store is not open', true);
    if (points.length === 0) return;
    this.writeBatch(points);
  }

  /**
   * Points of one device and measurement with since <= ts < until, oldest first. With `limit`,
   * the most recent `limit` of them (still oldest first), which is what a chart wants.
   */
  async query(q: TelemetryQuery): Promise<TelemetryPoint[]> {
    const db = this.requireDb();
    const until = q.until ?? Number.MAX_SAFE_INTEGER;
    const limit = q.limit ?? -1;
    const rows = db
      .prepare(
        `SELECT measurement, series, ts, fields FROM telemetry
         WHERE device = ? AND measurement = ? AND ts >= ? AND ts < ?
         ORDER BY ts DESC LIMIT ?`,
      )
      .all(q.device, q.measurement, q.since, until, limit) as Row[];
    return rows.reverse().map((r) => ({
      measurement: r.measurement,
      tags: JSON.parse(r.series) as Record<string, string>,
      fields: JSON.parse(r.fields) as Record<string, FieldValue>,
      ts: Number(r.ts),
    }));
  }

  /** Number of stored points (all measurements); for tests and /healthz. */
  count(): number {
    const row = this.requireDb().prepare('SELECT count(*) AS n FROM telemetry').get() as { n: number };
    return Number(row.n);
  }

  /** Deletes points older than `cutoffTs` (ms since epoch); returns how many. Retention calls it. */
  prune(cutoffTs: number): number {
    return this.requireDb().prepare('DELETE FROM telemetry WHERE ts < ?').run(cutoffTs).changes;
  }

  async close(): Promise<void> {
    this.db?.close();
    this.db = undefined;
    this.writeBatch = undefined;
  }

  private requireDb(): Database.Database {
    if (!this.db) throw new StartupError('embedded telemetry store is not open', true);
    return this.db;
  }
}
