/**
 * The flood and snow drills as timelines of sim time: what the weather does, when a gateway loses
 * its uplink, when a citizen calls the hotline, when the operator ends the incident. Pure and
 * seeded: the same seed gives the same storm (intensities, which gateway, which underpass), and
 * the drill runner plays it on a clock compressed by its speedup.
 */
import { hashUnit } from '../structures/signals/environment.js';

export type DrillKind = 'flood' | 'snow';

export type DrillStep =
  | { kind: 'rain'; mmh: number }
  | { kind: 'air-trend'; cPerHour: number; targetC?: number }
  | { kind: 'cut-uplink'; gateway: string }
  | { kind: 'restore-uplink'; gateway: string }
  | { kind: 'hotline'; asset: string; category: string; text: string }
  | { kind: 'close-incidents' };

export interface TimedStep {
  /** Sim minutes from the start of the drill. */
  atMin: number;
  step: DrillStep;
  /** What the step stands for, for the drill log. */
  label: string;
}

export interface Scenario {
  kind: DrillKind;
  seed: number;
  /** Sim minutes the drill lasts (the last step comes before). */
  lengthMin: number;
  /** Environment at the start (the snow drill starts on a cold evening). */
  start: { meanAirC: number; dailySwingC: number; localHour: number };
  steps: TimedStep[];
}

export interface ScenarioCity {
  gateways: readonly string[];
  /** Underpass assets (the hotline report names one). */
  underpasses: readonly string[];
  /** Road-weather assets. */
  roads: readonly string[];
}

const pick = <T>(items: readonly T[], u: number): T => {
  if (items.length === 0) throw new RangeError('nothing to pick from');
  return items[Math.min(items.length - 1, Math.floor(u * items.length))] as T;
};

/**
 * A summer rainstorm (暴雨): light rain, a downpour of 45–60 mm/h for a quarter of an hour, tailing off;
 * the water at the underpasses rises after their lag and past the closure depth (25 cm), the
 * pumps bring it back down after the rain. One gateway loses its uplink while the water is at its
 * highest, and a caller reports a flooded underpass. The operator closes the incident once the
 * water is down, so the sample intervals go back to normal before the drill ends.
 */
export function floodScenario(city: ScenarioCity, seed = 1): Scenario {
  const u = (n: number) => hashUnit(seed, 7000 + n);
  const peak = Math.round(45 + 15 * u(1));
  const gateway = pick(city.gateways, u(2));
  const asset = pick(city.underpasses, u(3));
  const steps: TimedStep[] = [
    { atMin: 5, step: { kind: 'rain', mmh: 8 }, label: 'light rain 8 mm/h' },
    { atMin: 12, step: { kind: 'rain', mmh: 35 }, label: 'heavy rain 35 mm/h' },
    { atMin: 20, step: { kind: 'rain', mmh: peak }, label: `downpour ${peak} mm/h` },
    { atMin: 35, step: { kind: 'rain', mmh: 12 }, label: 'rain easing 12 mm/h' },
    { atMin: 38, step: { kind: 'cut-uplink', gateway }, label: `${gateway} loses its uplink` },
    {
      atMin: 45,
      step: { kind: 'hotline', asset, category: 'event:0406', text: `${asset} 下立交积水严重，车辆被困` },
      label: `hotline report on ${asset}`,
    },
    { atMin: 50, step: { kind: 'rain', mmh: 0 }, label: 'rain stops' },
    { atMin: 62, step: { kind: 'restore-uplink', gateway }, label: `${gateway} uplink back` },
    { atMin: 150, step: { kind: 'close-incidents' }, label: 'operator closes the incident' },
  ];
  steps.sort((a, b) => a.atMin - b.atMin);
  return {
    kind: 'flood',
    seed,
    lengthMin: 180,
    start: { meanAirC: 26, dailySwingC: 6, localHour: 14 },
    steps,
  };
}

/**
 * A cold wave with freezing rain and snow (抗雪防冻): the evening air falls towards −6 °C, drizzle
 * wets the roads while they are still above freezing, then the surfaces go below 0 °C and the
 * film freezes; later the precipitation turns to snow. One gateway loses its uplink in the middle.
 * The operator closes the incident at the end.
 */
export function snowScenario(city: ScenarioCity, seed = 1): Scenario {
  const u = (n: number) => hashUnit(seed, 9000 + n);
  const target = -Math.round(5 + 3 * u(1));
  const gateway = pick(city.gateways, u(2));
  const steps: TimedStep[] = [
    { atMin: 2, step: { kind: 'air-trend', cPerHour: -4, targetC: target }, label: `cold wave to ${target} °C` },
    { atMin: 5, step: { kind: 'rain', mmh: 3 }, label: 'drizzle 3 mm/h wets the roads' },
    { atMin: 45, step: { kind: 'rain', mmh: 0 }, label: 'drizzle stops' },
    { atMin: 80, step: { kind: 'cut-uplink', gateway }, label: `${gateway} loses its uplink` },
    { atMin: 110, step: { kind: 'rain', mmh: 2 }, label: 'snow 2 mm/h (water equivalent)' },
    { atMin: 125, step: { kind: 'restore-uplink', gateway }, label: `${gateway} uplink back` },
    { atMin: 150, step: { kind: 'rain', mmh: 0 }, label: 'snow stops' },
    { atMin: 200, step: { kind: 'close-incidents' }, label: 'operator closes the incident' },
  ];
  return {
    kind: 'snow',
    seed,
    lengthMin: 230,
    start: { meanAirC: 2, dailySwingC: 4, localHour: 18 },
    steps,
  };
}

export function scenarioFor(kind: DrillKind, city: ScenarioCity, seed = 1): Scenario {
  return kind === 'flood' ? floodScenario(city, seed) : snowScenario(city, seed);
}
