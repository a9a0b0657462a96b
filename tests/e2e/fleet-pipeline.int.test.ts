/**
 * Fleet judging through a real hub (issue 9 item 4): embedded broker, ingest, embedded telemetry
 * store, cases.db, HTTP API, with the example city's roads and vehicles. A gateway client publishes
 * JT/T 808-style vehicle readings of sweeper XH-SW01 (gateway gw-xh-01) over MQTT; the hub runs in
 * this process (startHub, like tests/hub/broker.int.test.ts) because its deadline clock is a test
 * clock: the day is 2026-06-01, XH-SW01 must cover 北山街 and 曙光路 between 05:00 and 09:00.
 *
 * Checked: /api/fleet and /api/fleet/roads show the coverage while it is driven; past the deadline
 * (+ grace) exactly one 道路不洁 case of 西湖环卫公司 appears in /api/cases, for 曙光路 (not driven);
 * 北山街 (driven whole) raises none; 拱墅's sweeper, due at 09:00 too and silent, gets one per road; after a restart the coverage is still there and
 * no second case is raised.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { along, length, lineString } from '@turf/turf';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadHubConfig } from '../../config/load.js';
import { silentLogger } from '../../drivers/sdk/log.js';
import { topics } from '../../drivers/sdk/wire.js';
import { type RunningHub, startHub } from '../../hub/src/main.js';
import { eventually } from '../helpers/cli-process.js';
import { jsonApi } from '../helpers/json-api.js';
import { writeHubConfig } from '../helpers/system-configs.js';

const dir = mkdtempSync(path.join(tmpdir(), 'cg-fleet-'));
const password = randomBytes(12).toString('base64url');
/** Local Shanghai time on the test day as an instant. */
const sh = (hhmm: string) => Date.parse(`2026-06-01T${hhmm}:00+08:00`);

let clock = sh('04:30');
let hub: RunningHub | undefined;
let client: MqttClient | undefined;
let seq = 0;
const api = jsonApi(() => hub?.httpUrl as string);

type RoadView = { id: string; coverage: number; case?: string };
type FleetView = {
  day: string;
  vehicles: { id: string; working: boolean; assignments: { roads: RoadView[] }[] }[];
};
type CaseView = {
  id: string;
  category: string;
  unit: string;
  district: string;
  point: [number, number];
  title: string;
};

async function start(): Promise<RunningHub> {
  const running = await startHub(loadHubConfig(path.join(dir, 'hub.yaml'), { env: { CG_FLEET_PW: password } }), {
    logger: silentLogger(),
    mqttPort: 0,
    httpPort: 0,
    now: () => clock,
  });
  hub = running;
  client = await mqtt.connectAsync(running.mqttUrl, {
    username: 'gw-xh-01',
    password,
    clientId: `gw-xh-01-${randomBytes(4).toString('hex')}`,
    reconnectPeriod: 0,
    protocolVersion: 4,
  });
  return running;
}

async function stop(): Promise<void> {
  await client?.endAsync(true);
  await hub?.stop();
  client = undefined;
  hub = undefined;
}

/** Points every 50 m along a road of the city (18 km/h at one fix per 10 s), working. */
function drive(roadPath: [number, number][], from: number): Record<string, unknown>[] {
  const line = lineString(roadPath);
  const total = length(line, { units: 'meters' });
  const out: Record<string, unknown>[] = [];
  const marks = Array.from({ length: Math.floor(total / 50) + 1 }, (_, i) => i * 50);
  if ((marks.at(-1) as number) < total) marks.push(total);
  for (const [i, m] of marks.entries()) {
    const [lon, lat] = along(line, m, { units: 'meters' }).geometry.coordinates as [number, number];
    out.push({
      device: 'XH-SW01',
      kind: 'vehicle',
      ts: from + i * 10_000,
      fields: { lat, lon, speed_kmh: 18, heading_deg: 270, altitude_m: 10, working: true },
    });
  }
  return out;
}

async function publish(readings: Record<string, unknown>[]): Promise<void> {
  for (let i = 0; i < readings.length; i += 50) {
    seq += 1;
    const body = { gateway: 'gw-xh-01', bootId: 'boot-fleet', seq, readings: readings.slice(i, i + 50) };
    await client?.publishAsync(topics.telemetry({ district: 'xihu', gateway: 'gw-xh-01' }), JSON.stringify(body), {
      qos: 1,
    });
  }
}

const roadsOf = async (): Promise<Record<string, RoadView>> => {
  const fleet = (await api<FleetView>('GET', '/api/fleet?vehicle=XH-SW01')).body;
  return Object.fromEntries((fleet.vehicles[0]?.assignments[0]?.roads ?? []).map((r) => [r.id, r]));
};
/** 道路不洁 cases, all or of one unit. */
const coverageCases = async (unit?: string) =>
  (await api<{ items: CaseView[] }>('GET', `/api/cases?category=event:0104${unit ? `&unit=${unit}` : ''}`)).body.items;

beforeAll(async () => {
  writeHubConfig(dir, {
    hubId: 'hub-fleet',
    mqtt: { mode: 'embedded', host: '127.0.0.1', port: 0 },
    httpPort: 0,
    gateways: { 'gw-xh-01': '${CG_FLEET_PW}' },
  });
  const file = path.join(dir, 'hub.yaml');
  const config = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  writeFileSync(file, stringify({ ...config, logLevel: 'silent', fleet: { tick: '100ms', grace: '1m' } }));
  await start();
}, 30_000);

afterAll(async () => {
  await stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('fleet judging through a real hub', () => {
  it('shows the coverage of the assigned segments on /api/fleet and /api/fleet/roads', async () => {
    const city = parse(readFileSync(path.join(dir, 'city.yaml'), 'utf8')) as {
      roads: { id: string; path: [number, number][] }[];
    };
    const beishan = city.roads.find((r) => r.id === 'rd-xh-beishan')?.path as [number, number][];
    expect(beishan).toBeDefined();
    clock = sh('06:30');
    await publish(drive(beishan, sh('06:00')));
    const roads = await eventually(
      async () => {
        const r = await roadsOf();
        return (r['rd-xh-beishan']?.coverage ?? 0) > 0.95 ? r : undefined;
      },
      15_000,
      'XH-SW01 covering 北山街',
    );
    expect(roads['rd-xh-shuguang']?.coverage).toBe(0);
    const fleet = (await api<FleetView>('GET', '/api/fleet?vehicle=XH-SW01')).body;
    expect(fleet.day).toBe('2026-06-01');
    expect(fleet.vehicles[0]?.working).toBe(true);
    const byRoad = (await api<{ roads: RoadView[] }>('GET', '/api/fleet/roads?ids=rd-xh-beishan,rd-xh-shuguang')).body
      .roads;
    expect(byRoad.map((r) => r.id)).toEqual(['rd-xh-beishan', 'rd-xh-shuguang']);
    expect(byRoad[0]?.coverage).toBeGreaterThan(0.95);
    expect(await coverageCases()).toEqual([]);
  }, 30_000);

  it('raises exactly one case, for the segment not covered by the deadline, to the vehicle’s company', async () => {
    clock = sh('09:00'); // the deadline; judged after the 1 min grace
    await new Promise((r) => setTimeout(r, 500));
    expect(await coverageCases()).toEqual([]);
    clock = sh('09:01') + 1;
    const [c, ...more] = await eventually(
      async () => {
        const list = await coverageCases('xihu-sanitation');
        return list.length > 0 ? list : undefined;
      },
      10_000,
      'a 道路不洁 case',
    );
    expect(more).toEqual([]);
    expect(c).toMatchObject({ category: 'event:0104', unit: 'xihu-sanitation', district: 'xihu', state: 'filed' });
    expect(c?.title).toContain('曙光路');
    const roads = await roadsOf();
    expect(roads['rd-xh-shuguang']?.case).toBe(c?.id);
    expect(roads['rd-xh-beishan']?.case).toBeUndefined();
    const metrics = await (await fetch(`${hub?.httpUrl}/metrics`)).text();
    // GS-SW01 of 拱墅 (due 09:00 too) drove nothing: its two roads are missed, cases to its company.
    expect((await coverageCases('gongshu-sanitation')).map((x) => x.title).sort()).toEqual([
      expect.stringContaining('大关路'),
      expect.stringContaining('莫干山路'),
    ]);
    expect(metrics).toMatch(/citygrid_fleet_verdicts_total\{outcome="missed"\} 3/);
    expect(metrics).toMatch(/citygrid_fleet_verdicts_total\{outcome="met"\} 1/);
  }, 30_000);

  it('keeps the coverage and raises no second case after a restart', async () => {
    await stop();
    clock = sh('09:30');
    await start();
    await new Promise((r) => setTimeout(r, 500)); // several ticks of the 100 ms fleet clock
    expect(await coverageCases()).toHaveLength(3);
    const roads = await roadsOf();
    expect(roads['rd-xh-beishan']?.coverage).toBeGreaterThan(0.95);
  }, 30_000);
});
