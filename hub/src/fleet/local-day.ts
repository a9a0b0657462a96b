/**
 * Local days and times of day in the city time zone, for daily assignments ("by 09:00") and
 * "coverage today". Pure; cached per zone because it runs for every driven stretch.
 */
import { localPeriod, offsetOf, type Period } from '../cases/period.js';

export class LocalDays {
  private readonly fmt: Intl.DateTimeFormat;
  private cached: (Period & { key: string }) | undefined;

  constructor(readonly timeZone: string) {
    this.fmt = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
  }

  /** The local day of an instant, "YYYY-MM-DD". */
  key(ts: number): string {
    const c = this.cached;
    if (c && ts >= c.from && ts < c.to) return c.key;
    const key = this.fmt.format(ts);
    const period = localPeriod(key, this.timeZone) as Period;
    this.cached = { ...period, key };
    return key;
  }

  /** [from, to) of a local day. */
  period(day: string): Period {
    return localPeriod(day, this.timeZone) as Period;
  }

  /**
   * The instant of a local time of day ("HH:MM") on a local day. Exact also on a day whose
   * offset changes (DST), except for wall times the change skips or repeats.
   */
  at(day: string, hhmm: string): number {
    const start = this.period(day).from;
    const [h, m] = hhmm.split(':').map(Number) as [number, number];
    const guess = start + (h * 60 + m) * 60_000;
    // Correct by the offset change between midnight and the guess, if any.
    const drift = this.offsetMinutes(guess) - this.offsetMinutes(start);
    return guess - drift * 60_000;
  }

  private offsetMinutes(at: number): number {
    return Math.round(offsetOf(at, this.timeZone) / 60_000);
  }
}
