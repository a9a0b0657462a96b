/**
 * The snow plan (抗雪防冻, issue 10): while a snow incident is open, every plough and spreader
 * together must cover the priority roads (`roads[].priority`) of the incident's districts within
 * `fleet.snowPlan.within` of its opening. The same coverage judge as the daily sanitation work,
 * run with other parameters: the priority road set, roles plough and spreader, one pooled task
 * per incident with its deadline. A priority road short of `minCoverage` at the deadline raises one
 * 道路积雪结冰 (event:0407) case, to the company of a plough of its district.
 *
 * The tasks and the judge's state are rows of cases.db's rule_state (`fleet:snow-task`,
 * `fleet:snow-state`, `fleet:snow-raised`), like the daily judging's.
 */

import type { CategoryKey } from '../../../config/schema/catalogue.js';
import type { CityConfig } from '../../../config/schema/city.js';
import type { FleetJudgingConfig } from '../../../config/schema/fleet-judging.js';
import type { Logger } from '../../../drivers/sdk/log.js';
import type { HubCases } from '../cases/hub-cases.js';
import type { RuleStateEntry } from '../cases/rules.js';
import type { Incident } from '../incidents/model.js';
import { CoverageJudge, type Fix, type Task, type Verdict } from './judge.js';
import { LocalDays } from './local-day.js';
import { pooledTask } from './plan.js';

/** Category of a priority road not ploughed in time: 道路积雪结冰. */
export const SNOW_CATEGORY: CategoryKey = 'event:0407';
const ROLES = ['plough', 'spreader'] as const;

export class SnowPlan {
  readonly judge: CoverageJudge;
  private readonly tasks = new Map<string, Task>();
  private readonly raised = new Set<string>();
  private readonly days: LocalDays;

  constructor(
    private readonly o: {
      city: Pick<CityConfig, 'city' | 'roads' | 'vehicles' | 'districts'>;
      config: FleetJudgingConfig;
      cases: HubCases;
      log: Logger;
      now: () => number;
    },
  ) {
    const { city, config } = o;
    this.days = new LocalDays(city.city.timezone);
    this.judge = new CoverageJudge({
      roads: city.roads.filter((r) => r.priority),
      vehicles: city.vehicles,
      roles: [...ROLES],
      timeZone: city.city.timezone,
      workSpeedKmh: config.workSpeedKmh,
      corridorM: config.corridorM,
      maxGapMs: config.maxGap,
      maxGapM: config.maxGapM,
      stopSpeedKmh: config.stopSpeedKmh,
      maxDwellMs: config.maxDwell,
      offRouteM: config.offRouteM,
      workingField: config.workingField,
    });
    const rows = o.cases.service.store.ruleState();
    this.judge.load(rows.filter((r) => r.rule === 'fleet:snow-state').map((r) => ({ key: r.key, state: r.state })));
    for (const r of rows) {
      if (r.rule === 'fleet:snow-task' && r.state) this.tasks.set(r.key, r.state as Task);
      if (r.rule === 'fleet:snow-raised') this.raised.add(r.key);
    }
    this.judge.setTasks([...this.tasks.values()]);
  }

  /** Whether a vehicle's fixes matter here (ploughs and spreaders). */
  watches(role: string): boolean {
    return (ROLES as readonly string[]).includes(role);
  }

  onFix(vehicleId: string, fix: Fix): void {
    this.judge.onFix(vehicleId, fix); // its episodes are reported by the daily judge's watch
  }

  /** A snow incident opened: plan its priority roads; closed or dismissed before its deadline: drop the plan. */
  onIncident(i: Incident): void {
    if (i.type !== 'snow') return;
    const existing = this.tasks.get(i.id);
    if (i.state === 'open' && !existing && i.openedAt !== undefined) {
      const districts = new Set('city' in i.scope ? this.o.city.districts.map((d) => d.id) : i.scope.districts);
      const roads = this.judge.network.roads.filter((r) => districts.has(r.district));
      if (roads.length === 0) return;
      const task = pooledTask({
        id: i.id,
        vehicles: this.o.city.vehicles.filter((v) => districts.has(v.district)),
        roles: [...ROLES],
        roads,
        from: i.openedAt,
        by: i.openedAt + this.o.config.snowPlan.within,
        minCoverage: this.o.config.snowPlan.minCoverage,
        days: this.days,
      });
      this.tasks.set(i.id, task);
      this.persist([{ rule: 'fleet:snow-task', key: i.id, state: task }]);
      this.judge.setTasks([...this.tasks.values()]);
      this.o.log.info({ incident: i.id, roads: task.roads.length, by: task.by }, 'Snow plan: priority roads to cover');
    } else if ((i.state === 'closed' || i.state === 'dismissed') && existing && existing.by > this.o.now()) {
      this.tasks.delete(i.id);
      this.persist([{ rule: 'fleet:snow-task', key: i.id, state: null }]);
      this.judge.setTasks([...this.tasks.values()]);
    }
  }

  /** Judges plans whose deadline (+ grace) passed; raises a case per priority road missed. */
  tick(now: number): Verdict[] {
    const verdicts = this.judge.due(now, this.o.config.grace);
    for (const v of verdicts) {
      const key = `${SNOW_CATEGORY}|${v.road.id}|${v.task.id}`;
      if (v.met || this.raised.has(key)) continue;
      const inDistrict = this.o.city.vehicles.filter(
        (x) => v.task.vehicles.includes(x.id) && x.district === v.road.district,
      );
      const vehicle = inDistrict[0] ?? this.o.city.vehicles.find((x) => v.task.vehicles.includes(x.id));
      if (!vehicle) {
        this.o.log.warn({ road: v.road.id, incident: v.task.id }, 'Priority road missed, but no plough to hold to it');
        continue;
      }
      const mid = this.judge.network.pointAlong(this.judge.network.indexOf(v.road.id) as number, v.lengthM / 2);
      this.o.cases.raise(
        {
          category: SNOW_CATEGORY,
          source: 'sensor',
          at: now,
          unit: vehicle.unit,
          district: v.road.district,
          point: [mid[0], mid[1]],
          title: `${v.road.name ?? v.road.id}: ${Math.round(v.coverage * 100)}% ploughed by the snow plan deadline (${v.task.id})`,
          note: `priority road ${v.road.id} covered ${Math.round(v.coveredM)} m of ${Math.round(v.lengthM)} m by ploughs and spreaders`,
          signal: {
            rule: 'fleet-snow-plan',
            value: v.coverage,
            detail: { road: v.road.id, incident: v.task.id, deadline: v.task.by, vehicles: v.task.vehicles },
          },
        },
        () => [{ rule: 'fleet:snow-raised', key, state: { at: now } }],
      );
      this.raised.add(key);
    }
    this.persist(this.judge.changed().map((e) => ({ rule: 'fleet:snow-state', key: e.key, state: e.state })));
    return verdicts;
  }

  /** For the situation view: priority roads of the districts with their coverage today, ploughs and plans. */
  view(districts: readonly string[], now: number): Record<string, unknown> {
    const inScope = new Set(districts);
    const day = this.days.key(now);
    const roads = this.judge.roadCoverage(day).filter((r) => inScope.has(r.road.district));
    const vehicles = this.judge
      .vehicleIds()
      .map((id) => this.judge.vehicle(id))
      .filter((v) => v && this.watches(v.config.role) && inScope.has(v.config.district))
      .map((v) => {
        const last = v?.state?.fixes.at(-1);
        return {
          id: v?.config.id,
          plate: v?.config.plate,
          role: v?.config.role,
          unit: v?.config.unit,
          district: v?.config.district,
          last: last ? { ts: last.ts, lon: last.lon, lat: last.lat, speedKmh: last.speedKmh ?? null } : null,
          working: last && v ? this.judge.working(last, v.config.role) : false,
        };
      });
    return {
      day,
      roads: roads.map((r) => ({
        id: r.road.id,
        name: r.road.name,
        district: r.road.district,
        lengthM: Math.round(r.lengthM),
        coverage: Number(r.coverage.toFixed(4)),
      })),
      vehicles,
      plans: this.judge.taskViews().map((t) => ({
        incident: t.task.id,
        from: t.task.from,
        by: t.task.by,
        judged: t.judged,
        roads: t.roads
          .filter((r) => inScope.has(r.road.district))
          .map((r) => ({ id: r.road.id, coverage: Number(r.coverage.toFixed(4)) })),
      })),
    };
  }

  private persist(rows: RuleStateEntry[]): void {
    if (rows.length === 0) return;
    try {
      this.o.cases.service.store.save({ ruleState: rows }, this.o.now());
    } catch (err) {
      this.o.log.error({ err }, 'Snow plan state not saved to cases.db');
    }
  }
}
