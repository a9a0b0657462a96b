/**
 * Evaluation periods in the city's time zone: a year, month or day as [from, to) instants. Pure;
 * "today" and "month" take the instant they are relative to.
 */

export interface Period {
  from: number;
  to: number;
}

const DAY = 86_400_000;

/**
 * `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, or `today` / `month` (the local day or month of `now`) as instants
 * of local midnight in `timeZone`; undefined when the text is none of these.
 */
export function localPeriod(period: string, timeZone: string, now = Date.now()): Period | undefined {
  if (period === 'today' || period === 'month') {
    const local = new Date(now + offsetOf(now, timeZone));
    const y = local.getUTCFullYear();
    const m = local.getUTCMonth();
    const start = period === 'today' ? Date.UTC(y, m, local.getUTCDate()) : Date.UTC(y, m, 1);
    const end = period === 'today' ? start + DAY : Date.UTC(y, m + 1, 1);
    return { from: localToInstant(start, timeZone), to: localToInstant(end, timeZone) };
  }
  const match = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/.exec(period);
  if (!match) return undefined;
  const y = Number(match[1]);
  const mo = match[2] ? Number(match[2]) - 1 : 0;
  const d = match[3] ? Number(match[3]) : 1;
  const start = Date.UTC(y, mo, d);
  const end = match[3] ? Date.UTC(y, mo, d + 1) : match[2] ? Date.UTC(y, mo + 1, 1) : Date.UTC(y + 1, 0, 1);
  return { from: localToInstant(start, timeZone), to: localToInstant(end, timeZone) };
}

const formats = new Map<string, Intl.DateTimeFormat>();

/** The zone's offset from UTC at an instant, ms. */
export function offsetOf(at: number, timeZone: string): number {
  let fmt = formats.get(timeZone);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formats.set(timeZone, fmt);
  }
  const p: Record<string, number> = {};
  for (const part of fmt.formatToParts(at)) if (part.type !== 'literal') p[part.type] = Number(part.value);
  const wall = Date.UTC(p.year as number, (p.month as number) - 1, p.day, p.hour, p.minute, p.second);
  return wall - Math.floor(at / 1000) * 1000;
}

/** The instant of a local wall time given as if it were UTC. */
function localToInstant(wall: number, timeZone: string): number {
  const guess = wall - offsetOf(wall, timeZone);
  return wall - offsetOf(guess, timeZone);
}
