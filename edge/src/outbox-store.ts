/**
 * The outbox's SQLite schema and statements (disk-outbox.ts explains the tables).
 */
import type Database from 'libsql';
import { LOSS_TABLE } from './loss-ledger.js';

/**
 * What the outbox has ever taken, per device and item kind: count and timestamp range. Written in
 * the transaction that inserts the items and never deleted, so it is exactly what a crash kept: an
 * audit ledger of "produced" for whoever checks delivery end to end (the chaos test).
 */
const TAKEN_TABLE = `
CREATE TABLE IF NOT EXISTS taken (
  device TEXT NOT NULL,
  kind INTEGER NOT NULL,
  n INTEGER NOT NULL,
  min_ts INTEGER NOT NULL,
  max_ts INTEGER NOT NULL,
  PRIMARY KEY (device, kind)
);`;

export interface TakenTally {
  device: string;
  kind: number;
  n: number;
  minTs: number;
  maxTs: number;
}

/** The batch summed per (device, kind), for the taken ledger. */
export function tallyTaken(batch: readonly Pending[]): TakenTally[] {
  const byKey = new Map<string, TakenTally>();
  for (const p of batch) {
    const key = `${p.kind}\u0000${p.device}`;
    const t = byKey.get(key);
    if (!t) byKey.set(key, { device: p.device, kind: p.kind, n: 1, minTs: p.ts, maxTs: p.ts });
    else {
      t.n++;
      if (p.ts < t.minTs) t.minTs = p.ts;
      if (p.ts > t.maxTs) t.maxTs = p.ts;
    }
  }
  return [...byKey.values()];
}

/** The taken ledger of an outbox file (readable beside the running writer, WAL). */
export function readTakenLedger(db: Database.Database): TakenTally[] {
  return db
    .prepare('SELECT device, kind, n, min_ts AS minTs, max_ts AS maxTs FROM taken ORDER BY device, kind')
    .all() as TakenTally[];
}

// AUTOINCREMENT: ids are never reused, even after the table emptied; the lanes and the uplink rely on it.
export const SCHEMA = `
CREATE TABLE IF NOT EXISTS item (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind INTEGER NOT NULL,
  device TEXT NOT NULL,
  ts INTEGER NOT NULL,
  at INTEGER NOT NULL,
  win INTEGER NOT NULL DEFAULT 0,
  n INTEGER NOT NULL DEFAULT 1,
  bytes INTEGER NOT NULL,
  body TEXT NOT NULL -- a BLOB for media items (SQLite keeps a BLOB a BLOB in a TEXT column)
);
CREATE INDEX IF NOT EXISTS item_by_kind ON item (kind, id);
CREATE TABLE IF NOT EXISTS message (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  boot_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  channel TEXT NOT NULL,
  count INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  taken_at INTEGER NOT NULL,
  body TEXT NOT NULL,
  UNIQUE (boot_id, seq)
);
CREATE TABLE IF NOT EXISTS boot (boot_id TEXT PRIMARY KEY, started_at INTEGER NOT NULL, next_seq INTEGER NOT NULL);
${LOSS_TABLE}
${TAKEN_TABLE}
`;

export interface Pending {
  kind: number;
  device: string;
  ts: number;
  at: number;
  /** JSON text; a media item frame (stored as a BLOB) for evidence. */
  body: string | Buffer;
}

export interface Lanes {
  /** Items with id <= backlogEnd are backlog. */
  backlogEnd: number;
  backlog: number;
  live: number;
  liveOldestAt: number | undefined;
  events: number;
  media: number;
}

/** First column of the first row (libsql's pluck() applies to all(), not to get()). */
export function scalar(stmt: Database.Statement, ...args: unknown[]): unknown {
  return stmt.all(...args)[0];
}

/**
 * Runs `fn` in one transaction. Unlike libsql's db.transaction(), it keeps the original error when
 * SQLite already rolled back by itself (it does on SQLITE_FULL): the wrapper's own ROLLBACK would
 * fail and hide it behind "cannot rollback - no transaction is active".
 */
export function inTransaction<T>(db: Database.Database, fn: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = fn();
    db.exec('COMMIT');
    return result;
  } catch (err) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw err;
  }
}

export function isDiskFull(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return code === 'SQLITE_FULL' || code === 'ENOSPC' || /SQLITE_FULL|database or disk is full|ENOSPC/.test(String(err));
}

export function prepareStatements(db: Database.Database) {
  return {
    insertItem: db.prepare('INSERT INTO item (kind, device, ts, at, bytes, body) VALUES (?, ?, ?, ?, ?, ?)'),
    countTaken: db.prepare(
      `INSERT INTO taken (device, kind, n, min_ts, max_ts) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (device, kind) DO UPDATE SET n = n + excluded.n,
         min_ts = min(min_ts, excluded.min_ts), max_ts = max(max_ts, excluded.max_ts)`,
    ),
    lane: db.prepare('SELECT id, at, bytes, body FROM item WHERE kind = ? AND id > ? AND id <= ? ORDER BY id LIMIT ?'),
    deleteRange: db.prepare('DELETE FROM item WHERE kind = ? AND id >= ? AND id <= ?'),
    insertMessage: db.prepare(
      'INSERT INTO message (boot_id, seq, channel, count, bytes, taken_at, body) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    body: db.prepare('SELECT body FROM message WHERE id = ?').pluck(),
    ackDelete: db.prepare('DELETE FROM message WHERE boot_id = ? AND seq <= ?'),
    nextSeq: db.prepare('UPDATE boot SET next_seq = ? WHERE boot_id = ?'),
    deleteBoot: db.prepare('DELETE FROM boot WHERE boot_id = ?'),
    count: db.prepare('SELECT count(*) FROM item WHERE kind = ? AND id > ? AND id <= ?').pluck(),
    firstAt: db.prepare('SELECT at FROM item WHERE kind = ? AND id > ? ORDER BY id LIMIT 1').pluck(),
    maxId: db.prepare('SELECT coalesce(max(id), 0) FROM item').pluck(),
    oldestAt: db.prepare('SELECT at FROM item ORDER BY id LIMIT 1').pluck(),
  };
}

export type OutboxStatements = ReturnType<typeof prepareStatements>;
