import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCatalogue, loadRules } from '../../../hub/src/cases/catalogue.js';
import { TransitionRefusedError, UnknownCaseError } from '../../../hub/src/cases/errors.js';
import type { Observation } from '../../../hub/src/cases/rules.js';
import { openCaseService } from '../../../hub/src/cases/service.js';
import { CITY_FILE, catalogue, city, commander, HOUR, handler, MIN, sh } from './fixtures.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'cg-case-service-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const opts = {
  city,
  catalogue: loadCatalogue(CITY_FILE, city.catalogue),
  rules: loadRules(CITY_FILE, city.rules, catalogue),
  dataDir: dir,
};
const t0 = sh('2026-11-24 10:00');
const gauge = (min: number, cm: number, device = 'fl-up-xh-001-a'): Observation => ({
  device,
  kind: 'flood',
  ts: t0 + min * MIN,
  fields: { water_level_cm: cm },
  asset: 'UP-XH-001',
  assetKind: 'underpass',
  grid: '330106001001',
});

describe('case service (the example city’s rules, catalogue and units, on cases.db)', () => {
  it('raises, files, dispatches, marks overdue, survives a restart and keeps joining the same case', () => {
    const svc = openCaseService(opts);
    // 道路积水 rule: 15 cm held 1 min, auto-filed.
    expect(svc.onReadings([gauge(0, 5), gauge(1, 16)])).toEqual([]);
    const [opened] = svc.onReadings([gauge(2, 16)]);
    expect(opened?.effect).toBe('opened');
    expect(opened?.case).toMatchObject({
      id: 'CG-000001',
      category: 'event:0406',
      state: 'filed',
      urgency: 'urgent',
      unit: 'beishan-street',
      grid: '330106001001',
    });
    expect(opened?.case.deadlines.dispatch?.dueAt).toBe(t0 + 17 * MIN);

    expect(() => svc.apply('CG-000001', { action: 'dispatch', actor: handler, at: t0 + 5 * MIN })).toThrow(
      TransitionRefusedError,
    );
    expect(() => svc.apply('CG-999999', { action: 'dispatch', actor: commander, at: t0 })).toThrow(UnknownCaseError);
    const dispatched = svc.apply('CG-000001', { action: 'dispatch', actor: commander, at: t0 + 5 * MIN });
    const due = dispatched.deadlines.handle?.dueAt as number;
    expect(due).toBe(t0 + 5 * MIN + 4 * HOUR);
    // The gauge has been silent since minute 2: the staleness rule (15 min) opens a case of its own
    // (component 0206 地下通道) at the first tick; the handling deadline is not past yet.
    expect(svc.tick(due).map((c) => [c.case.id, c.case.category, c.effect])).toEqual([
      ['CG-000002', 'component:0206', 'opened'],
    ]);
    expect(svc.tick(due + 1).map((c) => [c.case.id, c.effect])).toEqual([['CG-000001', 'mark_overdue']]);
    svc.close();

    const again = openCaseService(opts);
    try {
      expect(again.store.get('CG-000001')?.history.map((h) => h.action)).toEqual([
        'report',
        'accept',
        'file',
        'dispatch',
        'mark_overdue',
      ]);
      // Rule state came back: the gauge is still at level 1, so 30 cm is a worsening of the same case.
      const [worse] = again.onReadings([gauge(300, 30), gauge(301, 30)]).filter((c) => c.effect !== 'noted');
      expect(worse).toMatchObject({ effect: 'joined', case: { id: 'CG-000001', urgency: 'critical', repeatCount: 1 } });
      // A second gauge agrees (2 of n): joins too.
      expect(again.onReadings([gauge(302, 28, 'fl-up-xh-001-b')]).map((c) => [c.case.id, c.effect])).toEqual([
        ['CG-000001', 'joined'],
      ]);
      // A citizen calls about the same underpass.
      expect(
        again.report({
          category: 'event:0406',
          source: 'hotline',
          at: t0 + 303 * MIN,
          text: '下立交积水很深',
          asset: 'UP-XH-001',
        }),
      ).toMatchObject({ effect: 'joined', case: { id: 'CG-000001', repeatCount: 3 } });
      // Both gauges fall silent again: after 15 min the staleness signals join the open 0206 case.
      // (The 2-of-n window of the flood case ran out too: recorded on it, not counted.)
      expect(again.tick(t0 + 318 * MIN).map((c) => [c.case.id, c.effect])).toEqual([
        ['CG-000002', 'joined'],
        ['CG-000001', 'noted'],
        ['CG-000002', 'joined'],
      ]);
      expect(again.store.get('CG-000002')?.normalSince).toBeUndefined();
      // raise, worsen, 2-of-n raise, the hotline report, 2-of-n back to normal
      expect(again.store.signals('CG-000001').map((s) => `${s.kind} ${s.rule ?? s.source}`)).toEqual([
        'raise underpass-waterlogging',
        'worsen underpass-waterlogging',
        'raise underpass-gauges-agree',
        'report hotline',
        'normal underpass-gauges-agree',
      ]);
    } finally {
      again.close();
    }
  });
});

describe('case service rule profile', () => {
  const fresh = () => ({ ...opts, dataDir: mkdtempSync(path.join(dir, 'profile-')) });
  const opens = (effects: { effect: string }[]) => effects.some((c) => c.effect === 'opened');

  it('uses the profile’s values: 12 cm held 1 min opens a case under flood (10 cm), not under normal (15 cm)', () => {
    const svc = openCaseService(fresh());
    try {
      expect(opens(svc.onReadings([gauge(0, 12), gauge(1, 12), gauge(2, 12)]))).toBe(false);
      svc.setProfile('flood');
      expect(opens(svc.onReadings([gauge(3, 12), gauge(4, 12), gauge(5, 12)]))).toBe(true);
    } finally {
      svc.close();
    }
  });

  it('starts with the last profile recorded in cases.db', () => {
    const o = fresh();
    const svc = openCaseService(o);
    expect(opens(svc.onReadings([gauge(0, 12), gauge(1, 12), gauge(2, 12)]))).toBe(false);
    svc.store.saveProfile({ profile: 'flood', actor: 'duty-1', note: '暴雨红色预警', at: t0 });
    svc.close();
    const again = openCaseService(o);
    try {
      expect(opens(again.onReadings([gauge(3, 12), gauge(4, 12), gauge(5, 12)]))).toBe(true);
    } finally {
      again.close();
    }
  });
});
