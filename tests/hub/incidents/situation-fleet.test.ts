/**
 * The situation's fleet part (incidents/situation.ts fleetCoverage): the judged vehicles of the
 * districts with their coverage today, and the coverage of the districts' priority roads, from the
 * real fleet judging on a real cases.db (the two-road network of tests/hub/fleet/network.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import type { LoadedHubConfig } from '../../../config/load.js';
import { fleetJudgingSchema } from '../../../config/schema/fleet-judging.js';
import { silentLogger } from '../../../drivers/sdk/log.js';
import { MetricsRegistry } from '../../../drivers/sdk/metrics.js';
import { HubCases } from '../../../hub/src/cases/hub-cases.js';
import { HubFleet } from '../../../hub/src/fleet/hub-fleet.js';
import { fleetCoverage } from '../../../hub/src/incidents/situation.js';
import { LiveBus } from '../../../hub/src/live/bus.js';
import { ReadingPoint } from '../../../hub/src/telemetry/point-mapping.js';
import { CITY_FILE, city as exampleCity } from '../cases/fixtures.js';
import { north, ROAD_A, ROAD_B, sh, vehicle } from '../fleet/network.js';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cg-situation-fleet-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

it('lists the district’s vehicles with their coverage and the coverage of its priority roads', async () => {
  let now = sh('2026-06-01 07:00');
  const city = { ...exampleCity, roads: [ROAD_A, ROAD_B], vehicles: [vehicle('SW-1')] };
  const loaded = {
    file: path.join(path.dirname(CITY_FILE), 'hub.yaml'),
    hub: { city: './city.yaml', cases: { webhooks: [] }, fleet: fleetJudgingSchema.parse({}) },
    city,
    dataDir,
  } as unknown as LoadedHubConfig;
  const bus = new LiveBus(silentLogger());
  const metrics = new MetricsRegistry();
  const cases = new HubCases({ loaded, bus, log: silentLogger(), metrics, now: () => now, tickMs: 3_600_000 });
  const fleet = new HubFleet({ loaded, cases, bus, log: silentLogger(), metrics, now: () => now });
  try {
    // SW-1 sweeps the first 500 m of the priority road B (north), 100 m every 20 s.
    fleet.onStored({
      readings: [0, 100, 200, 300, 400, 500].map((y, i) => {
        const [lon, lat] = north(y);
        const ts = now + i * 20_000;
        return new ReadingPoint(
          { device: 'SW-1', kind: 'vehicle', ts, fields: { lat, lon, speed_kmh: 18, heading_deg: 0, working: true } },
          'xihu',
          'gw-xh-01',
          undefined,
          undefined,
          ts,
        );
      }),
    });
    await new Promise((r) => setImmediate(r));
    now += 5 * 60_000;
    const view = fleetCoverage(fleet, city, () => now)(['xihu']) as {
      vehicles: { id: string; working: boolean }[];
      priorityRoads: { id: string; coverage: number }[];
    };
    expect(view.vehicles.map((v) => [v.id, v.working])).toEqual([['SW-1', true]]);
    expect(view.priorityRoads.map((r) => [r.id, Math.round(r.coverage * 10)])).toEqual([['RD-B', 5]]);
    // Gongshu has neither vehicles nor priority roads here; the snow plan (RD-B is a priority road) has nothing there.
    expect(fleetCoverage(fleet, city, () => now)(['gongshu'])).toEqual({
      vehicles: [],
      priorityRoads: [],
      snowPlan: { day: '2026-06-01', roads: [], vehicles: [], plans: [] },
    });
  } finally {
    fleet.close();
    cases.close();
  }
});
