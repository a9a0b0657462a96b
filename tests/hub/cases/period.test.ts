import { describe, expect, it } from 'vitest';
import { localPeriod } from '../../../hub/src/cases/period.js';
import { sh } from './fixtures.js';

describe('localPeriod (evaluation periods in the city time zone)', () => {
  it.each([
    ['2026', '2026-01-01 00:00', '2027-01-01 00:00'],
    ['2026-11', '2026-11-01 00:00', '2026-12-01 00:00'],
    ['2026-12', '2026-12-01 00:00', '2027-01-01 00:00'],
    ['2026-11-24', '2026-11-24 00:00', '2026-11-25 00:00'],
  ])('%s is [%s, %s) Shanghai time', (period, from, to) => {
    expect(localPeriod(period, 'Asia/Shanghai')).toEqual({ from: sh(from), to: sh(to) });
  });

  it('today and month are those of the given instant, local time (00:30 Shanghai is the previous UTC day)', () => {
    const at = sh('2026-11-24 00:30');
    expect(localPeriod('today', 'Asia/Shanghai', at)).toEqual({
      from: sh('2026-11-24 00:00'),
      to: sh('2026-11-25 00:00'),
    });
    expect(localPeriod('month', 'Asia/Shanghai', at)).toEqual({
      from: sh('2026-11-01 00:00'),
      to: sh('2026-12-01 00:00'),
    });
  });

  it('a day with a daylight-saving change is 23 h long where the zone has one', () => {
    const p = localPeriod('2026-03-29', 'Europe/Berlin');
    expect(p).toEqual({ from: Date.parse('2026-03-29T00:00:00+01:00'), to: Date.parse('2026-03-30T00:00:00+02:00') });
  });

  it('refuses anything else', () => {
    for (const bad of ['last-week', '2026-1', '26-11-24', ''])
      expect(localPeriod(bad, 'Asia/Shanghai')).toBeUndefined();
  });
});
