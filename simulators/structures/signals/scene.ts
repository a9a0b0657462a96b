/**
 * The simulated city's structures under one environment: advances the environment and every
 * structure together in fixed steps of sim time, so a drill's rain reaches every underpass at
 * once. Time is always passed in (an injected clock drives it); nothing here reads a clock.
 */
import { BridgeSignals } from './bridge.js';
import { Environment, type EnvironmentOptions } from './environment.js';
import { RoadWeatherSignals } from './road-weather.js';
import { TunnelSignals } from './tunnel.js';
import { UnderpassSignals } from './underpass.js';

export const STRUCTURE_KINDS = ['bridge', 'tunnel', 'underpass', 'road-weather'] as const;
export type StructureKind = (typeof STRUCTURE_KINDS)[number];

export type StructureSignals = BridgeSignals | TunnelSignals | UnderpassSignals | RoadWeatherSignals;

export interface SceneOptions {
  /** Sim time at the start, ms since the epoch. */
  startMs: number;
  seed?: number;
  environment?: Omit<EnvironmentOptions, 'startMs' | 'seed'>;
  /** Integration step, ms of sim time. Default 5000. */
  stepMs?: number;
}

/** A gap longer than this (a suspended laptop) is skipped, not integrated step by step. */
const MAX_CATCH_UP_MS = 7 * 86_400_000;

export class Scene {
  readonly env: Environment;
  readonly seed: number;
  /** Sim time the scene started at, ms. */
  readonly startMs: number;
  private readonly stepMs: number;
  private readonly structures: StructureSignals[] = [];
  private at: number;

  constructor(opts: SceneOptions) {
    this.seed = opts.seed ?? 1;
    this.stepMs = opts.stepMs ?? 5000;
    this.at = opts.startMs;
    this.startMs = opts.startMs;
    this.env = new Environment({ ...opts.environment, startMs: opts.startMs, seed: this.seed });
  }

  /** Sim time the scene has been advanced to. */
  get now(): number {
    return this.at;
  }

  /** Adds a structure; `index` (1-based per kind) makes its seed, so each one differs. */
  add(kind: 'bridge', index: number): BridgeSignals;
  add(kind: 'tunnel', index: number): TunnelSignals;
  add(kind: 'underpass', index: number): UnderpassSignals;
  add(kind: 'road-weather', index: number): RoadWeatherSignals;
  add(kind: StructureKind, index: number): StructureSignals;
  add(kind: StructureKind, index: number): StructureSignals {
    const seed = this.seed * 1009 + STRUCTURE_KINDS.indexOf(kind) * 101 + index;
    const opts = { startMs: this.at, seed };
    const s =
      kind === 'bridge'
        ? new BridgeSignals(opts)
        : kind === 'tunnel'
          ? new TunnelSignals(opts)
          : kind === 'underpass'
            ? new UnderpassSignals(opts)
            : new RoadWeatherSignals(opts);
    s.step(this.env, this.at);
    this.structures.push(s);
    return s;
  }

  /** Integrates everything up to `ms` (a clock that goes back is ignored). */
  advance(ms: number): void {
    if (ms - this.at > MAX_CATCH_UP_MS) this.at = ms - MAX_CATCH_UP_MS;
    // at most ~20 000 steps per call: a huge speedup coarsens the steps instead of stalling the server
    const step = Math.max(this.stepMs, (ms - this.at) / 20_000);
    while (this.at < ms) {
      const next = Math.min(ms, this.at + step);
      this.env.advance(next);
      for (const s of this.structures) s.step(this.env, next);
      this.at = next;
    }
  }
}
