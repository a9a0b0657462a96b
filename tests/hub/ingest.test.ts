import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../drivers/sdk/log.js';
import { MetricsRegistry } from '../../drivers/sdk/metrics.js';
import type { BrokerLink } from '../../hub/src/broker/link.js';
import { GatewayRegistry } from '../../hub/src/ingest/gateways.js';
import { Ingest } from '../../hub/src/ingest/ingest.js';
import { openWatermarkStore, type WatermarkStore } from '../../hub/src/ingest/watermark-store.js';
import { LiveBus, type LiveReading } from '../../hub/src/live/bus.js';
import type { TelemetryPoint, TelemetryWriter } from '../../hub/src/telemetry/types.js';

/** A writer that holds submissions until the test says they are durable. */
class FakeWriter implements TelemetryWriter {
  readonly submitted: { points: readonly TelemetryPoint[]; onDurable: () => void }[] = [];
  submit(points: readonly TelemetryPoint[], onDurable: () => void): void {
    this.submitted.push({ points, onDurable });
  }
  get pending(): number {
    return this.submitted.length;
  }
  lagMs(): number {
    return 0;
  }
  async drain(): Promise<void> {}
  async close(): Promise<void> {}
  completeAll(): void {
    for (const s of this.submitted.splice(0)) s.onDurable();
  }
}

interface Published {
  topic: string;
  payload: unknown;
  persistedAtSend: number | undefined;
}

const TOPIC = 'cg/v1/xihu/gw-xh-01/telemetry';
const city = { gateways: [{ id: 'gw-xh-01', district: 'xihu' }] };

function telemetry(seq: number, extra: Record<string, unknown> = {}): Buffer {
  return Buffer.from(
    JSON.stringify({
      gateway: 'gw-xh-01',
      bootId: 'boot-a',
      seq,
      readings: [
        { device: 'XH-GP001', kind: 'vehicle', ts: 1_700_000_000_000 + seq, fields: { lat: 30.27, lon: 120.1 } },
      ],
      ...extra,
    }),
  );
}

describe('Ingest', () => {
  let dir: string;
  let store: WatermarkStore;
  let writer: FakeWriter;
  let metrics: MetricsRegistry;
  let published: Published[];
  let readings: LiveReading[];
  let ingest: Ingest;
  let registry: GatewayRegistry;

  const build = () => {
    const link: BrokerLink = {
      mode: 'embedded',
      url: 'mqtt://test',
      subscribe: async () => {},
      publish: async (topic, payload) => {
        const body = JSON.parse(String(payload)) as { bootId: string };
        published.push({ topic, payload: body, persistedAtSend: store.get('gw-xh-01', body.bootId) });
      },
      connected: () => true,
      close: async () => {},
    };
    const bus = new LiveBus(silentLogger());
    bus.on('reading', (r) => readings.push(r));
    registry = new GatewayRegistry(city);
    return new Ingest({
      link,
      writer,
      watermarks: store,
      registry,
      bus,
      log: silentLogger(),
      metrics,
      resolveGrid: () => '330106001001',
      maxPayloadBytes: 2048,
      acceptUnknownGateways: false,
      ackIntervalMs: 5,
    });
  };

  const acks = async () => {
    await new Promise((r) => setTimeout(r, 30));
    return published;
  };

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'cg-ingest-'));
    store = openWatermarkStore(dir);
    writer = new FakeWriter();
    metrics = new MetricsRegistry();
    published = [];
    readings = [];
    ingest = build();
  });

  afterEach(() => {
    ingest.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const rejectedCount = (reason: string, gateway = 'gw-xh-01') =>
    metrics.counter('citygrid_ingest_rejected_total', '').get({ reason, gateway });

  it.each([
    ['too-large', TOPIC, Buffer.alloc(4096, 0x20)],
    ['bad-json', TOPIC, Buffer.from('{"gateway": "gw-xh-01", ')],
    ['bad-envelope', TOPIC, Buffer.from(JSON.stringify({ gateway: 'gw-xh-01', bootId: 'b', seq: -1, readings: [] }))],
    [
      'gateway-mismatch',
      TOPIC,
      Buffer.from(JSON.stringify({ ...JSON.parse(telemetry(0).toString()), gateway: 'gw-xh-02' })),
    ],
    ['unknown-gateway', 'cg/v1/xihu/gw-zz-09/telemetry', telemetry(0)],
    ['bad-topic', 'cg/v1/gongshu/gw-xh-01/telemetry', telemetry(0)],
  ])('rejects %s, counts it, and still accepts the next good message', (reason, topic, payload) => {
    const err = ingest.handle(topic, payload);
    expect(err?.reason).toBe(reason);
    expect(err?.code).toBe('MESSAGE_REJECTED');
    const gateway = topic.split('/')[3] as string;
    expect(rejectedCount(reason, gateway)).toBe(1);
    expect(writer.submitted).toHaveLength(0);
    expect(ingest.handle(TOPIC, telemetry(0))).toBeUndefined();
    expect(writer.submitted).toHaveLength(1);
  });

  it('names the first bad path of an invalid envelope', () => {
    const bad = {
      gateway: 'gw-xh-01',
      bootId: 'b',
      seq: 0,
      readings: [{ device: 'X', kind: 'vehicle', ts: 'soon', fields: {} }],
    };
    expect(ingest.handle(TOPIC, Buffer.from(JSON.stringify(bad)))?.message).toMatch(/^readings\.0\.ts: /);
  });

  it('maps readings to points with district, gateway and grid tags and puts them on the live bus', () => {
    ingest.handle(TOPIC, telemetry(0));
    const points = writer.submitted[0]?.points.map(({ measurement, tags, fields, ts }) => ({
      measurement,
      tags,
      fields,
      ts,
    }));
    expect(points).toEqual([
      {
        measurement: 'vehicle',
        tags: { device: 'XH-GP001', district: 'xihu', gateway: 'gw-xh-01', grid: '330106001001' },
        fields: { lat: 30.27, lon: 120.1, quality: 'good' },
        ts: 1_700_000_000_000,
      },
    ]);
    expect(readings.map((r) => [r.reading.device, r.district, r.gateway, r.grid])).toEqual([
      ['XH-GP001', 'xihu', 'gw-xh-01', '330106001001'],
    ]);
  });

  it('acks only after the writer reports durable, persisting the watermark first', async () => {
    ingest.handle(TOPIC, telemetry(0));
    ingest.handle(TOPIC, telemetry(1));
    expect(await acks()).toEqual([]);
    writer.completeAll();
    const sent = await acks();
    expect(sent).toEqual([
      { topic: 'cg/v1/xihu/gw-xh-01/cmd/ack', payload: { bootId: 'boot-a', seq: 1 }, persistedAtSend: 1 },
    ]);
  });

  it('drops a duplicate without writing it, counts it and re-sends the current ack', async () => {
    ingest.handle(TOPIC, telemetry(0));
    writer.completeAll();
    await acks();
    published.length = 0;
    ingest.handle(TOPIC, telemetry(0));
    expect(writer.submitted).toHaveLength(0);
    expect(metrics.counter('citygrid_ingest_duplicates_total', '').get({ gateway: 'gw-xh-01' })).toBe(1);
    expect((await acks()).map((p) => p.payload)).toEqual([{ bootId: 'boot-a', seq: 0 }]);
  });

  it('counts gaps when a message skips ahead', () => {
    ingest.handle(TOPIC, telemetry(0));
    ingest.handle(TOPIC, telemetry(5));
    expect(metrics.counter('citygrid_ingest_gaps_total', '').get({ gateway: 'gw-xh-01' })).toBe(4);
  });

  it('moves the watermark to firstUnacked - 1 and acks it', async () => {
    ingest.handle(TOPIC, telemetry(7, { firstUnacked: 7 }));
    expect((await acks()).map((p) => p.payload)).toEqual([{ bootId: 'boot-a', seq: 6 }]);
    expect(metrics.counter('citygrid_ingest_gaps_total', '').get({ gateway: 'gw-xh-01' })).toBe(0);
  });

  it('still recognises duplicates after a restart, from the persisted watermark', async () => {
    ingest.handle(TOPIC, telemetry(0));
    ingest.handle(TOPIC, telemetry(1));
    writer.completeAll();
    await acks();
    ingest.close();
    published.length = 0;
    writer = new FakeWriter();
    ingest = build();
    ingest.handle(TOPIC, telemetry(1));
    ingest.handle(TOPIC, telemetry(2));
    expect(writer.submitted).toHaveLength(1);
    expect((await acks()).map((p) => p.payload)).toEqual([{ bootId: 'boot-a', seq: 1 }]);
  });

  it('keeps showing the boot the state message names while an earlier boot is replayed', () => {
    const birth = { gateway: 'gw-xh-01', ts: 1_700_000_000_000, state: 'online', bootId: 'boot-new' };
    ingest.handle('cg/v1/xihu/gw-xh-01/state', Buffer.from(JSON.stringify(birth)));
    ingest.handle(TOPIC, telemetry(7)); // boot-a: the outbox of the boot before this one
    expect(registry.get('gw-xh-01')?.bootId).toBe('boot-new');
    expect(writer.submitted).toHaveLength(1);
  });

  it('tracks gateway state from state messages and rejects a malformed one', async () => {
    const state = (body: Record<string, unknown>) =>
      Buffer.from(JSON.stringify({ gateway: 'gw-xh-01', ts: 1_700_000_000_000, ...body }));
    expect(
      ingest.handle(
        'cg/v1/xihu/gw-xh-01/state',
        state({
          state: 'online',
          bootId: 'boot-a',
          devices: [{ id: 'XH-GP001', kind: 'vehicle', driver: 'nmea-gps' }],
        }),
      ),
    ).toBeUndefined();
    expect(ingest.handle('cg/v1/xihu/gw-xh-01/state', state({ state: 'sleepy' }))?.reason).toBe('bad-envelope');
    ingest.handle(TOPIC, telemetry(0));
    expect(writer.submitted).toHaveLength(1);
    // Message and reading counters are added once per turn of the event loop.
    await new Promise((resolve) => setImmediate(resolve));
    expect(metrics.counter('citygrid_ingest_messages_total', '').get({ channel: 'state' })).toBe(2);
    expect(metrics.counter('citygrid_ingest_messages_total', '').get({ channel: 'telemetry' })).toBe(1);
    expect(metrics.counter('citygrid_ingest_readings_total', '').get()).toBe(1);
  });

  it('stores events as points of the event measurement and acks them only once they are durable', async () => {
    const body = {
      gateway: 'gw-xh-01',
      bootId: 'boot-a',
      seq: 0,
      events: [
        {
          type: 'device.offline',
          severity: 'warning',
          device: 'XH-GP001',
          ts: 1_700_000_000_123,
          data: { reason: 'no data' },
        },
      ],
    };
    expect(ingest.handle('cg/v1/xihu/gw-xh-01/event', Buffer.from(JSON.stringify(body)))).toBeUndefined();
    expect(writer.submitted).toHaveLength(1);
    expect(writer.submitted[0]?.points).toEqual([
      {
        measurement: 'event',
        tags: {
          device: 'XH-GP001',
          district: 'xihu',
          gateway: 'gw-xh-01',
          severity: 'warning',
          type: 'device.offline',
        },
        fields: { data: '{"reason":"no data"}', count: 1 },
        ts: 1_700_000_000_123,
      },
    ]);
    await new Promise((r) => setTimeout(r, 120));
    expect(await acks()).toEqual([]);
    writer.completeAll();
    expect((await acks()).at(-1)?.payload).toEqual({ bootId: 'boot-a', seq: 0 });
  });

  it('accepts events, deduplicates them in the same seq space, and acks them', async () => {
    const event = (seq: number) =>
      Buffer.from(
        JSON.stringify({
          gateway: 'gw-xh-01',
          bootId: 'boot-a',
          seq,
          events: [{ type: 'tamper', severity: 'warning', device: 'XH-WM001', ts: 1_700_000_000_000 }],
        }),
      );
    ingest.handle(TOPIC, telemetry(0));
    expect(ingest.handle('cg/v1/xihu/gw-xh-01/event', event(1))).toBeUndefined();
    ingest.handle('cg/v1/xihu/gw-xh-01/event', event(1));
    expect(metrics.counter('citygrid_ingest_duplicates_total', '').get({ gateway: 'gw-xh-01' })).toBe(1);
    writer.completeAll();
    expect((await acks()).at(-1)?.payload).toEqual({ bootId: 'boot-a', seq: 1 });
  });
});
