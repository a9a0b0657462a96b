import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../drivers/sdk/log.js';
import { MetricsRegistry } from '../../drivers/sdk/metrics.js';
import { MemoryOutbox, newBootId } from '../../edge/src/outbox.js';

function outbox(maxQueued = 1000) {
  const metrics = new MetricsRegistry();
  let now = 1_700_000_000_000;
  const clock = { now: () => now };
  const box = new MemoryOutbox({ bootId: 'boot-a', maxQueued, clock, log: silentLogger(), metrics });
  return { box, metrics, advance: (ms: number) => (now += ms) };
}

const seqs = (it: Iterable<{ seq: number }>) => [...it].map((m) => m.seq);

describe('MemoryOutbox', () => {
  it('numbers telemetry, events and media in one sequence space from 0', () => {
    const { box } = outbox();
    expect(box.append('telemetry', { readings: [1] }).seq).toBe(0);
    expect(box.append('event', { events: [1] }).seq).toBe(1);
    expect(box.append('media', { jpeg: 'x' }).seq).toBe(2);
    expect(box.append('telemetry', { readings: [2] }).seq).toBe(3);
    expect(seqs(box.pending())).toEqual([0, 1, 2, 3]);
    expect(seqs(box.pending(2))).toEqual([2, 3]);
    expect(box.size()).toBe(4);
    expect([...box.pending()].every((m) => m.bootId === 'boot-a')).toBe(true);
  });

  it('deletes only up to the acknowledged seq of the current boot', () => {
    const { box } = outbox();
    for (let i = 0; i < 5; i++) box.append('telemetry', { readings: [i] });
    expect(box.firstUnacked()).toBe(0);
    expect(box.ack('boot-a', 2)).toBe(3);
    expect(seqs(box.pending())).toEqual([3, 4]);
    expect(box.firstUnacked()).toBe(3);
    expect(box.ack('boot-a', 2)).toBe(0);
    expect(box.ack('boot-a', -1)).toBe(0);
    expect(box.ack('boot-a', 10)).toBe(2);
    expect(box.size()).toBe(0);
    expect(box.bytes()).toBe(0);
    // Nothing held: everything below the next seq is settled.
    expect(box.firstUnacked()).toBe(5);
    expect(box.append('event', { events: [1] }).seq).toBe(5);
  });

  it('ignores an ack naming another boot', () => {
    const { box } = outbox();
    box.append('telemetry', { readings: [1] });
    box.append('telemetry', { readings: [2] });
    expect(box.ack('boot-old', 5)).toBe(0);
    expect(seqs(box.pending())).toEqual([0, 1]);
  });

  it('tracks bytes and the age of the oldest message', () => {
    const { box, advance } = outbox();
    expect(box.oldestCreatedAt()).toBeUndefined();
    const first = box.append('telemetry', { readings: [1, 2, 3] });
    advance(500);
    box.append('telemetry', { readings: [4] });
    expect(box.bytes()).toBe(Buffer.byteLength('{"readings":[1,2,3]}') + Buffer.byteLength('{"readings":[4]}'));
    expect(box.oldestCreatedAt()).toBe(first.createdAt);
    box.ack('boot-a', 0);
    expect(box.oldestCreatedAt()).toBe(first.createdAt + 500);
  });

  it('beyond maxQueued drops the oldest telemetry, keeps events, and counts the drops', () => {
    const { box, metrics } = outbox(100);
    box.append('event', { events: ['e0'] }); // seq 0
    for (let i = 1; i <= 99; i++) box.append('telemetry', { readings: [i] });
    expect(box.size()).toBe(100);
    box.append('event', { events: ['e100'] }); // seq 100 pushes out seq 1
    box.append('telemetry', { readings: [101] }); // pushes out seq 2
    expect(box.size()).toBe(100);
    const held = seqs(box.pending());
    expect(held.slice(0, 3)).toEqual([0, 3, 4]);
    expect(held).toContain(100);
    expect(held).toContain(101);
    expect(box.firstUnacked()).toBe(0);
    const dropped = metrics.counter('citygrid_edge_outbox_dropped_total', '');
    expect(dropped.get({ channel: 'telemetry' })).toBe(2);
    expect(dropped.get({ channel: 'event' })).toBe(0);
    expect(metrics.render()).toContain('citygrid_edge_outbox_dropped_total{channel="telemetry"} 2');
  });

  it('skips telemetry already acknowledged when choosing what to drop', () => {
    const { box } = outbox(100);
    for (let i = 0; i < 100; i++) box.append('telemetry', { readings: [i] });
    box.ack('boot-a', 49);
    for (let i = 0; i < 51; i++) box.append('telemetry', { readings: [i] });
    // 50 held + 51 new = 101: the oldest still held (seq 50) goes, not an acked one.
    expect(box.size()).toBe(100);
    expect(seqs(box.pending())[0]).toBe(51);
  });

  it('drops the oldest event only when nothing but events is held', () => {
    const { box, metrics } = outbox(100);
    for (let i = 0; i < 101; i++) box.append('event', { events: [i] });
    expect(box.size()).toBe(100);
    expect(seqs(box.pending())[0]).toBe(1);
    expect(metrics.counter('citygrid_edge_outbox_dropped_total', '').get({ channel: 'event' })).toBe(1);
  });
});

describe('newBootId', () => {
  it('is unique per start, at most 64 characters, and time-ordered', () => {
    const a = newBootId({ now: () => 1_700_000_000_000 });
    const b = newBootId({ now: () => 1_700_000_000_000 });
    const c = newBootId({ now: () => 1_800_000_000_000 });
    expect(a).not.toBe(b);
    expect(a.length).toBeLessThanOrEqual(64);
    expect(a).toMatch(/^[a-z0-9]+-[0-9a-f]{12}$/);
    expect(c > a).toBe(true);
  });
});
