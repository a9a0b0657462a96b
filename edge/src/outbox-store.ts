/**
 * The outbox's SQLite schema and statements (disk-outbox.ts explains the tables).
 */
import type Database from 'libsql';
import { LOSS_TABLE } from './loss-ledger.js';

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
  body TEXT NOT NULL
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
`;

export interface Pending {
  kind: number;
  device: string;
  ts: number;
  at: number;
  body: string;
}

export interface Lanes {
  /** Items with id <= backlogEnd are backlog. */
  backlogEnd: number;
  backlog: number;
  live: number;
  liveOldestAt: number | undefined;
  events: number;
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
