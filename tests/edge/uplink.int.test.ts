/**
 * The edge agent against a real aedes broker on a loopback port, with a test-side hub client.
 * Readings come from the test driver over an in-memory transport, so every value is known.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { gatewayConfigSchema } from '../../config/schema/gateway.js';
import { silentLogger } from '../../drivers/sdk/log.js';
import { stateMessageSchema, telemetryEnvelopeSchema } from '../../drivers/sdk/wire.js';
import { type EdgeHandle, startEdge } from '../../edge/src/main.js';
import { sleep, startTestBroker, type TestBroker, TestHub, waitFor } from './mqtt-harness.js';
import { testDeps } from './test-driver.js';

const DISTRICT = 'testd';
const HUB_PASSWORD = 'hub-secret';

interface EdgeUnderTest {
  edge: EdgeHandle;
  dataDir: string;
  gateway: string;
  address: { district: string; gateway: string };
  feed(text: string): void;
}

const running: EdgeUnderTest[] = [];
const dataDirs: string[] = [];

afterAll(() => {
  for (const dir of dataDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function startTestEdge(
  broker: TestBroker,
  gateway: string,
  opts: {
    resendAfter?: string;
    maxReadings?: number;
    password?: string;
    maxInFlight?: number;
    backlogInFlight?: number;
    quota?: string;
    dataDir?: string;
  } = {},
): Promise<EdgeUnderTest> {
  broker.passwords.set(gateway, `pw-${gateway}`);
  const cfg = gatewayConfigSchema.parse({
    gateway: { id: gateway, district: DISTRICT },
    hub: { url: broker.url, password: opts.password ?? `pw-${gateway}`, reconnectPeriod: '100ms' },
    batch: { maxReadings: opts.maxReadings ?? 5, maxDelay: '50ms' },
    delivery: {
      resendAfter: opts.resendAfter ?? '60s',
      maxInFlight: opts.maxInFlight ?? 50,
      ...(opts.backlogInFlight ? { backlogInFlight: opts.backlogInFlight } : {}),
      ...(opts.quota ? { quota: opts.quota } : {}),
    },
    devices: [
      {
        id: `${gateway}-FL1`,
        kind: 'flood',
        driver: 'test-lines',
        asset: 'UNDERPASS-01',
        transport: { type: 'tcp', host: gateway, port: 1 },
      },
    ],
  });
  const deps = testDeps();
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(tmpdir(), `cg-uplink-${gateway}-`));
  if (!dataDirs.includes(dataDir)) dataDirs.push(dataDir);
  const edge = await startEdge(
    { file: 'test.yaml', gateway: cfg, dataDir },
    { ...deps, logger: silentLogger(), drainTimeout: 200 },
  );
  const transport = await waitFor('device transport open', () => {
    const t = deps.transports.get(`${gateway}:1`);
    return t?.isOpen ? t : undefined;
  });
  const under = {
    edge,
    dataDir,
    gateway,
    address: { district: DISTRICT, gateway },
    feed: (text: string) => transport.feed(text),
  };
  running.push(under);
  return under;
}

const lines = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `${from + i}\n`).join('');
const values = (hub: TestHub, gateway: string) =>
  hub.envelopes(gateway).flatMap((e) => (e.readings ?? []).map((r) => r.fields.water_level_cm as number));
const counter = (edge: EdgeHandle, name: string, labels: Record<string, string> = {}) =>
  edge.metrics.counter(name, '').get(labels);

describe('edge uplink over a real aedes broker', () => {
  let broker: TestBroker;
  let hub: TestHub;

  beforeAll(async () => {
    broker = await startTestBroker({ hub: HUB_PASSWORD });
    hub = await TestHub.connect(broker.url, HUB_PASSWORD);
  });

  afterEach(async () => {
    for (const e of running.splice(0)) await e.edge.stop();
  });

  afterAll(async () => {
    await hub.close();
    await broker.close();
  });

  it('(a) publishes a retained birth state with its inventory, and the broker publishes the offline will when the link dies', async () => {
    const { edge, gateway } = await startTestEdge(broker, 'gw-a');
    const online = await waitFor('online state with device online', () =>
      hub
        .uplink(gateway, 'state')
        .find((m) => m.body.state === 'online' && (m.body.devices as { online: boolean }[])?.[0]?.online),
    );
    const state = stateMessageSchema.parse(online.body);
    expect(state).toMatchObject({ gateway, state: 'online', bootId: edge.bootId, v: 1 });
    expect(state.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(state.devices).toEqual([
      { id: 'gw-a-FL1', kind: 'flood', driver: 'test-lines', asset: 'UNDERPASS-01', online: true },
    ]);

    // Retained: a subscriber that arrives later still gets it.
    const late = await TestHub.connect(broker.url, HUB_PASSWORD);
    const retained = await waitFor('retained state', () => late.uplink(gateway, 'state').find((m) => m.retain));
    expect(retained.body.state).toBe('online');
    await late.close();

    const before = hub.uplink(gateway, 'state').length;
    expect(broker.killClient(gateway)).toBe(true);
    const will = await waitFor('offline will', () =>
      hub
        .uplink(gateway, 'state')
        .slice(before)
        .find((m) => m.body.state === 'offline'),
    );
    expect(stateMessageSchema.parse(will.body)).toMatchObject({ gateway, state: 'offline', bootId: edge.bootId });
    // ...and it comes back by itself with a fresh online state.
    await waitFor('online again', () =>
      hub
        .uplink(gateway, 'state')
        .slice(before)
        .find((m) => m.body.state === 'online'),
    );
    await waitFor('connected status', () => edge.status().connected);
  });

  it('(b) sends readings in batches carrying the boot id and consecutive seqs from 0', async () => {
    const { edge, gateway, feed } = await startTestEdge(broker, 'gw-b', { maxReadings: 5 });
    await waitFor('connected', () => edge.status().connected);
    feed(lines(1, 12));
    const envelopes = await waitFor('3 telemetry messages', () => {
      const e = hub.envelopes(gateway);
      return e.length >= 3 ? e : undefined;
    });
    for (const e of envelopes) telemetryEnvelopeSchema.parse(e);
    expect(envelopes.map((e) => e.seq)).toEqual([0, 1, 2]);
    expect(envelopes.map((e) => e.readings?.length)).toEqual([5, 5, 2]);
    expect(envelopes.every((e) => e.bootId === edge.bootId && e.gateway === gateway && e.v === 1)).toBe(true);
    expect(envelopes.every((e) => e.firstUnacked === 0)).toBe(true);
    expect(values(hub, gateway)).toEqual(lines(1, 12).trim().split('\n').map(Number));
    expect(envelopes[0]?.readings?.[0]).toMatchObject({
      device: 'gw-b-FL1',
      kind: 'flood',
      asset: 'UNDERPASS-01',
      quality: 'good',
    });
    expect(counter(edge, 'citygrid_edge_messages_sent_total', { channel: 'telemetry' })).toBe(3);
  });

  it('(c) keeps every message until the hub acks it, resending after resendAfter and on reconnect', async () => {
    const { edge, gateway, address, feed } = await startTestEdge(broker, 'gw-c', {
      resendAfter: '400ms',
      maxReadings: 2,
    });
    await waitFor('connected', () => edge.status().connected);
    feed(lines(1, 6));
    await waitFor('3 messages', () => hub.envelopes(gateway).length >= 3);
    // The broker PUBACKed all three; none is gone before the hub says so.
    await sleep(100);
    expect(edge.status()).toMatchObject({ outboxMessages: 3, outboxDepth: 6 });

    const seen = (seq: number) => hub.envelopes(gateway).filter((e) => e.seq === seq).length;
    await waitFor('resend after resendAfter', () => seen(0) >= 2 && seen(2) >= 2, 3000);
    expect(counter(edge, 'citygrid_edge_messages_resent_total', { channel: 'telemetry' })).toBeGreaterThanOrEqual(3);
    const resent = hub.envelopes(gateway).find((e) => e.seq === 0 && hub.envelopes(gateway).indexOf(e) >= 3);
    expect(resent?.bootId).toBe(edge.bootId);

    await hub.ack(address, edge.bootId, 1);
    await waitFor('seq 0..1 removed', () => edge.status().outboxMessages === 1);
    expect(edge.status().outboxDepth).toBe(2);
    const afterAck = hub.envelopes(gateway).length;
    await sleep(1000);
    const later = hub.envelopes(gateway).slice(afterAck);
    expect(later.length).toBeGreaterThan(0);
    expect(later.every((e) => e.seq === 2 && e.firstUnacked === 2)).toBe(true);

    await hub.ack(address, edge.bootId, 2);
    await waitFor('outbox empty', () => edge.status().outboxDepth === 0);
    const settled = hub.envelopes(gateway).length;
    await sleep(900);
    expect(hub.envelopes(gateway).length).toBe(settled);
    expect(counter(edge, 'citygrid_edge_messages_acked_total')).toBe(3);
  });

  it('(c) resends unacknowledged messages on reconnect, in seq order', async () => {
    const { edge, gateway, address, feed } = await startTestEdge(broker, 'gw-r', {
      resendAfter: '60s',
      maxReadings: 2,
    });
    await waitFor('connected', () => edge.status().connected);
    feed(lines(1, 4));
    await waitFor('2 messages', () => hub.envelopes(gateway).length >= 2);
    await hub.ack(address, edge.bootId, 0);
    await waitFor('seq 0 removed', () => edge.status().outboxMessages === 1);
    const before = hub.envelopes(gateway).length;
    broker.killClient(gateway);
    await waitFor(
      'seq 1 resent after reconnect',
      () =>
        hub
          .envelopes(gateway)
          .slice(before)
          .some((e) => e.seq === 1),
      5000,
    );
    // seq 0 was acknowledged: it is gone for good.
    expect(
      hub
        .envelopes(gateway)
        .slice(before)
        .some((e) => e.seq === 0),
    ).toBe(false);
    expect(edge.status()).toMatchObject({ outboxMessages: 1, outboxDepth: 2 });
  });

  it('keeps at most maxInFlight messages on the wire, sending more as hub acks arrive', async () => {
    const { edge, gateway, address, feed } = await startTestEdge(broker, 'gw-w', { maxReadings: 1, maxInFlight: 2 });
    await waitFor('connected', () => edge.status().connected);
    feed(lines(1, 6));
    await waitFor('2 messages', () => hub.envelopes(gateway).length >= 2);
    await sleep(200);
    expect(hub.envelopes(gateway).map((e) => e.seq)).toEqual([0, 1]);
    expect(edge.status()).toMatchObject({ outboxDepth: 6, inFlight: 2 });
    await hub.ack(address, edge.bootId, 0);
    await waitFor('seq 2 sent', () => hub.envelopes(gateway).some((e) => e.seq === 2));
    await sleep(200);
    expect(hub.envelopes(gateway).map((e) => e.seq)).toEqual([0, 1, 2]);
    await hub.ack(address, edge.bootId, 2);
    await waitFor('seq 3 and 4 sent', () => hub.envelopes(gateway).length === 5);
    expect(hub.envelopes(gateway).map((e) => e.seq)).toEqual([0, 1, 2, 3, 4]);
  });

  it('(e) ignores an ack for a boot id the outbox holds nothing of', async () => {
    const { edge, gateway, address, feed } = await startTestEdge(broker, 'gw-e', { maxReadings: 1 });
    await waitFor('connected', () => edge.status().connected);
    feed(lines(1, 2));
    await waitFor('2 messages', () => hub.envelopes(gateway).length >= 2);
    await hub.ack(address, 'some-older-boot', 100);
    await waitFor(
      'ack counted as ignored',
      () => counter(edge, 'citygrid_edge_acks_ignored_total', { reason: 'unknown-boot' }) === 1,
    );
    expect(edge.status().outboxDepth).toBe(2);
    await hub.ack(address, edge.bootId, 1);
    await waitFor('outbox empty', () => edge.status().outboxDepth === 0);
  });

  it('answers an unknown command with a failed cmd-result', async () => {
    const { edge, gateway, address } = await startTestEdge(broker, 'gw-u');
    await waitFor('connected', () => edge.status().connected);
    await sleep(100); // the command subscription follows the CONNACK
    await hub.client.publishAsync(`cg/v1/${address.district}/${gateway}/cmd/reboot`, JSON.stringify({ id: 'c-1' }), {
      qos: 1,
    });
    const result = await waitFor('cmd-result', () => hub.uplink(gateway, 'cmd-result')[0]);
    expect(result.body).toEqual({ id: 'c-1', name: 'reboot', ok: false, error: 'unknown command' });
  });

  it('keeps retrying a refused login and connects by itself once the broker accepts it', async () => {
    const { edge, gateway } = await startTestEdge(broker, 'gw-p', { password: 'wrong' });
    await sleep(500);
    expect(edge.status().connected).toBe(false);
    broker.passwords.set(gateway, 'wrong');
    await waitFor('connected after the password is accepted', () => edge.status().connected, 5000);
  });
});

describe('edge uplink: durable outbox', () => {
  let broker: TestBroker;
  let hub: TestHub;

  beforeAll(async () => {
    broker = await startTestBroker({ hub: HUB_PASSWORD });
    hub = await TestHub.connect(broker.url, HUB_PASSWORD);
  });

  afterEach(async () => {
    hub.autoAck = false;
    for (const e of running.splice(0)) await e.edge.stop();
  });

  afterAll(async () => {
    await hub.close();
    await broker.close();
  });

  it('after a restart replays the previous boot under its own id, same content, and takes acks of both boots', async () => {
    const first = await startTestEdge(broker, 'gw-f', { maxReadings: 2 });
    await waitFor('connected', () => first.edge.status().connected);
    first.feed(lines(1, 6));
    await waitFor('3 messages', () => hub.envelopes('gw-f').length >= 3);
    await hub.ack(first.address, first.edge.bootId, 0);
    await waitFor('seq 0 acked', () => first.edge.status().outboxMessages === 2);
    await first.edge.stop(); // seq 1 and 2 stay unacknowledged, on disk
    running.splice(running.indexOf(first), 1);
    const before = hub.envelopes('gw-f');

    const second = await startTestEdge(broker, 'gw-f', { maxReadings: 2, dataDir: first.dataDir });
    expect(second.edge.bootId).not.toBe(first.edge.bootId);
    const replayed = await waitFor('old boot replayed', () => {
      const again = hub.envelopes('gw-f').slice(before.length);
      return again.filter((e) => e.bootId === first.edge.bootId).length >= 2 ? again : undefined;
    });
    // The same (bootId, seq) with the same readings: the hub can drop what it already stored.
    for (const seq of [1, 2]) {
      const original = before.find((e) => e.seq === seq && e.bootId === first.edge.bootId);
      const again = replayed.find((e) => e.seq === seq && e.bootId === first.edge.bootId);
      expect(again?.readings).toEqual(original?.readings);
      expect(again?.firstUnacked).toBe(1);
    }
    expect(replayed.some((e) => e.bootId === first.edge.bootId && e.seq === 0)).toBe(false);
    second.feed(lines(7, 8));
    await waitFor('new boot message', () => hub.envelopes('gw-f').some((e) => e.bootId === second.edge.bootId));
    expect(hub.envelopes('gw-f').find((e) => e.bootId === second.edge.bootId)?.seq).toBe(0);

    await hub.ack(second.address, first.edge.bootId, 2);
    await waitFor('old boot acknowledged', () => second.edge.status().outboxDepth === 2);
    expect(counter(second.edge, 'citygrid_edge_acks_ignored_total', { reason: 'unknown-boot' })).toBe(0);
    await hub.ack(second.address, second.edge.bootId, 0);
    await waitFor('outbox empty', () => second.edge.status().outboxDepth === 0);
  });

  it('replays an outage backlog with a bounded number of messages on the wire while live readings go out', async () => {
    const edge = await startTestEdge(broker, 'gw-g', { maxReadings: 10, maxInFlight: 20, backlogInFlight: 2 });
    await waitFor('connected', () => edge.edge.status().connected);
    await sleep(100);
    broker.killClient('gw-g');
    broker.passwords.set('gw-g', 'locked-out'); // keep it out while the backlog builds up
    await waitFor('disconnected', () => !edge.edge.status().connected);
    edge.feed(lines(1, 100));
    await waitFor('backlog taken', () => edge.edge.status().outboxDepth === 100);
    const before = hub.envelopes('gw-g').length;
    broker.passwords.set('gw-g', 'pw-gw-g');
    await waitFor('reconnected', () => edge.edge.status().connected, 5000);
    await waitFor('2 backlog messages', () => hub.envelopes('gw-g').length - before >= 2);
    await sleep(300);
    const backlog = hub.envelopes('gw-g').slice(before);
    // Nobody acks: two backlog messages of maxReadings each, not the whole window.
    expect(backlog.map((e) => e.readings?.length)).toEqual([10, 10]);
    expect(backlog.flatMap((e) => e.readings ?? []).map((r) => r.fields.water_level_cm)).toEqual(
      lines(1, 20).trim().split('\n').map(Number),
    );
    // A live reading is not stuck behind the 80 backlog readings still waiting.
    edge.feed('555\n');
    await waitFor('live reading sent', () =>
      hub
        .envelopes('gw-g')
        .slice(before)
        .some((e) => e.readings?.some((r) => r.fields.water_level_cm === 555)),
    );
    hub.autoAck = true;
    await hub.ack(edge.address, edge.edge.bootId, hub.contiguous(edge.edge.bootId));
    await waitFor('drained', () => edge.edge.status().outboxDepth === 0, 5000);
    const values = [...(hub.stored.get(edge.edge.bootId)?.values() ?? [])]
      .sort((a, b) => a.seq - b.seq)
      .flatMap((e) => (e.readings ?? []).map((r) => r.fields.water_level_cm as number))
      .filter((v) => v !== 555);
    // The backlog arrived complete and in order.
    expect(values).toEqual(lines(1, 100).trim().split('\n').map(Number));
  });

  it('near its quota compacts the oldest telemetry and tells the hub with an outbox.loss event when the link returns', async () => {
    const edge = await startTestEdge(broker, 'gw-h', { maxReadings: 500, quota: '64KiB' });
    await waitFor('connected', () => edge.edge.status().connected);
    await sleep(100);
    broker.killClient('gw-h');
    broker.passwords.set('gw-h', 'locked-out');
    await waitFor('disconnected', () => !edge.edge.status().connected);
    edge.feed(lines(1, 1000));
    await waitFor(
      'all taken',
      () => counter(edge.edge, 'citygrid_edge_outbox_taken_total', { type: 'reading' }) === 1000,
    );
    const compacted = counter(edge.edge, 'citygrid_edge_outbox_compacted_total', { device: 'gw-h-FL1' });
    expect(compacted).toBeGreaterThan(0);
    expect(edge.edge.status().outboxBytes).toBeLessThanOrEqual(65_536);

    hub.autoAck = true;
    broker.passwords.set('gw-h', 'pw-gw-h');
    const loss = await waitFor(
      'loss event',
      () =>
        hub
          .envelopes('gw-h', 'event')
          .flatMap((e) => e.events ?? [])
          .find((e) => e.type === 'outbox.loss'),
      5000,
    );
    expect(loss).toMatchObject({ device: 'gw-h-FL1', severity: 'warning' });
    expect(loss.data).toMatchObject({ device: 'gw-h-FL1', compacted, dropped: 0 });
    await waitFor('drained', () => edge.edge.status().outboxDepth === 0, 5000);
    const readings = hub.envelopes('gw-h').flatMap((e) => e.readings ?? []);
    const samples = readings.reduce(
      (n, r) => n + (r.fields.compacted === true ? (r.fields.sample_count as number) : 1),
      0,
    );
    // Thinned, not lost: every reading is in a raw reading or a summary.
    expect(samples).toBe(1000);
    const summary = readings.find((r) => r.fields.compacted === true);
    expect(summary?.fields).toMatchObject({ window_s: 60, compacted: true });
    expect(summary?.fields).toHaveProperty('water_level_cm_min');
    expect(summary?.fields).toHaveProperty('water_level_cm_mean');
  });
});

describe('edge uplink across a broker restart', () => {
  it('(d) reconnects by itself and delivers every reading produced during the outage', async () => {
    const broker = await startTestBroker({ hub: HUB_PASSWORD });
    const hub = await TestHub.connect(broker.url, HUB_PASSWORD);
    hub.autoAck = true;
    const { edge, gateway, feed } = await startTestEdge(broker, 'gw-d', { resendAfter: '500ms', maxReadings: 3 });
    try {
      await waitFor('connected', () => edge.status().connected);
      feed(lines(1, 6));
      await waitFor(
        'first readings stored and acked',
        () => edge.status().outboxDepth === 0 && values(hub, gateway).length === 6,
      );

      await broker.close();
      await waitFor('edge sees the outage', () => !edge.status().connected);
      feed(lines(7, 20));
      await sleep(300);
      expect(edge.status().outboxDepth).toBeGreaterThan(0);
      expect(edge.status().connected).toBe(false);

      await broker.restart();
      await waitFor('outbox drained after restart', () => edge.status().outboxDepth === 0, 15_000);
      const stored = [...(hub.stored.get(edge.bootId)?.values() ?? [])]
        .sort((a, b) => a.seq - b.seq)
        .flatMap((e) => (e.readings ?? []).map((r) => r.fields.water_level_cm));
      expect(stored).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(hub.contiguous(edge.bootId)).toBe(Math.max(...(hub.stored.get(edge.bootId)?.keys() ?? [])));
      expect(counter(edge, 'citygrid_edge_mqtt_connects_total')).toBeGreaterThanOrEqual(2);
    } finally {
      for (const e of running.splice(0)) await e.edge.stop();
      await hub.close();
      await broker.close();
    }
  });
});
