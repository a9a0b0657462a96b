/**
 * The hub's evidence store: content-addressed files in `<dataDir>/evidence/objects/<aa>/<bb>/<sha256>`
 * (the id of an evidence item is the sha256 of its bytes, so the same bytes are stored once and
 * re-sent items need no lookup to be recognised), and a metadata index in
 * `<dataDir>/evidence.db` (libsql, WAL, synchronous=FULL, like the watermark store) with device,
 * asset, gateway, ts, media type, size, command id and thumbnail id.
 *
 * put() resolves only once the bytes and the index row are durable: each file is written to a
 * temp file, fsynced, renamed into place and its directory fsynced; then the row is committed.
 * The ingest acknowledges the message's seq only after that, so an evidence item the edge deleted
 * is on the hub's disk.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import Database from 'libsql';
import { type EvidenceMeta, sha256Hex } from '../../../drivers/sdk/media-wire.js';

export interface EvidenceRecord {
  /** sha256 of the data, lowercase hex. */
  id: string;
  gateway: string;
  district: string;
  device: string;
  kind: string;
  asset?: string;
  /** When it was taken, ms since epoch (device clock). */
  ts: number;
  mediaType: string;
  size: number;
  commandId?: string;
  /** sha256 of the thumbnail JPEG, when there is one. */
  thumbnailId?: string;
  meta?: Record<string, unknown>;
  /** Hub clock, ms, when it was stored. */
  storedAt: number;
}

export interface EvidenceFilter {
  device?: string;
  asset?: string;
  command?: string;
  /** At most this many, newest first. Default 100. */
  limit?: number;
}

export interface EvidenceInput {
  gateway: string;
  district: string;
  meta: EvidenceMeta;
  data: Buffer;
  thumbnail?: Buffer;
}

interface Row {
  id: string;
  gateway: string;
  district: string;
  device: string;
  kind: string;
  asset: string | null;
  ts: number;
  media_type: string;
  size: number;
  command_id: string | null;
  thumbnail_id: string | null;
  meta: string | null;
  stored_at: number;
}

const ID = /^[0-9a-f]{64}$/;

export class EvidenceStore {
  private readonly db: Database.Database;
  private readonly objects: string;
  private readonly tmp: string;
  private readonly insert: Database.Statement;
  private readonly byId: Database.Statement;

  private constructor(
    dataDir: string,
    private readonly now: () => number,
  ) {
    this.objects = path.join(dataDir, 'evidence', 'objects');
    this.tmp = path.join(dataDir, 'evidence', 'tmp');
    mkdirSync(this.objects, { recursive: true });
    mkdirSync(this.tmp, { recursive: true });
    this.db = new Database(path.join(dataDir, 'evidence.db'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS evidence (
      id TEXT PRIMARY KEY,
      gateway TEXT NOT NULL,
      district TEXT NOT NULL,
      device TEXT NOT NULL,
      kind TEXT NOT NULL,
      asset TEXT,
      ts INTEGER NOT NULL,
      media_type TEXT NOT NULL,
      size INTEGER NOT NULL,
      command_id TEXT,
      thumbnail_id TEXT,
      meta TEXT,
      stored_at INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS evidence_by_device ON evidence (device, ts);
    CREATE INDEX IF NOT EXISTS evidence_by_asset ON evidence (asset, ts);
    CREATE INDEX IF NOT EXISTS evidence_by_command ON evidence (command_id);`);
    this.insert = this.db.prepare(
      `INSERT OR IGNORE INTO evidence (id, gateway, district, device, kind, asset, ts, media_type, size, command_id,
        thumbnail_id, meta, stored_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.byId = this.db.prepare('SELECT * FROM evidence WHERE id = ?');
  }

  /**
   * Opens (creates) the store in the hub's data dir. Leftovers of an interrupted write are removed,
   * and parts of split evidence untouched for `stalePartsMs` (default 7 days): their other parts
   * will not come (the edge's quota policy dropped them), and they would stay forever.
   */
  static async open(
    dataDir: string,
    now: () => number = Date.now,
    stalePartsMs = 7 * 86_400_000,
  ): Promise<EvidenceStore> {
    const store = new EvidenceStore(dataDir, now);
    await rm(store.tmp, { recursive: true, force: true });
    await mkdir(store.tmp, { recursive: true });
    const parts = await readdir(store.partsDir).catch(() => [] as string[]);
    for (const id of parts) {
      const dir = path.join(store.partsDir, id);
      const modified = (await stat(dir).catch(() => undefined))?.mtimeMs ?? 0;
      if (now() - modified > stalePartsMs) await rm(dir, { recursive: true, force: true });
    }
    return store;
  }

  /**
   * Stores the bytes (once per content) and the index row; resolves once both are durable.
   * `duplicate`: an item with these bytes was already indexed (its first metadata is kept).
   */
  async put(input: EvidenceInput): Promise<{ record: EvidenceRecord; duplicate: boolean }> {
    const id = input.meta.sha256;
    await this.writeObject(id, input.data);
    const thumbnailId = input.thumbnail ? sha256Hex(input.thumbnail) : undefined;
    if (input.thumbnail && thumbnailId) await this.writeObject(thumbnailId, input.thumbnail);
    const m = input.meta;
    const changes = this.insert.run(
      id,
      input.gateway,
      input.district,
      m.device,
      m.kind,
      m.asset ?? null,
      m.ts,
      m.mediaType,
      m.size,
      m.commandId ?? null,
      thumbnailId ?? null,
      m.meta ? JSON.stringify(m.meta) : null,
      this.now(),
    ).changes;
    return { record: this.get(id) as EvidenceRecord, duplicate: Number(changes) === 0 };
  }

  get(id: string): EvidenceRecord | undefined {
    if (!ID.test(id)) return undefined;
    const row = this.byId.get(id) as Row | undefined;
    return row ? toRecord(row) : undefined;
  }

  list(filter: EvidenceFilter): EvidenceRecord[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.device) {
      where.push('device = ?');
      args.push(filter.device);
    }
    if (filter.asset) {
      where.push('asset = ?');
      args.push(filter.asset);
    }
    if (filter.command) {
      where.push('command_id = ?');
      args.push(filter.command);
    }
    const sql = `SELECT * FROM evidence ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ts DESC, id LIMIT ?`;
    args.push(Math.max(1, Math.min(1000, filter.limit ?? 100)));
    return (this.db.prepare(sql).all(...args) as Row[]).map(toRecord);
  }

  /** Temp dir on the store's file system (for writeDurably). */
  get tmpDir(): string {
    return this.tmp;
  }

  /** Path of a stored object (data or thumbnail) by its sha256. */
  objectPath(id: string): string {
    return path.join(this.objects, id.slice(0, 2), id.slice(2, 4), id);
  }

  close(): void {
    this.db.close();
  }

  /** Where parts of evidence split across messages wait to be assembled (parts.ts). */
  get partsDir(): string {
    return path.join(path.dirname(this.objects), 'parts');
  }

  /** Content-addressed write: present already -> nothing to do; else written durably. */
  private async writeObject(id: string, bytes: Buffer): Promise<void> {
    const final = this.objectPath(id);
    const existing = await stat(final).catch(() => undefined);
    if (existing?.size === bytes.length) return;
    await writeDurably(final, bytes, this.tmp);
  }
}

/** tmp (in `tmpDir`, same file system) + fsync + rename to `final` + fsync of its directory. */
export async function writeDurably(final: string, bytes: Buffer, tmpDir: string): Promise<void> {
  const dir = path.dirname(final);
  await mkdir(dir, { recursive: true });
  const tmp = path.join(tmpDir, `${path.basename(final)}.${randomBytes(4).toString('hex')}`);
  const file = await open(tmp, 'w');
  try {
    await file.writeFile(bytes);
    await file.sync();
  } finally {
    await file.close();
  }
  try {
    await rename(tmp, final);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

function toRecord(r: Row): EvidenceRecord {
  return {
    id: r.id,
    gateway: r.gateway,
    district: r.district,
    device: r.device,
    kind: r.kind,
    ...(r.asset ? { asset: r.asset } : {}),
    ts: Number(r.ts),
    mediaType: r.media_type,
    size: Number(r.size),
    ...(r.command_id ? { commandId: r.command_id } : {}),
    ...(r.thumbnail_id ? { thumbnailId: r.thumbnail_id } : {}),
    ...(r.meta ? { meta: JSON.parse(r.meta) as Record<string, unknown> } : {}),
    storedAt: Number(r.stored_at),
  };
}
