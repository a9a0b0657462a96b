/** The structure simulators' signal models, run over days of sim time in a moment. */
import { describe, expect, it } from 'vitest';
import { Scene } from '../../../simulators/structures/signals/scene.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
/** 2026-01-15 00:00 China Standard Time. */
const START = Date.UTC(2026, 0, 14, 16, 0, 0);

function run(scene: Scene, fromMs: number, toMs: number, everyMs: number, sample: (ms: number) => void): void {
  for (let t = fromMs; t <= toMs; t += everyMs) {
    scene.advance(t);
    sample(t);
  }
}

describe('bridge', () => {
  it('strain follows the deck temperature: a cold front lowers both, in the ratio of the thermal coefficient', () => {
    const steady = new Scene({ startMs: START, seed: 3 });
    const front = new Scene({ startMs: START, seed: 3 });
    const a = steady.add('bridge', 1);
    const b = front.add('bridge', 1);
    steady.advance(START + 12 * HOUR);
    front.advance(START + 12 * HOUR);
    front.env.setAirTemperatureTrend(-2, 2); // 12 °C -> 2 °C over 5 h
    const rows: { air: number; deck: number; strain: number }[] = [];
    const t0 = START + 12 * HOUR;
    for (let t = t0; t <= t0 + 24 * HOUR; t += 30 * MIN) {
      steady.advance(t);
      front.advance(t);
      const va = a.values(steady.env);
      const vb = b.values(front.env);
      rows.push({
        air: front.env.airC - steady.env.airC,
        deck: vb.temperature_c - va.temperature_c,
        strain: vb.strain_ue - va.strain_ue,
      });
    }
    const last = rows[rows.length - 1] as (typeof rows)[number];
    expect(last.air).toBeCloseTo(-10, 5);
    // the deck lags: one hour into the front it has cooled less than the air
    const oneHour = rows[2] as (typeof rows)[number];
    expect(oneHour.deck).toBeGreaterThan(oneHour.air + 0.5);
    // a day later it has caught up, and strain moved 11.5 με/°C with it (noise aside)
    expect(last.deck).toBeLessThan(-9);
    for (const r of rows.slice(1)) expect(r.strain).toBeCloseTo(11.5 * r.deck, -1);
  });

  it('the deck temperature peaks after the air in the daily cycle', () => {
    const scene = new Scene({ startMs: START, seed: 1 });
    const bridge = scene.add('bridge', 1);
    let airPeak = { t: 0, v: -99 };
    let deckPeak = { t: 0, v: -99 };
    run(scene, START + 24 * HOUR, START + 48 * HOUR, 10 * MIN, (t) => {
      const v = bridge.values(scene.env);
      if (scene.env.airC > airPeak.v) airPeak = { t, v: scene.env.airC };
      if (v.temperature_c > deckPeak.v) deckPeak = { t, v: v.temperature_c };
    });
    expect(deckPeak.t - airPeak.t).toBeGreaterThanOrEqual(30 * MIN);
    expect(deckPeak.t - airPeak.t).toBeLessThan(5 * HOUR);
  });

  it('vibrates at its first mode, a few Hz, busiest at rush hour', () => {
    const scene = new Scene({ startMs: START, seed: 5 });
    const bridge = scene.add('bridge', 1);
    const rushHour = START + 8 * HOUR;
    scene.advance(rushHour);
    const rate = 100;
    const n = 20 * rate;
    const samples = Array.from({ length: n }, (_, i) => bridge.accelerationG(scene.env, rushHour + (i * 1000) / rate));
    let best = { f: 0, p: 0 };
    for (let f = 0.5; f <= 20; f += 0.05) {
      let re = 0;
      let im = 0;
      samples.forEach((a, i) => {
        re += a * Math.cos((2 * Math.PI * f * i) / rate);
        im += a * Math.sin((2 * Math.PI * f * i) / rate);
      });
      if (re * re + im * im > best.p) best = { f, p: re * re + im * im };
    }
    expect(bridge.modeHz).toBeGreaterThanOrEqual(2.2);
    expect(bridge.modeHz).toBeLessThanOrEqual(3.8);
    expect(Math.abs(best.f - bridge.modeHz)).toBeLessThan(0.1);
    const night = bridge.accelerationWindow(scene.env, START + 3 * HOUR);
    const rush = bridge.accelerationWindow(scene.env, rushHour);
    expect(rush.rms).toBeGreaterThan(night.rms);
  });

  it('an overload spikes deflection past L/600 and acceleration past 0.5 g, then leaves the crack a little wider', () => {
    const scene = new Scene({ startMs: START, seed: 2 });
    const bridge = scene.add('bridge', 1);
    const t0 = START + 2 * HOUR;
    scene.advance(t0);
    const before = bridge.values(scene.env);
    bridge.triggerLoadSpike({ startMs: t0, durationS: 20, factor: 1 });
    scene.advance(t0 + 10_000);
    const during = bridge.values(scene.env);
    expect(during.deflection_mm).toBeGreaterThan(66.7);
    expect(during.strain_ue - before.strain_ue).toBeGreaterThan(200);
    const peakG = bridge.accelerationWindow(scene.env, t0 + 12_000, { windowS: 4 }).peak / 9.80665;
    expect(peakG).toBeGreaterThan(0.5);
    scene.advance(t0 + 60_000);
    const after = bridge.values(scene.env);
    expect(after.deflection_mm).toBeLessThan(20);
    expect(after.crack_width_mm - before.crack_width_mm).toBeGreaterThan(0.003);
  });

  it('a crack widens slowly over weeks', () => {
    const scene = new Scene({ startMs: START, seed: 4 });
    const bridge = scene.add('bridge', 1);
    scene.advance(START + 3 * HOUR);
    const first = bridge.values(scene.env).crack_width_mm;
    scene.advance(START + 30 * 24 * HOUR + 3 * HOUR);
    const later = bridge.values(scene.env).crack_width_mm;
    expect(later - first).toBeGreaterThan(0.04);
    expect(later - first).toBeLessThan(0.08);
  });
});

describe('underpass', () => {
  it('water depth lags the rain, peaks after it stops, and drains away', () => {
    const scene = new Scene({ startMs: START, seed: 7 });
    const ups = scene.add('underpass', 1);
    const rainStart = START + HOUR;
    scene.advance(rainStart);
    scene.env.setRain(40);
    const depth: { t: number; cm: number }[] = [];
    run(scene, rainStart, rainStart + 60 * MIN, MIN, (t) =>
      depth.push({ t, cm: ups.values(scene.env).water_level_cm }),
    );
    scene.env.setRain(0);
    run(scene, rainStart + 61 * MIN, rainStart + 8 * HOUR, MIN, (t) =>
      depth.push({ t, cm: ups.values(scene.env).water_level_cm }),
    );
    const peak = depth.reduce((a, b) => (b.cm > a.cm ? b : a));
    expect(depth[5]?.cm ?? 99).toBeLessThan(0.2 * peak.cm); // five minutes in: the runoff is still on its way
    expect(peak.cm).toBeGreaterThan(25); // an hour of 40 mm/h closes the underpass
    expect(peak.t).toBeGreaterThan(rainStart + 60 * MIN); // the lag carries the rise past the rain's end
    expect(depth[depth.length - 1]?.cm).toBe(0); // the pumps empty it
    expect(ups.values(scene.env).rain_total_mm).toBeCloseTo(40, 5);
  });

  it('each underpass has its own lag', () => {
    const scene = new Scene({ startMs: START, seed: 7 });
    const lags = [1, 2, 3].map((i) => scene.add('underpass', i).lagMinutes);
    expect(new Set(lags.map((l) => Math.round(l))).size).toBe(3);
  });
});

describe('road surface', () => {
  function wetEvening(trend: number | undefined) {
    const scene = new Scene({ startMs: START, seed: 1, environment: { meanAirC: 4, dailySwingC: 4 } });
    const road = scene.add('road-weather', 1);
    const evening = START + 18 * HOUR;
    scene.advance(evening);
    scene.env.setRain(3);
    scene.advance(evening + HOUR);
    const wet = road.values(scene.env);
    scene.env.setRain(0);
    if (trend !== undefined) scene.env.setAirTemperatureTrend(trend, -6);
    const states: number[] = [];
    run(scene, evening + HOUR, evening + 7 * HOUR, 10 * MIN, () => states.push(road.values(scene.env).surface_state));
    return { wet, states, last: road.values(scene.env) };
  }

  it('is wet after rain above 0 °C and freezes once a cold front takes the surface below 0 °C', () => {
    const { wet, states, last } = wetEvening(-3);
    expect(wet.surface_state).toBe(5);
    expect(wet.surface_temp_c).toBeGreaterThan(0);
    expect(last.surface_temp_c).toBeLessThan(0);
    expect(last.iceMm).toBeGreaterThan(0.05);
    expect(last.surface_state).toBe(7);
    // wet first, ice later, never the other way round
    const firstIce = states.findIndex((s) => s === 7 || s === 8);
    expect(firstIce).toBeGreaterThan(0);
    expect(states.slice(firstIce).every((s) => s === 7 || s === 8)).toBe(true);
  });

  it('stays free of ice without the cold front', () => {
    const { states } = wetEvening(undefined);
    expect(states.some((s) => s === 7 || s === 8)).toBe(false);
  });

  it('collects snow when it precipitates below freezing', () => {
    const scene = new Scene({ startMs: START, seed: 1, environment: { meanAirC: -4, dailySwingC: 2 } });
    const road = scene.add('road-weather', 1);
    scene.advance(START + 2 * HOUR);
    scene.env.setRain(2);
    scene.advance(START + 3 * HOUR);
    expect(road.values(scene.env).surface_state).toBe(9);
  });
});

describe('tunnel', () => {
  it('has more CO and smoke at rush hour than at night, and ventilation kicks in when CO climbs', () => {
    const scene = new Scene({ startMs: START, seed: 1 });
    const tunnel = scene.add('tunnel', 1);
    scene.advance(START + 3 * HOUR);
    const night = tunnel.values(scene.env);
    scene.advance(START + 8 * HOUR);
    const rush = tunnel.values(scene.env);
    expect(rush.co_ppm).toBeGreaterThan(night.co_ppm + 10);
    expect(rush.visibility_per_m).toBeGreaterThan(night.visibility_per_m);
    expect(rush.wind_ms).toBeGreaterThan(night.wind_ms);
    expect(rush.co_ppm).toBeLessThan(120);
  });

  it('its sump fills with heavy rain until the level alarm datum is crossed', () => {
    const scene = new Scene({ startMs: START, seed: 1 });
    const tunnel = scene.add('tunnel', 1);
    scene.advance(START + HOUR);
    expect(tunnel.values(scene.env).water_level_cm).toBeLessThan(-40);
    scene.env.setRain(40);
    scene.advance(START + 3 * HOUR);
    expect(tunnel.values(scene.env).water_level_cm).toBeGreaterThan(0);
  });
});

describe('scene', () => {
  it('repeats exactly for the same seed', () => {
    const values = () => {
      const scene = new Scene({ startMs: START, seed: 9 });
      const b = scene.add('bridge', 1);
      scene.advance(START + 5 * HOUR);
      return [b.values(scene.env), b.accelerationG(scene.env, START + 5 * HOUR + 123)];
    };
    expect(values()).toEqual(values());
  });
});
