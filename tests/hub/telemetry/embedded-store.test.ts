import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedTelemetryStore } from '../../../hub/src/telemetry/embedded-store.js';
import type { TelemetryPoint } from '../../../hub/src/telemetry/types.js';

const T0 = 1_700_000_000_000;

function point(device: string, ts: number, fields: TelemetryPoint['fields'], measurement = 'vehicle'): TelemetryPoint {
  return { measurement, tags: { device, district: 'xuhui', gateway: 'gw-xh-01', grid: 'XH-01' }, fields, ts };
}

describe('EmbeddedTelemetryStore', () => {
  let dir: string;
  let store: EmbeddedTelemetryStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'citygrid-embedded-'));
    store = new EmbeddedTelemetryStore(join(dir, 'nested', 'hub'));
    await store.open();
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('stores points and returns one device and measurement, oldest first, with tags and typed fields', async () => {
    await store.write([
      point('truck-1', T0 + 2000, { lat: 31.2, valid: true, quality: 'good' }),
      point('truck-1', T0, { lat: 31.1, valid: false, quality: 'uncertain' }),
      point('truck-2', T0 + 1000, { lat: 30 }),
      point('truck-1', T0 + 1000, { level_cm: 3 }, 'flood'),
    ]);
    const rows = await store.query({ measurement: 'vehicle', device: 'truck-1', since: T0 });
    expect(rows).toEqual([
      point('truck-1', T0, { lat: 31.1, valid: false, quality: 'uncertain' }),
      point('truck-1', T0 + 2000, { lat: 31.2, valid: true, quality: 'good' }),
    ]);
  });

  it('rewriting the same point (measurement, tags, ts) is idempotent and merges fields like InfluxDB', async () => {
    const batch = [point('truck-1', T0, { lat: 31.1 }), point('truck-1', T0 + 1, { lat: 31.2 })];
    await store.write(batch);
    await store.write(batch);
    expect(store.count()).toBe(2);
    await store.write([point('truck-1', T0, { lat: 31.5, speed_kmh: 20 })]);
    expect(store.count()).toBe(2);
    const rows = await store.query({ measurement: 'vehicle', device: 'truck-1', since: T0, until: T0 + 1 });
    expect(rows).toEqual([point('truck-1', T0, { lat: 31.5, speed_kmh: 20 })]);
  });

  it('the same ts under different tags is a different point', async () => {
    await store.write([
      point('truck-1', T0, { lat: 1 }),
      { ...point('truck-1', T0, { lat: 2 }), tags: { device: 'truck-1', district: 'other', gateway: 'g2' } },
    ]);
    expect(store.count()).toBe(2);
  });

  it('limit keeps the most recent points, still oldest first; until is exclusive', async () => {
    await store.write(Array.from({ length: 10 }, (_, i) => point('truck-1', T0 + i * 1000, { lat: i })));
    const last3 = await store.query({ measurement: 'vehicle', device: 'truck-1', since: T0, limit: 3 });
    expect(last3.map((p) => p.fields.lat)).toEqual([7, 8, 9]);
    const window = await store.query({ measurement: 'vehicle', device: 'truck-1', since: T0 + 2000, until: T0 + 4000 });
    expect(window.map((p) => p.fields.lat)).toEqual([2, 3]);
  });

  it('survives a close and reopen of the file', async () => {
    await store.write([point('truck-1', T0, { lat: 31.1 })]);
    await store.close();
    const reopened = new EmbeddedTelemetryStore(join(dir, 'nested', 'hub'));
    await reopened.open();
    expect(await reopened.query({ measurement: 'vehicle', device: 'truck-1', since: 0 })).toEqual([
      point('truck-1', T0, { lat: 31.1 }),
    ]);
    await reopened.close();
  });

  it('prune deletes points older than the cutoff and reports how many', async () => {
    await store.write([
      point('truck-1', T0, { lat: 1 }),
      point('truck-1', T0 + 10, { lat: 2 }),
      point('truck-1', T0 + 20, { lat: 3 }),
    ]);
    expect(store.prune(T0 + 10)).toBe(1);
    expect((await store.query({ measurement: 'vehicle', device: 'truck-1', since: 0 })).map((p) => p.ts)).toEqual([
      T0 + 10,
      T0 + 20,
    ]);
  });

  it('a failed batch writes nothing (one transaction per write)', async () => {
    const bad = { ...point('truck-1', T0 + 1, { lat: 2 }), ts: Number.NaN };
    await expect(store.write([point('truck-1', T0, { lat: 1 }), bad])).rejects.toThrow();
    expect(store.count()).toBe(0);
  });
});
