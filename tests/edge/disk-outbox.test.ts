/**
 * The durable outbox on a temp dir: a real SQLite file, opened, closed and reopened like after a
 * restart. A full disk is simulated by SQLite itself (PRAGMA max_page_count), not by a mock.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../drivers/sdk/log.js';
import { MetricsRegistry } from '../../drivers/sdk/metrics.js';
import type { CityEvent, Reading } from '../../drivers/sdk/reading.js';
import { DiskOutbox, type DiskOutboxOptions } from '../../edge/src/disk-outbox.js';
import type { OutboxMessage } from '../../edge/src/outbox.js';

const dirs: string[] = [];
const boxes: DiskOutbox[] = [];

afterEach(async () => {
  for (const box of boxes.splice(0)) await box.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const T0 = 1_700_000_040_000;

function harness(overrides: Partial<DiskOutboxOptions> = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'cg-outbox-'));
  dirs.push(dir);
  const clock = { t: T0, now: () => clock.t };
  let metrics = new MetricsRegistry();
  const open = (bootId: string, more: Partial<DiskOutboxOptions> = {}) => {
    metrics = new MetricsRegistry();
    const box = DiskOutbox.open({
      file: path.join(dir, 'outbox.db'),
      bootId,
      clock,
      log: silentLogger(),
      metrics,
      maxReadings: 5,
      maxDelay: 100,
      quota: 50_000_000,
      compactWindows: [60_000, 900_000],
      commitInterval: 5,
      ...overrides,
      ...more,
    });
    boxes.push(box);
    return box;
  };
  const reopen = async (box: DiskOutbox, bootId: string, more: Partial<DiskOutboxOptions> = {}) => {
    await box.close();
    boxes.splice(boxes.indexOf(box), 1);
    return open(bootId, more);
  };
  return {
    dir,
    clock,
    open,
    reopen,
    counter: (name: string, labels = {}) => metrics.counter(name, '').get(labels),
    render: () => metrics.render(),
  };
}

const reading = (i: number, device = 'XH-GP001'): Reading => ({
  device,
  kind: 'vehicle',
  ts: T0 + i * 1000,
  fields: { lat: 30 + i / 1000, lon: 120.1, speed_kmh: 20 + (i % 7), heading_deg: 90, satellites: 9, hdop: 0.9 },
  quality: 'good',
});
const event = (i: number, device = 'XH-GP001'): CityEvent => ({
  type: 'gps.fix_lost',
  severity: 'warning',
  device,
  ts: T0 + i * 1000,
});

const ALL = { slots: 1000, backlogSlots: 1000, flushLive: true };
const contents = (box: DiskOutbox, m: OutboxMessage) =>
  JSON.parse(String(box.body(m) ?? 'null')) as (Reading | CityEvent)[];
const tsOf = (box: DiskOutbox, messages: OutboxMessage[]) => messages.flatMap((m) => contents(box, m).map((x) => x.ts));

describe('DiskOutbox', () => {
  it('takes items only at the group commit, and composes events first, then telemetry, in one seq space from 0', () => {
    const { open } = harness();
    const box = open('boot-a');
    for (let i = 0; i < 12; i++) box.addReading(reading(i));
    box.addEvent(event(100));
    expect(box.stats().items).toBe(0);
    box.commit();
    expect(box.stats()).toMatchObject({ items: 13, live: 12, events: 1, messages: 0 });
    const messages = box.compose({ slots: 10, backlogSlots: 10 });
    // Live telemetry leaves in full batches; the two left wait for maxDelay.
    expect(messages.map((m) => [m.seq, m.channel, m.lane, m.count])).toEqual([
      [0, 'event', 'event', 1],
      [1, 'telemetry', 'live', 5],
      [2, 'telemetry', 'live', 5],
    ]);
    expect(messages.every((m) => m.bootId === 'boot-a')).toBe(true);
    expect(contents(box, messages[0] as OutboxMessage)).toEqual([event(100)]);
    expect(contents(box, messages[1] as OutboxMessage)).toEqual([0, 1, 2, 3, 4].map((i) => reading(i)));
    expect(box.liveDueAt()).toBe(T0 + 100);
    expect(box.compose({ slots: 10, backlogSlots: 10 })).toEqual([]);
  });

  it('sends a live batch that is not full once its oldest reading waited maxDelay', () => {
    const { open, clock } = harness();
    const box = open('boot-a');
    box.addReading(reading(0));
    box.commit();
    clock.t += 99;
    expect(box.compose({ slots: 10, backlogSlots: 10 })).toEqual([]);
    clock.t += 1;
    expect(box.compose({ slots: 10, backlogSlots: 10 }).map((m) => m.count)).toEqual([1]);
    expect(box.liveDueAt()).toBeUndefined();
  });

  it('deletes only what the ack covers, and numbers on after it', () => {
    const { open } = harness();
    const box = open('boot-a');
    for (let i = 0; i < 15; i++) box.addReading(reading(i));
    box.commit();
    box.compose(ALL);
    expect(box.firstUnacked('boot-a')).toBe(0);
    expect(box.ack('boot-a', 1)).toEqual({ messages: 2, items: 10 });
    expect(box.unacked().map((m) => m.seq)).toEqual([2]);
    expect(box.firstUnacked('boot-a')).toBe(2);
    expect(box.ack('boot-a', 1)).toEqual({ messages: 0, items: 0 });
    expect(box.ack('boot-b', 9)).toEqual({ messages: 0, items: 0 });
    expect(box.ack('boot-a', 2)).toEqual({ messages: 1, items: 5 });
    expect(box.stats()).toMatchObject({ items: 0, messages: 0 });
    expect(box.firstUnacked('boot-a')).toBe(3);
    box.addEvent(event(0));
    box.commit();
    expect(box.compose(ALL).map((m) => m.seq)).toEqual([3]);
  });

  it('after a restart replays the earlier boot under its own id with the same content, and takes its acks', async () => {
    const { open, reopen } = harness();
    let box = open('boot-a');
    for (let i = 0; i < 10; i++) box.addReading(reading(i));
    box.commit();
    const sent = box.compose(ALL);
    const bodies = sent.map((m) => box.body(m));
    box.ack('boot-a', 0);
    for (let i = 10; i < 13; i++) box.addReading(reading(i)); // taken, never composed
    box.addEvent(event(13));
    box.commit();

    box = await reopen(box, 'boot-b');
    expect(box.holdsBoot('boot-a')).toBe(true);
    expect(box.holdsBoot('boot-zzz')).toBe(false);
    const replay = box.unacked();
    expect(replay.map((m) => [m.bootId, m.seq])).toEqual([['boot-a', 1]]);
    expect(box.body(replay[0] as OutboxMessage)).toBe(bodies[1]);
    expect(box.firstUnacked('boot-a')).toBe(1);
    // What was taken but never composed is backlog of the new boot, numbered from 0; the event goes first.
    expect(box.stats()).toMatchObject({ backlog: 3, events: 1, live: 0, items: 9 });
    const fresh = box.compose({ slots: 10, backlogSlots: 10 });
    expect(fresh.map((m) => [m.bootId, m.seq, m.lane, m.count])).toEqual([
      ['boot-b', 0, 'event', 1],
      ['boot-b', 1, 'backlog', 3],
    ]);
    expect(tsOf(box, fresh.slice(1))).toEqual([10, 11, 12].map((i) => reading(i).ts));
    expect(box.ack('boot-a', 1)).toEqual({ messages: 1, items: 5 });
    expect(box.holdsBoot('boot-a')).toBe(false);

    // A third boot: nothing of boot-a is left, boot-b's unacked messages are replayed.
    box = await reopen(box, 'boot-c');
    expect(box.unacked().map((m) => [m.bootId, m.seq])).toEqual([
      ['boot-b', 0],
      ['boot-b', 1],
    ]);
    expect(box.holdsBoot('boot-a')).toBe(false);
  });

  it('marks what was taken before the link came up as backlog, composed oldest first in large messages', () => {
    const { open, clock } = harness({ maxReadings: 50 });
    const box = open('boot-a');
    for (let i = 0; i < 120; i++) box.addReading(reading(i));
    box.commit();
    box.markBacklog(); // the link came up
    clock.t += 1000;
    box.addReading(reading(1000)); // live
    box.addEvent(event(1001));
    box.commit();
    expect(box.stats()).toMatchObject({ backlog: 120, live: 1, events: 1 });
    // No backlog slot: events and live only.
    const first = box.compose({ slots: 10, backlogSlots: 0, flushLive: true });
    expect(first.map((m) => [m.lane, m.count])).toEqual([
      ['event', 1],
      ['live', 1],
    ]);
    const backlog = box.compose({ slots: 10, backlogSlots: 2 });
    expect(backlog.map((m) => [m.lane, m.count])).toEqual([
      ['backlog', 50],
      ['backlog', 50],
    ]);
    expect(tsOf(box, backlog)).toEqual(Array.from({ length: 100 }, (_, i) => reading(i).ts));
    expect(box.compose({ slots: 10, backlogSlots: 10 }).map((m) => m.count)).toEqual([20]);
  });

  it('near the quota compacts the oldest telemetry first, keeps events, and reports the loss per device', async () => {
    const { open, reopen, counter } = harness({ quota: 120_000, maxReadings: 500 });
    let box = open('boot-a');
    box.addEvent(event(0));
    for (let i = 0; i < 400; i++) {
      box.addReading(reading(i, 'XH-GP001'));
      box.addReading(reading(i, 'XH-GP002'));
    }
    box.commit();
    const stats = box.stats();
    expect(stats.bytes).toBeLessThanOrEqual(120_000 * 0.9);
    expect(stats.events).toBe(1);
    const compacted = counter('citygrid_edge_outbox_compacted_total', { device: 'XH-GP001' });
    expect(compacted).toBeGreaterThan(0);
    expect(
      counter('citygrid_edge_outbox_dropped_total', { device: 'XH-GP001', type: 'reading', reason: 'quota' }),
    ).toBe(0);
    const messages = box.compose(ALL);
    const items = messages.flatMap((m) => contents(box, m));
    const readings = items.filter((x): x is Reading => 'fields' in x);
    // Every sample is still accounted for: raw ones count 1, compacted ones their sample_count.
    for (const device of ['XH-GP001', 'XH-GP002']) {
      const mine = readings.filter((r) => r.device === device);
      const samples = mine.reduce(
        (n, r) => n + (r.fields.compacted === true ? (r.fields.sample_count as number) : 1),
        0,
      );
      expect(samples).toBe(400);
      // Oldest first: the compacted ones come before the raw ones still held.
      const firstRaw = mine.findIndex((r) => r.fields.compacted !== true);
      expect(mine.slice(firstRaw).every((r) => r.fields.compacted !== true)).toBe(true);
      expect(mine[0]?.fields).toMatchObject({ compacted: true, window_s: 60 });
      expect(mine[0]?.quality).toBe('uncertain');
    }
    // The event survived, then loss events: one per device, with the counts and the time span;
    // the record of the thinning survives a restart until it is reported.
    box = await reopen(box, 'boot-b');
    expect(box.reportLosses()).toBe(2);
    const losses = box
      .compose(ALL)
      .flatMap((m) => contents(box, m))
      .filter((x): x is CityEvent => 'type' in x && x.type === 'outbox.loss');
    expect(losses.map((e) => e.device).sort()).toEqual(['XH-GP001', 'XH-GP002']);
    const mine = losses.find((e) => e.device === 'XH-GP001');
    expect(mine?.data).toMatchObject({ device: 'XH-GP001', compacted, dropped: 0, from: T0 });
    expect(mine?.data?.to as number).toBeGreaterThan(T0);
    expect(box.reportLosses()).toBe(0);
  });

  it('drops the oldest telemetry only when compaction cannot make room, and events only after all telemetry', () => {
    // One reading per device and 15 minutes: nothing to compact together.
    const { open, counter } = harness({ quota: 70_000, maxReadings: 1000 });
    const box = open('boot-a');
    for (let i = 0; i < 20; i++) box.addEvent(event(i, 'XH-GP009'));
    for (let i = 0; i < 300; i++) box.addReading(reading(i * 900, `D${i}`));
    box.commit();
    expect(box.stats().bytes).toBeLessThanOrEqual(70_000 * 0.9);
    expect(box.stats().events).toBe(20);
    const dropped = Array.from({ length: 300 }, (_, i) =>
      counter('citygrid_edge_outbox_dropped_total', { device: `D${i}`, type: 'reading', reason: 'quota' }),
    );
    // The oldest went, the newest stayed.
    expect(dropped[0]).toBe(1);
    expect(dropped[299]).toBe(0);
    const firstKept = dropped.indexOf(0);
    expect(dropped.slice(firstKept).every((n) => n === 0)).toBe(true);
    expect(counter('citygrid_edge_outbox_compacted_total', { device: 'D0' })).toBe(0);

    // Only events left to hold: the oldest events go, counted as such.
    for (let i = 0; i < 400; i++) box.addEvent(event(1000 + i, 'XH-GP009'));
    box.commit();
    expect(box.stats().backlog + box.stats().live).toBe(0);
    expect(counter('citygrid_edge_outbox_dropped_total', { device: 'XH-GP009', type: 'event', reason: 'quota' })).toBe(
      420 - box.stats().events,
    );
    const kept = box.compose(ALL).flatMap((m) => contents(box, m));
    expect(kept.at(-1)?.ts).toBe(event(1399).ts);
  });

  it('a full disk never throws: it makes room by the policy, and what cannot be stored is counted and reported', () => {
    const { open, counter, render } = harness({ maxPages: 40, quota: 50_000_000 });
    const box = open('boot-a');
    for (let i = 0; i < 50; i++) box.addReading(reading(i));
    box.commit();
    expect(box.stats().live).toBe(50);
    // Far more than 40 pages of 4 KiB can hold.
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 200; i++) box.addReading(reading(100 + round * 200 + i));
      expect(() => box.commit()).not.toThrow();
    }
    expect(counter('citygrid_edge_outbox_write_failures_total', { reason: 'disk-full' })).toBeGreaterThan(0);
    // The quota the policy aims at came down to what the disk holds, and compaction made the room.
    const quota = Number(/^citygrid_edge_outbox_quota_bytes (\d+)$/m.exec(render())?.[1]);
    expect(quota).toBeLessThan(40 * 4096);
    expect(counter('citygrid_edge_outbox_compacted_total', { device: 'XH-GP001' })).toBeGreaterThan(0);
    const before = box.stats();

    // A batch larger than the whole disk: refused even after making room; the agent goes on.
    for (let i = 0; i < 1500; i++) box.addReading(reading(5000 + i));
    expect(() => box.commit()).not.toThrow();
    const refused = counter('citygrid_edge_outbox_dropped_total', {
      device: 'XH-GP001',
      type: 'reading',
      reason: 'disk-full',
    });
    expect(refused).toBe(1500);
    expect(box.stats().items).toBeGreaterThan(0);
    expect(box.stats().items).toBeLessThanOrEqual(before.items);

    const held = box.compose(ALL).flatMap((m) => contents(box, m)) as Reading[];
    const samples = held.reduce((n, r) => n + (r.fields.compacted === true ? (r.fields.sample_count as number) : 1), 0);
    const dropped = counter('citygrid_edge_outbox_dropped_total', {
      device: 'XH-GP001',
      type: 'reading',
      reason: 'quota',
    });
    // Every reading offered is held (raw or in a summary), refused by the disk, or dropped by the policy.
    expect(samples + refused + dropped).toBe(50 + 2000 + 1500);
    // The refusal reaches the hub as a loss event, with the refused readings' time span.
    expect(box.reportLosses()).toBe(1);
    const [loss] = box.compose(ALL).flatMap((m) => contents(box, m)) as CityEvent[];
    expect(loss?.type).toBe('outbox.loss');
    expect(loss?.data).toMatchObject({ device: 'XH-GP001', to: reading(6499).ts });
    expect(loss?.data?.dropped as number).toBeGreaterThanOrEqual(1500);
  });
});
