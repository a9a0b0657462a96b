import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../drivers/sdk/log.js';
import { MetricsRegistry } from '../../drivers/sdk/metrics.js';
import type { BrokerLink } from '../../hub/src/broker/link.js';
import { Acker } from '../../hub/src/ingest/acker.js';
import type { WatermarkRow, WatermarkStore } from '../../hub/src/ingest/watermark-store.js';

/** A link whose publishes the broker confirms only when the test says so. */
function manualLink(): { link: BrokerLink; sent: { seq: number; confirm: () => void }[] } {
  const sent: { seq: number; confirm: () => void }[] = [];
  const link: BrokerLink = {
    mode: 'external',
    url: 'mqtt://test',
    subscribe: async () => {},
    publish: (_topic, payload) =>
      new Promise<void>((resolve) => sent.push({ seq: JSON.parse(String(payload)).seq, confirm: resolve })),
    connected: () => true,
    close: async () => {},
  };
  return { link, sent };
}

function countingStore(): WatermarkStore & { commits: WatermarkRow[][] } {
  const commits: WatermarkRow[][] = [];
  return {
    commits,
    get: () => undefined,
    all: () => [],
    save: (rows) => {
      if (rows.length > 0) commits.push([...rows]);
    },
    prune: () => 0,
    close: () => {},
  };
}

describe('Acker', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('coalesces the moves of one interval into one commit and one ack', async () => {
    const { link, sent } = manualLink();
    const store = countingStore();
    const acker = new Acker(link, store, silentLogger(), new MetricsRegistry(), { intervalMs: 50, bigMoveSeqs: 1000 });
    for (let seq = 0; seq < 20; seq++) acker.request('xihu', 'gw-1', 'boot-a', seq);
    await vi.advanceTimersByTimeAsync(49);
    expect(store.commits).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(store.commits).toEqual([[{ gateway: 'gw-1', bootId: 'boot-a', watermark: 19 }]]);
    expect(sent.map((s) => s.seq)).toEqual([19]);
  });

  it('acks an earlier boot being replayed and the new boot in the same interval, both', async () => {
    const { link, sent } = manualLink();
    const store = countingStore();
    const acker = new Acker(link, store, silentLogger(), new MetricsRegistry(), { intervalMs: 50, bigMoveSeqs: 1000 });
    acker.request('xihu', 'gw-1', 'boot-old', 41);
    acker.request('xihu', 'gw-1', 'boot-new', 3);
    await vi.advanceTimersByTimeAsync(50);
    expect(store.commits).toEqual([
      [
        { gateway: 'gw-1', bootId: 'boot-old', watermark: 41 },
        { gateway: 'gw-1', bootId: 'boot-new', watermark: 3 },
      ],
    ]);
    expect(sent.map((s) => s.seq).sort((a, b) => a - b)).toEqual([3, 41]);
  });

  it('acks a big move at once, but commits only once until the broker confirms that ack', async () => {
    const { link, sent } = manualLink();
    const store = countingStore();
    const acker = new Acker(link, store, silentLogger(), new MetricsRegistry(), { intervalMs: 50, bigMoveSeqs: 10 });
    acker.request('xihu', 'gw-1', 'boot-a', 20);
    await vi.advanceTimersByTimeAsync(0);
    expect(sent.map((s) => s.seq)).toEqual([20]);
    // The ack of 20 is not confirmed yet: small moves after it wait for the interval.
    for (let seq = 21; seq < 25; seq++) {
      acker.request('xihu', 'gw-1', 'boot-a', seq);
      await vi.advanceTimersByTimeAsync(0);
    }
    expect(store.commits).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(50);
    expect(store.commits.map((rows) => rows[0]?.watermark)).toEqual([20, 24]);
    expect(sent.map((s) => s.seq)).toEqual([20, 24]);
  });

  it('keeps one immediate flush armed however many big moves arrive in a turn', async () => {
    const { link } = manualLink();
    const store = countingStore();
    const acker = new Acker(link, store, silentLogger(), new MetricsRegistry(), { intervalMs: 50, bigMoveSeqs: 10 });
    for (let g = 0; g < 5; g++) acker.request('xihu', `gw-${g}`, 'boot-a', 100);
    await vi.advanceTimersByTimeAsync(0);
    expect(store.commits).toHaveLength(1);
    expect(store.commits[0]).toHaveLength(5);
  });
});
