import { describe, expect, it } from 'vitest';
import type { CategoryKey } from '../../../config/schema/catalogue.js';
import { evaluate } from '../../../hub/src/cases/evaluation.js';
import type { Actor, CaseRecord } from '../../../hub/src/cases/model.js';
import { type Action, type Command, openCase, transition } from '../../../hub/src/cases/workflow.js';
import { commander, ctx, HOUR, handler, MIN, sh, supervisor, system } from './fixtures.js';

/** A case played from a start time: [minutes after start, action, extra]. Natural-time categories only. */
function play(
  id: string,
  category: CategoryKey,
  district: string,
  start: number,
  steps: [number, Action, Partial<Command>?][],
  repeatCount = 0,
): CaseRecord {
  const actorOf = (a: Action): Actor =>
    a === 'dispatch' || a === 'approve_extension'
      ? commander
      : ['return', 'start', 'report_handled', 'request_extension', 'resume'].includes(a)
        ? handler
        : a === 'suspend' || a === 'reject'
          ? supervisor
          : system;
  const c0 = { ...openCase({ id, category, source: 'sensor', at: start, actor: system, district }, ctx), repeatCount };
  return steps.reduce(
    (c, [min, action, extra]) =>
      transition(c, { action, actor: actorOf(action), at: start + min * MIN, ...extra }, ctx),
    c0,
  );
}

const U1 = { unit: 'beishan-street' };
const U2 = { unit: 'hz-water' };
const U3 = { unit: 'gongshu-cgj' };
const day = (d: number) => sh(`2026-11-${String(d).padStart(2, '0')} 09:00`);
const filed: [number, Action][] = [
  [0, 'accept'],
  [0, 'file'],
];
const closeAt = (m: number): [number, Action][] => [
  [m, 'verify'],
  [m, 'pass'],
];

// 道路积水 (0406) and 道路积雪结冰 (0407) 紧急: handle 4 h; 自来水管破裂 (0402): handle 24 h. All natural time.
const history: CaseRecord[] = [
  // A: on time (50 min), closed, 3 repeats
  play(
    'A',
    'event:0406',
    'xihu',
    day(2),
    [...filed, [10, 'dispatch', U1], [20, 'start'], [60, 'report_handled'], ...closeAt(90)],
    3,
  ),
  // B: late (5 h against 4 h), fails verification once, then closed
  play('B', 'event:0406', 'xihu', day(3), [
    ...filed,
    [0, 'dispatch', U1],
    [10, 'start'],
    [300, 'report_handled'],
    [310, 'verify'],
    [320, 'fail'],
    [330, 'start'],
    [400, 'report_handled'],
    ...closeAt(410),
  ]),
  // C: extension approved (缓办): excluded from due and closure; handled after 2 h, not closed
  play('C', 'event:0407', 'xihu', day(4), [
    ...filed,
    [0, 'dispatch', U1],
    [5, 'start'],
    [30, 'request_extension', { extensionMs: 2 * HOUR }],
    [40, 'approve_extension'],
    [60, 'resume'],
    [120, 'report_handled'],
  ]),
  // F: suspended (挂账) after dispatch: excluded
  play('F', 'event:0406', 'xihu', day(5), [...filed, [0, 'dispatch', U1], [30, 'suspend']]),
  // G: filed and dispatched before the period (Oct 31 23:10), due and handled (1 h 50 min) and closed in it
  play('G', 'event:0406', 'xihu', sh('2026-10-31 23:00'), [
    ...filed,
    [10, 'dispatch', U1],
    [15, 'start'],
    [120, 'report_handled'],
    ...closeAt(180),
  ]),
  // D: water company, on time (3 h of 24 h), still being verified
  play('D', 'event:0402', 'gongshu', day(6), [
    ...filed,
    [0, 'dispatch', U2],
    [10, 'start'],
    [180, 'report_handled'],
    [190, 'verify'],
  ]),
  // E: returned by the water company, re-dispatched to the district office, handled 2 h after the first dispatch, closed
  play('E', 'event:0402', 'gongshu', day(7), [
    ...filed,
    [0, 'dispatch', U2],
    [20, 'return', { note: '非供水管网' }],
    [30, 'dispatch', U3],
    [40, 'start'],
    [120, 'report_handled'],
    ...closeAt(150),
  ]),
  // H: not filed; I: all of it in December
  play('H', 'event:0406', 'xihu', day(8), [[5, 'reject']]),
  play('I', 'event:0406', 'xihu', sh('2026-12-02 09:00'), [
    ...filed,
    [0, 'dispatch', U1],
    [30, 'start'],
    [60, 'report_handled'],
    ...closeAt(70),
  ]),
];

describe('evaluation over case history (November 2026)', () => {
  const result = evaluate(history, sh('2026-11-01 00:00'), sh('2026-12-01 00:00'));

  it('per unit, against numbers computed by hand', () => {
    expect(Object.keys(result.byUnit)).toEqual(['beishan-street', 'gongshu-cgj', 'hz-water']);
    // 北山街道: A B C F G. Handle times 50, 110, 120, 300 min.
    expect(result.byUnit['beishan-street']).toEqual({
      registered: 4, // A B C F (G was filed in October)
      dispatched: 4, // A B C F
      returned: 0,
      closed: 3, // A B G
      handled: 4, // A B C G
      dueToHandle: 3, // A B G (C postponed, F suspended)
      handledOnTime: 2, // A G
      reworks: 1, // B
      repeats: 3, // A
      onTimeHandlingRate: 2 / 3,
      closureRate: 1, // A B of A B (C and F excluded)
      reworkRate: 1 / 4,
      meanHandleMs: 145 * MIN,
      p90HandleMs: 300 * MIN,
    });
    expect(result.byUnit['hz-water']).toEqual({
      registered: 1,
      dispatched: 1,
      returned: 0,
      closed: 0,
      handled: 1,
      dueToHandle: 1,
      handledOnTime: 1,
      reworks: 0,
      repeats: 0,
      onTimeHandlingRate: 1,
      closureRate: 0,
      reworkRate: 0,
      meanHandleMs: 3 * HOUR,
      p90HandleMs: 3 * HOUR,
    });
    // E belongs to the unit of its last dispatch, with both dispatches and the return.
    expect(result.byUnit['gongshu-cgj']).toMatchObject({
      registered: 1,
      dispatched: 2,
      returned: 1,
      closed: 1,
      onTimeHandlingRate: 1,
      closureRate: 1,
      meanHandleMs: 2 * HOUR,
    });
  });

  it('per district and in total', () => {
    expect(result.byDistrict.xihu).toEqual(result.byUnit['beishan-street']);
    expect(result.byDistrict.gongshu).toEqual({
      registered: 2,
      dispatched: 3,
      returned: 1,
      closed: 1,
      handled: 2,
      dueToHandle: 2,
      handledOnTime: 2,
      reworks: 0,
      repeats: 0,
      onTimeHandlingRate: 1,
      closureRate: 0.5,
      reworkRate: 0,
      meanHandleMs: 2.5 * HOUR,
      p90HandleMs: 3 * HOUR,
    });
    expect(result.total).toEqual({
      registered: 6,
      dispatched: 7,
      returned: 1,
      closed: 4,
      handled: 6,
      dueToHandle: 5,
      handledOnTime: 4,
      reworks: 1,
      repeats: 3,
      onTimeHandlingRate: 0.8,
      closureRate: 0.75,
      reworkRate: 1 / 6,
      meanHandleMs: (880 / 6) * MIN,
      p90HandleMs: 300 * MIN,
    });
  });

  it('an empty period has counts of zero and no rates', () => {
    expect(evaluate(history, sh('2026-09-01 00:00'), sh('2026-10-01 00:00')).total).toEqual({
      registered: 0,
      dispatched: 0,
      returned: 0,
      closed: 0,
      handled: 0,
      dueToHandle: 0,
      handledOnTime: 0,
      reworks: 0,
      repeats: 0,
    });
  });
});
