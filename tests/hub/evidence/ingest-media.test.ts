/**
 * The ingest's media channel with a real evidence store on a temp dir and an in-memory broker link:
 * the seq is acknowledged only once the store has the item, a re-send is a duplicate, a failed
 * write is not acknowledged and the re-send is taken, and bad frames are refused by reason.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../drivers/sdk/log.js';
import { encodeMediaItem, encodeMediaItems, mediaPayload, sha256Hex } from '../../../drivers/sdk/media-wire.js';
import { MetricsRegistry } from '../../../drivers/sdk/metrics.js';
import type { BrokerLink } from '../../../hub/src/broker/link.js';
import { type EvidenceAccept, evidenceService } from '../../../hub/src/evidence/service.js';
import { EvidenceStore } from '../../../hub/src/evidence/store.js';
import { GatewayRegistry } from '../../../hub/src/ingest/gateways.js';
import { Ingest } from '../../../hub/src/ingest/ingest.js';
import { openWatermarkStore, type WatermarkStore } from '../../../hub/src/ingest/watermark-store.js';
import { LiveBus } from '../../../hub/src/live/bus.js';
import type { TelemetryWriter } from '../../../hub/src/telemetry/types.js';

const TOPIC = 'cg/v1/xihu/gw-xh-01/media';
const writer: TelemetryWriter = {
  submit: () => {},
  pending: 0,
  lagMs: () => 0,
  drain: async () => {},
  close: async () => {},
};

function media(seq: number, data = randomBytes(2000), gateway = 'gw-xh-01'): Buffer {
  const { item } = encodeMediaItem({
    device: 'XH-CAM01',
    kind: 'camera',
    ts: 1_700_000_000_000,
    mediaType: 'image/jpeg',
    data,
    thumbnail: randomBytes(100),
    commandId: `c${seq}`,
  });
  return mediaPayload({ v: 1, gateway, bootId: 'boot-a', seq }, item);
}

describe('Ingest: media', () => {
  let dir: string;
  let watermarks: WatermarkStore;
  let store: EvidenceStore;
  let metrics: MetricsRegistry;
  let acks: number[];
  let ingest: Ingest;
  let failNext: boolean;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'cg-ingest-media-'));
    watermarks = openWatermarkStore(dir);
    store = await EvidenceStore.open(dir);
    metrics = new MetricsRegistry();
    acks = [];
    failNext = false;
    const link: BrokerLink = {
      mode: 'embedded',
      url: 'mqtt://test',
      subscribe: async () => {},
      publish: async (_topic, payload) => {
        acks.push((JSON.parse(String(payload)) as { seq: number }).seq);
      },
      connected: () => true,
      close: async () => {},
    };
    const service = evidenceService({ store, log: silentLogger(), metrics });
    const evidence: EvidenceAccept = async (origin, m) => {
      if (failNext) {
        failNext = false;
        throw new Error('disk on fire');
      }
      return service(origin, m);
    };
    ingest = new Ingest({
      link,
      writer,
      watermarks,
      registry: new GatewayRegistry({ gateways: [{ id: 'gw-xh-01', district: 'xihu' }] }),
      bus: new LiveBus(silentLogger()),
      log: silentLogger(),
      metrics,
      resolveGrid: () => undefined,
      maxPayloadBytes: 100_000,
      acceptUnknownGateways: false,
      ackIntervalMs: 5,
      evidence,
    });
  });

  afterEach(() => {
    ingest.close();
    watermarks.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Waits until `done()` holds (the store write and the ack are asynchronous); fails after 5 s. */
  const until = async (done: () => boolean) => {
    const deadline = Date.now() + 5000;
    while (!done()) {
      if (Date.now() > deadline) throw new Error('timed out waiting for the ingest');
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  /** For what must NOT happen: a moment for a wrong ack to show up, after the awaited step. */
  const settle = () => new Promise((r) => setTimeout(r, 60));
  const count = (name: string, labels = {}) => metrics.counter(name, '').get(labels);

  it('acknowledges a media seq once the store has it, and drops a re-send as a duplicate', async () => {
    const payload = media(0);
    expect(ingest.handle(TOPIC, payload)).toBeUndefined();
    await until(() => acks.length > 0);
    expect(acks).toEqual([0]);
    expect(store.list({ command: 'c0' })).toHaveLength(1);
    ingest.handle(TOPIC, payload);
    await until(() => count('citygrid_ingest_duplicates_total', { gateway: 'gw-xh-01' }) > 0);
    expect(count('citygrid_ingest_duplicates_total', { gateway: 'gw-xh-01' })).toBe(1);
    expect(count('citygrid_hub_evidence_stored_total', { mediaType: 'image/jpeg' })).toBe(1);
  });

  it('does not acknowledge a failed write, and takes the re-send', async () => {
    failNext = true;
    const payload = media(0);
    ingest.handle(TOPIC, payload);
    await until(() => !failNext);
    await settle();
    expect(acks).toEqual([]);
    expect(store.list({})).toHaveLength(0);
    ingest.handle(TOPIC, payload);
    await until(() => acks.length > 0);
    expect(acks).toEqual([0]);
    expect(store.list({})).toHaveLength(1);
  });

  it('stores parts as they come, in any order, acks each, and assembles the whole once all are there', async () => {
    const data = randomBytes(25_000);
    const thumbnail = randomBytes(300);
    const { items } = encodeMediaItems(
      {
        device: 'XH-CAM01',
        kind: 'camera',
        ts: 1_700_000_000_000,
        mediaType: 'video/mp4',
        data,
        thumbnail,
        commandId: 'clip',
      },
      10_000,
    );
    expect(items).toHaveLength(3);
    const payloads = items.map((item, seq) => mediaPayload({ v: 1, gateway: 'gw-xh-01', bootId: 'boot-a', seq }, item));
    ingest.handle(TOPIC, payloads[2] as Buffer);
    ingest.handle(TOPIC, payloads[0] as Buffer);
    await until(() => acks.includes(0));
    await settle();
    expect(store.list({})).toHaveLength(0);
    ingest.handle(TOPIC, payloads[1] as Buffer);
    await until(() => acks.at(-1) === 2 && store.list({ command: 'clip' }).length > 0);
    expect(acks.at(-1)).toBe(2);
    const [record] = store.list({ command: 'clip' });
    expect(record).toMatchObject({ id: sha256Hex(data), size: 25_000, thumbnailId: sha256Hex(thumbnail) });
    expect(readFileSync(store.objectPath(sha256Hex(data))).equals(data)).toBe(true);
    expect(readdirSync(store.partsDir)).toEqual([]);
  });

  it('drops an assembly whose whole does not match its sha256, counted, and still acks the parts', async () => {
    const data = randomBytes(20_000);
    const { items } = encodeMediaItems(
      { device: 'XH-CAM01', kind: 'camera', ts: 1_700_000_000_000, mediaType: 'video/mp4', data },
      10_000,
    );
    // Part 1 replaced by other bytes of the same length, with a header that matches them.
    const other = encodeMediaItems(
      { device: 'XH-CAM01', kind: 'camera', ts: 1_700_000_000_000, mediaType: 'video/mp4', data: randomBytes(20_000) },
      10_000,
    ).items[1] as Buffer;
    const forged = mediaPayload({ v: 1, gateway: 'gw-xh-01', bootId: 'boot-a', seq: 1 }, other);
    const header = JSON.parse(forged.toString('utf8', 8, 8 + forged.readUInt32BE(4))) as Record<string, unknown>;
    header.evidence = (
      JSON.parse(items[0]?.toString('utf8', 8, 8 + (items[0]?.readUInt32BE(4) ?? 0)) ?? '{}') as {
        evidence: unknown;
      }
    ).evidence;
    const json = Buffer.from(JSON.stringify(header));
    const prefix = Buffer.alloc(8);
    prefix.write('CGM1', 0, 'latin1');
    prefix.writeUInt32BE(json.length, 4);
    ingest.handle(TOPIC, mediaPayload({ v: 1, gateway: 'gw-xh-01', bootId: 'boot-a', seq: 0 }, items[0] as Buffer));
    ingest.handle(TOPIC, Buffer.concat([prefix, json, forged.subarray(8 + forged.readUInt32BE(4))]));
    await until(() => acks.at(-1) === 1);
    expect(acks.at(-1)).toBe(1);
    expect(store.list({})).toHaveLength(0);
    expect(count('citygrid_hub_evidence_assembly_failures_total', { gateway: 'gw-xh-01' })).toBe(1);
    expect(readdirSync(store.partsDir)).toEqual([]);
  });

  it('refuses bad frames by reason, and the gateway named in the header must be the topic one', () => {
    const good = media(0);
    const corrupt = Buffer.from(good);
    const at = corrupt.length - 500;
    corrupt[at] = (corrupt[at] ?? 0) ^ 1;
    expect(ingest.handle(TOPIC, Buffer.from('{"not":"media"}'))?.reason).toBe('bad-envelope');
    expect(ingest.handle(TOPIC, corrupt)?.reason).toBe('bad-envelope');
    expect(ingest.handle(TOPIC, good.subarray(0, good.length - 10))?.reason).toBe('bad-envelope');
    expect(ingest.handle(TOPIC, media(1, randomBytes(200_000)))?.reason).toBe('too-large');
    expect(ingest.handle(TOPIC, media(2, randomBytes(100), 'gw-gs-01'))?.reason).toBe('gateway-mismatch');
    const refused = (reason: string) => count('citygrid_hub_evidence_refused_total', { reason });
    expect([
      refused('bad-frame'),
      refused('checksum-mismatch'),
      refused('size-mismatch'),
      refused('too-large'),
      refused('gateway-mismatch'),
    ]).toEqual([1, 1, 1, 1, 1]);
  });
});
