import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../drivers/sdk/log.js';
import { MetricsRegistry } from '../../../drivers/sdk/metrics.js';
import { DeadLetterFile } from '../../../hub/src/telemetry/dead-letter.js';
import { decodeBatch, encodeBatch, TelemetrySpool } from '../../../hub/src/telemetry/spool.js';
import type { TelemetryPoint, TelemetryStore } from '../../../hub/src/telemetry/types.js';
import { BatchingTelemetryWriter } from '../../../hub/src/telemetry/writer.js';

type Mode = 'ok' | 'fail' | 'hang';

/** A store that takes, refuses (connection refused) or never answers, as the test sets `mode`. */
class SwitchableStore implements TelemetryStore {
  readonly name = 'influx';
  mode: Mode = 'ok';
  readonly durable: TelemetryPoint[] = [];
  attempts = 0;
  async open(): Promise<void> {}
  write(points: readonly TelemetryPoint[]): Promise<void> {
    this.attempts += 1;
    if (this.mode === 'fail') return Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:8086'));
    if (this.mode === 'hang') return new Promise(() => {});
    this.durable.push(...points);
    return Promise.resolve();
  }
  async query(): Promise<TelemetryPoint[]> {
    return [];
  }
  async close(): Promise<void> {}
}

function points(device: string, n: number, t0: number): TelemetryPoint[] {
  return Array.from({ length: n }, (_, i) => ({
    measurement: 'vehicle',
    tags: { device, district: 'd1', gateway: 'g1' },
    fields: { lat: 31 + i / 1000, moving: i % 2 === 0, plate: 'A 1' },
    ts: t0 + i,
  }));
}

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const FAST = { batchSize: 100, flushIntervalMs: 5, initialBackoffMs: 10, maxBackoffMs: 40, spoolAfterMs: 200 };

describe('TelemetrySpool and the writer with a spool', () => {
  let dir: string;
  const writers: BatchingTelemetryWriter[] = [];
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'cg-spool-'));
  });
  afterEach(async () => {
    for (const w of writers.splice(0)) await w.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function writer(store: TelemetryStore, maxBytes = 1e9, metrics = new MetricsRegistry()): BatchingTelemetryWriter {
    const w = new BatchingTelemetryWriter(
      store,
      { ...FAST, spool: new TelemetrySpool(dir, maxBytes) },
      silentLogger(),
      metrics,
    );
    writers.push(w);
    return w;
  }

  it('encodes a batch compactly and decodes it to the same points', () => {
    const batch = [...points('a', 3, 1000), ...points('b', 2, 2000)];
    const text = encodeBatch(batch);
    expect(decodeBatch(text)).toEqual(batch);
    expect(text.match(/"device"/g)).toHaveLength(2);
  });

  it('spools batches the store refuses, acknowledges them once on disk, replays them in order after recovery', async () => {
    const store = new SwitchableStore();
    store.mode = 'fail';
    const metrics = new MetricsRegistry();
    const w = writer(store, 1e9, metrics);
    const durable: number[] = [];
    for (let m = 0; m < 10; m++) w.submit(points('a', 30, 1000 + m * 30), () => durable.push(m));
    await until(() => durable.length === 10);
    expect(durable).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(store.durable).toHaveLength(0);
    expect(w.pending).toBe(0);
    // The replayer probes the dead store and keeps the rows.
    await until(() => /citygrid_sink_replay_errors_total\{store="influx"\} [1-9]/.test(metrics.render()));
    expect(metrics.render()).toMatch(/citygrid_sink_spool_rows\{store="influx"\} [1-9]/);
    // While the spool holds anything, new batches queue behind it, never straight to the store.
    store.mode = 'ok';
    w.submit(points('a', 30, 1300), () => durable.push(10));
    await until(() => store.durable.length === 330);
    expect(durable).toHaveLength(11);
    expect(store.durable.map((p) => p.ts)).toEqual(Array.from({ length: 330 }, (_, i) => 1000 + i));
    const text = metrics.render();
    expect(text).toMatch(/citygrid_sink_spooled_points_total\{store="influx"\} 3\d\d/);
    expect(text).toMatch(/citygrid_sink_replayed_points_total\{store="influx"\} 3\d\d/);
    expect(text).toMatch(/citygrid_sink_spool_rows\{store="influx"\} 0/);
    // Empty again: the next batch goes to the store directly.
    const spooledBefore = /citygrid_sink_spooled_points_total\{store="influx"\} (\d+)/.exec(metrics.render())?.[1];
    w.submit(points('a', 5, 2000), () => {});
    await until(() => store.durable.length === 335);
    expect(/citygrid_sink_spooled_points_total\{store="influx"\} (\d+)/.exec(metrics.render())?.[1]).toBe(
      spooledBefore,
    );
  });

  it('spools a write that hangs longer than spoolAfterMs and acknowledges it', async () => {
    const store = new SwitchableStore();
    store.mode = 'hang';
    const w = writer(store);
    let acked = false;
    w.submit(points('a', 10, 1000), () => {
      acked = true;
    });
    await until(() => acked);
    expect(store.durable).toHaveLength(0);
    store.mode = 'ok';
    await until(() => store.durable.length === 10);
  });

  it('replays at start what a previous run left in the spool', async () => {
    const failing = new SwitchableStore();
    failing.mode = 'fail';
    const first = writer(failing);
    let acked = 0;
    first.submit(points('a', 50, 1000), () => acked++);
    first.submit(points('b', 50, 1000), () => acked++);
    await until(() => acked === 2);
    await first.close();
    writers.splice(0);

    const working = new SwitchableStore();
    writer(working);
    await until(() => working.durable.length === 100);
    expect(working.durable.filter((p) => p.tags.device === 'b').map((p) => p.ts)).toEqual(
      Array.from({ length: 50 }, (_, i) => 1000 + i),
    );
    expect(new TelemetrySpool(dir, 1e9).empty).toBe(true);
  });

  it('at the byte bound it turns saturated and holds points without dropping, until replay made room', async () => {
    const store = new SwitchableStore();
    store.mode = 'fail';
    const w = writer(store, 65_536);
    let acked = 0;
    let submitted = 0;
    while (!w.saturated && submitted < 200) {
      w.submit(points('a', 100, 1000 + submitted * 100), () => acked++);
      submitted++;
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(w.saturated).toBe(true);
    // A few more while saturated: held in memory, not acknowledged.
    for (let i = 0; i < 3; i++) w.submit(points('a', 100, 1000 + (submitted + i) * 100), () => acked++);
    submitted += 3;
    await new Promise((r) => setTimeout(r, 100));
    expect(acked).toBeLessThan(submitted);
    expect(w.pending).toBeGreaterThan(0);
    const unsaturated = w.whenUnsaturated();
    store.mode = 'ok';
    await unsaturated;
    await until(() => acked === submitted && store.durable.length === submitted * 100);
    expect(new Set(store.durable.map((p) => p.ts)).size).toBe(submitted * 100);
  });
});

describe('DeadLetterFile', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'cg-dead-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes each refused point as a JSON line with its reason, counts them, and rotates at the bound', () => {
    const metrics = new MetricsRegistry();
    const dead = new DeadLetterFile(dir, silentLogger(), metrics, 2000, () => Date.UTC(2026, 0, 1));
    dead.sink('field-type-conflict', 'field type conflict: input field "lat"', points('a', 2, 1000));
    dead.sink('beyond-retention', 'points beyond retention policy dropped=3', [], 3);
    const lines = readFileSync(dead.file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({
      at: '2026-01-01T00:00:00.000Z',
      reason: 'field-type-conflict',
      point: { measurement: 'vehicle', tags: { device: 'a' }, ts: 1000 },
    });
    expect(lines[2]).toMatchObject({ reason: 'beyond-retention', point: null, count: 3 });
    const text = metrics.render();
    expect(text).toContain('citygrid_sink_dead_letters_total{reason="field-type-conflict"} 2');
    expect(text).toContain('citygrid_sink_dead_letters_total{reason="beyond-retention"} 3');
    for (let i = 0; i < 10; i++) dead.sink('bad-point', 'unable to parse', points('b', 1, 5000 + i));
    expect(readFileSync(`${dead.file}.1`, 'utf8').length).toBeGreaterThan(0);
    expect(readFileSync(dead.file, 'utf8').length).toBeLessThanOrEqual(2000);
  });
});
