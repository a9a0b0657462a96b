import { describe, expect, it } from 'vitest';
import { decodeNmea, splitNmea } from '../../../drivers/nmea-gps/codec.js';
import { DecodeError } from '../../../drivers/sdk/errors.js';
import { distanceM, parsePath, Route } from '../../../simulators/gps/route.js';
import { epochBytes } from '../../../simulators/gps/simulator.js';
import { Truck } from '../../../simulators/gps/truck.js';

// route-xh-beishan of config/examples/city.yaml
const BEISHAN = parsePath('120.090,30.268;120.105,30.270;120.120,30.272;120.135,30.275;120.150,30.262;120.140,30.245');

describe('route', () => {
  it('measures great-circle distance (1° of latitude ≈ 111.2 km)', () => {
    expect(distanceM([120, 30], [120, 31])).toBeCloseTo(111_195, -1);
  });

  it('interpolates along the polyline with the heading of the segment', () => {
    const route = new Route([
      [120, 30],
      [120, 30.01],
      [120.01, 30.01],
    ]);
    const first = distanceM([120, 30], [120, 30.01]);
    const mid = route.at(first / 2);
    expect(mid.lat).toBeCloseTo(30.005, 9);
    expect(mid).toMatchObject({ lon: 120, courseDeg: 0, atEnd: false });
    const p = route.at(first + 10);
    expect(p.courseDeg).toBeCloseTo(90, 0);
    expect(route.at(route.lengthM + 1).atEnd).toBe(true);
  });

  it('refuses malformed paths', () => {
    expect(() => parsePath('120,30')).toThrow(/two/);
    expect(() => parsePath('120,30;abc')).toThrow(/lon,lat/);
    expect(() => parsePath('120,30;200,30')).toThrow(/range/);
  });
});

describe('truck', () => {
  it('drives at a plausible speed and stays on the route', () => {
    const truck = new Truck({ route: BEISHAN, speedKmh: 22, seed: 3 });
    let prev = truck.step(1, 0);
    for (let s = 1; s < 600; s++) {
      const fix = truck.step(1, s * 1000);
      expect(fix.speedKmh).toBeGreaterThanOrEqual(7);
      expect(fix.speedKmh).toBeLessThanOrEqual(30);
      const moved = distanceM([prev.lon, prev.lat], [fix.lon, fix.lat]);
      expect(moved).toBeLessThanOrEqual(30 / 3.6 + 0.5);
      expect(fix.lon).toBeGreaterThanOrEqual(120.09 - 1e-9);
      expect(fix.lon).toBeLessThanOrEqual(120.15 + 1e-9);
      expect(fix.satellites).toBeGreaterThanOrEqual(10);
      prev = fix;
    }
  });

  it('parks at the end without --loop and drives back with it', () => {
    const short = parsePath('120.1,30.2;120.1,30.2005');
    const parked = new Truck({ route: short, speedKmh: 30 });
    const looped = new Truck({ route: short, speedKmh: 30, loop: true });
    for (let s = 0; s < 30; s++) {
      parked.step(1, s * 1000);
      looped.step(1, s * 1000);
    }
    expect(parked.step(1, 30_000)).toMatchObject({ speedKmh: 0, lat: 30.2005 });
    const back = looped.step(1, 30_000);
    expect(back.speedKmh).toBeGreaterThan(0);
    expect(back.lat).toBeLessThan(30.2005);
  });
});

describe('epoch bytes', () => {
  it('are RMC + GGA the driver codec reads back to the truck position', () => {
    const truck = new Truck({ route: BEISHAN, seed: 5 });
    const fix = truck.step(1, Date.UTC(2024, 5, 1, 2, 3, 4));
    const { frames, discarded } = splitNmea(epochBytes(fix, 0, { encode: {}, garbage: false, random: truck.random }));
    expect(discarded).toBe(0);
    const [rmc, gga] = frames.map((f) => decodeNmea(f));
    expect(rmc).toMatchObject({ type: 'RMC', ts: Date.UTC(2024, 5, 1, 2, 3, 4), valid: true });
    expect(gga).toMatchObject({ type: 'GGA', fixQuality: 1, satellites: fix.satellites });
    expect(rmc?.lat).toBeCloseTo(fix.lat, 6);
    expect(rmc?.lon).toBeCloseTo(fix.lon, 6);
  });

  it('with --garbage carry line noise and every 7th epoch a wrong checksum', () => {
    const truck = new Truck({ route: BEISHAN, seed: 5 });
    let discarded = 0;
    const reasons: string[] = [];
    for (let i = 0; i < 7; i++) {
      const fix = truck.step(1, Date.UTC(2024, 5, 1, 2, 3, i));
      const r = splitNmea(epochBytes(fix, i, { encode: {}, garbage: true, random: truck.random }));
      discarded += r.discarded;
      for (const f of r.frames) {
        try {
          decodeNmea(f);
        } catch (err) {
          if (err instanceof DecodeError) reasons.push(err.reason);
          else throw err;
        }
      }
    }
    expect(discarded).toBeGreaterThanOrEqual(7);
    expect(reasons).toEqual(['bad-checksum']);
  });
});
