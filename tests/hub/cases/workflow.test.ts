import { describe, expect, it } from 'vitest';
import { TransitionRefusedError } from '../../../hub/src/cases/errors.js';
import type { CaseRecord } from '../../../hub/src/cases/model.js';
import {
  type Action,
  type Command,
  findOverdue,
  openCase,
  remaining,
  transition,
} from '../../../hub/src/cases/workflow.js';
import { calendar, commander, ctx, HOUR, handler, MIN, sh, supervisor, system } from './fixtures.js';

const t0 = sh('2026-11-20 16:00'); // a Friday
const waterlogging = () =>
  openCase(
    {
      id: 'c1',
      category: 'event:0406',
      source: 'sensor',
      at: t0,
      actor: system,
      asset: 'UP-XH-001',
      unit: 'beishan-street',
    },
    ctx,
  );
const streetLight = () =>
  openCase(
    { id: 'c2', category: 'component:0118', source: 'hotline', at: t0, actor: supervisor, unit: 'beishan-street' },
    ctx,
  );

/** Applies [action, actor, minutes after t0, extra] steps. */
function run(c: CaseRecord, steps: [Action, Command['actor'], number, Partial<Command>?][]): CaseRecord {
  return steps.reduce(
    (acc, [action, actor, min, extra]) => transition(acc, { action, actor, at: t0 + min * MIN, ...extra }, ctx),
    c,
  );
}

const toProcessing: [Action, Command['actor'], number, Partial<Command>?][] = [
  ['accept', system, 0],
  ['file', system, 0],
  ['dispatch', commander, 5],
  ['start', handler, 20],
];

describe('case workflow', () => {
  it('runs reported -> accepted -> filed -> dispatched -> processing -> feedback -> verifying -> closed -> evaluated with deadlines and history', () => {
    const c = run(waterlogging(), [
      ...toProcessing,
      ['report_handled', handler, 150, { note: 'pumped dry' }],
      ['verify', supervisor, 160],
      ['pass', system, 170, { note: 'depth 0 cm for 10 min' }],
      ['evaluate', system, 180],
    ]);
    expect(c.state).toBe('evaluated');
    expect(c.urgency).toBe('urgent');
    expect(c.unit).toBe('beishan-street');
    expect(c.history.map((h) => `${h.seq} ${h.action} ${h.from}->${h.to} ${h.actor.role}`)).toEqual([
      '1 report reported->reported system',
      '2 accept reported->accepted system',
      '3 file accepted->filed system',
      '4 dispatch filed->dispatched district_commander',
      '5 start dispatched->processing unit_handler',
      '6 report_handled processing->feedback unit_handler',
      '7 verify feedback->verifying city_supervisor',
      '8 pass verifying->closed system',
      '9 evaluate closed->evaluated system',
    ]);
    expect(c.history[5]?.note).toBe('pumped dry');
    // 道路积水 紧急: dispatch 15 min, handle 4 h, verify 1 h, natural time.
    expect(c.deadlines).toEqual({
      dispatch: { startedAt: t0, dueAt: t0 + 15 * MIN, basis: 'natural', doneAt: t0 + 5 * MIN },
      handle: { startedAt: t0 + 5 * MIN, dueAt: t0 + 245 * MIN, basis: 'natural', doneAt: t0 + 150 * MIN },
      verify: { startedAt: t0 + 150 * MIN, dueAt: t0 + 210 * MIN, basis: 'natural', doneAt: t0 + 170 * MIN },
    });
  });

  const refused: [string, [Action, Command['actor'], number, Partial<Command>?][], Action, Command['actor'], RegExp][] =
    [
      [
        'close a case just reported',
        [],
        'pass',
        supervisor,
        /cannot pass a case in state reported as city_supervisor: allowed only from verifying/,
      ],
      [
        'a unit dispatching',
        [
          ['accept', system, 0],
          ['file', system, 0],
        ],
        'dispatch',
        handler,
        /cannot dispatch .* filed as unit_handler: only district_commander, city_supervisor, system may/,
      ],
      ['the centre starting the work', toProcessing.slice(0, 3), 'start', supervisor, /only unit_handler may/],
      [
        'filing twice',
        [
          ['accept', system, 0],
          ['file', system, 0],
        ],
        'file',
        system,
        /state filed .*allowed only from accepted/,
      ],
      [
        'a unit verifying its own work',
        [...toProcessing, ['report_handled', handler, 30]],
        'verify',
        handler,
        /only city_supervisor, system may/,
      ],
      ['evaluating an open case', toProcessing, 'evaluate', system, /allowed only from closed/],
      [
        'suspending a closed case',
        [...toProcessing, ['report_handled', handler, 30], ['verify', system, 31], ['pass', system, 32]],
        'suspend',
        supervisor,
        /state closed .*an open state/,
      ],
      ['returning without a note', toProcessing.slice(0, 3), 'return', handler, /needs a note/],
      [
        'approving an extension nobody asked for',
        toProcessing,
        'approve_extension',
        commander,
        /no extension request is pending/,
      ],
      ['escalating to a lower urgency', toProcessing, 'escalate', system, /urgency above urgent/],
      ['marking a running stage overdue early', toProcessing, 'mark_overdue', system, /not past its deadline/],
    ];
  it.each(refused)(
    'refuses %s with a typed error naming state, action and role',
    (_name, before, action, actor, message) => {
      const c = run(waterlogging(), before);
      const snapshot = structuredClone(c);
      let err: unknown;
      try {
        transition(c, { action, actor, at: t0 + 60 * MIN, urgency: 'normal', stage: 'handle' }, ctx);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(TransitionRefusedError);
      expect((err as TransitionRefusedError).code).toBe('CASE_TRANSITION_REFUSED');
      expect((err as TransitionRefusedError).action).toBe(action);
      expect((err as TransitionRefusedError).role).toBe(actor.role);
      expect((err as TransitionRefusedError).state).toBe(c.state);
      expect((err as Error).message).toMatch(message);
      expect(c).toEqual(snapshot);
    },
  );

  it('rejects reports that are not cases (不予立案)', () => {
    const c = run(waterlogging(), [['reject', supervisor, 1, { note: 'sensor fault, site dry' }]]);
    expect(c.state).toBe('not_filed');
    expect(() => transition(c, { action: 'accept', actor: supervisor, at: t0 }, ctx)).toThrow(TransitionRefusedError);
  });

  it('returns a wrongly dispatched case and re-dispatches it to another unit, with a new dispatch clock', () => {
    const c = run(waterlogging(), [
      ...toProcessing.slice(0, 3),
      ['return', handler, 10, { note: 'not our street' }],
      ['dispatch', commander, 12, { unit: 'xihu-cgj' }],
    ]);
    expect(c.state).toBe('dispatched');
    expect(c.unit).toBe('xihu-cgj');
    expect(c.deadlines.dispatch).toMatchObject({
      startedAt: t0 + 10 * MIN,
      dueAt: t0 + 25 * MIN,
      doneAt: t0 + 12 * MIN,
    });
    expect(c.history.at(-2)?.data).toEqual({ unit: 'beishan-street' });
  });

  it('counts rework when verification fails and gives a fresh handling limit', () => {
    const c = run(waterlogging(), [
      ...toProcessing,
      ['report_handled', handler, 30],
      ['verify', supervisor, 35],
      ['fail', supervisor, 40, { note: 'still 8 cm' }],
      ['start', handler, 45],
      ['report_handled', handler, 60],
      ['verify', supervisor, 61],
      ['fail', supervisor, 62],
    ]);
    expect(c.state).toBe('rework');
    expect(c.reworkCount).toBe(2);
    expect(c.deadlines.handle).toEqual({ startedAt: t0 + 62 * MIN, dueAt: t0 + 62 * MIN + 4 * HOUR, basis: 'natural' });
  });

  it('moves the handling deadline by an approved extension, in work time', () => {
    // 路灯 一般: dispatch 1 work hour, handle 2 work days. Filed Friday 16:00, dispatched 16:30.
    let c = run(streetLight(), [
      ['accept', supervisor, 0],
      ['file', supervisor, 0],
      ['dispatch', commander, 30],
      ['start', handler, 40],
    ]);
    expect(c.deadlines.dispatch?.dueAt).toBe(sh('2026-11-20 17:00'));
    expect(c.deadlines.handle?.dueAt).toBe(sh('2026-11-24 16:30'));
    c = transition(
      c,
      { action: 'request_extension', actor: handler, at: t0 + HOUR, extensionMs: 7.5 * HOUR, note: 'lamp on order' },
      ctx,
    );
    expect(() =>
      transition(c, { action: 'request_extension', actor: handler, at: t0 + HOUR, extensionMs: HOUR }, ctx),
    ).toThrow(/already pending/);
    c = transition(c, { action: 'approve_extension', actor: commander, at: t0 + 2 * HOUR }, ctx);
    expect(c.state).toBe('postponed');
    expect(c.deadlines.handle?.dueAt).toBe(sh('2026-11-25 16:30'));
    expect(c.extension).toBeUndefined();
    c = transition(c, { action: 'resume', actor: handler, at: sh('2026-11-25 10:00') }, ctx);
    expect(c.state).toBe('processing');
    // a denied request leaves the deadline where it was
    c = transition(
      c,
      { action: 'request_extension', actor: handler, at: sh('2026-11-25 10:00'), extensionMs: HOUR },
      ctx,
    );
    c = transition(c, { action: 'deny_extension', actor: commander, at: sh('2026-11-25 11:00') }, ctx);
    expect(c.deadlines.handle?.dueAt).toBe(sh('2026-11-25 16:30'));
    expect(c.history.map((h) => h.action).slice(-6)).toEqual([
      'start',
      'request_extension',
      'approve_extension',
      'resume',
      'request_extension',
      'deny_extension',
    ]);
  });

  it('pauses the clock while suspended (挂账) and moves the deadline by the pause', () => {
    let c = run(streetLight(), [
      ['accept', supervisor, 0],
      ['file', supervisor, 0],
      ['dispatch', commander, 30],
    ]);
    // due Tuesday 16:30; at Monday 10:30 there are 1.5 + 4 + 6.5 = 12 work hours left
    const left = remaining(c, sh('2026-11-23 10:30'), calendar) as number;
    expect(left).toBe(12 * HOUR);
    c = transition(
      c,
      { action: 'suspend', actor: supervisor, at: sh('2026-11-23 10:30'), note: 'road closed for works' },
      ctx,
    );
    expect(c.state).toBe('suspended');
    expect(remaining(c, sh('2026-12-01 10:00'), calendar)).toBe(left);
    expect(findOverdue(c, sh('2026-12-31 10:00'))).toEqual([]);
    c = transition(c, { action: 'unsuspend', actor: supervisor, at: sh('2026-12-01 09:00') }, ctx);
    expect(c.state).toBe('dispatched');
    // resumed Tuesday 1 Dec 09:00: 3 + 4 + 3.5 + 1.5 work hours -> Wednesday 15:00
    expect(c.deadlines.handle?.dueAt).toBe(sh('2026-12-02 15:00'));
    expect(c.deadlines.handle?.pausedRemaining).toBeUndefined();
  });

  it('finds an overdue stage once, on a driven clock', () => {
    let c = run(waterlogging(), toProcessing); // handle due t0 + 5 min + 4 h
    const due = t0 + 245 * MIN;
    expect(findOverdue(c, due)).toEqual([]);
    const cmds = findOverdue(c, due + 1);
    expect(cmds).toEqual([
      { action: 'mark_overdue', stage: 'handle', at: due + 1, actor: { id: 'hub', role: 'system' } },
    ]);
    c = transition(c, cmds[0] as Command, ctx);
    expect(c.deadlines.handle?.overdueAt).toBe(due + 1);
    expect(c.history.at(-1)).toMatchObject({ action: 'mark_overdue', data: { stage: 'handle', dueAt: due } });
    expect(findOverdue(c, due + HOUR)).toEqual([]);
    expect(remaining(c, due + HOUR, calendar)).toBe(-HOUR);
  });

  it('escalation raises the urgency and tightens the running deadline', () => {
    let c = run(waterlogging(), toProcessing);
    c = transition(
      c,
      { action: 'escalate', actor: system, at: t0 + 30 * MIN, urgency: 'critical', note: '26 cm' },
      ctx,
    );
    expect(c.urgency).toBe('critical');
    // 特急 handle 2 h from dispatch (t0 + 5 min)
    expect(c.deadlines.handle?.dueAt).toBe(t0 + 125 * MIN);
    expect(c.history.at(-1)?.data).toEqual({ from: 'urgent', to: 'critical' });
  });
});
