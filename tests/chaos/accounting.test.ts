/**
 * The chaos test's books: RMC times from a raw receiver stream (the simulator's own encoder), and
 * the per-device verdict on losses, duplicates and holes inside and outside dead windows.
 */
import { describe, expect, it } from 'vitest';
import { encodeGga, encodeRmc, type SimFix } from '../../simulators/gps/nmea-encoder.js';
import { balanced, deviceBooks, rmcTimes } from './accounting.js';

const T0 = Date.UTC(2024, 2, 15, 8, 30, 45, 200);

function fix(time: number, valid = true): SimFix {
  return {
    time,
    lat: 30.25,
    lon: 120.1,
    speedKmh: 20,
    courseDeg: 90,
    altitudeM: 10,
    geoidSeparationM: 7,
    satellites: 12,
    hdop: 0.8,
    valid,
  };
}

describe('rmcTimes', () => {
  it('reads the time of every valid RMC, across noise and split writes, and skips void fixes', () => {
    const raw = [
      encodeRmc(fix(T0)),
      encodeGga(fix(T0)),
      '\x00garbage',
      encodeRmc(fix(T0 + 200, false)),
      encodeRmc(fix(T0 + 400)),
      encodeGga(fix(T0 + 400)),
      encodeRmc(fix(T0 + 86_400_000)),
    ].join('');
    expect(rmcTimes(raw)).toEqual([T0, T0 + 400, T0 + 86_400_000]);
  });
});

describe('deviceBooks', () => {
  const emitted = Array.from({ length: 20 }, (_, i) => T0 + i * 200);
  const base = { gateway: 'gw', device: 'GP', emitted, deadWindows: [], eventsProduced: 0, eventsStored: 0 };
  const taken = { n: 20, minTs: emitted[0] as number, maxTs: emitted[19] as number };

  it('balances when every taken reading is stored once', () => {
    const b = deviceBooks({ ...base, taken, stored: emitted });
    expect(b).toMatchObject({ produced: 20, stored: 20, lost: 0, duplicated: 0, increasing: true, endsMatch: true });
    expect(balanced(b)).toBe(true);
  });

  it('counts a lost reading and the hole it leaves', () => {
    const stored = emitted.filter((_, i) => i !== 7 && i !== 8);
    const b = deviceBooks({ ...base, taken, stored });
    expect(b.lost).toBe(2);
    expect(b.holesOutsideDead).toEqual([{ from: emitted[7], to: emitted[8], missing: 2 }]);
    expect(balanced(b)).toBe(false);
  });

  it('accepts a hole inside a dead window, when the edge never took those epochs', () => {
    const stored = emitted.filter((_, i) => i < 5 || i > 9);
    const b = deviceBooks({
      ...base,
      taken: { ...taken, n: stored.length },
      stored,
      deadWindows: [[(emitted[5] as number) - 50, (emitted[9] as number) + 50]],
    });
    expect(b).toMatchObject({ lost: 0, missingWhileDead: 5, holesOutsideDead: [] });
    expect(balanced(b)).toBe(true);
  });

  it('sees a duplicate, a changed timestamp and a stored series that does not increase', () => {
    const stored = [...emitted, (emitted[19] as number) + 1];
    const dup = deviceBooks({ ...base, taken, stored });
    expect(dup).toMatchObject({ duplicated: 1, unknownTs: 1, endsMatch: false });
    expect(balanced(dup)).toBe(false);
    const twice = deviceBooks({
      ...base,
      taken,
      stored: [...emitted.slice(0, 10), emitted[9] as number, ...emitted.slice(10)],
    });
    expect(twice.increasing).toBe(false);
    expect(balanced(twice)).toBe(false);
  });

  it('expects one point for two epochs the device stamped with one time', () => {
    const repeated = [...emitted.slice(0, 8), emitted[7] as number, ...emitted.slice(8)];
    const b = deviceBooks({ ...base, emitted: repeated, taken: { ...taken, n: 21 }, stored: emitted });
    expect(b).toMatchObject({ produced: 21, sameTs: 1, stored: 20, lost: 0, duplicated: 0 });
    expect(balanced(b)).toBe(true);
    // Without the repeat in the receiver's output, the 21st taken reading is lost.
    expect(deviceBooks({ ...base, taken: { ...taken, n: 21 }, stored: emitted }).lost).toBe(1);
  });

  it('fails on events taken and not stored', () => {
    expect(balanced(deviceBooks({ ...base, taken, stored: emitted, eventsProduced: 2, eventsStored: 1 }))).toBe(false);
  });
});
