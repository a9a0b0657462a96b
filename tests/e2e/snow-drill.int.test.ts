/**
 * The snow drill end to end (issue 10): `citygrid sim snow` as a real process (its own hub, both
 * example gateways' edges, the structure simulators) plays the seeded cold wave in 25 s (×552:
 * drizzle wets the roads, the air falls below freezing, the film freezes, then snow), cuts one
 * gateway's uplink in the middle, confirms the snow incident the hub's wet-freezing-roads trigger
 * proposes, files the cases it sees reported, and closes the incident at the end. Checked from its JSON report: the incident opens from its
 * trigger; the road-weather stations' sample interval drops to the incident's rate at the edges
 * and returns; 道路积雪结冰 cases appear on the road-weather assets inside the incident, at the snow
 * profile's urgencies, with deadlines; nothing is lost.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DrillReport } from '../../simulators/drills/report.js';
import type { CliProcess } from '../helpers/cli-process.js';
import { runDrill } from '../helpers/drill.js';

const dir = mkdtempSync(path.join(tmpdir(), 'cg-snow-drill-'));
const NORMAL_S = 1;
const INCIDENT_S = 0.2;
let drill: CliProcess;
let report: DrillReport;

beforeAll(async () => {
  ({ drill, report } = await runDrill(
    'snow',
    ['--duration', '25', '--interval', String(NORMAL_S * 1000), '--incident-interval', String(INCIDENT_S * 1000)],
    dir,
  ));
}, 90_000);

afterAll(async () => {
  await drill?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('citygrid sim snow', () => {
  it('loses no reading across the uplink cut', () => {
    expect(report.uplink?.restoredAtS).toBeGreaterThan(report.uplink?.cutAtS as number);
    expect(report.readings.producedAtEdges).toBeGreaterThan(150);
    expect(report.readings).toMatchObject({ lost: 0, edgeBacklogAtEnd: 0 });
  });

  it('opens the snow incident city-wide from its trigger, confirmed by the operator, and closes it', () => {
    const snow = report.incidents.items.filter((i) => i.type === 'snow');
    const confirmed = snow.filter((i) => i.history.some((h) => h.action === 'confirm'));
    expect(confirmed).toHaveLength(1);
    const [i] = confirmed;
    expect(i?.openedBy).toBe('trigger wet-freezing-roads');
    expect(i?.history.map((h) => h.action)).toEqual(['propose', 'confirm', 'close']);
    // the drill's console user (its session is the actor)
    expect(i?.history[1]?.by).toBe('drill-operator');
    expect(i?.state).toBe('closed');
    // proposed once the wet surfaces went below 0 °C (sim ~60 min of 230: ~6.5 s of 25), not in the drizzle's first minutes
    expect(i?.proposedAtS as number).toBeGreaterThan(4);
    // the roads stay frozen after the close: what the trigger proposes again is dismissed by the operator
    for (const other of snow.filter((x) => x !== i)) expect(other.state).toBe('dismissed');
  });

  it("shortens the road-weather stations' sample interval at the edges while it is open, and restores it", () => {
    const stations = report.sampleIntervals.filter((d) => d.kind === 'road_weather');
    expect(stations).toHaveLength(2);
    for (const s of stations) {
      const faster = s.changes.find((c) => c.toS <= INCIDENT_S * 1.5);
      const back = s.changes.find((c) => c.fromS <= INCIDENT_S * 1.5 && c.toS >= NORMAL_S * 0.7);
      expect(faster, `${s.device} faster`).toBeDefined();
      expect((back as { atS: number }).atS).toBeGreaterThan((faster as { atS: number }).atS);
    }
    for (const d of report.sampleIntervals.filter((x) => x.kind === 'flood')) expect(d.changes).toEqual([]);
  });

  it('raises 道路积雪结冰 cases on the iced roads, in the incident, at the snow urgencies, with deadlines', () => {
    const icing = report.cases.filter((c) => c.category === 'event:0407');
    expect(icing.map((c) => c.asset).sort()).toEqual(['RW-GS-001', 'RW-XH-001']);
    const incident = report.incidents.items.find((i) => i.state === 'closed');
    for (const c of icing) {
      expect(c.incident).toBe(incident?.id);
      // the surfaces end near −7 °C: past the snow profile's −2 °C (critical)
      expect(c.urgency).toBe('critical');
      // filed by the drill's operator: 道路积雪结冰 at critical is to be dispatched at once
      expect(c.state).toBe('filed');
      expect(c.dispatchDueS).toBe(0);
    }
    expect(report.latency.n).toBe(icing.length);
  });
});
