/**
 * Deadlines in work time (工作时) on a working calendar, or in natural time, in the city's time zone.
 * Pure: every function takes the instant it works from; nothing reads a clock.
 *
 * Why wall-clock conversion through Intl and not a fixed +8 h: the calendar takes any IANA zone,
 * and a zone with daylight saving must still put 08:30 at 08:30 local on both sides of the change.
 */

import { minutesOfDay, type WorkCalendarConfig } from '../../../config/schema/calendar.js';
import type { TimeLimit } from '../../../config/schema/catalogue.js';
import { CalendarError } from './errors.js';

const DAY = 86_400_000;
/** A calendar with no working day in this many days is a configuration mistake, not a deadline. */
const HORIZON_DAYS = 800;

export interface WorkCalendar {
  /** The instant `limit` after `from`: natural time added as is, work time counted only in working periods. */
  add(from: number, limit: TimeLimit): number;
  /** Time in `basis` from `from` to `to`; negative when `to` is before `from`. */
  between(from: number, to: number, basis: TimeLimit['basis']): number;
  /** Whether the local date of the instant is a working day. */
  isWorkday(at: number): boolean;
  /** Length of one working day (sum of the periods), the unit of "wd" limits. */
  readonly workDayMs: number;
}

interface LocalDate {
  y: number;
  m: number;
  d: number;
}

export function createWorkCalendar(config: WorkCalendarConfig, timeZone: string): WorkCalendar {
  const fmt = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  /** Local wall time of an instant, expressed as if it were UTC (so its difference to `at` is the offset). */
  const wall = (at: number): number => {
    const p: Record<string, number> = {};
    for (const part of fmt.formatToParts(at)) if (part.type !== 'literal') p[part.type] = Number(part.value);
    return (
      Date.UTC(p.year as number, (p.month as number) - 1, p.day, p.hour, p.minute, p.second) +
      (((at % 1000) + 1000) % 1000)
    );
  };
  const localDate = (at: number): LocalDate => {
    const d = new Date(wall(at));
    return { y: d.getUTCFullYear(), m: d.getUTCMonth() + 1, d: d.getUTCDate() };
  };
  /** The instant of a local wall time (minutes after local midnight) on a local date. */
  const instant = (date: LocalDate, minutes: number): number => {
    const target = Date.UTC(date.y, date.m - 1, date.d) + minutes * 60_000;
    let guess = target - (wall(target) - target);
    guess += target - wall(guess);
    return guess;
  };
  const iso = (date: LocalDate) => `${date.y}-${String(date.m).padStart(2, '0')}-${String(date.d).padStart(2, '0')}`;
  const nextDate = (date: LocalDate): LocalDate => {
    const d = new Date(Date.UTC(date.y, date.m - 1, date.d) + DAY);
    return { y: d.getUTCFullYear(), m: d.getUTCMonth() + 1, d: d.getUTCDate() };
  };
  const holidays = new Set(config.holidays);
  const workdays = new Set(config.workdays);
  const weekdays = new Set(config.weekdays);
  const workdayOf = (date: LocalDate): boolean => {
    const key = iso(date);
    if (workdays.has(key)) return true;
    if (holidays.has(key)) return false;
    const dow = new Date(Date.UTC(date.y, date.m - 1, date.d)).getUTCDay() || 7;
    return weekdays.has(dow);
  };
  const periods = config.periods.map(([a, b]) => [minutesOfDay(a), minutesOfDay(b)] as const);
  const workDayMs = periods.reduce((sum, [a, b]) => sum + (b - a) * 60_000, 0);

  /** Working intervals [start, end) of the local day, as instants. */
  const intervals = (date: LocalDate): [number, number][] =>
    workdayOf(date) ? periods.map(([a, b]) => [instant(date, a), instant(date, b)]) : [];

  /** Calls `visit` with each working interval from the local day of `from` on, until it returns true. */
  const walk = (from: number, visit: (start: number, end: number) => boolean): void => {
    let date = localDate(from);
    for (let i = 0; i < HORIZON_DAYS; i++, date = nextDate(date)) {
      for (const [start, end] of intervals(date)) if (end > from && visit(Math.max(start, from), end)) return;
    }
    throw new CalendarError(`no working time within ${HORIZON_DAYS} days of ${new Date(from).toISOString()}`);
  };

  const workBetween = (from: number, to: number): number => {
    if (to <= from) return 0;
    let sum = 0;
    walk(from, (start, end) => {
      if (start >= to) return true;
      sum += Math.min(end, to) - start;
      return end >= to;
    });
    return sum;
  };

  return {
    workDayMs,
    isWorkday: (at) => workdayOf(localDate(at)),
    add(from, limit) {
      if (limit.basis === 'natural' || limit.ms <= 0) return from + Math.max(0, limit.ms);
      let left = limit.ms;
      let due = from;
      walk(from, (start, end) => {
        if (end - start >= left) {
          due = start + left;
          return true;
        }
        left -= end - start;
        return false;
      });
      return due;
    },
    between(from, to, basis) {
      if (basis === 'natural') return to - from;
      return to >= from ? workBetween(from, to) : -workBetween(to, from);
    },
  };
}
