/**
 * Fleet judging inside the running hub: feeds the coverage judge the vehicle readings the ingest
 * stored (queued on the ack path, judged on later turns of the event loop, like the case core),
 * checks deadlines on a clock, raises a case per road segment not covered in time, and publishes
 * dwell / off-route / speeding episodes as hub events (`vehicle.dwell`, `vehicle.off_route`,
 * `vehicle.speeding` on the live bus and /api/stream) and metrics.
 *
 * Why those episodes are not cases: the catalogue (CJ/T 214) classes are about the state of the
 * city, not the conduct of a truck; what matters to the city, a road not cleaned, is the coverage
 * case, and its signal carries the vehicle's off-route metres, dwells and speeding of the day.
 * Speeding belongs to traffic police, dwell and detours to the company's contract assessment
 * (metrics and /api/fleet), and one case per episode would flood the case queue.
 *
 * State across a restart: the judge's state (recent fixes, coverage so far, open episodes, what
 * was judged) and the cases already raised are rows of cases.db's rule_state table (rule
 * `fleet:state`, `fleet:raised`, `fleet:meta`), saved on every clock tick; a raised key is written
 * in the same transaction as its case, so a case is never raised twice. Rebuilding from the
 * telemetry store instead would replay every fix of the day (2 000 vehicles x 8 640 fixes) at each
 * start and depend on InfluxDB being reachable; the saved state is small (intervals per segment).
 * What a crash loses is at most one tick of judging of readings that are stored: their coverage.
 */
import type { LoadedHubConfig } from '../../../config/load.js';
import type { CategoryKey } from '../../../config/schema/catalogue.js';
import type { Logger } from '../../../drivers/sdk/log.js';
import type { MetricsRegistry } from '../../../drivers/sdk/metrics.js';
import type { HubCases } from '../cases/hub-cases.js';
import type { RuleStateEntry } from '../cases/rules.js';
import type { StoredItems } from '../ingest/ingest.js';
import type { LiveBus } from '../live/bus.js';
import type { ReadingPoint } from '../telemetry/point-mapping.js';
import { CoverageJudge, type JudgeParams, type Verdict } from './judge.js';
import { LocalDays } from './local-day.js';
import { dailyTasks } from './plan.js';
import { SnowPlan } from './snow-plan.js';
import type { FleetIncident } from './vehicle-watch.js';

/** Category of a segment not covered by its deadline: 道路不洁 (road not cleaned on time). */
export const COVERAGE_CATEGORY: CategoryKey = 'event:0104';
const RULE_STATE = 'fleet:state';
const RULE_RAISED = 'fleet:raised';
const RULE_META = 'fleet:meta';
const DAY_MS = 86_400_000;
/** Readings judged per turn of the event loop, so a backlog does not starve I/O. */
const READINGS_PER_TURN = 2_000;

export interface HubFleetOptions {
  loaded: Pick<LoadedHubConfig, 'hub' | 'city'>;
  cases: HubCases;
  bus: LiveBus;
  log: Logger;
  metrics: MetricsRegistry;
  now?: () => number;
}

export class HubFleet {
  readonly judge: CoverageJudge;
  /** Ploughs and spreaders on the priority roads of snow incidents; none without priority roads. */
  readonly snow: SnowPlan | undefined;
  readonly days: LocalDays;
  private readonly unsubscribe: () => void;
  private readonly queue: ReadingPoint[] = [];
  private draining: NodeJS.Immediate | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly now: () => number;
  private readonly raised = new Map<string, string>();
  /** When judging started on this data dir: a task whose window began earlier was not watched whole. */
  readonly since: number;
  private readonly graceMs: number;
  private readonly incidents;
  private readonly verdicts;
  private readonly judged;
  private closed = false;
  /** Local day the daily tasks were last built for. */
  private tasksDay: string | undefined;

  constructor(private readonly o: HubFleetOptions) {
    const { hub, city } = o.loaded;
    const f = hub.fleet;
    this.now = o.now ?? Date.now;
    this.graceMs = f.grace;
    const params: JudgeParams = {
      roads: city.roads,
      vehicles: city.vehicles,
      roles: f.roles,
      timeZone: city.city.timezone,
      workSpeedKmh: f.workSpeedKmh,
      corridorM: f.corridorM,
      maxGapMs: f.maxGap,
      maxGapM: f.maxGapM,
      stopSpeedKmh: f.stopSpeedKmh,
      maxDwellMs: f.maxDwell,
      offRouteM: f.offRouteM,
      workingField: f.workingField,
    };
    this.judge = new CoverageJudge(params);
    this.days = new LocalDays(city.city.timezone);
    const rows = o.cases.service.store.ruleState().filter((r) => r.rule.startsWith('fleet:'));
    this.judge.load(rows.filter((r) => r.rule === RULE_STATE).map((r) => ({ key: r.key, state: r.state })));
    // Raised keys and task coverage of days past are only kept a few days (a restart near midnight).
    const horizon = this.days.key(this.now() - 3 * DAY_MS);
    const stale: RuleStateEntry[] = [];
    for (const r of rows) {
      if (r.rule === RULE_RAISED) {
        if ((r.key.split('|')[2] ?? '') >= horizon) this.raised.set(r.key, (r.state as { caseId: string }).caseId);
        else stale.push(r);
      } else if (r.rule === RULE_STATE && r.state === null) stale.push(r);
    }
    const store = o.cases.service.store;
    store.deleteRuleState(
      RULE_RAISED,
      stale.filter((r) => r.rule === RULE_RAISED).map((r) => r.key),
    );
    store.deleteRuleState(
      RULE_STATE,
      stale.filter((r) => r.rule === RULE_STATE).map((r) => r.key),
    );
    const meta = rows.find((r) => r.rule === RULE_META && r.key === 'since')?.state as { at: number } | undefined;
    this.since = meta?.at ?? this.now();
    if (!meta)
      o.cases.service.store.save({ ruleState: [this.row(RULE_META, 'since', { at: this.since })] }, this.since);
    this.refreshTasks();
    this.snow = city.roads.some((r) => r.priority)
      ? new SnowPlan({ city, config: f, cases: o.cases, log: o.log, now: this.now })
      : undefined;
    this.unsubscribe = o.bus.on('incident', ({ incident }) => {
      try {
        this.snow?.onIncident(incident);
      } catch (err) {
        o.log.error({ err, incident: incident.id }, 'Snow plan not updated');
      }
    });

    const m = o.metrics;
    this.incidents = m.counter(
      'citygrid_fleet_incidents_total',
      'Dwell, off-route and speeding episodes of vehicles, by kind (dwell, off_route, speeding), counted when they start.',
    );
    this.verdicts = m.counter(
      'citygrid_fleet_verdicts_total',
      'Road segments judged at their deadline, by outcome (met; missed: short of its minimum coverage, one case per segment and day; unobserved: judging started after the work window began, no case).',
    );
    this.judged = m.counter('citygrid_fleet_fixes_total', 'Vehicle positions judged for coverage and behaviour.');
    m.gauge(
      'citygrid_fleet_coverage_ratio',
      'Coverage today of each road segment by working vehicles (share of its length, 0..1), by road and district.',
      (g) => {
        if (this.closed) return;
        for (const r of this.judge.roadCoverage(this.days.key(this.now())))
          g.set({ road: r.road.id, district: r.road.district }, Number(r.coverage.toFixed(4)));
      },
    );
    this.timer = setInterval(() => this.tick(), f.tick);
    this.timer.unref();
    o.log.info(
      { roads: city.roads.length, vehicles: city.vehicles.length, roles: f.roles, since: this.since },
      'Fleet judging ready',
    );
  }

  /** The ingest's durable callback: queue vehicle readings only (it runs on the ack path). */
  readonly onStored = (items: StoredItems): void => {
    if (this.closed || !('readings' in items)) return;
    let queued = false;
    for (const p of items.readings) {
      if (p.reading.kind !== 'vehicle' || !this.judge.knows(p.reading.device)) continue;
      this.queue.push(p);
      queued = true;
    }
    if (queued) this.draining ??= setImmediate(this.drain);
  };

  /** Judges what is queued, then deadlines; saves the state. Runs on the timer. */
  tick(): Verdict[] {
    if (this.closed) return [];
    this.drain();
    this.refreshTasks();
    let verdicts: Verdict[] = [];
    try {
      verdicts = this.judge.due(this.now(), this.graceMs);
      this.raiseCases(verdicts);
      this.snow?.tick(this.now());
    } catch (err) {
      this.o.log.error({ err }, 'Fleet deadline check failed; trying again on the next tick');
    }
    this.save();
    return verdicts;
  }

  close(): void {
    if (this.closed) return;
    this.drain();
    this.save();
    this.closed = true;
    this.unsubscribe();
    clearInterval(this.timer);
    if (this.draining) clearImmediate(this.draining);
  }

  /** Today's and yesterday's daily tasks (yesterday's late ones are judged after midnight); rebuilt when the day changes. */
  private refreshTasks(): void {
    const { city, hub } = this.o.loaded;
    const now = this.now();
    const today = this.days.key(now);
    if (today === this.tasksDay) return;
    this.tasksDay = today;
    const yesterday = this.days.key(this.days.period(today).from - 1);
    this.judge.setTasks([
      ...dailyTasks(city.vehicles, hub.fleet.roles, city.roads, this.days, yesterday),
      ...dailyTasks(city.vehicles, hub.fleet.roles, city.roads, this.days, today),
    ]);
  }

  private readonly drain = (): void => {
    if (this.draining) clearImmediate(this.draining);
    this.draining = undefined;
    const batch = this.queue.splice(0, READINGS_PER_TURN);
    for (const p of batch) {
      const fix = this.judge.fixOf(p.reading.ts, p.reading.fields);
      if (!fix) continue;
      try {
        for (const incident of this.judge.onFix(p.reading.device, fix)) this.publish(incident, p);
        const role = this.judge.vehicle(p.reading.device)?.config.role;
        if (this.snow && role && this.snow.watches(role)) this.snow.onFix(p.reading.device, fix);
      } catch (err) {
        this.o.log.error({ err, device: p.reading.device }, 'Fleet judge refused a position');
      }
    }
    this.judged.inc({}, batch.length);
    if (this.queue.length > 0 && !this.closed) this.draining = setImmediate(this.drain);
  };

  private publish(i: FleetIncident, p: ReadingPoint): void {
    if (i.phase === 'start') this.incidents.inc({ kind: i.kind });
    const severity = i.kind === 'speeding' ? 'warning' : 'info';
    this.o.bus.emit('event', {
      event: {
        type: `vehicle.${i.kind}`,
        severity,
        device: i.vehicle,
        ts: i.at,
        data: { phase: i.phase, since: i.since, lon: i.lon, lat: i.lat, ...i.detail },
      },
      district: p.district,
      gateway: p.gateway,
      receivedAt: this.now(),
    });
    this.o.log.debug({ device: i.vehicle, kind: i.kind, phase: i.phase, ...i.detail }, 'Fleet episode');
  }

  /** One case per (road segment, day) short of its minimum coverage, never twice. */
  private raiseCases(verdicts: readonly Verdict[]): void {
    const missed = new Map<string, Verdict[]>();
    for (const v of verdicts) {
      if (v.task.from < this.since) {
        this.verdicts.inc({ outcome: 'unobserved' });
        continue;
      }
      this.verdicts.inc({ outcome: v.met ? 'met' : 'missed' });
      if (v.met) continue;
      const key = `${COVERAGE_CATEGORY}|${v.road.id}|${v.task.day}`;
      missed.set(key, [...(missed.get(key) ?? []), v]);
    }
    for (const [key, list] of missed) {
      if (this.raised.has(key)) continue;
      const first = list[0] as Verdict;
      const vehicle = this.o.loaded.city.vehicles.find((x) => x.id === first.task.vehicles[0]);
      if (!vehicle) continue;
      const mid = this.judge.network.pointAlong(this.judge.network.indexOf(first.road.id) as number, first.lengthM / 2);
      const pct = (x: number) => `${Math.round(x * 100)}%`;
      const name = first.road.name ?? first.road.id;
      const deadline = new Date(first.task.by).toISOString();
      const day = this.judge.vehicle(vehicle.id)?.state?.today;
      const change = this.o.cases.raise(
        {
          category: COVERAGE_CATEGORY,
          source: 'sensor',
          at: this.now(),
          unit: vehicle.unit,
          district: first.road.district,
          point: [mid[0], mid[1]],
          title: `${name}: ${pct(first.coverage)} covered by ${vehicle.plate} (${vehicle.id}), ${pct(first.task.minCoverage)} due`,
          note: `road ${first.road.id} covered ${Math.round(first.coveredM)} m of ${Math.round(first.lengthM)} m by the deadline ${deadline}`,
          signal: {
            rule: 'fleet-coverage',
            device: vehicle.id,
            value: first.coverage,
            detail: {
              road: first.road.id,
              day: first.task.day,
              deadline: first.task.by,
              lengthM: first.lengthM,
              vehicles: list.map((v) => ({
                task: v.task.id,
                vehicles: v.task.vehicles,
                coverage: v.coverage,
                coveredM: v.coveredM,
                minCoverage: v.task.minCoverage,
              })),
              ...(day && day.day === first.task.day
                ? { offRouteM: day.offRouteM, dwells: day.dwells, speedings: day.speedings, workingM: day.workingM }
                : {}),
            },
          },
        },
        (caseId) => [this.row(RULE_RAISED, key, { caseId, at: this.now() })],
      );
      this.raised.set(key, change.case.id);
      this.o.log.info(
        { case: change.case.id, road: first.road.id, coverage: first.coverage },
        'Road not covered in time',
      );
    }
  }

  /** The case raised for a road on a day, if any. */
  caseFor(roadId: string, day: string): string | undefined {
    return this.raised.get(`${COVERAGE_CATEGORY}|${roadId}|${day}`);
  }

  private save(): void {
    const changed = this.judge.changed();
    if (changed.length === 0) return;
    try {
      this.o.cases.service.store.save(
        { ruleState: changed.map((e) => this.row(RULE_STATE, e.key, e.state)) },
        this.now(),
      );
    } catch (err) {
      this.o.log.error({ err }, 'Fleet judging state not saved to cases.db');
    }
  }

  private row(rule: string, key: string, state: unknown): RuleStateEntry {
    return { rule, key, state };
  }
}
