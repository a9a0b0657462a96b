/**
 * Persists the ack watermark of each (gateway, bootId) in the hub data dir, so that after a hub
 * restart re-sent messages are still recognised as duplicates and never written twice.
 *
 * Why libsql and not a renamed JSON file: a commit with `synchronous = FULL` is crash-safe on its
 * own (no write-temp/fsync/rename/fsync-dir dance to get right), updates one row instead of
 * rewriting every gateway's state, and the hub already ships libsql. The acker batches all
 * watermark moves of one ~50 ms window into one transaction (~1 ms), so this costs at most ~20
 * commits per second whatever the message rate.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'libsql';

export interface WatermarkRow {
  gateway: string;
  bootId: string;
  watermark: number;
}

export interface WatermarkStore {
  /** The persisted watermark of one boot, or undefined when none. */
  get(gateway: string, bootId: string): number | undefined;
  /** Every persisted watermark (for /api/gateways after a restart). */
  all(): WatermarkRow[];
  /** Writes several watermarks in one durable transaction; returns once committed. */
  save(rows: readonly WatermarkRow[], now: number): void;
  /** Drops boots not updated since `olderThan` (ms since epoch). */
  prune(olderThan: number): number;
  close(): void;
}

export function openWatermarkStore(dataDir: string): WatermarkStore {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(path.join(dataDir, 'ingest-state.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`CREATE TABLE IF NOT EXISTS watermarks (
    gateway TEXT NOT NULL,
    boot_id TEXT NOT NULL,
    watermark INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (gateway, boot_id)
  )`);
  const getStmt = db.prepare('SELECT watermark FROM watermarks WHERE gateway = ? AND boot_id = ?');
  const allStmt = db.prepare('SELECT gateway, boot_id AS bootId, watermark FROM watermarks ORDER BY updated_at');
  const upsert = db.prepare(
    `INSERT INTO watermarks (gateway, boot_id, watermark, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (gateway, boot_id) DO UPDATE SET watermark = MAX(watermark, excluded.watermark), updated_at = excluded.updated_at`,
  );
  const pruneStmt = db.prepare('DELETE FROM watermarks WHERE updated_at < ?');
  const saveAll = db.transaction((rows: readonly WatermarkRow[], now: number) => {
    for (const r of rows) upsert.run(r.gateway, r.bootId, r.watermark, now);
  });
  return {
    get(gateway, bootId) {
      const row = getStmt.get(gateway, bootId) as { watermark: number } | undefined;
      return row ? Number(row.watermark) : undefined;
    },
    all() {
      return (allStmt.all() as WatermarkRow[]).map((r) => ({
        gateway: r.gateway,
        bootId: r.bootId,
        watermark: Number(r.watermark),
      }));
    },
    save(rows, now) {
      if (rows.length > 0) saveAll(rows, now);
    },
    prune(olderThan) {
      return Number(pruneStmt.run(olderThan).changes);
    },
    close() {
      db.close();
    },
  };
}
