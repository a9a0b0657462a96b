/**
 * Evidence larger than one message arrives as parts (media-wire.ts), each with its own seq. Each
 * part is written durably to `<dataDir>/evidence/parts/<sha256 of the whole>/<index>` before its
 * seq is acknowledged (the edge then deletes it), so parts survive a hub restart; the thumbnail,
 * carried by part 0, goes beside them. Once every part is there, the whole is read back in order,
 * checked against its sha256 and handed to the store; then the parts are removed. Work on one
 * evidence id is serialised, so two parts arriving together cannot both assemble.
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { type MediaPart, sha256Hex } from '../../../drivers/sdk/media-wire.js';
import { writeDurably } from './store.js';

export type AssemblyResult =
  | { state: 'waiting'; have: number }
  | { state: 'complete'; data: Buffer; thumbnail?: Buffer }
  | { state: 'corrupt'; reason: string };

const THUMBNAIL = 'thumbnail';

export class PartAssembler {
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(
    private readonly dir: string,
    private readonly tmpDir: string,
  ) {}

  /** Stores one part durably; when it was the last one missing, returns the assembled whole. */
  add(id: string, size: number, part: MediaPart, bytes: Buffer, thumbnail?: Buffer): Promise<AssemblyResult> {
    return this.serial(id, async () => {
      const dir = path.join(this.dir, id);
      await writeDurably(path.join(dir, String(part.index)), bytes, this.tmpDir);
      if (thumbnail) await writeDurably(path.join(dir, THUMBNAIL), thumbnail, this.tmpDir);
      const have = (await readdir(dir)).filter((f) => /^\d+$/.test(f)).length;
      if (have < part.count) return { state: 'waiting', have };
      const parts = await Promise.all(
        Array.from({ length: part.count }, (_, i) => readFile(path.join(dir, String(i)))),
      );
      const data = Buffer.concat(parts);
      const thumb = await readFile(path.join(dir, THUMBNAIL)).catch(() => undefined);
      if (data.length !== size) return { state: 'corrupt', reason: `assembled ${data.length} bytes, expected ${size}` };
      if (sha256Hex(data) !== id) return { state: 'corrupt', reason: 'assembled data does not match its sha256' };
      return { state: 'complete', data, ...(thumb ? { thumbnail: thumb } : {}) };
    });
  }

  /** Drops the parts of `id` (assembled and stored, or corrupt). */
  remove(id: string): Promise<void> {
    return this.serial(id, () => rm(path.join(this.dir, id), { recursive: true, force: true }));
  }

  private serial<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(id) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const settled = next.catch(() => undefined);
    this.queues.set(id, settled);
    void settled.then(() => {
      if (this.queues.get(id) === settled) this.queues.delete(id);
    });
    return next;
  }
}
