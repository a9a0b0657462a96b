/**
 * Evaluation (综合评价, shared/domain §6.7) computed from case histories alone, per unit and per
 * district, for a period [from, to). Definitions, as implemented:
 * - registered (立案数): `file` entries in the period.
 * - dispatched (派遣数): `dispatch` entries in the period (a re-dispatch after a return counts again).
 * - returned: `return` entries in the period (准确派遣 = dispatched − returned).
 * - closed (结案数): `pass` entries (verification passed, case closed) in the period.
 * - handled (处置数): cases whose first `report_handled` falls in the period.
 * - dueToHandle (应处置数): cases whose first handling deadline (recorded at dispatch) falls in the
 *   period, minus cases postponed (approved extension, 缓办) or suspended (挂账) by the end of it.
 * - handledOnTime (按期处置数): of those, the ones whose first `report_handled` met its deadline.
 * - onTimeHandlingRate = handledOnTime / dueToHandle.
 * - closureRate (结案率) = cases registered in the period and closed by its end / (registered −
 *   postponed − suspended): 应结案 taken as the cases registered in the period.
 * - reworkRate (返工率) = `fail` entries in the period / handled.
 * - meanHandleMs, p90HandleMs: first dispatch to first `report_handled`, over cases handled in the
 *   period (p90 by nearest rank).
 * - repeats: signals and reports that joined cases registered in the period (repeatCount).
 * A case belongs to the unit of its last dispatch before the period ends (else its proposed unit)
 * and to its district. Rates are undefined when their denominator is 0.
 */
import type { CaseRecord, HistoryEntry } from './model.js';

export interface Indicators {
  registered: number;
  dispatched: number;
  returned: number;
  closed: number;
  handled: number;
  dueToHandle: number;
  handledOnTime: number;
  reworks: number;
  repeats: number;
  onTimeHandlingRate?: number;
  closureRate?: number;
  reworkRate?: number;
  meanHandleMs?: number;
  p90HandleMs?: number;
}

export interface Evaluation {
  from: number;
  to: number;
  total: Indicators;
  byUnit: Record<string, Indicators>;
  byDistrict: Record<string, Indicators>;
}

interface Acc extends Indicators {
  handleTimes: number[];
  closable: number;
  closedOfRegistered: number;
}

const empty = (): Acc => ({
  registered: 0,
  dispatched: 0,
  returned: 0,
  closed: 0,
  handled: 0,
  dueToHandle: 0,
  handledOnTime: 0,
  reworks: 0,
  repeats: 0,
  handleTimes: [],
  closable: 0,
  closedOfRegistered: 0,
});

const ratio = (a: number, b: number) => (b > 0 ? a / b : undefined);

function finish(a: Acc): Indicators {
  const { handleTimes, closable, closedOfRegistered, ...counts } = a;
  const sorted = [...handleTimes].sort((x, y) => x - y);
  const out: Indicators = { ...counts };
  const onTime = ratio(a.handledOnTime, a.dueToHandle);
  const closure = ratio(closedOfRegistered, closable);
  const rework = ratio(a.reworks, a.handled);
  if (onTime !== undefined) out.onTimeHandlingRate = onTime;
  if (closure !== undefined) out.closureRate = closure;
  if (rework !== undefined) out.reworkRate = rework;
  if (sorted.length > 0) {
    out.meanHandleMs = sorted.reduce((s, x) => s + x, 0) / sorted.length;
    out.p90HandleMs = sorted[Math.ceil(0.9 * sorted.length) - 1] as number;
  }
  return out;
}

export function evaluate(cases: readonly CaseRecord[], from: number, to: number): Evaluation {
  const total = empty();
  const byUnit = new Map<string, Acc>();
  const byDistrict = new Map<string, Acc>();
  const inPeriod = (at: number) => at >= from && at < to;

  for (const c of cases) {
    const upToEnd = c.history.filter((h) => h.at < to);
    const lastDispatch = upToEnd.filter((h) => h.action === 'dispatch').at(-1);
    const unit = (lastDispatch?.data?.unit as string | undefined) ?? c.unit;
    const accs = [total];
    if (unit) {
      if (!byUnit.has(unit)) byUnit.set(unit, empty());
      accs.push(byUnit.get(unit) as Acc);
    }
    if (c.district) {
      if (!byDistrict.has(c.district)) byDistrict.set(c.district, empty());
      accs.push(byDistrict.get(c.district) as Acc);
    }
    const count = (action: string) => upToEnd.filter((h) => h.action === action && inPeriod(h.at)).length;
    const first = (action: string): HistoryEntry | undefined => c.history.find((h) => h.action === action);
    const stateAtEnd = upToEnd.at(-1)?.to;
    const excluded = stateAtEnd === 'suspended' || upToEnd.some((h) => h.action === 'approve_extension');

    const fileEntry = first('file');
    const registered = fileEntry !== undefined && inPeriod(fileEntry.at);
    const firstDispatch = first('dispatch');
    const firstHandled = first('report_handled');
    const handled = firstHandled !== undefined && inPeriod(firstHandled.at);
    const firstDue = firstDispatch?.data?.dueAt as number | undefined;
    const due = firstDue !== undefined && inPeriod(firstDue) && !excluded;
    const onTime = due && firstHandled !== undefined && firstHandled.at < to && firstHandled.data?.onTime === true;
    const closedByEnd = upToEnd.some((h) => h.action === 'pass');

    for (const a of accs) {
      a.registered += registered ? 1 : 0;
      a.dispatched += count('dispatch');
      a.returned += count('return');
      a.closed += count('pass');
      a.reworks += count('fail');
      a.handled += handled ? 1 : 0;
      a.dueToHandle += due ? 1 : 0;
      a.handledOnTime += onTime ? 1 : 0;
      if (registered) {
        a.repeats += c.repeatCount;
        if (!excluded) {
          a.closable += 1;
          a.closedOfRegistered += closedByEnd ? 1 : 0;
        }
      }
      if (handled && firstDispatch) a.handleTimes.push((firstHandled as HistoryEntry).at - firstDispatch.at);
    }
  }
  const done = (m: Map<string, Acc>) =>
    Object.fromEntries([...m].sort(([x], [y]) => x.localeCompare(y)).map(([k, v]) => [k, finish(v)]));
  return { from, to, total: finish(total), byUnit: done(byUnit), byDistrict: done(byDistrict) };
}
