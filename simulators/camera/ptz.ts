/**
 * The simulated camera's pan/tilt/zoom head: a move takes `moveMs`, during which GetStatus says
 * MOVING and the position is interpolated; Stop freezes it where it is.
 */
import type { Clock } from '../../drivers/sdk/clock.js';
import type { Preset, PtzVector } from './responses.js';

export const DEFAULT_PRESETS: readonly Preset[] = [
  { token: '1', name: 'Home', x: 0, y: 0, zoom: 0 },
  { token: '2', name: 'Bridge deck', x: 0.5, y: -0.2, zoom: 0.3 },
  { token: '3', name: 'Underpass entrance', x: -0.6, y: 0.1, zoom: 0.5 },
];

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

export class PtzHead {
  private from: PtzVector = { x: 0, y: 0, zoom: 0 };
  private to: PtzVector = { x: 0, y: 0, zoom: 0 };
  private startedAt = 0;
  private durationMs = 0;
  /** The preset the head was last sent to (undefined after an AbsoluteMove). */
  presetName: string | undefined = 'Home';
  moves = 0;

  constructor(
    private readonly clock: Clock,
    private readonly moveMs: number,
  ) {}

  position(): PtzVector {
    const t = this.durationMs === 0 ? 1 : clamp((this.clock.now() - this.startedAt) / this.durationMs, 0, 1);
    const lerp = (a: number, b: number) => Math.round((a + (b - a) * t) * 1e4) / 1e4;
    return {
      x: lerp(this.from.x, this.to.x),
      y: lerp(this.from.y, this.to.y),
      zoom: lerp(this.from.zoom, this.to.zoom),
    };
  }

  moving(): boolean {
    return this.clock.now() < this.startedAt + this.durationMs;
  }

  moveTo(target: PtzVector, presetName?: string): void {
    this.from = this.position();
    this.to = { x: clamp(target.x, -1, 1), y: clamp(target.y, -1, 1), zoom: clamp(target.zoom, 0, 1) };
    this.startedAt = this.clock.now();
    this.durationMs = this.moveMs;
    this.presetName = presetName;
    this.moves++;
  }

  stop(): void {
    this.from = this.position();
    this.to = this.from;
    this.durationMs = 0;
  }
}
