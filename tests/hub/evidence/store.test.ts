import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeMediaItem, sha256Hex } from '../../../drivers/sdk/media-wire.js';
import { EvidenceStore } from '../../../hub/src/evidence/store.js';

const dirs: string[] = [];
const stores: EvidenceStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function open(dir?: string) {
  const d = dir ?? mkdtempSync(path.join(tmpdir(), 'cg-evidence-'));
  if (!dir) dirs.push(d);
  const store = await EvidenceStore.open(d, () => 42);
  stores.push(store);
  return { store, dir: d };
}

function input(data: Buffer, extra: { commandId?: string; device?: string; thumbnail?: Buffer } = {}) {
  const { meta } = encodeMediaItem({
    device: extra.device ?? 'XH-CAM01',
    kind: 'camera',
    asset: 'BR-XH-001',
    ts: 1_700_000_000_000,
    mediaType: 'image/jpeg',
    data,
    ...(extra.thumbnail ? { thumbnail: extra.thumbnail } : {}),
    ...(extra.commandId ? { commandId: extra.commandId } : {}),
  });
  return {
    gateway: 'gw-xh-01',
    district: 'xihu',
    meta,
    data,
    ...(extra.thumbnail ? { thumbnail: extra.thumbnail } : {}),
  };
}

describe('EvidenceStore', () => {
  it('stores bytes under their sha256 with a two-level fan-out, and indexes the metadata', async () => {
    const { store, dir } = await open();
    const data = randomBytes(50_000);
    const thumbnail = randomBytes(800);
    const { record, duplicate } = await store.put(input(data, { commandId: 'c1', thumbnail }));
    const id = sha256Hex(data);
    expect(duplicate).toBe(false);
    expect(record).toMatchObject({
      id,
      gateway: 'gw-xh-01',
      device: 'XH-CAM01',
      asset: 'BR-XH-001',
      mediaType: 'image/jpeg',
      size: 50_000,
      commandId: 'c1',
      thumbnailId: sha256Hex(thumbnail),
      storedAt: 42,
    });
    const file = path.join(dir, 'evidence', 'objects', id.slice(0, 2), id.slice(2, 4), id);
    expect(store.objectPath(id)).toBe(file);
    expect(readFileSync(file).equals(data)).toBe(true);
    expect(readFileSync(store.objectPath(sha256Hex(thumbnail))).equals(thumbnail)).toBe(true);
    expect(readdirSync(path.join(dir, 'evidence', 'tmp'))).toEqual([]);
  });

  it('same bytes give the same id and are stored once; the first metadata is kept', async () => {
    const { store } = await open();
    const data = randomBytes(10_000);
    const first = await store.put(input(data, { commandId: 'c1' }));
    const again = await store.put(input(Buffer.from(data), { commandId: 'c2', device: 'XH-CAM02' }));
    expect(again.duplicate).toBe(true);
    expect(again.record.id).toBe(first.record.id);
    expect(again.record.commandId).toBe('c1');
    expect(store.list({})).toHaveLength(1);
    const other = await store.put(input(randomBytes(10_000)));
    expect(other.record.id).not.toBe(first.record.id);
  });

  it('removes parts of split evidence left untouched for a week when it opens, and keeps recent ones', async () => {
    const { store, dir } = await open();
    const stale = path.join(store.partsDir, 'a'.repeat(64));
    const fresh = path.join(store.partsDir, 'b'.repeat(64));
    for (const d of [stale, fresh]) {
      mkdirSync(d, { recursive: true });
      writeFileSync(path.join(d, '0'), 'part');
    }
    const eightDaysAgo = (Date.now() - 8 * 86_400_000) / 1000;
    utimesSync(stale, eightDaysAgo, eightDaysAgo);
    store.close();
    stores.pop();
    const reopened = await EvidenceStore.open(dir);
    stores.push(reopened);
    expect(readdirSync(reopened.partsDir)).toEqual(['b'.repeat(64)]);
  });

  it('lists by device, asset and command, and survives a reopen', async () => {
    const { store, dir } = await open();
    const a = await store.put(input(randomBytes(100), { commandId: 'c1', device: 'CAM-A' }));
    await store.put(input(randomBytes(100), { device: 'CAM-B' }));
    expect(store.list({ device: 'CAM-A' }).map((r) => r.id)).toEqual([a.record.id]);
    expect(store.list({ command: 'c1' }).map((r) => r.id)).toEqual([a.record.id]);
    expect(store.list({ asset: 'BR-XH-001' })).toHaveLength(2);
    expect(store.get('not-a-sha')).toBeUndefined();
    store.close();
    stores.pop();
    const { store: reopened } = await open(dir);
    expect(reopened.get(a.record.id)).toEqual(a.record);
    expect(existsSync(reopened.objectPath(a.record.id))).toBe(true);
  });
});
