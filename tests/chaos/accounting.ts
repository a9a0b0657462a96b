/**
 * The chaos test's books, per (gateway, device):
 *
 * - emitted: the epochs the simulated receiver wrote (valid RMC times from socat's raw dump of the
 *   simulator -> gateway direction): what the device said, whether or not an edge was alive.
 * - produced: what the edge *took* (its outbox's durable taken ledger). Readings a device emitted
 *   while its edge was dead were taken by nobody and do not count as produced.
 * - stored: the device's points in InfluxDB.
 *
 * The simulator can stamp two epochs with one time (a late timer tick, then one on time, both
 * floor to the same period). Both are taken, but InfluxDB keeps one point per series and time, so
 * such repeats are counted apart (sameTs: repeats the device emitted while its edge was alive) and
 * expected = produced - sameTs.
 *
 * lost = expected - stored, duplicated = stored - expected (each when positive). A hole is a run
 * of emitted epochs missing from the store; holes that overlap a window in which the device's edge
 * process was dead are expected, any other is a failure (a reading the edge should have taken).
 */

export interface TakenCount {
  n: number;
  minTs: number;
  maxTs: number;
}

export interface Hole {
  /** First and last missing epoch (ms). */
  from: number;
  to: number;
  missing: number;
}

export interface DeviceBooks {
  gateway: string;
  device: string;
  emitted: number;
  produced: number;
  /** Epochs emitted with the time of the epoch before them, while the edge was alive. */
  sameTs: number;
  stored: number;
  lost: number;
  duplicated: number;
  /** Stored times strictly increasing (also: no two points at one time). */
  increasing: boolean;
  /** Stored times that match no emitted epoch (a changed or invented timestamp). */
  unknownTs: number;
  /** The taken ledger's first and last ts equal the stored series' ends. */
  endsMatch: boolean;
  /** Missing epochs inside the edge's dead windows (never taken: expected). */
  missingWhileDead: number;
  holesOutsideDead: Hole[];
  eventsProduced: number;
  eventsStored: number;
}

const RMC = /\$[A-Z]{2}RMC,(\d{2})(\d{2})(\d{2})(?:\.(\d+))?,A,[^\r\n*]*?,(\d{2})(\d{2})(\d{2}),[^\r\n]*\*[0-9A-F]{2}/g;

/** Times (ms since the epoch) of the valid RMC sentences in a raw NMEA byte stream, in order. */
export function rmcTimes(raw: string): number[] {
  const out: number[] = [];
  for (const m of raw.matchAll(RMC)) {
    const [, hh, mi, ss, frac, dd, mo, yy] = m;
    const ms = frac ? Math.round(Number(`0.${frac}`) * 1000) : 0;
    out.push(Date.UTC(2000 + Number(yy), Number(mo) - 1, Number(dd), Number(hh), Number(mi), Number(ss), ms));
  }
  return out;
}

export function overlaps(from: number, to: number, windows: readonly (readonly [number, number])[]): boolean {
  return windows.some(([a, b]) => from <= b && to >= a);
}

export function deviceBooks(input: {
  gateway: string;
  device: string;
  emitted: readonly number[];
  taken: TakenCount | undefined;
  stored: readonly number[];
  deadWindows: readonly (readonly [number, number])[];
  eventsProduced: number;
  eventsStored: number;
}): DeviceBooks {
  const { emitted, stored, taken, deadWindows } = input;
  const produced = taken?.n ?? 0;
  const storedSet = new Set(stored);
  const emittedSet = new Set(emitted);
  let increasing = true;
  for (let i = 1; i < stored.length; i++) if ((stored[i] as number) <= (stored[i - 1] as number)) increasing = false;

  const holes: Hole[] = [];
  let run: Hole | undefined;
  const close = () => {
    if (run) holes.push(run);
    run = undefined;
  };
  // Only between the first and last epoch the edge took: before it, nothing was running; after it, the run ended.
  const from = taken?.minTs ?? Number.POSITIVE_INFINITY;
  const to = taken?.maxTs ?? Number.NEGATIVE_INFINITY;
  for (const t of emitted) {
    if (t < from || t > to) continue;
    if (storedSet.has(t)) close();
    else if (run) {
      run.to = t;
      run.missing++;
    } else run = { from: t, to: t, missing: 1 };
  }
  close();
  let sameTs = 0;
  for (let i = 1; i < emitted.length; i++) {
    const t = emitted[i] as number;
    if (t === emitted[i - 1] && t >= from && t <= to && !overlaps(t, t, deadWindows)) sameTs++;
  }
  const expected = produced - sameTs;
  let missingWhileDead = 0;
  const holesOutsideDead: Hole[] = [];
  for (const h of holes) {
    if (overlaps(h.from, h.to, deadWindows)) missingWhileDead += h.missing;
    else holesOutsideDead.push(h);
  }
  return {
    gateway: input.gateway,
    device: input.device,
    emitted: emitted.length,
    produced,
    sameTs,
    stored: stored.length,
    lost: Math.max(0, expected - stored.length),
    duplicated: Math.max(0, stored.length - expected),
    increasing,
    unknownTs: stored.filter((t) => !emittedSet.has(t)).length,
    endsMatch: taken !== undefined && stored[0] === taken.minTs && stored.at(-1) === taken.maxTs,
    missingWhileDead,
    holesOutsideDead,
    eventsProduced: input.eventsProduced,
    eventsStored: input.eventsStored,
  };
}

/** True when the books of one device show no loss, no duplicate, no hole outside a dead window. */
export function balanced(b: DeviceBooks): boolean {
  return (
    b.lost === 0 &&
    b.duplicated === 0 &&
    b.increasing &&
    b.unknownTs === 0 &&
    b.endsMatch &&
    b.holesOutsideDead.length === 0 &&
    b.eventsProduced === b.eventsStored
  );
}
