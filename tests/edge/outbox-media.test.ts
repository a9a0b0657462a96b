/**
 * Evidence in the durable outbox (a real SQLite file on a temp dir): taken at the group commit,
 * composed one item per message in a lane of its own in the gateway's single seq space, kept
 * across a reopen (a restart after kill -9), deleted only by the hub's ack; and the evidence sink's
 * size limit with its typed refusal and counter.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../drivers/sdk/log.js';
import { decodeMediaPayload, encodeMediaItem, mediaPayload } from '../../drivers/sdk/media-wire.js';
import { MetricsRegistry } from '../../drivers/sdk/metrics.js';
import type { Reading } from '../../drivers/sdk/reading.js';
import { DiskOutbox } from '../../edge/src/disk-outbox.js';
import { evidenceSink } from '../../edge/src/evidence-sink.js';

const dirs: string[] = [];
const boxes: DiskOutbox[] = [];
afterEach(async () => {
  for (const box of boxes.splice(0)) await box.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const T0 = 1_700_000_040_000;
const clock = { now: () => T0 };

function open(dir: string, bootId: string, metrics = new MetricsRegistry(), quota = 50_000_000): DiskOutbox {
  const box = DiskOutbox.open({
    file: path.join(dir, 'outbox.db'),
    bootId,
    clock,
    log: silentLogger(),
    metrics,
    maxReadings: 5,
    maxDelay: 100,
    quota,
    compactWindows: [60_000],
    commitInterval: 5,
  });
  boxes.push(box);
  return box;
}

const reading = (i: number): Reading => ({
  device: 'XH-GP001',
  kind: 'vehicle',
  ts: T0 + i,
  quality: 'good',
  fields: { lat: 30.1, lon: 120.1 },
});

function evidence(bytes: number, commandId = 'cmd-1') {
  return {
    device: 'XH-CAM01',
    kind: 'camera',
    ts: T0,
    mediaType: 'image/jpeg' as const,
    data: randomBytes(bytes),
    thumbnail: randomBytes(100),
    commandId,
  };
}

describe('evidence in the outbox', () => {
  it('composes each item alone, after live telemetry, within mediaSlots, in the same seq space', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cg-outbox-media-'));
    dirs.push(dir);
    const box = open(dir, 'boot-a');
    const a = encodeMediaItem(evidence(200_000, 'a'));
    const b = encodeMediaItem(evidence(300_000, 'b'));
    box.addMedia(a.item, 'XH-CAM01', T0);
    box.addMedia(b.item, 'XH-CAM01', T0);
    for (let i = 0; i < 5; i++) box.addReading(reading(i));
    box.commit();
    expect(box.stats()).toMatchObject({ items: 7, media: 2, live: 5 });
    const first = box.compose({ slots: 10, backlogSlots: 10, mediaSlots: 1 });
    expect(first.map((m) => [m.seq, m.channel, m.lane, m.count])).toEqual([
      [0, 'telemetry', 'live', 5],
      [1, 'media', 'media', 1],
    ]);
    expect(box.compose({ slots: 10, backlogSlots: 10 })).toEqual([]);
    const media = first[1];
    if (!media) throw new Error('no media message');
    const body = box.body(media);
    expect(Buffer.isBuffer(body) && body.equals(a.item)).toBe(true);
    const second = box.compose({ slots: 10, backlogSlots: 10, mediaSlots: 1 });
    expect(second.map((m) => [m.seq, m.channel])).toEqual([[2, 'media']]);
    expect(box.stats().bytes).toBeGreaterThan(500_000);
  });

  it('keeps composed and uncomposed evidence across a reopen, byte for byte, until the ack', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cg-outbox-media-'));
    dirs.push(dir);
    let box = open(dir, 'boot-a');
    const a = encodeMediaItem(evidence(100_000, 'a'));
    const b = encodeMediaItem(evidence(100_000, 'b'));
    box.addMedia(a.item, 'XH-CAM01', T0);
    box.addMedia(b.item, 'XH-CAM01', T0);
    box.commit();
    const [sent] = box.compose({ slots: 1, backlogSlots: 0, mediaSlots: 1 });
    expect(sent?.seq).toBe(0);
    // A restart without close(): what was committed is all there is.
    await box.close();
    boxes.pop();
    box = open(dir, 'boot-b');
    const replay = box.unacked();
    expect(replay.map((m) => [m.bootId, m.seq, m.channel, m.lane])).toEqual([['boot-a', 0, 'media', 'media']]);
    const body = box.body(replay[0] as (typeof replay)[number]) as Buffer;
    const payload = mediaPayload({ v: 1, gateway: 'gw-xh-01', bootId: 'boot-a', seq: 0 }, body);
    expect(
      decodeMediaPayload(payload).data.equals(
        decodeMediaPayload(mediaPayload({ v: 1, gateway: 'g', bootId: 'x', seq: 0 }, a.item)).data,
      ),
    ).toBe(true);
    expect(box.stats().media).toBe(1);
    const [next] = box.compose({ slots: 1, backlogSlots: 0, mediaSlots: 1 });
    expect([next?.bootId, next?.seq]).toEqual(['boot-b', 0]);
    expect(box.ack('boot-a', 0)).toEqual({ messages: 1, items: 1 });
    expect(box.ack('boot-b', 0)).toEqual({ messages: 1, items: 1 });
    expect(box.stats()).toMatchObject({ items: 0, messages: 0, bytes: 0 });
  });

  it('near the quota drops all telemetry before evidence, evidence before events, and reports it as a loss', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cg-outbox-media-'));
    dirs.push(dir);
    const metrics = new MetricsRegistry();
    // 1 MB: five 150 kB items fit; ten do not, even once every reading is gone.
    const box = open(dir, 'boot-a', metrics, 1_000_000);
    box.addEvent({ type: 'camera.motion', severity: 'warning', device: 'XH-CAM01', ts: T0 });
    for (let i = 0; i < 10; i++) box.addMedia(encodeMediaItem(evidence(150_000, `c${i}`)).item, 'XH-CAM01', T0 + i);
    for (let i = 0; i < 200; i++) box.addReading(reading(i * 900_000));
    box.commit();
    const stats = box.stats();
    expect(stats.bytes).toBeLessThanOrEqual(900_000);
    expect(stats.live + stats.backlog).toBe(0);
    expect(stats.events).toBe(1);
    expect(stats.media).toBeGreaterThan(0);
    expect(stats.media).toBeLessThan(10);
    const gone = 10 - stats.media;
    const dropped = (type: string) =>
      metrics.counter('citygrid_edge_outbox_dropped_total', '').get({ device: 'XH-CAM01', type, reason: 'quota' });
    expect(dropped('media')).toBe(gone);
    expect(dropped('event')).toBe(0);
    // The oldest evidence went first: what is left is the newest.
    const left = box
      .compose({ slots: 20, backlogSlots: 0, mediaSlots: 20 })
      .filter((m) => m.channel === 'media')
      .map((m) => decodeMediaPayload(mediaPayload({ v: 1, gateway: 'g', bootId: 'b', seq: 0 }, box.body(m) as Buffer)));
    expect(left.map((d) => d.header.evidence.commandId)).toEqual(
      Array.from({ length: stats.media }, (_, i) => `c${10 - stats.media + i}`),
    );
    expect(box.reportLosses()).toBe(2);
    const losses = box
      .compose({ slots: 20, backlogSlots: 0 })
      .flatMap((m) => JSON.parse(String(box.body(m))) as { device: string; data?: Record<string, unknown> }[]);
    expect(losses.find((e) => e.device === 'XH-CAM01')?.data).toMatchObject({ mediaDropped: gone, dropped: 0 });
    expect(losses.find((e) => e.device === 'XH-GP001')?.data).toMatchObject({ dropped: 200 });
  });

  it('the evidence sink refuses an item above the maximum with a typed error and a counter', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cg-outbox-media-'));
    dirs.push(dir);
    const metrics = new MetricsRegistry();
    const box = open(dir, 'boot-a', metrics);
    const lines: unknown[] = [];
    const log = silentLogger();
    log.warn = ((obj: unknown) => lines.push(obj)) as typeof log.warn;
    const sink = evidenceSink({ outbox: box, maxBytes: 100_000, log, metrics });
    sink(evidence(150_000));
    sink(evidence(50_000));
    // Metadata the hub would refuse (a fractional ts) never enters the outbox: it would never be acked.
    sink({ ...evidence(1000), ts: 1.5 });
    box.commit();
    expect(box.stats().media).toBe(1);
    expect(
      metrics.counter('citygrid_edge_evidence_refused_total', '').get({ device: 'XH-CAM01', reason: 'invalid' }),
    ).toBe(1);
    expect(
      metrics.counter('citygrid_edge_evidence_refused_total', '').get({ device: 'XH-CAM01', reason: 'too-large' }),
    ).toBe(1);
    expect(
      metrics.counter('citygrid_edge_evidence_received_total', '').get({ device: 'XH-CAM01', mediaType: 'image/jpeg' }),
    ).toBe(1);
    expect(lines).toEqual([
      expect.objectContaining({ device: 'XH-CAM01', code: 'evidence-too-large', bytes: 150_100 }),
      expect.objectContaining({ device: 'XH-CAM01', code: 'evidence-invalid' }),
    ]);
  });
});
