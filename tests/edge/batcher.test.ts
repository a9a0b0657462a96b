import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CityEvent, Reading } from '../../drivers/sdk/reading.js';
import { Batcher } from '../../edge/src/batcher.js';

const reading = (n: number): Reading => ({
  device: 'D1',
  kind: 'flood',
  ts: 1_700_000_000_000 + n,
  fields: { water_level_cm: n },
});
const event = (n: number): CityEvent => ({
  type: 'device.offline',
  severity: 'warning',
  device: 'D1',
  ts: 1_700_000_000_000 + n,
});

function setup(maxReadings = 3, maxDelay = 200) {
  const telemetry: Reading[][] = [];
  const events: CityEvent[][] = [];
  const batcher = new Batcher(
    { maxReadings, maxDelay, eventDelay: 20 },
    {
      telemetry: (r) => telemetry.push(r),
      events: (e) => events.push(e),
    },
  );
  return { batcher, telemetry, events };
}

describe('Batcher', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('emits a telemetry batch as soon as it holds maxReadings', () => {
    const { batcher, telemetry } = setup(3);
    batcher.addReading(reading(1));
    batcher.addReading(reading(2));
    expect(telemetry).toHaveLength(0);
    batcher.addReading(reading(3));
    expect(telemetry).toEqual([[reading(1), reading(2), reading(3)]]);
    expect(batcher.waiting()).toBe(0);
  });

  it('emits a partial batch when its oldest reading has waited maxDelay', () => {
    const { batcher, telemetry } = setup(10, 200);
    batcher.addReading(reading(1));
    vi.advanceTimersByTime(150);
    batcher.addReading(reading(2));
    vi.advanceTimersByTime(49);
    expect(telemetry).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(telemetry).toEqual([[reading(1), reading(2)]]);
    // The next batch starts its own clock.
    batcher.addReading(reading(3));
    vi.advanceTimersByTime(199);
    expect(telemetry).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(telemetry[1]).toEqual([reading(3)]);
  });

  it('a full batch cancels its timer (no empty or duplicate batch later)', () => {
    const { batcher, telemetry } = setup(2, 200);
    batcher.addReading(reading(1));
    batcher.addReading(reading(2));
    vi.advanceTimersByTime(1000);
    expect(telemetry).toEqual([[reading(1), reading(2)]]);
  });

  it('sends events promptly, apart from telemetry', () => {
    const { batcher, telemetry, events } = setup(10, 5000);
    batcher.addReading(reading(1));
    batcher.addEvent(event(1));
    batcher.addEvent(event(2));
    vi.advanceTimersByTime(20);
    expect(events).toEqual([[event(1), event(2)]]);
    expect(telemetry).toHaveLength(0);
  });

  it('flush emits what is waiting, and nothing when empty', () => {
    const { batcher, telemetry, events } = setup(10, 5000);
    batcher.flush();
    expect(telemetry).toHaveLength(0);
    batcher.addReading(reading(1));
    batcher.addEvent(event(1));
    batcher.flush();
    expect(telemetry).toEqual([[reading(1)]]);
    expect(events).toEqual([[event(1)]]);
    vi.advanceTimersByTime(10_000);
    expect(telemetry).toHaveLength(1);
  });
});
