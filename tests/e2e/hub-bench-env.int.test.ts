/**
 * `citygrid hub --bench-env`, the way the shared peer harness (../shared/bench/peer-nodered) plugs
 * the hub in: a client of an anonymous Mosquitto, no city config, one point per reading of the
 * harness's payloads ({gateway, bootId, seq, readings}, no `v`, seq from 0) in its InfluxDB.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { findFreePort } from '../../bin/lib/ports.js';
import { type CliProcess, eventually, startCli } from '../helpers/cli-process.js';
import { type RunningMosquitto, startMosquitto } from '../helpers/mosquitto.js';

const influxUrl = inject('influxUrl');
const database = `bench_env_${process.pid}`;
const dir = mkdtempSync(path.join(tmpdir(), 'cg-bench-env-'));
let mosquitto: RunningMosquitto | undefined;
let hub: CliProcess | undefined;

afterAll(async () => {
  await hub?.stop();
  await mosquitto?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('citygrid hub --bench-env', () => {
  it('stores every reading of the harness payloads, tagged by gateway and device', async () => {
    await fetch(`${influxUrl}/query?q=${encodeURIComponent(`CREATE DATABASE ${database}`)}`, { method: 'POST' });
    mosquitto = await startMosquitto(dir, await findFreePort());
    hub = startCli(['hub', '--bench-env'], {
      env: { BENCH_MQTT_URL: mosquitto.url, BENCH_INFLUX_URL: influxUrl, BENCH_DB: database, BENCH_DIR: dir },
      logFile: path.join(dir, 'hub.log'),
    });
    const publisher = await mqtt.connectAsync(mosquitto.url, { protocolVersion: 4 });
    // As the harness does: probe until the pipeline is live (bench mode logs only warnings).
    let probe = 0;
    await eventually(
      async () => {
        const reading = { device: 'warmup-01', kind: 'bench_warmup', ts: Date.now(), fields: { probe } };
        await publisher.publishAsync(
          'cg/v1/bench/gw-warmup/telemetry',
          JSON.stringify({ gateway: 'gw-warmup', bootId: 'warmup', seq: probe++, readings: [reading] }),
          { qos: 1 },
        );
        const q = encodeURIComponent('SELECT count(probe) FROM bench_warmup');
        const body = (await (await fetch(`${influxUrl}/query?db=${database}&q=${q}`)).json()) as {
          results: { series?: unknown[] }[];
        };
        return body.results[0]?.series ? true : undefined;
      },
      30_000,
      'the hub to store a probe reading',
    );
    const t0 = 1_790_000_000_000;
    for (let seq = 0; seq < 20; seq++) {
      const readings = Array.from({ length: 10 }, (_, i) => ({
        device: `XH-WM001-${i}`,
        kind: 'water_meter',
        ts: t0 + seq * 1000,
        fields: { total_m3: seq * 10 + i, flow_m3h: 1.5 },
      }));
      const payload = { gateway: 'gw-xh-001', bootId: 'gw-xh-001-b1', seq, readings };
      await publisher.publishAsync('cg/v1/xihu/gw-xh-001/telemetry', JSON.stringify(payload), { qos: 1 });
    }
    await publisher.endAsync();
    const count = await eventually(
      async () => {
        const q = encodeURIComponent('SELECT count(total_m3) FROM water_meter');
        const body = (await (await fetch(`${influxUrl}/query?db=${database}&q=${q}`)).json()) as {
          results: { series?: { values: [string, number][] }[] }[];
        };
        const n = body.results[0]?.series?.[0]?.values[0]?.[1] ?? 0;
        return n >= 200 ? n : undefined;
      },
      30_000,
      '200 points in InfluxDB',
    );
    expect(count).toBe(200);
    const q = encodeURIComponent('SHOW TAG VALUES FROM water_meter WITH KEY = "gateway"');
    const tags = (await (await fetch(`${influxUrl}/query?db=${database}&q=${q}`)).json()) as {
      results: { series?: { values: [string, string][] }[] }[];
    };
    expect(tags.results[0]?.series?.[0]?.values).toEqual([['gateway', 'gw-xh-001']]);
  }, 90_000);
});
