/**
 * The telemetry spool: batches the InfluxDB store could not take (down, refusing for a transient
 * reason, or too slow) wait here on disk, oldest first, until the writer's replayer hands them to
 * the store again. Being on disk makes them durable, so the writer acknowledges them at once.
 *
 * Why libsql (WAL, synchronous = FULL): one INSERT per batch is crash-safe on its own, the hub
 * already ships it for its watermarks, and deleting replayed rows by id range is one statement.
 * One row per batch, its points encoded compactly as JSON: each distinct (measurement, tags) of
 * the batch once, then per point [series index, fields, ts]. A batch is many readings of few
 * devices, so the tag sets (the longest part of a point) are written once per device and batch.
 *
 * Bound: the sum of the rows' body sizes (`bytes`) is kept against `maxBytes`; the SQLite file
 * itself is somewhat larger (pages, the WAL). At the bound `full` turns true and the writer stops
 * taking points; nothing is ever dropped here.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'libsql';
import type { FieldValue } from '../../../drivers/sdk/reading.js';
import type { TelemetryPoint } from './types.js';

export const SPOOL_FILE = 'telemetry-spool.db';

/** One or more consecutive spool rows read for replay. */
export interface SpoolChunk {
  firstId: number;
  lastId: number;
  rows: number;
  points: TelemetryPoint[];
  bytes: number;
}

interface EncodedBatch {
  /** [measurement, tags] per distinct series of the batch. */
  s: Array<[string, Record<string, string>]>;
  /** [series index, fields, ts] per point, in batch order. */
  p: Array<[number, Record<string, FieldValue>, number]>;
}

/** The batch as spool text. Reads each point's properties once (ReadingPoint builds tags lazily). */
export function encodeBatch(points: readonly TelemetryPoint[]): string {
  const s: EncodedBatch['s'] = [];
  const p: EncodedBatch['p'] = [];
  const index = new Map<string, number>();
  for (const point of points) {
    const tags = point.tags;
    let key = point.measurement;
    for (const k in tags) key += `\u0000${k}\u0000${tags[k]}`;
    let i = index.get(key);
    if (i === undefined) {
      i = s.length;
      index.set(key, i);
      s.push([point.measurement, tags]);
    }
    p.push([i, point.fields, point.ts]);
  }
  return JSON.stringify({ s, p } satisfies EncodedBatch);
}

export function decodeBatch(text: string): TelemetryPoint[] {
  const { s, p } = JSON.parse(text) as EncodedBatch;
  return p.map(([i, fields, ts]) => {
    const series = s[i] as [string, Record<string, string>];
    return { measurement: series[0], tags: series[1], fields, ts };
  });
}

export class TelemetrySpool {
  readonly file: string;
  readonly maxBytes: number;
  private readonly db: Database.Database;
  private readonly insertStmt: Database.Statement;
  private readonly headStmt: Database.Statement;
  private readonly deleteStmt: Database.Statement;
  private rowCount: number;
  private byteCount: number;
  private pointCount: number;
  private oldestAt: number | undefined;

  constructor(dataDir: string, maxBytes: number) {
    mkdirSync(dataDir, { recursive: true });
    this.file = path.join(dataDir, SPOOL_FILE);
    this.maxBytes = maxBytes;
    this.db = new Database(this.file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS batch (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      at INTEGER NOT NULL,
      n INTEGER NOT NULL,
      bytes INTEGER NOT NULL,
      body TEXT NOT NULL
    )`);
    this.insertStmt = this.db.prepare('INSERT INTO batch (at, n, bytes, body) VALUES (?, ?, ?, ?)');
    this.headStmt = this.db.prepare('SELECT id, n, bytes, body FROM batch ORDER BY id LIMIT ?');
    this.deleteStmt = this.db.prepare('DELETE FROM batch WHERE id BETWEEN ? AND ?');
    const totals = this.db
      .prepare('SELECT COUNT(*) AS rows, COALESCE(SUM(bytes), 0) AS bytes, COALESCE(SUM(n), 0) AS n FROM batch')
      .all()[0] as { rows: number; bytes: number; n: number };
    this.rowCount = totals.rows;
    this.byteCount = totals.bytes;
    this.pointCount = totals.n;
    this.oldestAt = this.readOldestAt();
  }

  get rows(): number {
    return this.rowCount;
  }
  get bytes(): number {
    return this.byteCount;
  }
  /** Points in the spool. */
  get points(): number {
    return this.pointCount;
  }
  get empty(): boolean {
    return this.rowCount === 0;
  }
  /** At or above `maxBytes`: take nothing more until replay made room. */
  get full(): boolean {
    return this.byteCount >= this.maxBytes;
  }
  /** Age in ms of the oldest spooled batch (0 when empty). */
  oldestAgeMs(now: number): number {
    return this.oldestAt === undefined ? 0 : Math.max(0, now - this.oldestAt);
  }

  /** Appends one batch durably (returns after the fsync). Throws on a disk error (e.g. SQLITE_FULL). */
  append(points: readonly TelemetryPoint[], now = Date.now()): void {
    const body = encodeBatch(points);
    const bytes = Buffer.byteLength(body);
    this.insertStmt.run(now, points.length, bytes, body);
    this.rowCount += 1;
    this.byteCount += bytes;
    this.pointCount += points.length;
    if (this.oldestAt === undefined) this.oldestAt = now;
  }

  /** The oldest rows, together at most `maxPoints` points (at least one row), or undefined when empty. */
  head(maxPoints: number): SpoolChunk | undefined {
    const rows = this.headStmt.all(64) as Array<{ id: number; n: number; bytes: number; body: string }>;
    const first = rows[0];
    if (!first) return undefined;
    const chunk: SpoolChunk = { firstId: first.id, lastId: first.id, rows: 0, points: [], bytes: 0 };
    for (const row of rows) {
      if (chunk.points.length > 0 && chunk.points.length + row.n > maxPoints) break;
      for (const p of decodeBatch(row.body)) chunk.points.push(p);
      chunk.lastId = row.id;
      chunk.rows += 1;
      chunk.bytes += row.bytes;
    }
    return chunk;
  }

  /** Deletes the rows of a chunk the store accepted. */
  remove(chunk: SpoolChunk): void {
    this.deleteStmt.run(chunk.firstId, chunk.lastId);
    this.rowCount = Math.max(0, this.rowCount - chunk.rows);
    this.byteCount = Math.max(0, this.byteCount - chunk.bytes);
    this.pointCount = Math.max(0, this.pointCount - chunk.points.length);
    this.oldestAt = this.rowCount === 0 ? undefined : this.readOldestAt();
  }

  close(): void {
    this.db.close();
  }

  private readOldestAt(): number | undefined {
    const row = this.db.prepare('SELECT at FROM batch ORDER BY id LIMIT 1').all()[0] as { at: number } | undefined;
    return row?.at;
  }
}
