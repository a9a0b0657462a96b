/**
 * InfluxTelemetryStore against the real influxd started by tests/setup/global-setup.ts.
 * Each test writes to its own database, so tests do not see each other's points.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { StartupError } from '../../../drivers/sdk/errors.js';
import { silentLogger } from '../../../drivers/sdk/log.js';
import { MetricsRegistry } from '../../../drivers/sdk/metrics.js';
import { createTelemetryWriter } from '../../../hub/src/telemetry/index.js';
import { type InfluxStoreOptions, InfluxTelemetryStore } from '../../../hub/src/telemetry/influx-store.js';
import type { TelemetryPoint } from '../../../hub/src/telemetry/types.js';
import { freePort } from '../../helpers/influxd.js';

const T0 = 1_700_000_000_123;
const influxUrl = inject('influxUrl');

function point(device: string, ts: number, fields: TelemetryPoint['fields']): TelemetryPoint {
  return {
    measurement: 'vehicle',
    tags: { device, district: 'xuhui', gateway: 'gw-xh-01', grid: 'XH-03' },
    fields,
    ts,
  };
}

/** InfluxQL over plain HTTP, independent of the code under test. */
async function influxql(
  database: string,
  q: string,
): Promise<Array<{ name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }>> {
  const res = await fetch(`${influxUrl}/query?db=${encodeURIComponent(database)}&epoch=ms&q=${encodeURIComponent(q)}`, {
    method: 'POST',
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { results: Array<{ series?: never[]; error?: string }> };
  expect(body.results[0]?.error).toBeUndefined();
  return body.results[0]?.series ?? [];
}

async function countPoints(database: string, from = '"vehicle"'): Promise<number> {
  const series = await influxql(database, `SELECT COUNT("quality") FROM ${from}`);
  return Number(series[0]?.values[0]?.[1] ?? 0);
}

describe('InfluxTelemetryStore (real influxd)', () => {
  const opened: InfluxTelemetryStore[] = [];
  const newStore = async (extra: Partial<InfluxStoreOptions> = {}, metrics = new MetricsRegistry()) => {
    const database = `t_${randomUUID().replace(/-/g, '')}`;
    const store = new InfluxTelemetryStore({ url: influxUrl, database, ...extra }, silentLogger(), metrics);
    opened.push(store);
    return { store, database, metrics };
  };
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close();
  });

  it('creates the database and stores points with the right measurement, tags, fields and ms timestamps', async () => {
    const { store, database } = await newStore();
    await store.open();
    await store.open(); // idempotent
    await store.write([
      point('truck-1', T0, { lat: 31.18, lon: 121.43, moving: true, quality: 'good' }),
      point('truck-1', T0 + 1000, { lat: 31.19, lon: 121.44, moving: false, quality: 'uncertain' }),
    ]);
    const series = await influxql(database, 'SELECT * FROM "vehicle" GROUP BY *');
    expect(series).toHaveLength(1);
    expect(series[0]?.tags).toEqual({ device: 'truck-1', district: 'xuhui', gateway: 'gw-xh-01', grid: 'XH-03' });
    const columns = series[0]?.columns ?? [];
    const rows = (series[0]?.values ?? []).map((v) => Object.fromEntries(columns.map((c, i) => [c, v[i]])));
    expect(rows).toEqual([
      { time: T0, lat: 31.18, lon: 121.43, moving: true, quality: 'good' },
      { time: T0 + 1000, lat: 31.19, lon: 121.44, moving: false, quality: 'uncertain' },
    ]);
    const tagKeys = await influxql(database, 'SHOW TAG KEYS FROM "vehicle"');
    expect(tagKeys[0]?.values.flat()).toEqual(['device', 'district', 'gateway', 'grid']);
  });

  it('query returns one device, oldest first, tags and fields apart, limit keeps the latest', async () => {
    const { store } = await newStore();
    await store.open();
    await store.write([
      ...Array.from({ length: 5 }, (_, i) => point('truck-1', T0 + i * 1000, { lat: i, quality: 'good' })),
      point('truck-2', T0, { lat: 99, quality: 'good' }),
    ]);
    const all = await store.query({ measurement: 'vehicle', device: 'truck-1', since: T0 });
    expect(all.map((p) => p.ts)).toEqual([0, 1, 2, 3, 4].map((i) => T0 + i * 1000));
    expect(all[0]).toEqual(point('truck-1', T0, { lat: 0, quality: 'good' }));
    const latest = await store.query({ measurement: 'vehicle', device: 'truck-1', since: T0, limit: 2 });
    expect(latest.map((p) => p.fields.lat)).toEqual([3, 4]);
    const window = await store.query({ measurement: 'vehicle', device: 'truck-1', since: T0 + 1000, until: T0 + 3000 });
    expect(window.map((p) => p.fields.lat)).toEqual([1, 2]);
    expect(await store.query({ measurement: 'vehicle', device: "it's-not-there", since: 0 })).toEqual([]);
  });

  it('rewriting the same points is idempotent: the count does not change', async () => {
    const { store, database } = await newStore();
    await store.open();
    const batch = Array.from({ length: 50 }, (_, i) => point('truck-1', T0 + i, { lat: i, quality: 'good' }));
    await store.write(batch);
    await store.write(batch);
    await store.write(batch.slice(10, 20));
    expect(await countPoints(database)).toBe(50);
  });

  it('an unreachable influxd makes open() a retryable StartupError and write() reject', async () => {
    const port = await freePort();
    const store = new InfluxTelemetryStore(
      { url: `http://127.0.0.1:${port}`, database: 'nowhere', requestTimeoutMs: 2000 },
      silentLogger(),
      new MetricsRegistry(),
    );
    const err = await store.open().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StartupError);
    expect((err as StartupError).retryable).toBe(true);
    await expect(store.write([point('truck-1', T0, { lat: 1 })])).rejects.toThrow(/ECONNREFUSED/);
  });

  it('a field type conflict drops only the conflicting points, counts them and keeps the rest', async () => {
    const { store, database, metrics } = await newStore();
    await store.open();
    await store.write([point('truck-1', T0, { lat: 31.1, quality: 'good' })]);
    await store.write([
      point('truck-1', T0 + 1, { lat: 31.2, quality: 'good' }),
      point('truck-bad', T0 + 2, { lat: 'north', quality: 'good' }),
      point('truck-1', T0 + 3, { lat: 31.3, quality: 'good' }),
    ]);
    const rows = await influxql(database, 'SELECT "lat" FROM "vehicle"');
    expect(rows[0]?.values).toEqual([
      [T0, 31.1],
      [T0 + 1, 31.2],
      [T0 + 3, 31.3],
    ]);
    const rejected = metrics.counter('citygrid_sink_points_rejected_total', '');
    expect(rejected.get({ store: 'influx', reason: 'field-type-conflict' })).toBe(1);
  });

  it('a point InfluxDB cannot parse is dropped and counted, the rest of the batch is stored', async () => {
    const { store, database, metrics } = await newStore();
    await store.open();
    // The package does not escape measurement names; a space makes the line unparseable.
    await store.write([
      point('truck-1', T0, { lat: 1, quality: 'good' }),
      { ...point('truck-1', T0 + 1, { lat: 2 }), measurement: 'bad kind' },
    ]);
    expect(await countPoints(database)).toBe(1);
    expect(
      metrics.counter('citygrid_sink_points_rejected_total', '').get({ store: 'influx', reason: 'bad-point' }),
    ).toBe(1);
  });

  it('writes into the configured retention policy and refuses to open with a missing one', async () => {
    const { store, database } = await newStore({ retentionPolicy: 'raw_7d' });
    const missing = await store.open().catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(StartupError);
    expect((missing as StartupError).retryable).toBe(false);
    await influxql(database, `CREATE RETENTION POLICY "raw_7d" ON "${database}" DURATION 7d REPLICATION 1`);
    await store.open();
    await store.write([point('truck-1', Date.now(), { lat: 1, quality: 'good' })]);
    expect(await countPoints(database, '"raw_7d"."vehicle"')).toBe(1);
    expect(await countPoints(database, '"autogen"."vehicle"')).toBe(0);
    expect(await store.query({ measurement: 'vehicle', device: 'truck-1', since: Date.now() - 60_000 })).toHaveLength(
      1,
    );
  });

  it('recreates a database dropped under it and writes', async () => {
    const { store, database } = await newStore();
    await store.open();
    await influxql(database, `DROP DATABASE "${database}"`);
    await store.write([point('truck-1', T0, { lat: 1, quality: 'good' })]);
    expect(await countPoints(database)).toBe(1);
  });

  it('through the batching writer: every message is called back once, all points stored once', async () => {
    const { store, database, metrics } = await newStore();
    await store.open();
    const writer = createTelemetryWriter(
      store,
      { batchSize: 100, flushIntervalMs: 20, maxInFlight: 2 },
      silentLogger(),
      metrics,
    );
    const acked: number[] = [];
    for (let m = 0; m < 30; m++) {
      writer.submit(
        Array.from({ length: 17 }, (_, i) => point(`truck-${m % 3}`, T0 + m * 100 + i, { lat: m, quality: 'good' })),
        () => acked.push(m),
      );
    }
    await writer.drain(20_000);
    await writer.close();
    expect(acked).toEqual(Array.from({ length: 30 }, (_, m) => m));
    expect(await countPoints(database)).toBe(30 * 17);
    expect(metrics.counter('citygrid_sink_points_written_total', '').get({ store: 'influx' })).toBe(30 * 17);
  });
});
