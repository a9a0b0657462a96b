/**
 * Fleet judging as the hub runs it (hub-fleet.ts) with the case core on a real cases.db: the
 * example city plus the two-road network of ./network.ts, a test clock driving the deadlines.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LoadedHubConfig } from '../../../config/load.js';
import type { Vehicle } from '../../../config/schema/fleet.js';
import { fleetJudgingSchema } from '../../../config/schema/fleet-judging.js';
import { silentLogger } from '../../../drivers/sdk/log.js';
import { MetricsRegistry } from '../../../drivers/sdk/metrics.js';
import { HubCases } from '../../../hub/src/cases/hub-cases.js';
import { COVERAGE_CATEGORY, HubFleet } from '../../../hub/src/fleet/hub-fleet.js';
import { fleetJson, roadsJson } from '../../../hub/src/fleet/views.js';
import type { Incident } from '../../../hub/src/incidents/model.js';
import { type CaseUpdate, LiveBus, type LiveEvent } from '../../../hub/src/live/bus.js';
import { ReadingPoint } from '../../../hub/src/telemetry/point-mapping.js';
import { CITY_FILE, city as exampleCity } from '../cases/fixtures.js';
import { east, north, ROAD_A, ROAD_B, sh, vehicle } from './network.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'cg-hub-fleet-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const DAY = '2026-06-01';
let now = sh(`${DAY} 05:00`);
let dataDir: string;
let dirN = 0;
let bus: LiveBus;
let updates: CaseUpdate[];
let events: LiveEvent[];
let running: { cases: HubCases; fleet: HubFleet }[] = [];

const turn = () => new Promise((r) => setImmediate(r));

function start(vehicles: Vehicle[] = [vehicle('SW-1')], fleetOptions: Record<string, unknown> = {}) {
  const city = { ...exampleCity, roads: [ROAD_A, ROAD_B], vehicles };
  const loaded = {
    file: path.join(path.dirname(CITY_FILE), 'hub.yaml'),
    hub: { city: './city.yaml', cases: { webhooks: [] }, fleet: fleetJudgingSchema.parse(fleetOptions) },
    city,
    dataDir,
  } as unknown as LoadedHubConfig;
  const metrics = new MetricsRegistry();
  const cases = new HubCases({ loaded, bus, log: silentLogger(), metrics, now: () => now, tickMs: 3_600_000 });
  const fleet = new HubFleet({ loaded, cases, bus, log: silentLogger(), metrics, now: () => now });
  const r = { cases, fleet, metrics };
  running.push(r);
  return r;
}

function stop(r: { cases: HubCases; fleet: HubFleet }) {
  r.fleet.close();
  r.cases.close();
  running = running.filter((x) => x !== r);
}

beforeEach(() => {
  now = sh(`${DAY} 05:00`);
  dataDir = path.join(root, `d${++dirN}`);
  bus = new LiveBus(silentLogger());
  updates = [];
  events = [];
  bus.on('case', (u) => updates.push(u));
  bus.on('event', (e) => events.push(e));
});
afterEach(() => {
  for (const r of running) stop(r);
});

/** Vehicle readings as the ingest stores them, every 20 s from `start` (100 m steps: 18 km/h). */
function readings(device: string, points: [number, number][], startTs: number, working = true): ReadingPoint[] {
  return points.map(
    (p, i) =>
      new ReadingPoint(
        {
          device,
          kind: 'vehicle',
          ts: startTs + i * 20_000,
          fields: { lat: p[1], lon: p[0], speed_kmh: 18, heading_deg: 90, working },
        },
        'xihu',
        'gw-xh-01',
        undefined,
        undefined,
        startTs + i * 20_000,
      ),
  );
}
const hundreds = (from: number, to: number) => Array.from({ length: (to - from) / 100 + 1 }, (_, i) => from + i * 100);

describe('HubFleet', () => {
  it('raises exactly one case for a segment missed by its deadline: category, unit, location, figures', async () => {
    const hub = start();
    // SW-1 sweeps all of A and 300 m of B between 07:00 and 07:10; its deadline is 09:00 (+10 min grace).
    hub.fleet.onStored({ readings: readings('SW-1', hundreds(0, 1000).map(east), sh(`${DAY} 07:00`)) });
    hub.fleet.onStored({ readings: readings('SW-1', hundreds(0, 300).map(north), sh(`${DAY} 07:10`)) });
    await turn();
    now = sh(`${DAY} 08:00`);
    const view = fleetJson(hub.fleet, now) as {
      vehicles: { id: string; working: boolean; assignments: { roads: { id: string; coverage: number }[] }[] }[];
    };
    const sw = view.vehicles.find((v) => v.id === 'SW-1');
    expect(sw?.working).toBe(true);
    expect(sw?.assignments[0]?.roads.map((r) => [r.id, Math.round(r.coverage * 100)])).toEqual([
      ['RD-A', 100],
      ['RD-B', 30],
    ]);
    // The first tick judges yesterday's tasks (the hub was not running then: no case), nothing of today.
    expect(hub.fleet.tick().filter((v) => v.task.day === DAY)).toEqual([]);
    now = sh(`${DAY} 09:10`);
    const verdicts = hub.fleet.tick();
    expect(verdicts.map((v) => [v.road.id, v.met])).toEqual([
      ['RD-A', true],
      ['RD-B', false],
    ]);
    const opened = updates.filter((u) => u.effect === 'opened');
    expect(opened).toHaveLength(1);
    const c = opened[0]?.case;
    expect(c).toMatchObject({
      category: COVERAGE_CATEGORY,
      source: 'sensor',
      state: 'filed',
      unit: 'xihu-sanitation',
      district: 'xihu',
      grid: '330106001001',
    });
    // Located at the middle of B (500 m north of O).
    expect(c?.point?.[0]).toBeCloseTo(north(500)[0], 5);
    expect(c?.point?.[1]).toBeCloseTo(north(500)[1], 5);
    const [signal] = hub.cases.service.store.signals(c?.id as string);
    expect(signal).toMatchObject({ kind: 'raise', rule: 'fleet-coverage', device: 'SW-1' });
    expect(signal?.value).toBeCloseTo(0.3, 2);
    expect(signal?.detail).toMatchObject({ road: 'RD-B', day: DAY, lengthM: expect.any(Number) });
    expect((roadsJson(hub.fleet, now, ['RD-B']) as { roads: unknown[] }).roads).toEqual([
      expect.objectContaining({ id: 'RD-B', case: c?.id }),
    ]);
    // Later ticks judge nothing again.
    now = sh(`${DAY} 12:00`);
    hub.fleet.tick();
    expect(updates.filter((u) => u.effect === 'opened')).toHaveLength(1);
  });

  it('covered in time: no case', async () => {
    const hub = start();
    hub.fleet.onStored({ readings: readings('SW-1', hundreds(0, 1000).map(east), sh(`${DAY} 07:00`)) });
    hub.fleet.onStored({ readings: readings('SW-1', hundreds(0, 1000).map(north), sh(`${DAY} 07:10`)) });
    await turn();
    now = sh(`${DAY} 09:11`);
    const today = hub.fleet.tick().filter((v) => v.task.day === DAY);
    expect(today.map((v) => v.met)).toEqual([true, true]);
    expect(updates).toEqual([]);
  });

  it('never raises a case twice for a (segment, day), also across a restart; state survives the restart', async () => {
    const first = start();
    first.fleet.onStored({ readings: readings('SW-1', hundreds(0, 400).map(east), sh(`${DAY} 07:00`)) });
    await turn();
    now = sh(`${DAY} 07:30`);
    first.fleet.tick(); // saves the state
    stop(first);
    // Restarted: coverage so far is back, and the track continues from the last fix (400 -> 500).
    const second = start();
    second.fleet.onStored({ readings: readings('SW-1', [east(500)], sh(`${DAY} 07:00`) + 5 * 20_000) });
    await turn();
    const roads = (roadsJson(second.fleet, now, ['RD-A']) as { roads: { coverage: number }[] }).roads;
    expect(roads[0]?.coverage).toBeCloseTo(0.5, 2);
    now = sh(`${DAY} 09:10`);
    second.fleet.tick();
    expect(updates.filter((u) => u.effect === 'opened').map((u) => u.case.title)).toHaveLength(2); // A and B
    stop(second);
    // A third start after the deadline judges nothing again: both were raised before.
    const third = start();
    now = sh(`${DAY} 09:30`);
    third.fleet.tick();
    expect(updates.filter((u) => u.effect === 'opened')).toHaveLength(2);
    expect(third.cases.service.store.list({ category: COVERAGE_CATEGORY })).toHaveLength(2);
  });

  it('does not judge a window that began before judging started (the hub was not watching)', async () => {
    now = sh(`${DAY} 07:00`); // first start after 06:00
    const hub = start();
    now = sh(`${DAY} 09:10`);
    expect(hub.fleet.tick().filter((v) => v.task.day === DAY)).toHaveLength(2);
    expect(updates).toEqual([]);
    expect(hub.metrics.render()).toMatch(/citygrid_fleet_verdicts_total\{outcome="unobserved"\} 4/);
  });

  it('publishes dwell, off-route and speeding as hub events and counts them', async () => {
    const hub = start();
    const fast = readings('SW-1', hundreds(0, 300).map(east), sh(`${DAY} 07:00`)).map(
      (p, i) =>
        new ReadingPoint(
          { ...p.reading, fields: { ...p.reading.fields, speed_kmh: i === 2 ? 32 : 18 } },
          p.district,
          p.gateway,
          undefined,
          undefined,
          p.receivedAt,
        ),
    );
    hub.fleet.onStored({ readings: fast });
    await turn();
    expect(events.map((e) => [e.event.type, e.event.data?.phase])).toEqual([
      ['vehicle.speeding', 'start'],
      ['vehicle.speeding', 'end'],
    ]);
    expect(hub.metrics.render()).toMatch(/citygrid_fleet_incidents_total\{kind="speeding"\} 1/);
  });

  it('the snow plan: a snow incident opens a plan for the priority roads; a road missed by its deadline is a 0407 case', async () => {
    const plough = vehicle('PL-1', { role: 'plough', assignments: [] });
    const hub = start([vehicle('SW-1'), plough], { snowPlan: { within: '2h' } });
    now = sh(`${DAY} 03:00`);
    const incident = {
      id: 'INC-000001',
      type: 'snow',
      scope: { districts: ['xihu'] },
      level: 'III',
      state: 'open',
      openedAt: now,
      updatedAt: now,
      history: [],
    } as unknown as Incident;
    bus.emit('incident', { effect: 'open', incident });
    // The plough covers 600 m of B, the only priority road, at 36 km/h (100 m per 10 s).
    const fast = readings('PL-1', hundreds(0, 600).map(north), sh(`${DAY} 03:30`)).map(
      (p, i) =>
        new ReadingPoint(
          { ...p.reading, ts: sh(`${DAY} 03:30`) + i * 10_000, fields: { ...p.reading.fields, speed_kmh: 36 } },
          p.district,
          p.gateway,
          undefined,
          undefined,
          p.receivedAt,
        ),
    );
    hub.fleet.onStored({ readings: fast });
    await turn();
    const view = hub.fleet.snow?.view(['xihu'], now) as { roads: { id: string; coverage: number }[]; plans: unknown[] };
    expect(view.roads.map((r) => [r.id, Math.round(r.coverage * 100)])).toEqual([['RD-B', 60]]);
    expect(view.plans).toHaveLength(1);
    now = sh(`${DAY} 05:09`); // 2 h + 10 min grace after 03:00
    hub.fleet.tick();
    expect(updates.filter((u) => u.case.category === 'event:0407')).toEqual([]);
    now = sh(`${DAY} 05:10`);
    hub.fleet.tick();
    hub.fleet.tick();
    const snowCases = updates.filter((u) => u.effect === 'opened' && u.case.category === 'event:0407');
    expect(snowCases).toHaveLength(1);
    expect(snowCases[0]?.case).toMatchObject({ unit: 'xihu-sanitation', district: 'xihu', state: 'filed' });
  });
});
