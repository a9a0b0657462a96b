import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'libsql';
import { afterEach, describe, expect, it } from 'vitest';
import { ruleSchema } from '../../../config/schema/rules.js';
import { type CaseSignal, Correlator } from '../../../hub/src/cases/correlation.js';
import type { CaseRecord } from '../../../hub/src/cases/model.js';
import { createResponsibility } from '../../../hub/src/cases/responsibility.js';
import { createRuleEngine, type Signal } from '../../../hub/src/cases/rules.js';
import { type CaseStore, CaseStoreError, openCaseStore } from '../../../hub/src/cases/store.js';
import { findOverdue, transition } from '../../../hub/src/cases/workflow.js';
import { city, commander, ctx, MIN, sh, supervisor, tempCaseStores } from './fixtures.js';

const { tmpDir, open } = tempCaseStores('cg-cases-');
const t0 = sh('2026-11-24 10:00');
const rule = ruleSchema.parse({
  id: 'wl',
  type: 'threshold',
  category: 'event:0406',
  field: 'water_level_cm',
  levels: {
    normal: [
      { at: 15, urgency: 'urgent' },
      { at: 25, urgency: 'critical' },
    ],
  },
  hysteresis: 5,
  autoFile: true,
});

describe('case store (libsql in the hub data dir)', () => {
  it('keeps cases, history, signals, rule state and open deadlines across close and reopen', () => {
    const dir = tmpDir();
    const store = open(dir);
    const cor = new Correlator({ ctx, responsibility: createResponsibility(city), newId: () => store.nextId('CG') });
    const engine = createRuleEngine([rule]);
    // 1 000 readings of a gauge in an underpass, rising and falling across 15 cm: one case.
    const signals: CaseSignal[] = [];
    const changed = new Map<string, CaseRecord>();
    for (let i = 0; i < 1000; i++) {
      const reading = {
        device: 'fl-1',
        kind: 'flood',
        ts: t0 + i * 1000,
        fields: { water_level_cm: i % 2 ? 16 : 8 },
        asset: 'UP-XH-001',
      };
      for (const s of engine.onReading(reading)) {
        const out = cor.onSignal(s);
        if (out) {
          signals.push(out.signal);
          changed.set(out.case.id, out.case);
        }
      }
    }
    store.save({ cases: [...changed.values()], signals, ruleState: engine.changed() }, t0 + 1000_000);
    const [flood] = [...changed.values()];
    expect(flood?.id).toBe('CG-000001');
    // Dispatch it, and open a hotline case that gets suspended.
    const dispatched = transition(flood as CaseRecord, { action: 'dispatch', actor: commander, at: t0 + 5 * MIN }, ctx);
    cor.track(dispatched);
    const hotline = cor.onReport({
      category: 'component:0118',
      source: 'hotline',
      at: t0,
      text: '路灯不亮',
      point: [120.13, 30.27],
    });
    let light = transition(hotline.case, { action: 'accept', actor: supervisor, at: t0 + MIN }, ctx);
    light = transition(light, { action: 'file', actor: supervisor, at: t0 + MIN }, ctx);
    light = transition(light, { action: 'dispatch', actor: commander, at: t0 + 2 * MIN }, ctx);
    light = transition(light, { action: 'suspend', actor: supervisor, at: t0 + 3 * MIN, note: '道路施工' }, ctx);
    store.save({ cases: [dispatched, light], signals: [hotline.signal] }, t0 + 3 * MIN);
    store.close();

    const again = open(dir);
    expect(again.version).toBe(4);
    const loaded = again.openCases();
    // oldest report first: the hotline call came a second before the gauge's first exceedance
    expect(loaded).toEqual([light, dispatched]);
    const [lightBack, floodBack] = loaded as [CaseRecord, CaseRecord];
    // 500 exceedances and 499 returns to normal
    expect(again.signalCount('CG-000001')).toBe(999);
    expect(again.signals('CG-000001', { limit: 2 }).map((s) => [s.kind, s.value])).toEqual([
      ['raise', 16],
      ['normal', 8],
    ]);
    expect(again.get('CG-000001')?.repeatCount).toBe(499);
    // Open deadlines intact: the handling deadline of the flood case is still found overdue on time.
    const due = floodBack.deadlines.handle?.dueAt as number;
    expect(due).toBe(t0 + 5 * MIN + 4 * 3_600_000);
    expect(findOverdue(floodBack, due)).toEqual([]);
    expect(findOverdue(floodBack, due + 1)).toHaveLength(1);
    // The overdue clock's work list: only the flood case (the suspended one has no running clock).
    expect(again.dueBefore(due).map((c) => c.id)).toEqual([]);
    expect(again.dueBefore(due + 1).map((c) => c.id)).toEqual(['CG-000001']);
    expect(again.dueBefore(Date.parse('2030-01-01')).map((c) => c.id)).toEqual(['CG-000001']);
    expect(lightBack.state).toBe('suspended');
    expect(lightBack.deadlines.handle?.pausedRemaining).toBe(light.deadlines.handle?.pausedRemaining);
    expect(lightBack.deadlines.handle?.pausedRemaining).toBeGreaterThan(0);
    // Rule state and the case index survive: the next exceedance joins the same case.
    const engine2 = createRuleEngine([rule]);
    engine2.load(again.ruleState());
    const cor2 = new Correlator({ ctx, responsibility: createResponsibility(city), newId: () => again.nextId('CG') });
    for (const c of loaded) cor2.track(c);
    const s = engine2.onReading({
      device: 'fl-1',
      kind: 'flood',
      ts: t0 + 2_000_000,
      fields: { water_level_cm: 30 },
      asset: 'UP-XH-001',
    });
    expect(s.map((x) => x.kind)).toEqual(['worsen']);
    expect(cor2.onSignal(s[0] as Signal)).toMatchObject({
      effect: 'joined',
      case: { id: 'CG-000001', urgency: 'critical' },
    });
    // Ids are never reused.
    expect(again.nextId('CG')).toBe('CG-000003');
  });

  it('history is append-only: a rewritten entry is not stored over the recorded one', () => {
    const store = open(tmpDir());
    const hot = new Correlator({ ctx, responsibility: createResponsibility(city), newId: () => 'c1' }).onReport({
      category: 'event:0103',
      source: 'inspector',
      at: t0,
      text: '渣土',
      point: [120.1, 30.23],
    }).case;
    store.save({ cases: [hot] }, t0);
    const forged = {
      ...hot,
      history: [{ ...(hot.history[0] as CaseRecord['history'][number]), note: 'changed later' }],
    };
    const accepted = transition(forged, { action: 'accept', actor: supervisor, at: t0 + MIN }, ctx);
    store.save({ cases: [accepted] }, t0 + MIN);
    const back = store.get('c1');
    expect(back?.history.map((h) => [h.seq, h.action, h.note])).toEqual([
      [1, 'report', '渣土'],
      [2, 'accept', undefined],
    ]);
  });

  it('lists cases by state, unit, district and openness, newest first', () => {
    const store = open(tmpDir());
    let n = 0;
    const cor = new Correlator({ ctx, responsibility: createResponsibility(city), newId: () => `c${++n}` });
    const a = cor.onReport({
      category: 'event:0103',
      source: 'hotline',
      at: t0,
      text: 'a',
      point: [120.1, 30.23],
    }).case;
    const b = cor.onReport({
      category: 'event:0407',
      source: 'hotline',
      at: t0 + MIN,
      text: 'b',
      point: [120.2, 30.3],
    }).case;
    const c = transition(a, { action: 'reject', actor: supervisor, at: t0 + 2 * MIN }, ctx);
    store.save({ cases: [c, b] }, t0);
    expect(store.list().map((x) => x.id)).toEqual(['c2', 'c1']);
    expect(store.list({ open: true }).map((x) => x.id)).toEqual(['c2']);
    expect(store.list({ state: 'not_filed' }).map((x) => x.id)).toEqual(['c1']);
    expect(store.list({ district: 'gongshu' }).map((x) => [x.id, x.unit])).toEqual([['c2', 'gongshu-cgj']]);
    expect(store.list({ unit: 'xihu-cgj', open: false }).map((x) => x.id)).toEqual(['c1']);
    expect(store.list({ limit: 1, offset: 1 }).map((x) => x.id)).toEqual(['c1']);
  });

  it('refuses a database from a newer citygrid with a typed error', () => {
    const dir = tmpDir();
    open(dir).close();
    const raw = new Database(path.join(dir, 'cases.db'));
    raw.pragma('user_version = 99');
    raw.close();
    expect(() => openCaseStore(dir)).toThrow(CaseStoreError);
    expect(() => openCaseStore(dir)).toThrow(/schema version 99, newer than this citygrid knows \(4\)/);
  });
});
