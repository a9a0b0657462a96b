import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../../drivers/sdk/log.js';
import { MetricsRegistry } from '../../../drivers/sdk/metrics.js';
import type { TelemetryPoint, TelemetryStore } from '../../../hub/src/telemetry/types.js';
import {
  BatchingTelemetryWriter,
  DrainTimeoutError,
  type TelemetryWriterOptions,
} from '../../../hub/src/telemetry/writer.js';

interface PendingWrite {
  points: readonly TelemetryPoint[];
  resolve: () => void;
  reject: (err: Error) => void;
}

/** A store whose writes the test settles by hand; records every attempt and every durable point. */
class ManualStore implements TelemetryStore {
  readonly name = 'fake';
  readonly attempts: PendingWrite[] = [];
  readonly durable: TelemetryPoint[] = [];
  inFlight = 0;
  maxSeenInFlight = 0;
  async open(): Promise<void> {}
  write(points: readonly TelemetryPoint[]): Promise<void> {
    this.inFlight += 1;
    this.maxSeenInFlight = Math.max(this.maxSeenInFlight, this.inFlight);
    return new Promise<void>((resolve, reject) => {
      this.attempts.push({
        points,
        resolve: () => {
          this.inFlight -= 1;
          this.durable.push(...points);
          resolve();
        },
        reject: (err) => {
          this.inFlight -= 1;
          reject(err);
        },
      });
    });
  }
  async query(): Promise<TelemetryPoint[]> {
    return [];
  }
  async close(): Promise<void> {}
}

function points(device: string, n: number, t0 = 1_700_000_000_000): TelemetryPoint[] {
  return Array.from({ length: n }, (_, i) => ({
    measurement: 'vehicle',
    tags: { device, district: 'd1', gateway: 'g1' },
    fields: { lat: 31 + i / 1000 },
    ts: t0 + i,
  }));
}

const tick = () => vi.advanceTimersByTimeAsync(0);

describe('BatchingTelemetryWriter', () => {
  let store: ManualStore;
  let metrics: MetricsRegistry;
  const make = (opts: TelemetryWriterOptions) => new BatchingTelemetryWriter(store, opts, silentLogger(), metrics);

  beforeEach(() => {
    vi.useFakeTimers();
    store = new ManualStore();
    metrics = new MetricsRegistry();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('writes a full batch at once without waiting for the flush interval', async () => {
    const w = make({ batchSize: 3, flushIntervalMs: 10_000, maxInFlight: 4 });
    w.submit(points('a', 2), () => {});
    w.submit(points('b', 2), () => {});
    await tick();
    expect(store.attempts.map((a) => a.points.map((p) => p.tags.device))).toEqual([['a', 'a', 'b']]);
    expect(w.pending).toBe(4);
  });

  it('writes a partial batch once its oldest point waited flushIntervalMs', async () => {
    const w = make({ batchSize: 100, flushIntervalMs: 100 });
    w.submit(points('a', 2), () => {});
    await vi.advanceTimersByTimeAsync(60);
    w.submit(points('b', 1), () => {});
    await vi.advanceTimersByTimeAsync(39);
    expect(store.attempts).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(store.attempts).toHaveLength(1);
    expect(store.attempts[0]?.points).toHaveLength(3);
  });

  it('calls onDurable only after the store resolved, exactly once', async () => {
    const w = make({ batchSize: 2, flushIntervalMs: 50 });
    const onDurable = vi.fn();
    w.submit(points('a', 2), onDurable);
    await tick();
    expect(store.attempts).toHaveLength(1);
    expect(onDurable).not.toHaveBeenCalled();
    store.attempts[0]?.resolve();
    await tick();
    expect(onDurable).toHaveBeenCalledTimes(1);
    expect(w.pending).toBe(0);
    expect(metrics.counter('citygrid_sink_points_written_total', '').get({ store: 'fake' })).toBe(2);
  });

  it('a message straddling two batches is durable only when both are', async () => {
    const w = make({ batchSize: 2, flushIntervalMs: 50, maxInFlight: 2 });
    const onDurable = vi.fn();
    w.submit(points('a', 3), onDurable);
    await vi.advanceTimersByTimeAsync(50);
    expect(store.attempts.map((a) => a.points.length)).toEqual([2, 1]);
    store.attempts[0]?.resolve();
    await tick();
    expect(onDurable).not.toHaveBeenCalled();
    store.attempts[1]?.resolve();
    await tick();
    expect(onDurable).toHaveBeenCalledTimes(1);
  });

  it('cuts batches across messages in submission order, a message spanning several batches', async () => {
    const w = make({ batchSize: 3, flushIntervalMs: 50, maxInFlight: 4 });
    const done: string[] = [];
    w.submit(points('a', 2), () => done.push('a'));
    w.submit(points('b', 5), () => done.push('b'));
    w.submit(points('c', 1), () => done.push('c'));
    await vi.advanceTimersByTimeAsync(50);
    const batches = store.attempts.map((a) => a.points.map((p) => `${p.tags.device}${p.ts - 1_700_000_000_000}`));
    expect(batches).toEqual([
      ['a0', 'a1', 'b0'],
      ['b1', 'b2', 'b3'],
      ['b4', 'c0'],
    ]);
    store.attempts[0]?.resolve();
    await tick();
    expect(done).toEqual(['a']);
    expect(w.pending).toBe(5);
    store.attempts[2]?.resolve();
    await tick();
    expect(done).toEqual(['a']);
    store.attempts[1]?.resolve();
    await tick();
    expect(done).toEqual(['a', 'b', 'c']);
    expect(w.pending).toBe(0);
  });

  it('keeps callbacks in submission order when a later batch finishes first', async () => {
    const w = make({ batchSize: 2, flushIntervalMs: 50, maxInFlight: 2 });
    const order: string[] = [];
    w.submit(points('a', 2), () => order.push('a'));
    w.submit(points('b', 2), () => order.push('b'));
    await tick();
    expect(store.attempts).toHaveLength(2);
    store.attempts[1]?.resolve();
    await tick();
    expect(order).toEqual([]);
    store.attempts[0]?.resolve();
    await tick();
    expect(order).toEqual(['a', 'b']);
  });

  it('retries a failed write with backoff, same points, without loss or duplicate callbacks', async () => {
    const w = make({ batchSize: 3, flushIntervalMs: 50, initialBackoffMs: 100, maxBackoffMs: 5000 });
    const onDurable = vi.fn();
    w.submit(points('a', 3), onDurable);
    await tick();
    store.attempts[0]?.reject(new Error('connection refused'));
    await tick();
    expect(store.attempts).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(store.attempts).toHaveLength(2);
    store.attempts[1]?.reject(new Error('503'));
    await vi.advanceTimersByTimeAsync(199);
    expect(store.attempts).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(store.attempts).toHaveLength(3);
    expect(store.attempts[2]?.points).toEqual(store.attempts[0]?.points);
    expect(onDurable).not.toHaveBeenCalled();
    expect(w.pending).toBe(3);
    store.attempts[2]?.resolve();
    await tick();
    expect(onDurable).toHaveBeenCalledTimes(1);
    expect(store.durable).toHaveLength(3);
    expect(metrics.counter('citygrid_sink_write_errors_total', '').get({ store: 'fake' })).toBe(2);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(store.attempts).toHaveLength(3);
    expect(onDurable).toHaveBeenCalledTimes(1);
  });

  it('caps the retry delay at maxBackoffMs and never gives up', async () => {
    const w = make({ batchSize: 1, flushIntervalMs: 10, initialBackoffMs: 100, maxBackoffMs: 400 });
    w.submit(points('a', 1), () => {});
    await tick();
    for (let i = 0; i < 8; i++) {
      store.attempts.at(-1)?.reject(new Error('down'));
      await vi.advanceTimersByTimeAsync(400);
    }
    expect(store.attempts).toHaveLength(9);
    expect(w.pending).toBe(1);
  });

  it('a store that throws synchronously is retried like one that rejects', async () => {
    let calls = 0;
    const throwing: TelemetryStore = {
      name: 'throwing',
      open: async () => {},
      write: () => {
        calls += 1;
        if (calls === 1) throw new Error('schema mismatch');
        return Promise.resolve();
      },
      query: async () => [],
      close: async () => {},
    };
    const w = new BatchingTelemetryWriter(throwing, { batchSize: 1, initialBackoffMs: 10 }, silentLogger(), metrics);
    const onDurable = vi.fn();
    w.submit(points('a', 1), onDurable);
    await vi.advanceTimersByTimeAsync(10);
    expect(calls).toBe(2);
    expect(onDurable).toHaveBeenCalledTimes(1);
  });

  it('never runs more than maxInFlight writes at once', async () => {
    const w = make({ batchSize: 1, flushIntervalMs: 10, maxInFlight: 2 });
    for (let i = 0; i < 6; i++) w.submit(points(`d${i}`, 1), () => {});
    await vi.advanceTimersByTimeAsync(100);
    expect(store.attempts).toHaveLength(2);
    store.attempts[0]?.resolve();
    await tick();
    expect(store.attempts).toHaveLength(3);
    while (store.attempts.some((a) => !store.durable.includes(a.points[0] as TelemetryPoint))) {
      for (const a of store.attempts) if (!store.durable.includes(a.points[0] as TelemetryPoint)) a.resolve();
      await vi.advanceTimersByTimeAsync(10);
    }
    expect(store.attempts).toHaveLength(6);
    expect(store.maxSeenInFlight).toBe(2);
    expect(w.pending).toBe(0);
  });

  it('whenUnsaturated resolves with the write that brings pending below the high-water mark', async () => {
    const w = make({ batchSize: 2, flushIntervalMs: 10, maxInFlight: 1, highWaterMark: 4 });
    const resumed = vi.fn();
    await w.whenUnsaturated().then(resumed);
    expect(resumed).toHaveBeenCalledTimes(1);
    w.submit(points('a', 2), () => {});
    w.submit(points('b', 2), () => {});
    w.submit(points('c', 2), () => {});
    expect(w.saturated).toBe(true);
    void w.whenUnsaturated().then(resumed);
    await vi.advanceTimersByTimeAsync(10);
    store.attempts[0]?.resolve();
    await tick();
    await tick();
    expect(w.pending).toBe(4);
    expect(resumed).toHaveBeenCalledTimes(1);
    expect(store.attempts).toHaveLength(2);
    store.attempts[1]?.resolve();
    await tick();
    expect(w.pending).toBe(2);
    expect(w.saturated).toBe(false);
    await tick();
    expect(resumed).toHaveBeenCalledTimes(2);
  });

  it('reports pending, lag and saturation, and calls back for an empty message in order', async () => {
    const w = make({ batchSize: 3, flushIntervalMs: 100, highWaterMark: 4, now: () => Date.now() });
    const t0 = Date.now();
    const order: string[] = [];
    w.submit(points('a', 3), () => order.push('a'));
    expect(w.saturated).toBe(false);
    w.submit([], () => order.push('empty'));
    await vi.advanceTimersByTimeAsync(30);
    w.submit(points('b', 2), () => order.push('b'));
    expect(w.pending).toBe(5);
    expect(w.saturated).toBe(true);
    expect(w.lagMs(Date.now())).toBe(30);
    expect(order).toEqual([]);
    await vi.advanceTimersByTimeAsync(20);
    store.attempts[0]?.resolve();
    await tick();
    expect(order).toEqual(['a', 'empty']);
    expect(w.saturated).toBe(false);
    expect(w.lagMs(Date.now())).toBe(Date.now() - (t0 + 30));
    expect(w.lagMs(Date.now())).toBe(20);
    await vi.advanceTimersByTimeAsync(80);
    expect(store.attempts).toHaveLength(2);
    store.attempts[1]?.resolve();
    await tick();
    expect(order).toEqual(['a', 'empty', 'b']);
    expect(w.pending).toBe(0);
    expect(w.lagMs(Date.now())).toBe(0);
  });

  it('drain flushes a partial batch at once and waits for it', async () => {
    const w = make({ batchSize: 100, flushIntervalMs: 60_000 });
    const onDurable = vi.fn();
    w.submit(points('a', 2), onDurable);
    const drained = w.drain(1000);
    await tick();
    expect(store.attempts).toHaveLength(1);
    store.attempts[0]?.resolve();
    await drained;
    expect(onDurable).toHaveBeenCalledTimes(1);
  });

  it('drain rejects with the pending count when the store does not answer in time', async () => {
    const w = make({ batchSize: 100, flushIntervalMs: 60_000 });
    w.submit(points('a', 2), () => {});
    const drained = w.drain(500);
    const outcome = expect(drained).rejects.toBeInstanceOf(DrainTimeoutError);
    await vi.advanceTimersByTimeAsync(500);
    await outcome;
    await expect(drained).rejects.toMatchObject({ pending: 2 });
  });

  it('after close no retry runs and submit throws', async () => {
    const w = make({ batchSize: 1, initialBackoffMs: 10 });
    w.submit(points('a', 1), () => {});
    await tick();
    store.attempts[0]?.reject(new Error('down'));
    await tick();
    await w.close();
    await vi.advanceTimersByTimeAsync(1000);
    expect(store.attempts).toHaveLength(1);
    expect(() => w.submit(points('b', 1), () => {})).toThrow(/closed/);
  });
});
