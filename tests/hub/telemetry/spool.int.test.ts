/**
 * The writer with its disk spool against a real influxd of its own, stopped and started again on
 * the same dir and port: acknowledgements continue while InfluxDB is down, the spooled points land
 * when it is back, exactly once each. Also: a field type conflict ends in the dead-letter file.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../drivers/sdk/log.js';
import { MetricsRegistry } from '../../../drivers/sdk/metrics.js';
import { DeadLetterFile } from '../../../hub/src/telemetry/dead-letter.js';
import { InfluxTelemetryStore } from '../../../hub/src/telemetry/influx-store.js';
import { TelemetrySpool } from '../../../hub/src/telemetry/spool.js';
import type { TelemetryPoint } from '../../../hub/src/telemetry/types.js';
import { BatchingTelemetryWriter } from '../../../hub/src/telemetry/writer.js';
import { freePort, type RunningInfluxd, startInfluxd } from '../../helpers/influxd.js';

const T0 = 1_700_000_000_000;

function points(device: string, from: number, n: number): TelemetryPoint[] {
  return Array.from({ length: n }, (_, i) => ({
    measurement: 'vehicle',
    tags: { device, district: 'xuhui', gateway: 'gw-xh-01' },
    fields: { lat: 31.2 + (from + i) / 1e6, seq: from + i },
    ts: T0 + (from + i) * 10,
  }));
}

async function count(url: string, database: string, device: string): Promise<number> {
  const q = `SELECT COUNT("lat") FROM "vehicle" WHERE "device" = '${device}'`;
  const res = await fetch(`${url}/query?db=${database}&q=${encodeURIComponent(q)}`, { method: 'POST' });
  const body = (await res.json()) as { results: Array<{ series?: Array<{ values: unknown[][] }> }> };
  return Number(body.results[0]?.series?.[0]?.values[0]?.[1] ?? 0);
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('telemetry spool against a real influxd that goes away and comes back', () => {
  let work: string;
  let influxDir: string;
  let httpPort: number;
  let rpcPort: number;
  let influxd: RunningInfluxd | undefined;

  beforeAll(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'cg-spool-int-'));
    influxDir = path.join(work, 'influxd');
    httpPort = await freePort();
    rpcPort = await freePort();
    influxd = await startInfluxd({ dir: influxDir, httpPort, rpcPort });
  }, 60_000);

  afterAll(async () => {
    await influxd?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('acknowledges while influxd is stopped and stores every point exactly once after its restart', async () => {
    const url = `http://127.0.0.1:${httpPort}`;
    const database = 'spooltest';
    const metrics = new MetricsRegistry();
    const log = silentLogger();
    const store = new InfluxTelemetryStore({ url, database, requestTimeoutMs: 2000 }, log, metrics);
    await store.open();
    const dataDir = path.join(work, 'hub');
    const writer = new BatchingTelemetryWriter(
      store,
      {
        batchSize: 5000,
        flushIntervalMs: 20,
        initialBackoffMs: 50,
        maxBackoffMs: 500,
        spoolAfterMs: 1000,
        spool: new TelemetrySpool(dataDir, 1e9),
      },
      log,
      metrics,
    );
    let acked = 0;
    let submitted = 0;
    const submit = (n: number): void => {
      writer.submit(points('truck-1', submitted, n), () => {
        acked += n;
      });
      submitted += n;
    };

    for (let i = 0; i < 10; i++) submit(100);
    await until(() => acked === 1000);

    await influxd?.stop();
    influxd = undefined;
    const downStart = performance.now();
    // 100 000 readings while InfluxDB is down: all acknowledged from the spool.
    for (let i = 0; i < 100; i++) submit(1000);
    await until(() => acked === submitted);
    const spoolSeconds = (performance.now() - downStart) / 1000;
    expect(writer.pending).toBe(0);

    influxd = await startInfluxd({ dir: influxDir, httpPort, rpcPort });
    const upStart = performance.now();
    for (let i = 0; i < 10; i++) submit(100);
    await until(async () => (await count(url, database, 'truck-1')) === submitted, 60_000);
    const replaySeconds = (performance.now() - upStart) / 1000;
    await until(() => /citygrid_sink_spool_rows\{store="influx"\} 0/.test(metrics.render()));
    expect(acked).toBe(submitted);
    expect(await count(url, database, 'truck-1')).toBe(102_000);
    console.log(
      JSON.stringify({
        spooledReadings: 100_000,
        spoolAckPerS: Math.round(100_000 / spoolSeconds),
        replayedPerS: Math.round(100_000 / replaySeconds),
      }),
    );
    await writer.close();
  }, 120_000);

  it('writes a point refused for a field type conflict to the dead-letter file and counts it', async () => {
    const url = `http://127.0.0.1:${httpPort}`;
    const database = 'deadletter';
    const metrics = new MetricsRegistry();
    const dataDir = path.join(work, 'hub-dead');
    const dead = new DeadLetterFile(dataDir, silentLogger(), metrics);
    const store = new InfluxTelemetryStore({ url, database, deadLetters: dead.sink }, silentLogger(), metrics);
    await store.open();
    await store.write(points('truck-2', 0, 3));
    const wrong: TelemetryPoint = { ...(points('truck-2', 3, 1)[0] as TelemetryPoint), fields: { lat: 'north' } };
    await store.write([...points('truck-2', 4, 2), wrong]);
    expect(await count(url, database, 'truck-2')).toBe(5);
    const lines = readFileSync(dead.file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      reason: 'field-type-conflict',
      point: { fields: { lat: 'north' }, ts: wrong.ts },
    });
    expect(metrics.render()).toContain('citygrid_sink_dead_letters_total{reason="field-type-conflict"} 1');
  });
});
