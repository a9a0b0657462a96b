/**
 * The coverage judge (issue 9 item 4): did the trucks do the job. Pure: no I/O, no clock; fixes
 * carry their own time and the caller passes `now` to `due`.
 *
 * Coverage of a road segment = share of its centre line driven while working, inside the task's
 * window. A stretch between two consecutive fixes of a vehicle counts when
 *   - it is no gap: at most `maxGapMs` and `maxGapM` apart (a late fix, e.g. a batch upload after
 *     a tunnel, is put back in time order and splits the gap into stretches that count);
 *   - both fixes are working: the working field on AND speed inside the role's work band;
 *   - the whole stretch lies inside the task's window [from, by].
 * When both ends are within `corridorM` of a segment, the segment between their projections is
 * covered; crossing a road projects both ends to about the same place and covers nothing. When
 * only one end is (a turn onto or off the road), the stretch is walked from that end in steps of
 * corridorM / 2 and covers the segment as far as it stays within the corridor.
 * Several vehicles on one task (ploughs on priority roads) cover its roads together (union).
 *
 * Also per vehicle, from fixes in time order: dwell (stopped longer than `maxDwellMs` away from every
 * allowed stop), off-route (working and moving further than `offRouteM` from every road assigned
 * at that time) and speeding (working above the role's band). Each is an episode with a start
 * and an end (`FleetIncident`).
 */
import { distance } from '@turf/turf';
import type { Road, Vehicle, VehicleRole } from '../../../config/schema/fleet.js';
import { addInterval, type Interval, measure } from './intervals.js';
import { LocalDays } from './local-day.js';
import { type LonLat, RoadNetwork } from './road-network.js';
import { type FleetIncident, newToday, type Today, type VehicleState, watchEpisodes } from './vehicle-watch.js';

export interface Band {
  min: number;
  max: number;
}

export interface JudgeParams {
  /** The road set judged (all roads, or the priority roads of the snow plan). */
  roads: readonly Road[];
  /** Every vehicle of the city; those of `roles` are judged, the others only tracked. */
  vehicles: readonly Vehicle[];
  roles: readonly VehicleRole[];
  timeZone: string;
  workSpeedKmh: Record<VehicleRole, Band>;
  corridorM: number;
  maxGapMs: number;
  maxGapM: number;
  stopSpeedKmh: number;
  maxDwellMs: number;
  offRouteM: number;
  /** Field that says the work gear is on. Default working. */
  workingField?: string;
  /** How long fixes are kept to place late ones between. Default 30 min. */
  reorderMs?: number;
}

/** One position report of a vehicle. */
export interface Fix {
  ts: number;
  lon: number;
  lat: number;
  /** Reported speed; missing: the speed over the stretch from the previous fix. */
  speedKmh?: number;
  /** The working field (work gear on). */
  gear: boolean;
}

/** Roads to cover within a window by one vehicle (a daily assignment) or by several together. */
export interface Task {
  /** Stable id, also across restarts (e.g. `<vehicle>#<assignment>@<day>`). */
  id: string;
  /** Local day the deadline falls on, "YYYY-MM-DD". */
  day: string;
  vehicles: readonly string[];
  roads: readonly string[];
  from: number;
  by: number;
  minCoverage: number;
}

export interface Verdict {
  task: Task;
  road: Road;
  lengthM: number;
  coveredM: number;
  /** coveredM / lengthM, 0..1. */
  coverage: number;
  met: boolean;
}

export interface RoadCoverage {
  road: Road;
  lengthM: number;
  coveredM: number;
  coverage: number;
}

export interface TaskView {
  task: Task;
  judged: boolean;
  roads: RoadCoverage[];
}

interface TaskState {
  task: Task;
  /** Coverage by road index. */
  covered: Map<number, Interval[]>;
  judged: boolean;
}

export interface StateEntry {
  key: string;
  state: unknown;
}

const DEFAULT_REORDER_MS = 30 * 60_000;
const MAX_FIXES_KEPT = 512;

export class CoverageJudge {
  readonly network: RoadNetwork;
  private readonly days: LocalDays;
  private readonly vehicleConfig: Map<string, Vehicle>;
  private readonly judgedRoles: Set<VehicleRole>;
  private readonly vehicles = new Map<string, VehicleState>();
  private readonly tasks = new Map<string, TaskState>();
  private readonly tasksOf = new Map<string, TaskState[]>();
  /** Coverage of each road by any judged vehicle on the local day `day` of its last stretch. */
  private readonly roadDay = new Map<number, { day: string; iv: Interval[] }>();
  /** Task coverage restored from a save, waiting for `setTasks` to name the task again. */
  private readonly restored = new Map<string, { covered: [number, Interval[]][]; judged: boolean }>();
  private readonly dirty = new Set<string>();
  private readonly stepM: number;
  private readonly workingField: string;
  private readonly reorderMs: number;

  constructor(readonly params: JudgeParams) {
    this.network = new RoadNetwork(params.roads, Math.max(params.corridorM, params.offRouteM));
    this.days = new LocalDays(params.timeZone);
    this.vehicleConfig = new Map(params.vehicles.map((v) => [v.id, v]));
    this.judgedRoles = new Set(params.roles);
    this.stepM = Math.max(1, params.corridorM / 2);
    this.workingField = params.workingField ?? 'working';
    this.reorderMs = params.reorderMs ?? DEFAULT_REORDER_MS;
  }

  /** The local day of an instant in the judge's time zone. */
  dayOf(ts: number): string {
    return this.days.key(ts);
  }

  /** A fix from reading fields (lat, lon, speed_kmh, the working field); undefined without a position. */
  fixOf(ts: number, fields: Record<string, unknown>): Fix | undefined {
    const { lat, lon, speed_kmh: speed } = fields;
    if (typeof lat !== 'number' || typeof lon !== 'number' || !Number.isFinite(lat + lon)) return undefined;
    const gear = fields[this.workingField];
    return {
      ts,
      lon,
      lat,
      gear: gear === true || gear === 1,
      ...(typeof speed === 'number' ? { speedKmh: speed } : {}),
    };
  }

  /** Whether the judge knows the vehicle (it is in the city config). */
  knows(vehicleId: string): boolean {
    return this.vehicleConfig.has(vehicleId);
  }

  /**
   * Replaces the tasks judged: coverage of a task whose id stays is kept, tasks no longer named are
   * forgotten (judge them with `due` first).
   */
  setTasks(tasks: readonly Task[]): void {
    const next = new Map<string, TaskState>();
    for (const task of tasks) {
      const old = this.tasks.get(task.id);
      const saved = this.restored.get(task.id);
      this.restored.delete(task.id);
      next.set(task.id, {
        task,
        covered: old?.covered ?? new Map(saved?.covered ?? []),
        judged: old?.judged ?? saved?.judged ?? false,
      });
    }
    for (const id of this.tasks.keys()) if (!next.has(id)) this.dirty.add(`t:${id}`);
    this.tasks.clear();
    this.tasksOf.clear();
    for (const [id, t] of next) {
      this.tasks.set(id, t);
      for (const v of t.task.vehicles) {
        const list = this.tasksOf.get(v) ?? [];
        list.push(t);
        this.tasksOf.set(v, list);
      }
    }
  }

  /** Takes one fix; returns the dwell / off-route / speeding episodes it starts or ends. */
  onFix(vehicleId: string, fix: Fix): FleetIncident[] {
    const config = this.vehicleConfig.get(vehicleId);
    if (!config) return [];
    let v = this.vehicles.get(vehicleId);
    if (!v) {
      v = { fixes: [], today: newToday(this.days.key(fix.ts)) };
      this.vehicles.set(vehicleId, v);
    }
    this.dirty.add(`v:${vehicleId}`);
    const fixes = v.fixes;
    let i = fixes.length;
    while (i > 0 && (fixes[i - 1] as Fix).ts > fix.ts) i--;
    if (i > 0 && (fixes[i - 1] as Fix).ts === fix.ts) return []; // a duplicate
    const newest = fixes.at(-1);
    if (newest && fix.ts < newest.ts - this.reorderMs) return []; // too late to place
    fixes.splice(i, 0, fix);
    const prev = fixes[i - 1];
    const next = fixes[i + 1];
    if (this.days.key(fix.ts) !== v.today.day && !next) v.today = newToday(this.days.key(fix.ts));
    if (prev) this.stretch(vehicleId, config, v.today, prev, fix);
    if (next) this.stretch(vehicleId, config, v.today, fix, next);
    while (fixes.length > MAX_FIXES_KEPT || (fixes.length > 1 && (fixes[0] as Fix).ts < fix.ts - this.reorderMs))
      fixes.shift();
    if (next) return []; // history filled in: episodes follow live fixes only
    return watchEpisodes(v, vehicleId, config, fix, prev, {
      band: this.params.workSpeedKmh[config.role],
      stopSpeedKmh: this.params.stopSpeedKmh,
      maxDwellMs: this.params.maxDwellMs,
      offRoute: (f) => this.isOffRoute(vehicleId, f),
    });
  }

  /** Tasks whose deadline plus `graceMs` has passed and that are not judged yet: judged now. */
  due(now: number, graceMs: number): Verdict[] {
    const out: Verdict[] = [];
    for (const t of this.tasks.values()) {
      if (t.judged || t.task.by + graceMs > now) continue;
      t.judged = true;
      this.dirty.add(`t:${t.task.id}`);
      for (const rc of this.taskRoads(t)) {
        out.push({ task: t.task, ...rc, met: rc.coverage >= t.task.minCoverage - 1e-9 });
      }
    }
    return out;
  }

  /** Every task with its coverage so far. */
  taskViews(vehicleId?: string): TaskView[] {
    const list = vehicleId ? (this.tasksOf.get(vehicleId) ?? []) : [...this.tasks.values()];
    return list.map((t) => ({ task: t.task, judged: t.judged, roads: this.taskRoads(t) }));
  }

  /** Coverage of roads on a local day by any judged vehicle (all roads of the set when `ids` is omitted). */
  roadCoverage(day: string, ids?: readonly string[]): RoadCoverage[] {
    const idx = ids
      ? ids.map((id) => this.network.indexOf(id)).filter((i): i is number => i !== undefined)
      : this.network.roads.map((_, i) => i);
    return idx.map((i) => {
      const rd = this.roadDay.get(i);
      return this.coverageOf(i, rd && rd.day === day ? rd.iv : []);
    });
  }

  /** A vehicle's state: last fix, today's counters, open episodes. */
  vehicle(vehicleId: string): { config: Vehicle; state?: VehicleState } | undefined {
    const config = this.vehicleConfig.get(vehicleId);
    if (!config) return undefined;
    const state = this.vehicles.get(vehicleId);
    return state ? { config, state } : { config };
  }

  vehicleIds(): string[] {
    return [...this.vehicleConfig.keys()];
  }

  /** Judging state changed since the last call, for a durable save (`load` takes it back). */
  changed(): StateEntry[] {
    const out: StateEntry[] = [];
    for (const key of this.dirty) {
      const [kind, id] = [key.slice(0, 1), key.slice(2)];
      if (kind === 'v') out.push({ key, state: this.vehicles.get(id) ?? null });
      else if (kind === 'r') {
        const rd = this.roadDay.get(Number(id));
        out.push({ key: `r:${this.network.roads[Number(id)]?.id}`, state: rd ?? null });
      } else {
        const t = this.tasks.get(id);
        out.push({ key, state: t ? { covered: [...t.covered], judged: t.judged } : null });
      }
    }
    this.dirty.clear();
    return out;
  }

  /** Restores saved state (call before `setTasks`); entries of unknown vehicles and roads are ignored. */
  load(entries: readonly StateEntry[]): void {
    for (const { key, state } of entries) {
      if (state === null) continue;
      const id = key.slice(2);
      if (key.startsWith('v:') && this.vehicleConfig.has(id)) this.vehicles.set(id, state as VehicleState);
      else if (key.startsWith('r:')) {
        const i = this.network.indexOf(id);
        if (i !== undefined) this.roadDay.set(i, state as { day: string; iv: Interval[] });
      } else if (key.startsWith('t:'))
        this.restored.set(id, state as { covered: [number, Interval[]][]; judged: boolean });
    }
  }

  private taskRoads(t: TaskState): RoadCoverage[] {
    const out: RoadCoverage[] = [];
    for (const id of t.task.roads) {
      const i = this.network.indexOf(id);
      if (i !== undefined) out.push(this.coverageOf(i, t.covered.get(i) ?? []));
    }
    return out;
  }

  private coverageOf(i: number, iv: readonly Interval[]): RoadCoverage {
    const lengthM = this.network.lengthM[i] as number;
    const coveredM = measure(iv, lengthM);
    return { road: this.network.roads[i] as Road, lengthM, coveredM, coverage: lengthM > 0 ? coveredM / lengthM : 0 };
  }

  /** Working: the gear on and the speed inside the role's band (`stretchKmh` when the fix has none). */
  working(f: Fix, role: VehicleRole, stretchKmh = 0): boolean {
    const band = this.params.workSpeedKmh[role];
    const kmh = f.speedKmh ?? stretchKmh;
    return f.gear && kmh >= band.min && kmh <= band.max;
  }

  private stretch(vehicleId: string, config: Vehicle, today: Today, a: Fix, b: Fix): void {
    const dt = b.ts - a.ts;
    if (dt <= 0 || dt > this.params.maxGapMs) return;
    const dist = distance([a.lon, a.lat], [b.lon, b.lat], { units: 'meters' });
    if (dist > this.params.maxGapM) return;
    const kmh = dist / 1000 / (dt / 3_600_000);
    const sameDay = this.days.key(b.ts) === today.day;
    if (sameDay) today.drivenM += dist;
    if (!this.judgedRoles.has(config.role)) return;
    if (!this.working(a, config.role, kmh) || !this.working(b, config.role, kmh)) return;
    if (sameDay) today.workingM += dist;
    const tasks = (this.tasksOf.get(vehicleId) ?? []).filter((t) => t.task.from <= a.ts && b.ts <= t.task.by);
    // Both ends near a road: the stretch between their projections is driven (straight driving
    // along it; crossing it projects both ends to about the same place and covers nothing).
    // One end only (turning onto or off the road): walk from that end in steps of corridorM / 2
    // while still near the road, and cover as far as that.
    const corridor = this.params.corridorM;
    const atA = new Map(this.network.near([a.lon, a.lat], corridor).map((h) => [h.road, h]));
    const atB = new Map(this.network.near([b.lon, b.lat], corridor).map((h) => [h.road, h]));
    for (const [road, ha] of atA) {
      const hb = atB.get(road);
      if (hb) this.cover(road, ha.alongM, hb.alongM, b.ts, tasks);
      else this.coverPart(road, ha.alongM, a, b, dist, b.ts, tasks);
    }
    for (const [road, hb] of atB) if (!atA.has(road)) this.coverPart(road, hb.alongM, b, a, dist, b.ts, tasks);
  }

  /** Covers a road from `alongM` (where `near` projects) as far as the stretch towards `far` stays near it. */
  private coverPart(
    road: number,
    alongM: number,
    near: Fix,
    far: Fix,
    dist: number,
    ts: number,
    tasks: readonly TaskState[],
  ): void {
    const n = Math.max(1, Math.ceil(dist / this.stepM));
    let last = alongM;
    for (let k = 1; k < n; k++) {
      const s = k / n;
      // Consecutive fixes are at most maxGapM apart: interpolating lon/lat is exact to centimetres.
      const p: LonLat = [near.lon + (far.lon - near.lon) * s, near.lat + (far.lat - near.lat) * s];
      const hit = this.network.nearRoad(p, road, this.params.corridorM);
      if (!hit) break;
      last = hit.alongM;
    }
    this.cover(road, alongM, last, ts, tasks);
  }

  private cover(road: number, a: number, b: number, ts: number, tasks: readonly TaskState[]): void {
    if (a === b) return;
    const day = this.days.key(ts);
    const rd = this.roadDay.get(road);
    this.roadDay.set(road, { day, iv: addInterval(rd && rd.day === day ? rd.iv : [], a, b) });
    this.dirty.add(`r:${road}`);
    const id = this.network.roads[road]?.id as string;
    for (const t of tasks) {
      if (!t.task.roads.includes(id)) continue;
      t.covered.set(road, addInterval(t.covered.get(road) ?? [], a, b));
      this.dirty.add(`t:${t.task.id}`);
    }
  }

  /** Working and further than offRouteM from every road assigned to the vehicle at that time. */
  private isOffRoute(vehicleId: string, f: Fix): boolean {
    const assigned = new Set<string>();
    for (const t of this.tasksOf.get(vehicleId) ?? [])
      if (t.task.from <= f.ts && f.ts <= t.task.by) for (const r of t.task.roads) assigned.add(r);
    if (assigned.size === 0) return false;
    return !this.network
      .near([f.lon, f.lat], this.params.offRouteM)
      .some((n) => assigned.has(this.network.roads[n.road]?.id as string));
  }
}
