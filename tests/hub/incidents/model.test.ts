/** The incident lifecycle (incidents/model.ts): allowed switches, typed refusals, the history. */
import { describe, expect, it } from 'vitest';
import {
  checkScope,
  IncidentError,
  newIncident,
  scopeDistricts,
  sharedDistricts,
  switchIncident,
} from '../../../hub/src/incidents/model.js';

const sup = { id: 'sup-1', role: 'city_supervisor' };
const ALL = ['gongshu', 'xihu'];
const opened = () =>
  newIncident({
    id: 'INC-000001',
    type: 'flood',
    scope: { districts: ['xihu'] },
    level: 'IV',
    state: 'open',
    by: sup,
    at: 1000,
    reason: '暴雨蓝色预警',
  });
const proposed = () => ({ ...opened(), state: 'proposed' as const, history: [] });

function refusal(fn: () => unknown): IncidentError {
  try {
    fn();
  } catch (err) {
    if (err instanceof IncidentError) return err;
    throw err;
  }
  throw new Error('not refused');
}

describe('incident lifecycle', () => {
  it('records open, level and close with who, when, why and the level', () => {
    let i = opened();
    i = switchIncident(i, { action: 'level', by: sup, at: 2000, reason: '橙色预警', level: 'II' });
    i = switchIncident(i, { action: 'close', by: sup, at: 3000, reason: '雨停' });
    expect(i).toMatchObject({ state: 'closed', level: 'II', openedAt: 1000, endedAt: 3000 });
    expect(i.history).toEqual([
      { seq: 1, action: 'open', by: 'sup-1', role: 'city_supervisor', at: 1000, reason: '暴雨蓝色预警', level: 'IV' },
      {
        seq: 2,
        action: 'level',
        by: 'sup-1',
        role: 'city_supervisor',
        at: 2000,
        reason: '橙色预警',
        level: 'II',
        from: 'IV',
      },
      { seq: 3, action: 'close', by: 'sup-1', role: 'city_supervisor', at: 3000, reason: '雨停', level: 'II' },
    ]);
  });

  it('a proposal is confirmed (open) or dismissed', () => {
    const p = newIncident({
      id: 'INC-2',
      type: 'snow',
      scope: { city: true },
      level: 'IV',
      state: 'proposed',
      by: { id: 'hub', role: 'system' },
      at: 5,
      reason: 'trigger',
    });
    expect(p).toMatchObject({ state: 'proposed', proposedAt: 5 });
    expect(switchIncident(p, { action: 'confirm', by: sup, at: 9, reason: 'ok' })).toMatchObject({
      state: 'open',
      openedAt: 9,
    });
    expect(switchIncident(p, { action: 'dismiss', by: sup, at: 9, reason: 'sensor fault' })).toMatchObject({
      state: 'dismissed',
      endedAt: 9,
    });
  });

  it('refuses switches from the wrong state, a missing reason, a level unchanged, with typed errors', () => {
    const i = opened();
    expect(refusal(() => switchIncident(i, { action: 'confirm', by: sup, at: 2, reason: 'x' }))).toMatchObject({
      reason: 'incident-refused',
      status: 409,
    });
    expect(refusal(() => switchIncident(i, { action: 'dismiss', by: sup, at: 2, reason: 'x' })).message).toMatch(
      /is open; "dismiss" needs it proposed/,
    );
    const closed = switchIncident(i, { action: 'close', by: sup, at: 2, reason: 'x' });
    expect(refusal(() => switchIncident(closed, { action: 'close', by: sup, at: 3, reason: 'x' })).reason).toBe(
      'incident-refused',
    );
    expect(
      refusal(() => switchIncident(closed, { action: 'level', by: sup, at: 3, reason: 'x', level: 'I' })).reason,
    ).toBe('incident-refused');
    expect(refusal(() => switchIncident(i, { action: 'close', by: sup, at: 2, reason: '  ' })).message).toMatch(
      /needs a reason/,
    );
    expect(
      refusal(() => switchIncident(i, { action: 'level', by: sup, at: 2, reason: 'x', level: 'IV' })).message,
    ).toMatch(/at level IV already/);
    expect(refusal(() => switchIncident(proposed(), { action: 'close', by: sup, at: 2, reason: 'x' })).reason).toBe(
      'incident-refused',
    );
  });

  it('checks scopes against the city and finds shared districts', () => {
    expect(checkScope({ districts: ['xihu', 'xihu'] }, ALL)).toEqual({ districts: ['xihu'] });
    expect(refusal(() => checkScope({ districts: ['binjiang'] }, ALL))).toMatchObject({
      reason: 'bad-scope',
      status: 400,
    });
    expect(scopeDistricts({ city: true }, ALL)).toEqual(ALL);
    expect(sharedDistricts({ city: true }, { districts: ['xihu'] }, ALL)).toEqual(['xihu']);
    expect(sharedDistricts({ districts: ['gongshu'] }, { districts: ['xihu'] }, ALL)).toEqual([]);
  });
});
