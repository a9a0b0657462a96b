import { describe, expect, it } from 'vitest';
import { type CaseSignal, Correlator } from '../../../hub/src/cases/correlation.js';
import type { CaseRecord } from '../../../hub/src/cases/model.js';
import { createResponsibility } from '../../../hub/src/cases/responsibility.js';
import type { Signal } from '../../../hub/src/cases/rules.js';
import { transition } from '../../../hub/src/cases/workflow.js';
import { city, ctx, HOUR, handler, MIN, sh } from './fixtures.js';

const t0 = sh('2026-11-24 10:00');
function correlator(joinWindowMs?: number) {
  let n = 0;
  return new Correlator({
    ctx,
    responsibility: createResponsibility(city),
    newId: () => `case-${++n}`,
    ...(joinWindowMs !== undefined ? { joinWindowMs } : {}),
  });
}
const signal = (over: Partial<Signal> & Pick<Signal, 'kind' | 'at'>): Signal => ({
  rule: 'bridge-crack',
  source: 'sensor',
  category: 'component:0208',
  device: 'brg-xh-01',
  asset: 'BR-XH-001',
  hold: 10 * MIN,
  autoClose: false,
  autoFile: false,
  ...over,
});

describe('correlation', () => {
  it('1 000 exceedances on one bridge make one case with 1 000 signals; a hotline report joins it', () => {
    const cor = correlator();
    const signals: CaseSignal[] = [];
    const ids = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const out = cor.onSignal(signal({ kind: 'raise', at: t0 + i * 1000, urgency: 'normal', value: 0.13 }));
      if (out) {
        signals.push(out.signal);
        ids.add(out.case.id);
      }
    }
    expect([...ids]).toEqual(['case-1']);
    expect(signals).toHaveLength(1000);
    const c = cor.get('case-1');
    expect(c).toMatchObject({
      category: 'component:0208',
      source: 'sensor',
      asset: 'BR-XH-001',
      district: 'xihu',
      grid: '330106001002',
      unit: 'city-bridge-tunnel',
      repeatCount: 999,
      state: 'reported',
    });
    // A citizen calls 12319 about the same bridge, by a point in its grid cell.
    const report = cor.onReport({
      category: 'component:0208',
      source: 'hotline',
      at: t0 + 2 * HOUR,
      text: '西湖大桥桥面有裂缝',
      point: [120.14, 30.27],
      reporter: '138****0000',
    });
    expect(report).toMatchObject({ effect: 'joined', case: { id: 'case-1', repeatCount: 1000 } });
    expect(report.signal).toMatchObject({ kind: 'report', source: 'hotline', text: '西湖大桥桥面有裂缝' });
    expect(cor.openCases()).toHaveLength(1);
  });

  it('a worse signal raises the urgency (history records the escalation); another category opens its own case', () => {
    const cor = correlator();
    cor.onSignal(signal({ kind: 'raise', at: t0, urgency: 'normal' }));
    const worse = cor.onSignal(signal({ kind: 'worsen', at: t0 + MIN, urgency: 'critical', value: 0.21 }));
    expect(worse?.case.urgency).toBe('critical');
    expect(worse?.case.history.at(-1)).toMatchObject({ action: 'escalate', data: { from: 'normal', to: 'critical' } });
    // A lower one afterwards does not lower it.
    expect(cor.onSignal(signal({ kind: 'raise', at: t0 + 2 * MIN, urgency: 'elevated' }))?.case.urgency).toBe(
      'critical',
    );
    const tunnel = cor.onSignal(signal({ kind: 'raise', at: t0, category: 'event:0406', rule: 'wl' }));
    expect(tunnel).toMatchObject({
      effect: 'opened',
      case: { id: 'case-2', category: 'event:0406', unit: 'beishan-street' },
    });
  });

  it('a sensor case near an open hotline case of the same category joins it, within the window only', () => {
    const cor = correlator(HOUR);
    const hotline = cor.onReport({
      category: 'event:0406',
      source: 'hotline',
      at: t0,
      text: '北山街下立交积水',
      point: [120.1, 30.27],
    });
    expect(hotline).toMatchObject({
      effect: 'opened',
      case: { source: 'hotline', grid: '330106001001', unit: 'beishan-street' },
    });
    const joined = cor.onSignal(
      signal({
        kind: 'raise',
        at: t0 + 30 * MIN,
        category: 'event:0406',
        rule: 'wl',
        asset: 'UP-XH-001',
        grid: '330106001001',
      }),
    );
    expect(joined).toMatchObject({ effect: 'joined', case: { id: hotline.case.id, repeatCount: 1 } });
    // Another grid cell: a case of its own.
    const elsewhere = cor.onSignal(
      signal({ kind: 'raise', at: t0 + 31 * MIN, category: 'event:0406', rule: 'wl', asset: 'UP-XH-002' }),
    );
    expect(elsewhere?.effect).toBe('opened');
    // Same cell as the hotline case but long after its last signal: a case of its own too.
    const late = correlator(HOUR);
    late.onReport({ category: 'event:0406', source: 'inspector', at: t0, text: '积水', point: [120.1, 30.27] });
    expect(
      late.onSignal(
        signal({ kind: 'raise', at: t0 + 3 * HOUR, category: 'event:0406', rule: 'wl', asset: 'UP-XH-001' }),
      )?.effect,
    ).toBe('opened');
  });

  it('back to normal for the hold time marks the case; the system verifies once handled, a person closes it', () => {
    const cor = correlator();
    const opened = cor.onSignal(
      signal({ kind: 'raise', at: t0, category: 'event:0406', rule: 'wl', asset: 'UP-XH-001', autoFile: true }),
    );
    expect(opened?.case.state).toBe('filed');
    expect(opened?.case.deadlines.dispatch?.dueAt).toBe(t0 + 15 * MIN);
    cor.onSignal(signal({ kind: 'normal', at: t0 + 20 * MIN, category: 'event:0406', rule: 'wl', asset: 'UP-XH-001' }));
    // a new raise within the hold restarts it
    cor.onSignal(signal({ kind: 'raise', at: t0 + 25 * MIN, category: 'event:0406', rule: 'wl', asset: 'UP-XH-001' }));
    expect(cor.tick(t0 + 40 * MIN)).toEqual([]);
    cor.onSignal(signal({ kind: 'normal', at: t0 + 41 * MIN, category: 'event:0406', rule: 'wl', asset: 'UP-XH-001' }));
    expect(cor.tick(t0 + 50 * MIN)).toEqual([]);
    const marked = cor.tick(t0 + 51 * MIN);
    expect(marked.map((c) => [c.state, c.normalConfirmedAt, c.history.at(-1)?.action])).toEqual([
      ['filed', t0 + 51 * MIN, 'mark_normal'],
    ]);
    // The unit handles it; on the next tick the system moves it to verification, and it stays there for a person.
    let c = cor.get(opened?.case.id as string) as CaseRecord;
    for (const action of ['dispatch', 'start', 'report_handled'] as const) {
      c = transition(
        c,
        { action, actor: action === 'dispatch' ? { id: 'c', role: 'district_commander' } : handler, at: t0 + 60 * MIN },
        ctx,
      );
    }
    cor.track(c);
    expect(cor.tick(t0 + 61 * MIN).map((x) => x.state)).toEqual(['verifying']);
    expect(cor.tick(t0 + 62 * MIN)).toEqual([]);
  });

  it('auto-close when the rule says so; a closed case leaves the index and a new raise opens a new case', () => {
    const cor = correlator();
    const s = { category: 'event:0406' as const, rule: 'wl', asset: 'UP-XH-001', autoClose: true, autoFile: true };
    const first = cor.onSignal(signal({ kind: 'raise', at: t0, ...s }));
    let c = first?.case as CaseRecord;
    for (const action of ['dispatch', 'start', 'report_handled'] as const) {
      c = transition(
        c,
        { action, actor: action === 'dispatch' ? { id: 'c', role: 'district_commander' } : handler, at: t0 + MIN },
        ctx,
      );
    }
    cor.track(c);
    cor.onSignal(signal({ kind: 'normal', at: t0 + 2 * MIN, ...s }));
    const closed = cor.tick(t0 + 12 * MIN);
    expect(closed.map((x) => [x.state, x.history.slice(-3).map((h) => `${h.action} by ${h.actor.role}`)])).toEqual([
      ['closed', ['mark_normal by system', 'verify by system', 'pass by system']],
    ]);
    expect(cor.openCases()).toEqual([]);
    expect(cor.onSignal(signal({ kind: 'raise', at: t0 + HOUR, ...s }))).toMatchObject({
      effect: 'opened',
      case: { id: 'case-2' },
    });
  });

  it('a signal about a whole grid cell (k of n per cell) goes to the cell’s territorial unit', () => {
    const out = correlator().onSignal(
      signal({ kind: 'raise', at: t0, category: 'event:0406', rule: 'cell', asset: undefined, grid: '330106001001' }),
    );
    expect(out?.case).toMatchObject({ grid: '330106001001', district: 'xihu', unit: 'beishan-street' });
    expect(out?.case.asset).toBeUndefined();
  });

  it('a normal signal without an open case is dropped', () => {
    expect(correlator().onSignal(signal({ kind: 'normal', at: t0 }))).toBeUndefined();
  });
});
