/**
 * Remote water-meter reading end to end, across real processes (issue 3):
 *
 *   citygrid sim meters (32 meters, CJ/T 188 and Modbus RTU, 3 silent, 5 % line noise)
 *     -> socat pty pair -> citygrid edge (one bus poller on the pty, 32 polled devices)
 *     -> MQTT -> citygrid hub -> real InfluxDB
 *
 * Every live meter is read every cycle, the silent ones are reported offline, and no reading is
 * attributed to the wrong meter: the simulator's meters start from seeded counters the test
 * recomputes, and each device's readings must continue its own meter's counter.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { findFreePort } from '../../bin/lib/ports.js';
import { openPtyPair, type PtyPair } from '../../simulators/common/pty.js';
import { meterDefaults } from '../../simulators/meters/bus.js';
import { generateMeters } from '../../simulators/meters/spec.js';
import { type CliProcess, eventually, startCli } from '../helpers/cli-process.js';
import { influxSeries } from '../helpers/influx-query.js';
import { writeHubConfig } from '../helpers/system-configs.js';

const influxUrl = inject('influxUrl');
const database = `meters_${randomBytes(4).toString('hex')}`;
const dir = mkdtempSync(path.join(tmpdir(), 'cg-meterbus-'));
const gatewayPassword = randomBytes(12).toString('base64url');
const SEED = 11;
const POLL_INTERVAL_S = 8;
/** cjt188:1, modbus:2, cjt188:3, ... modbus:32 */
const meters = generateMeters(32, 'mix');
const SILENT = ['cjt188:5', 'modbus:12', 'cjt188:27'];
const deviceId = (i: number) => `GS-WM${String(i + 1).padStart(3, '0')}`;
const silentIds = meters.flatMap((m, i) =>
  SILENT.includes(`${m.protocol}:${Number(m.address)}`) ? [deviceId(i)] : [],
);
const liveIds = meters.map((_, i) => deviceId(i)).filter((id) => !silentIds.includes(id));

let pty: PtyPair;
let sim: CliProcess;
let hub: CliProcess;
let edge: CliProcess;
let edgeHttp: string;

const influx = (q: string) => influxSeries(influxUrl, database, q);

/** device -> [time, volume_m3, volume_interval_m3][] in time order. */
async function meterReadings(): Promise<Map<string, [number, number, number | null][]>> {
  const series = await influx(
    'SELECT volume_m3, volume_interval_m3 FROM water_meter GROUP BY device ORDER BY time ASC',
  );
  const out = new Map<string, [number, number, number | null][]>();
  for (const s of series) out.set(s.tags?.device ?? '?', s.values as [number, number, number | null][]);
  return out;
}

beforeAll(async () => {
  const mqttPort = await findFreePort();
  const httpPort = await findFreePort();
  const edgePort = await findFreePort();
  edgeHttp = `http://127.0.0.1:${edgePort}`;
  writeHubConfig(dir, {
    hubId: 'hub-meters',
    mqtt: { mode: 'embedded', host: '127.0.0.1', port: mqttPort },
    httpPort,
    gateways: { 'gw-gs-01': '${CG_METER_GW_PW}' },
    influx: { url: influxUrl, database, flushInterval: '50ms' },
  });
  pty = await openPtyPair(dir, { a: 'meters.sim', b: 'meters.dev' });
  const gateway = {
    gateway: { id: 'gw-gs-01', district: 'gongshu' },
    hub: { url: `mqtt://127.0.0.1:${mqttPort}`, password: '${CG_METER_GW_PW}', reconnectPeriod: '250ms' },
    dataDir: './edge-data',
    http: { host: '127.0.0.1', port: edgePort },
    buses: [
      {
        id: 'meters-1',
        transport: { type: 'serial', path: pty.b, baudRate: 9600, parity: 'even' },
        pollInterval: `${POLL_INTERVAL_S}s`,
        responseTimeout: '400ms',
        retries: 3,
        offlineAfter: 2,
      },
    ],
    devices: meters.map((m, i) => ({
      id: deviceId(i),
      kind: 'water_meter',
      driver: m.protocol === 'cjt188' ? 'cjt188-water-meter' : 'modbus-water-meter',
      asset: 'WM-GS-001',
      bus: 'meters-1',
      options: m.protocol === 'cjt188' ? { address: m.address } : { unit: Number(m.address) },
    })),
  };
  writeFileSync(path.join(dir, 'gw-gs-01.yaml'), stringify(gateway));
  sim = startCli(
    [
      'sim',
      'meters',
      '--out',
      pty.a,
      '--count',
      '32',
      '--protocol',
      'mix',
      ...SILENT.flatMap((s) => ['--silent', s]),
      '--noise',
      '0.05',
      '--baud',
      '9600',
      '--seed',
      String(SEED),
    ],
    { logFile: path.join(dir, 'sim.log') },
  );
  await sim.waitFor(/sim meters: 32 meters/);
  hub = startCli(['hub', '--config', path.join(dir, 'hub.yaml')], {
    env: { CG_METER_GW_PW: gatewayPassword },
    logFile: path.join(dir, 'hub.log'),
  });
  await hub.waitFor(/Listening/);
  edge = startCli(['edge', '--config', path.join(dir, 'gw-gs-01.yaml')], {
    env: { CG_METER_GW_PW: gatewayPassword },
    logFile: path.join(dir, 'edge.log'),
  });
}, 60_000);

afterAll(async () => {
  await Promise.all([edge?.stop(), sim?.stop(), hub?.stop()]);
  await pty?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('32 meters on one RS-485 bus -> edge -> hub -> InfluxDB', () => {
  it('reads every live meter every cycle, each reading continuing its own meter', async () => {
    const cycles = 4;
    const readings = await eventually(
      async () => {
        const r = await meterReadings();
        return liveIds.every((id) => (r.get(id)?.length ?? 0) >= cycles) ? r : undefined;
      },
      (cycles + 3) * POLL_INTERVAL_S * 1000,
      `${cycles} readings of each of the ${liveIds.length} live meters in InfluxDB`,
    );
    expect([...readings.keys()].sort()).toEqual([...liveIds].sort());
    for (const id of liveIds) {
      const rows = readings.get(id) ?? [];
      const index = meters.findIndex((_, i) => deviceId(i) === id);
      const { initialM3 } = meterDefaults(SEED, index);
      for (const [, volume] of rows) {
        // a minute of household use is far below 0.05 m³: a reading of another meter would be metres away
        expect(volume, `${id} reads its own meter`).toBeGreaterThanOrEqual(initialM3 - 0.01);
        expect(volume, `${id} reads its own meter`).toBeLessThan(initialM3 + 0.05);
      }
      // a missed cycle would leave a gap of two poll intervals
      for (let k = 1; k < rows.length; k++) {
        const gapS = ((rows[k]?.[0] ?? 0) - (rows[k - 1]?.[0] ?? 0)) / 1000;
        expect(gapS, `${id} read every cycle`).toBeLessThan(POLL_INTERVAL_S * 1.5);
        expect(rows[k]?.[2], `${id} interval consumption`).toBeGreaterThanOrEqual(0);
      }
    }
  }, 120_000);

  it('reports the silent meters offline, and nothing else', async () => {
    const offline = await eventually(
      async () => {
        const series = await influx(`SELECT "data", "device" FROM event WHERE "type" = 'device.offline'`);
        const devices = new Set((series[0]?.values ?? []).map((v) => String(v[2])));
        return silentIds.every((id) => devices.has(id)) ? devices : undefined;
      },
      30_000,
      'device.offline events of the silent meters',
    );
    expect([...offline].sort()).toEqual([...silentIds].sort());
  });

  it('counts the noise it threw away in /metrics, by reason', async () => {
    const metrics = await (await fetch(`${edgeHttp}/metrics`)).text();
    const value = (re: RegExp) => Number(re.exec(metrics)?.[1] ?? 0);
    expect(value(/citygrid_edge_bus_requests_total\{bus="meters-1"\} (\d+)/)).toBeGreaterThan(100);
    const refused = value(/citygrid_edge_bus_discarded_total\{bus="meters-1",reason="refused"\} (\d+)/);
    const noise = value(/citygrid_edge_bus_discarded_total\{bus="meters-1",reason="noise"\} (\d+)/);
    expect(refused + noise, 'frames hit by noise and junk between frames are counted').toBeGreaterThan(0);
    expect(metrics).toMatch(/citygrid_edge_bus_failed_polls_total\{bus="meters-1",device="GS-WM005"\} \d+/);
    expect(metrics).toMatch(/citygrid_edge_devices_online \d+/);
    expect(value(/citygrid_edge_devices_online (\d+)/)).toBe(liveIds.length);
  });
});
