import { describe, expect, it } from 'vitest';
import { workCalendarSchema } from '../../../config/schema/calendar.js';
import { parseTimeLimit, type TimeLimit } from '../../../config/schema/catalogue.js';
import { createWorkCalendar } from '../../../hub/src/cases/calendar.js';
import { CalendarError } from '../../../hub/src/cases/errors.js';

const cal = createWorkCalendar(
  workCalendarSchema.parse({
    holidays: ['2026-10-01', '2026-10-02', '2026-10-05', '2026-10-06', '2026-10-07'],
    workdays: ['2026-10-10'],
  }),
  'Asia/Shanghai',
);
/** Local Shanghai time "YYYY-MM-DD HH:MM" as an instant (UTC+8, no DST). */
const sh = (t: string) => Date.parse(`${t.replace(' ', 'T')}:00+08:00`);
const lim = (s: string) => parseTimeLimit(s, cal.workDayMs) as TimeLimit;

describe('working calendar (Asia/Shanghai, 08:30–12:00, 13:30–17:30, Mon–Fri)', () => {
  it('has a 7.5 h working day', () => expect(cal.workDayMs).toBe(7.5 * 3_600_000));

  const table: [string, string, string, string][] = [
    ['Friday 17:00 + 1 work hour -> Monday 09:00', '2026-11-20 17:00', '1wh', '2026-11-23 09:00'],
    ['across the lunch break', '2026-11-24 11:30', '1wh', '2026-11-24 14:00'],
    ['start inside the lunch break', '2026-11-24 12:30', '1wh', '2026-11-24 14:30'],
    ['start before work', '2026-11-24 07:00', '1wh', '2026-11-24 09:30'],
    ['start after work', '2026-11-25 18:00', '1wh', '2026-11-26 09:30'],
    ['ends exactly at noon, not after lunch', '2026-11-24 11:00', '1wh', '2026-11-24 12:00'],
    ['start on a Saturday', '2026-11-21 10:00', '30wm', '2026-11-23 09:00'],
    ['2 work days', '2026-11-23 10:00', '2wd', '2026-11-25 10:00'],
    ['National Day holidays and the weekend between', '2026-09-30 17:00', '1wh', '2026-10-08 09:00'],
    ['make-up workday on a Saturday', '2026-10-09 17:00', '1wh', '2026-10-10 09:00'],
    ['natural time ignores the calendar', '2026-11-20 17:00', '4h', '2026-11-20 21:00'],
    ['natural days', '2026-09-30 17:00', '1d', '2026-10-01 17:00'],
    ['immediately', '2026-11-21 03:00', '0m', '2026-11-21 03:00'],
    ['zero work time outside hours is still now', '2026-11-21 03:00', '0wh', '2026-11-21 03:00'],
  ];
  it.each(table)('%s', (_name, from, limit, due) => {
    expect(new Date(cal.add(sh(from), lim(limit))).toISOString()).toBe(new Date(sh(due)).toISOString());
  });

  it('measures work time between two instants (remaining time of a deadline), negative when past', () => {
    expect(cal.between(sh('2026-11-20 17:00'), sh('2026-11-23 09:00'), 'work')).toBe(3_600_000);
    expect(cal.between(sh('2026-11-23 09:00'), sh('2026-11-20 17:00'), 'work')).toBe(-3_600_000);
    expect(cal.between(sh('2026-11-20 17:00'), sh('2026-11-23 09:00'), 'natural')).toBe(64 * 3_600_000);
    expect(cal.between(sh('2026-11-24 12:10'), sh('2026-11-24 13:20'), 'work')).toBe(0);
    // add and between agree
    const from = sh('2026-11-19 16:10');
    expect(cal.between(from, cal.add(from, lim('5wh')), 'work')).toBe(5 * 3_600_000);
  });

  it('knows working days', () => {
    expect(cal.isWorkday(sh('2026-10-10 12:00'))).toBe(true);
    expect(cal.isWorkday(sh('2026-10-01 12:00'))).toBe(false);
    expect(cal.isWorkday(sh('2026-11-22 12:00'))).toBe(false);
    // 2026-11-22 23:30 local is still Sunday although it is Monday nowhere yet in UTC terms
    expect(cal.isWorkday(sh('2026-11-23 00:30'))).toBe(true);
  });

  it('keeps local working hours across a daylight-saving change (Europe/Berlin)', () => {
    const berlin = createWorkCalendar(workCalendarSchema.parse({}), 'Europe/Berlin');
    // Friday 27 March 2026 17:00 CET (+1); DST starts Sunday 29 March; Monday 09:00 is CEST (+2).
    expect(new Date(berlin.add(Date.parse('2026-03-27T17:00:00+01:00'), lim('1wh'))).toISOString()).toBe(
      '2026-03-30T07:00:00.000Z',
    );
  });

  it('refuses a calendar without working days with a typed error', () => {
    const never = createWorkCalendar(workCalendarSchema.parse({ weekdays: [] }), 'Asia/Shanghai');
    expect(() => never.add(sh('2026-11-20 10:00'), lim('1wh'))).toThrow(CalendarError);
  });

  it('the schema refuses periods that end before they start or overlap', () => {
    const r = workCalendarSchema.safeParse({
      periods: [
        ['09:00', '08:00'],
        ['07:00', '12:00'],
      ],
      holidays: ['2026-10-10'],
      workdays: ['2026-10-10'],
    });
    expect(r.error?.issues.map((i) => i.message)).toEqual([
      'period 09:00–08:00 ends before it starts',
      'period 07:00–12:00 overlaps or precedes the one before',
      '2026-10-10 is listed as a holiday too',
    ]);
  });
});
