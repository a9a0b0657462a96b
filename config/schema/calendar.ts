/**
 * The working calendar deadlines in work time (工作时) are counted on: working periods of a day,
 * working weekdays, and the State Council's holiday and make-up workday (调休) tables, in the city's
 * time zone. Lives in the city config as `workCalendar`.
 */
import { z } from 'zod';

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

export const minutesOfDay = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

const period = z
  .tuple([
    z.string().regex(HHMM, 'a time of day "HH:MM"').describe('Start, local time "HH:MM".'),
    z.string().regex(HHMM, 'a time of day "HH:MM"').describe('End, local time "HH:MM".'),
  ])
  .describe('A working period [start, end] of a working day, local time.');

export const workCalendarSchema = z
  .object({
    periods: z
      .array(period)
      .min(1)
      .default([
        ['08:30', '12:00'],
        ['13:30', '17:30'],
      ])
      .describe('Working periods of a working day, in order, not overlapping. Default 08:30–12:00 and 13:30–17:30.'),
    weekdays: z
      .array(z.number().int().min(1).max(7))
      .default([1, 2, 3, 4, 5])
      .describe('Working days of the week, ISO numbering (1 Monday … 7 Sunday). Default Monday to Friday.'),
    holidays: z
      .array(z.string().regex(DATE, 'a date "YYYY-MM-DD"'))
      .default([])
      .describe('Dates off although they fall on a working weekday (法定节假日), "YYYY-MM-DD". Default none.'),
    workdays: z
      .array(z.string().regex(DATE, 'a date "YYYY-MM-DD"'))
      .default([])
      .describe('Make-up working days (调休上班) that fall on a weekend, "YYYY-MM-DD". Default none.'),
  })
  .strict()
  .superRefine((cal, ctx) => {
    let last = -1;
    cal.periods.forEach(([a, b], i) => {
      const start = minutesOfDay(a);
      const end = minutesOfDay(b);
      if (end <= start)
        ctx.addIssue({ code: 'custom', path: ['periods', i], message: `period ${a}–${b} ends before it starts` });
      if (start < last)
        ctx.addIssue({
          code: 'custom',
          path: ['periods', i],
          message: `period ${a}–${b} overlaps or precedes the one before`,
        });
      last = end;
    });
    const off = new Set(cal.holidays);
    cal.workdays.forEach((d, i) => {
      if (off.has(d))
        ctx.addIssue({ code: 'custom', path: ['workdays', i], message: `${d} is listed as a holiday too` });
    });
  });

export type WorkCalendarConfig = z.output<typeof workCalendarSchema>;
