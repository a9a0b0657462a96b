/**
 * The flood drill end to end (issue 10): `citygrid sim flood` as a real process runs its own hub
 * (a child process), both example gateways' edge agents and the structure simulators, plays the
 * seeded rainstorm in 25 s (×432: three hours of storm), cuts gw-xh-01's uplink at the height of
 * it, files a hotline report, confirms the incident the hub's rain trigger proposes and closes it
 * at the end; its JSON report is what is checked here:
 * - the flood incident opens from its trigger (proposed by rain-at-gauges, confirmed by the drill's
 *   operator) and is closed;
 * - the underpass gauges' sample interval drops to the incident's rate at the edges and returns;
 * - 道路积水 cases appear on the flooded underpasses, linked to the incident, at the flood
 *   profile's urgencies, with the catalogue's deadlines;
 * - a closure is recommended when an underpass passes 25 cm and lifted once it is back below 20;
 * - every reading the edges took was stored by the hub, the cut gateway's included.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DrillReport } from '../../simulators/drills/report.js';
import type { CliProcess } from '../helpers/cli-process.js';
import { runDrill } from '../helpers/drill.js';

const dir = mkdtempSync(path.join(tmpdir(), 'cg-flood-drill-'));
const NORMAL_S = 1;
const INCIDENT_S = 0.2;
let drill: CliProcess;
let report: DrillReport;

beforeAll(async () => {
  ({ drill, report } = await runDrill(
    'flood',
    [
      '--seed',
      '1',
      '--duration',
      '25',
      '--interval',
      String(NORMAL_S * 1000),
      '--incident-interval',
      String(INCIDENT_S * 1000),
      '--keep',
      path.join(dir, 'run'),
    ],
    dir,
  ));
}, 90_000);

afterAll(async () => {
  await drill?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('citygrid sim flood', () => {
  it('loses no reading: everything the edges took (the cut gateway too) is stored by the hub', () => {
    expect(report.uplink).toMatchObject({ gateway: expect.stringMatching(/^gw-/) });
    expect(report.uplink?.restoredAtS).toBeGreaterThan(report.uplink?.cutAtS as number);
    expect(report.readings.producedAtEdges).toBeGreaterThan(200);
    expect(report.readings).toMatchObject({ lost: 0, edgeBacklogAtEnd: 0 });
    expect(report.readings.storedAtHub).toBe(report.readings.producedAtEdges);
  });

  it('opens the flood incident from its rain trigger, confirmed by the operator, and closes it', () => {
    expect(report.incidents.available).toBe(true);
    const floods = report.incidents.items.filter((i) => i.type === 'flood');
    expect(floods.length).toBeGreaterThan(0);
    for (const i of floods) {
      expect(i.openedBy).toBe('trigger rain-at-gauges');
      expect(i.history.map((h) => h.action)).toEqual(['propose', 'confirm', 'close']);
      // the drill's console user (its session is the actor)
      expect(i.history[1]?.by).toBe('drill-operator');
      expect(i.state).toBe('closed');
      // proposed while it rained hard (sim minutes 12..32 of 180 = 1.7..4.4 s of 25), not before
      expect(i.proposedAtS as number).toBeGreaterThan(1);
      expect(i.proposedAtS as number).toBeLessThan(6);
    }
  });

  it("shortens the underpass gauges' sample interval at the edges while the incident is open, and restores it", () => {
    const gauges = report.sampleIntervals.filter((d) => d.kind === 'flood');
    expect(gauges).toHaveLength(4);
    for (const g of gauges) {
      const faster = g.changes.find((c) => c.toS <= INCIDENT_S * 1.5);
      const back = g.changes.find((c) => c.fromS <= INCIDENT_S * 1.5 && c.toS >= NORMAL_S * 0.7);
      expect(faster, `${g.device} faster`).toBeDefined();
      expect(back, `${g.device} back`).toBeDefined();
      expect((back as { atS: number }).atS).toBeGreaterThan((faster as { atS: number }).atS);
    }
    // the bridges, tunnels and road-weather stations are not flood kinds: left alone
    for (const d of report.sampleIntervals.filter((x) => x.kind === 'road_weather')) expect(d.changes).toEqual([]);
  });

  it('raises 道路积水 cases on the flooded underpasses, in the incident, at its urgencies and deadlines', () => {
    const sensor = report.cases.filter((c) => c.category === 'event:0406' && c.source === 'sensor');
    // seed 1: three of the four underpasses pass the flood profile's 10 cm (two past 25 cm)
    expect(sensor.length).toBeGreaterThanOrEqual(3);
    const incidents = new Set(report.incidents.items.map((i) => i.id));
    for (const c of sensor) {
      expect(incidents.has(c.incident as string), `${c.id} linked to an incident`).toBe(true);
      expect(['urgent', 'critical']).toContain(c.urgency);
      expect(c.dispatchDueS).toBeDefined();
      expect(c.crossingToCaseMs).toBeGreaterThanOrEqual(0);
    }
    expect(sensor.filter((c) => c.urgency === 'critical').length).toBeGreaterThanOrEqual(2);
    // 道路积水 at critical is dispatched at once; urgent within the catalogue's limit
    for (const c of sensor.filter((x) => x.urgency === 'critical')) expect(c.dispatchDueS).toBe(0);
    expect(report.latency.n).toBe(sensor.length);
    expect(report.latency.p99Ms).toBeDefined();
  });

  it('takes the hotline report of a flooded underpass (joined to its case or a case of its own)', () => {
    const hotline = report.timeline.find((t) => t.label.startsWith('hotline report on'));
    expect(hotline).toBeDefined();
    const asset = hotline?.label.replace('hotline report on ', '');
    const c = report.cases.find((x) => x.asset === asset);
    expect(c).toBeDefined();
    // joined to the sensor's case (filed by its rule), or a case of its own filed by the drill's
    // operator: filed either way, with the catalogue's deadlines
    expect(c).toMatchObject({ state: 'filed', dispatchDueS: expect.any(Number) });
  });

  it('recommends closing each underpass past 25 cm and lifts it once the water is back below 20 cm', () => {
    const raised = report.closures.items.filter((c) => c.action === 'raised');
    const lifted = report.closures.items.filter((c) => c.action === 'lifted');
    expect(raised.length).toBeGreaterThanOrEqual(2);
    for (const r of raised) {
      expect(r.depthCm as number).toBeGreaterThanOrEqual(25);
      const l = lifted.find((x) => x.asset === r.asset && x.atS > r.atS);
      expect(l, `${r.asset} lifted`).toBeDefined();
      expect(l?.depthCm as number).toBeLessThan(20);
    }
    // every closure was recommended on an asset that also has a critical case
    const critical = new Set(report.cases.filter((c) => c.urgency === 'critical').map((c) => c.asset));
    for (const r of raised) expect(critical.has(r.asset)).toBe(true);
  });
});
