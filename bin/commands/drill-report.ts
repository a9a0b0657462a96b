/**
 * From what a drill recorded to its report (simulators/drills/report.ts): incidents with their
 * history, cases with urgency and deadlines, threshold crossing -> case per case (to the case's
 * `opened` on the live stream, i.e. on the operators' screens; the crossing is
 * the first reading of the asset's gauge past the lowest level of the rule in the profile the
 * district ran at that moment: flood/snow while an incident of that type was open there),
 * closures from the stream, interval changes from the readings' own timestamps.
 */
import type { DrillCity } from '../../simulators/drills/city.js';
import type { SeenReading, StreamEvent } from '../../simulators/drills/observer.js';
import { type DrillReport, intervalChanges, percentile } from '../../simulators/drills/report.js';
import type { Scenario } from '../../simulators/drills/scenario.js';

type Raw = Record<string, unknown>;

export interface DrillRecord {
  scenario: Scenario;
  speedup: number;
  startedAt: number;
  endedAt?: number;
  intervalMs: number;
  districts: number;
  city: DrillCity;
  rules: Raw;
  timeline: { atMin: number; at: number; label: string }[];
  incidentsAvailable: boolean;
  incidentsNote?: string;
  operatorActions: { at: number; action: string; target: string; status: number }[];
  uplink?: { gateway: string; cutAt?: number; restoredAt?: number };
  hotline?: { asset: string; at: number; status: number; effect: string };
  producedAtEdges?: number;
  storedAtHub?: number;
  duplicatesAtHub?: number;
  edgeBacklogAtEnd?: number;
  cases?: Raw[];
  incidents?: Raw[];
  readings?: Map<string, SeenReading[]>;
  events?: StreamEvent[];
  hubUsage?: { cpuPercentAvg: number; cpuPercentPeak: number; rssMbPeak: number };
}

interface ThresholdRule {
  category: string;
  field: string;
  below: boolean;
  kinds: string[];
  levels: Record<string, { at: number }[]>;
}

function thresholdRules(rules: Raw): ThresholdRule[] {
  const list = Array.isArray(rules.rules) ? (rules.rules as Raw[]) : [];
  return list
    .filter((r) => r.type === 'threshold')
    .map((r) => ({
      category: String(r.category),
      field: String(r.field),
      below: r.direction === 'below',
      kinds: ((r.match as Raw | undefined)?.deviceKinds as string[] | undefined) ?? [],
      levels: r.levels as Record<string, { at: number }[]>,
    }));
}

/** The profile a district ran at `ts`: the type of an incident open there then, else normal. */
function profileAt(incidents: readonly Raw[], district: string, ts: number): string {
  for (const i of incidents) {
    const opened = i.openedAt as number | undefined;
    if (opened === undefined || ts < opened) continue;
    if (i.endedAt !== undefined && ts >= (i.endedAt as number)) continue;
    const scope = i.scope as { city?: boolean; districts?: string[] } | undefined;
    if (scope?.city || scope?.districts?.includes(district)) return String(i.type);
  }
  return 'normal';
}

/** Time of the last upward crossing of the rule's lowest level before `before`. */
function crossingBefore(
  readings: readonly SeenReading[],
  rule: ThresholdRule,
  district: string,
  incidents: readonly Raw[],
  before: number,
): number | undefined {
  let above = false;
  let crossing: number | undefined;
  for (const r of [...readings].sort((a, b) => a.ts - b.ts)) {
    if (r.ts > before) break;
    const v = r.fields[rule.field];
    if (typeof v !== 'number') continue;
    const levels = rule.levels[profileAt(incidents, district, r.ts)] ?? rule.levels.normal ?? [];
    const first = levels[0]?.at;
    if (first === undefined) continue;
    const past = rule.below ? v <= first : v >= first;
    if (past && !above) crossing = r.ts;
    above = past;
  }
  return crossing;
}

const secs = (t: number | undefined, t0: number) => (t === undefined ? undefined : Math.round((t - t0) / 100) / 10);

export function buildReport(rec: DrillRecord): DrillReport {
  const t0 = rec.startedAt;
  const incidents = rec.incidents ?? [];
  const rules = thresholdRules(rec.rules);
  const devicesOf = new Map<string, { id: string; kind: string; district: string }[]>();
  for (const g of rec.city.gateways)
    for (const d of g.devices) {
      const list = devicesOf.get(d.asset) ?? [];
      list.push({ id: d.id, kind: d.kind, district: g.district });
      devicesOf.set(d.asset, list);
    }
  const readings: Map<string, SeenReading[]> = rec.readings ?? new Map();
  // when each case reached the operators: its `opened` on the live stream (reportedAt is the time
  // of the reading that raised it, on the device's clock)
  const seenOpened = new Map<string, number>();
  for (const e of rec.events ?? [])
    if (e.event === 'case' && e.data.effect === 'opened' && !seenOpened.has(String(e.data.id)))
      seenOpened.set(String(e.data.id), e.at);

  const cases = (rec.cases ?? [])
    .map((c) => {
      const deadlines = (c.deadlines ?? {}) as Record<string, { dueAt?: number; startedAt?: number } | undefined>;
      const due = (s: string) => {
        const d = deadlines[s];
        return d?.dueAt === undefined
          ? undefined
          : Math.round((d.dueAt - (d.startedAt ?? (c.reportedAt as number))) / 1000);
      };
      let crossingToCaseMs: number | undefined;
      const openedAt = seenOpened.get(String(c.id)) ?? (c.reportedAt as number);
      if (c.source === 'sensor' && typeof c.asset === 'string') {
        const reportedAt = c.reportedAt as number;
        for (const dev of devicesOf.get(c.asset) ?? []) {
          for (const rule of rules.filter((r) => r.category === c.category && r.kinds.includes(dev.kind))) {
            const at = crossingBefore(readings.get(dev.id) ?? [], rule, dev.district, incidents, reportedAt);
            if (at !== undefined && (crossingToCaseMs === undefined || openedAt - at < crossingToCaseMs))
              crossingToCaseMs = openedAt - at;
          }
        }
      }
      return {
        id: String(c.id),
        category: String(c.category),
        source: String(c.source),
        ...(typeof c.asset === 'string' ? { asset: c.asset } : {}),
        ...(typeof c.district === 'string' ? { district: c.district } : {}),
        urgency: String(c.urgency),
        state: String(c.state),
        ...(typeof c.incident === 'string' ? { incident: c.incident } : {}),
        reportedAtS: secs(c.reportedAt as number, t0) as number,
        dispatchDueS: due('dispatch'),
        handleDueS: due('handle'),
        ...(crossingToCaseMs !== undefined ? { crossingToCaseMs } : {}),
        ...(typeof c.raisedByReadingAt === 'number' ? { readingToCaseMs: openedAt - c.raisedByReadingAt } : {}),
      };
    })
    .sort((a, b) => a.reportedAtS - b.reportedAtS);
  const latencies = cases.flatMap((c) => (c.crossingToCaseMs === undefined ? [] : [c.crossingToCaseMs]));
  const hubLatencies = cases.flatMap((c) => (c.readingToCaseMs === undefined ? [] : [c.readingToCaseMs]));
  // the gateway whose uplink was cut delivers its crossings after the link is back: its outage, not the hub's speed
  const cutDistrict = rec.city.gateways.find((g) => g.id === rec.uplink?.gateway)?.district;
  const linked = cases.flatMap((c) =>
    c.crossingToCaseMs === undefined || c.district === cutDistrict ? [] : [c.crossingToCaseMs],
  );

  const closureEvents = (rec.events ?? []).filter((e) => e.event === 'closure');
  const closures = closureEvents.map((e) => {
    const c = ((e.data.closure as Raw | undefined) ?? e.data) as Raw;
    const action = String(e.data.action ?? (c.inForce === false ? 'lifted' : 'raised'));
    const lifted = action === 'lifted';
    const at = (lifted ? c.liftedAt : c.raisedAt) as number | undefined;
    const depth = (lifted ? c.liftedDepthCm : c.raisedDepthCm) as number | undefined;
    return {
      asset: String(c.asset),
      action,
      atS: secs(at ?? e.at, t0) as number,
      ...(typeof depth === 'number' ? { depthCm: depth } : {}),
    };
  });

  const kindOf = new Map(rec.city.gateways.flatMap((g) => g.devices.map((d) => [d.id, d.kind] as const)));
  const sampleIntervals = [...readings.entries()]
    .map(([device, list]) => ({
      device,
      kind: kindOf.get(device) ?? list[0]?.kind ?? '?',
      changes: intervalChanges(
        list.map((r) => r.ts),
        t0,
      ),
    }))
    .sort((a, b) => a.device.localeCompare(b.device));

  const produced = rec.producedAtEdges ?? 0;
  const stored = rec.storedAtHub ?? 0;
  const realSeconds = ((rec.endedAt ?? Date.now()) - t0) / 1000;
  return {
    drill: rec.scenario.kind,
    seed: rec.scenario.seed,
    speedup: rec.speedup,
    simMinutes: rec.scenario.lengthMin,
    realSeconds,
    districts: rec.districts,
    gateways: rec.city.gateways.length,
    devices: rec.city.gateways.reduce((n, g) => n + g.devices.length, 0),
    normalIntervalS: rec.intervalMs / 1000,
    timeline: rec.timeline.map((t) => ({ atMin: t.atMin, atS: secs(t.at, t0) as number, label: t.label })),
    incidents: {
      available: rec.incidentsAvailable,
      ...(rec.incidentsNote ? { note: rec.incidentsNote } : {}),
      items: incidents.map((i) => {
        const trigger = i.trigger as { rule?: string } | undefined;
        return {
          id: String(i.id),
          type: String(i.type),
          ...(typeof i.level === 'string' ? { level: i.level } : {}),
          state: String(i.state),
          openedBy: trigger?.rule ? `trigger ${trigger.rule}` : 'operator',
          proposedAtS: secs(i.proposedAt as number | undefined, t0),
          openedAtS: secs(i.openedAt as number | undefined, t0),
          closedAtS: secs(i.endedAt as number | undefined, t0),
          history: ((i.history as Raw[] | undefined) ?? []).map((h) => ({
            action: String(h.action),
            atS: secs(h.at as number, t0) as number,
            ...(typeof h.by === 'string' ? { by: h.by } : {}),
            ...(typeof h.reason === 'string' ? { reason: h.reason } : {}),
            ...(typeof h.level === 'string' ? { level: h.level } : {}),
          })),
        };
      }),
    },
    operator: rec.operatorActions.map((a) => ({
      atS: secs(a.at, t0) as number,
      action: a.action,
      target: a.target,
      status: a.status,
    })),
    cases,
    latency: {
      n: latencies.length,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      maxMs: latencies.length ? Math.max(...latencies) : undefined,
    },
    latencyUplinkUp: {
      n: linked.length,
      p50Ms: percentile(linked, 50),
      p99Ms: percentile(linked, 99),
      maxMs: linked.length ? Math.max(...linked) : undefined,
    },
    readingToCase: {
      n: hubLatencies.length,
      p50Ms: percentile(hubLatencies, 50),
      p99Ms: percentile(hubLatencies, 99),
      maxMs: hubLatencies.length ? Math.max(...hubLatencies) : undefined,
    },
    closures: { available: closureEvents.length > 0 || rec.incidentsAvailable, items: closures },
    sampleIntervals,
    ...(rec.uplink
      ? {
          uplink: {
            gateway: rec.uplink.gateway,
            cutAtS: secs(rec.uplink.cutAt, t0),
            restoredAtS: secs(rec.uplink.restoredAt, t0),
          },
        }
      : {}),
    readings: {
      producedAtEdges: produced,
      storedAtHub: stored,
      duplicateMessagesDropped: rec.duplicatesAtHub ?? 0,
      lost: produced - stored,
      edgeBacklogAtEnd: rec.edgeBacklogAtEnd ?? 0,
    },
    readingsPerSecond: realSeconds > 0 ? stored / realSeconds : 0,
    hub: rec.hubUsage ?? { cpuPercentAvg: 0, cpuPercentPeak: 0, rssMbPeak: 0 },
  };
}
