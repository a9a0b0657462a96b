/**
 * The outbox's taken ledger: per device and kind, what was ever committed to disk, kept across
 * acks (deleted items) and restarts, and absent for items that never reached the disk.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'libsql';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../drivers/sdk/log.js';
import { MetricsRegistry } from '../../drivers/sdk/metrics.js';
import type { Reading } from '../../drivers/sdk/reading.js';
import { DiskOutbox } from '../../edge/src/disk-outbox.js';
import { ITEM_EVENT, ITEM_READING } from '../../edge/src/outbox-quota.js';
import { readTakenLedger, tallyTaken } from '../../edge/src/outbox-store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const T0 = 1_700_000_040_000;

function open(file: string, bootId: string): DiskOutbox {
  return DiskOutbox.open({
    file,
    bootId,
    clock: { now: () => T0 },
    log: silentLogger(),
    metrics: new MetricsRegistry(),
    maxReadings: 5,
    maxDelay: 0,
    quota: 50_000_000,
    compactWindows: [60_000],
    commitInterval: 5,
  });
}

function reading(device: string, ts: number): Reading {
  return { device, kind: 'vehicle', ts, fields: { lat: 30.25, lon: 120.1 } };
}

function ledgerOf(file: string) {
  const db = new Database(file, { readonly: true });
  try {
    return readTakenLedger(db);
  } finally {
    db.close();
  }
}

describe('taken ledger', () => {
  it('sums a batch per device and kind with its ts range', () => {
    const at = T0;
    const tally = tallyTaken([
      { kind: ITEM_READING, device: 'A', ts: 30, at, body: '' },
      { kind: ITEM_READING, device: 'B', ts: 5, at, body: '' },
      { kind: ITEM_READING, device: 'A', ts: 10, at, body: '' },
      { kind: ITEM_EVENT, device: 'A', ts: 20, at, body: '' },
      { kind: ITEM_READING, device: 'A', ts: 40, at, body: '' },
    ]);
    expect(tally).toEqual([
      { device: 'A', kind: ITEM_READING, n: 3, minTs: 10, maxTs: 40 },
      { device: 'B', kind: ITEM_READING, n: 1, minTs: 5, maxTs: 5 },
      { device: 'A', kind: ITEM_EVENT, n: 1, minTs: 20, maxTs: 20 },
    ]);
  });

  it('counts every committed item across commits, acks and a restart, and nothing uncommitted', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cg-taken-'));
    dirs.push(dir);
    const file = path.join(dir, 'outbox.db');
    let box = open(file, 'boot-1');
    for (let i = 0; i < 7; i++) box.addReading(reading('GP1', T0 + i * 1000));
    box.addEvent({ type: 'gps.fix_lost', severity: 'warning', device: 'GP1', ts: T0 + 500 });
    box.commit();
    box.addReading(reading('GP2', T0 + 42));
    box.commit();
    // Composed and acknowledged: the items leave the outbox, the ledger keeps them.
    const sent = box.compose({ slots: 10, backlogSlots: 10, flushLive: true });
    expect(sent.length).toBeGreaterThan(0);
    for (const m of sent) box.ack(m.bootId, m.seq);
    expect(box.stats().items).toBe(0);
    await box.close();

    box = open(file, 'boot-2');
    box.addReading(reading('GP1', T0 + 9000));
    box.commit();
    // Taken in memory but never committed (the process would die here): not in the ledger.
    box.addReading(reading('GP1', T0 + 10_000));
    expect(ledgerOf(file)).toEqual([
      { device: 'GP1', kind: ITEM_READING, n: 8, minTs: T0, maxTs: T0 + 9000 },
      { device: 'GP1', kind: ITEM_EVENT, n: 1, minTs: T0 + 500, maxTs: T0 + 500 },
      { device: 'GP2', kind: ITEM_READING, n: 1, minTs: T0 + 42, maxTs: T0 + 42 },
    ]);
    await box.close();
  });
});
