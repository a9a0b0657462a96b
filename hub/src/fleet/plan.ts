/**
 * What the judge is asked to judge: the daily assignments of the city config as tasks of one local
 * day, or one pooled task (every plough and spreader on the priority roads by an incident's
 * deadline). Pure.
 */
import type { Road, Vehicle, VehicleRole } from '../../../config/schema/fleet.js';
import type { Task } from './judge.js';
import type { LocalDays } from './local-day.js';

/** Every assignment of a vehicle of `roles` on the local `day`, restricted to the road set. */
export function dailyTasks(
  vehicles: readonly Vehicle[],
  roles: readonly VehicleRole[],
  roads: readonly Road[],
  days: LocalDays,
  day: string,
): Task[] {
  const inSet = new Set(roads.map((r) => r.id));
  const out: Task[] = [];
  for (const v of vehicles) {
    if (!roles.includes(v.role)) continue;
    v.assignments.forEach((a, i) => {
      const ids = a.roads.filter((r) => inSet.has(r));
      if (ids.length === 0) return;
      out.push({
        id: `${v.id}#${i}@${day}`,
        day,
        vehicles: [v.id],
        roads: ids,
        from: days.at(day, a.from ?? '00:00'),
        by: days.at(day, a.by),
        minCoverage: a.minCoverage,
      });
    });
  }
  return out;
}

/**
 * One task for several vehicles together, e.g. the snow plan: every plough and spreader on the
 * priority roads from an incident's opening to its deadline.
 */
export function pooledTask(o: {
  id: string;
  vehicles: readonly Vehicle[];
  roles: readonly VehicleRole[];
  roads: readonly Road[];
  from: number;
  by: number;
  minCoverage: number;
  days: LocalDays;
}): Task {
  return {
    id: o.id,
    day: o.days.key(o.by),
    vehicles: o.vehicles.filter((v) => o.roles.includes(v.role)).map((v) => v.id),
    roads: o.roads.map((r) => r.id),
    from: o.from,
    by: o.by,
    minCoverage: o.minCoverage,
  };
}
