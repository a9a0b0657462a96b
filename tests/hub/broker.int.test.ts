/**
 * The hub's embedded broker against real MQTT.js clients on a loopback port.
 * "gateway client": an MQTT.js client logged in as a gateway; "reader": an integrator account;
 * "hub": startHub() of this process, with the embedded aedes broker on port 0.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHubConfig } from '../../config/load.js';
import { silentLogger } from '../../drivers/sdk/log.js';
import { hashPassword } from '../../hub/src/broker/passwords.js';
import { type RunningHub, startHub } from '../../hub/src/main.js';
import { consoleUserEntry, supervisorFetch, TEST_SUPERVISOR } from '../helpers/console-session.js';

const CITY = `
city: { id: test-city, name: Test }
districts:
  - { id: xihu, name: 西湖区, adminCode: "330106", boundary: [[120.08, 30.22], [120.16, 30.22], [120.16, 30.30], [120.08, 30.30]] }
  - { id: gongshu, name: 拱墅区, adminCode: "330105", boundary: [[120.16, 30.28], [120.22, 30.28], [120.22, 30.34], [120.16, 30.34]] }
gridCells:
  - { id: "330106001001", district: xihu, boundary: [[120.08, 30.26], [120.12, 30.26], [120.12, 30.30], [120.08, 30.30]] }
gateways:
  - { id: gw-xh-01, district: xihu }
  - { id: gw-gs-01, district: gongshu }
`;

const secret = () => randomBytes(12).toString('base64url');
const passwords = { xh: secret(), gs: secret(), reader: secret() };

let dir: string;
let hub: RunningHub;
const clients: MqttClient[] = [];

async function connect(username: string, password: string): Promise<MqttClient> {
  const c = await mqtt.connectAsync(hub.mqttUrl, {
    username,
    password,
    clientId: `${username}-${secret()}`,
    reconnectPeriod: 0,
    protocolVersion: 4,
  });
  clients.push(c);
  return c;
}

function closed(c: MqttClient): Promise<void> {
  return new Promise((resolve) => (c.connected ? c.once('close', () => resolve()) : resolve()));
}

async function metricsText(): Promise<string> {
  return (await fetch(`${hub.httpUrl}/metrics`)).text();
}

function telemetry(seq: number, device = 'XH-GP001'): string {
  return JSON.stringify({
    gateway: 'gw-xh-01',
    bootId: 'boot-int',
    seq,
    firstUnacked: 0,
    readings: [{ device, kind: 'vehicle', ts: Date.now(), fields: { lat: 30.27, lon: 120.1, speed_kmh: 12 } }],
  });
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'cg-hub-int-'));
  writeFileSync(path.join(dir, 'city.yaml'), CITY);
  // One gateway by plain password, one by scrypt hash: both paths of authenticate are live.
  writeFileSync(
    path.join(dir, 'hub.yaml'),
    `hubId: hub-int
city: ./city.yaml
dataDir: ./data
logLevel: silent
mqtt: { mode: embedded, port: 0 }
http: { port: 0 }
accounts:
  gateways:
    - { id: gw-xh-01, password: "${passwords.xh}" }
    - { id: gw-gs-01, passwordHash: "${await hashPassword(passwords.gs)}" }
  readers:
    - { username: integrator, password: "${passwords.reader}" }
console:
  users:
    - ${JSON.stringify(consoleUserEntry(TEST_SUPERVISOR))}
`,
  );
  hub = await startHub(loadHubConfig(path.join(dir, 'hub.yaml')), { logger: silentLogger() });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await hub?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('embedded broker', () => {
  it('refuses a wrong gateway password and counts it in /metrics', async () => {
    await expect(
      mqtt.connectAsync(hub.mqttUrl, {
        username: 'gw-xh-01',
        password: 'wrong',
        reconnectPeriod: 0,
        protocolVersion: 4,
      }),
    ).rejects.toThrow(/Bad username or password/i);
    expect(await metricsText()).toContain('citygrid_mqtt_auth_failures_total{reason="bad-password"} 1');
  });

  it('accepts a gateway whose account holds a scrypt hash', async () => {
    const c = await connect('gw-gs-01', passwords.gs);
    expect(c.connected).toBe(true);
  });

  it('refuses and counts a publish under another gateway prefix; a cg/v1/# reader never sees it', async () => {
    const reader = await connect('integrator', passwords.reader);
    const seen: string[] = [];
    reader.on('message', (topic, payload) => seen.push(`${topic} ${payload.toString()}`));
    await reader.subscribeAsync({ 'cg/v1/#': { qos: 1 } });

    const intruder = await connect('gw-xh-01', passwords.xh);
    const gone = closed(intruder);
    intruder.publish('cg/v1/gongshu/gw-gs-01/telemetry', 'forged', { qos: 1 });
    await gone;
    expect(await metricsText()).toContain(
      'citygrid_mqtt_publish_denied_total{gateway="gw-xh-01",reason="foreign-prefix"} 1',
    );

    // A legitimate message afterwards: once the reader has it, the forged one would have arrived before it.
    const honest = await connect('gw-xh-01', passwords.xh);
    const arrived = new Promise<void>((resolve) =>
      reader.on('message', (topic) => topic.endsWith('gw-xh-01/telemetry') && resolve()),
    );
    await honest.publishAsync('cg/v1/xihu/gw-xh-01/telemetry', telemetry(0), { qos: 1 });
    await arrived;
    expect(seen.some((m) => m.includes('forged'))).toBe(false);
    expect(seen.some((m) => m.startsWith('cg/v1/xihu/gw-xh-01/telemetry'))).toBe(true);
  });

  it('lets a reader subscribe but not publish', async () => {
    const reader = await connect('integrator', passwords.reader);
    await expect(reader.subscribeAsync({ 'cg/v1/+/+/state': { qos: 1 } })).resolves.toBeDefined();
    const gone = closed(reader);
    reader.publish('cg/v1/xihu/gw-xh-01/telemetry', telemetry(99), { qos: 1 });
    await gone;
    expect(await metricsText()).toContain(
      'citygrid_mqtt_publish_denied_total{gateway="integrator",reason="reader-publish"} 1',
    );
  });

  it("refuses a gateway's subscription to another gateway's commands", async () => {
    const gw = await connect('gw-xh-01', passwords.xh);
    await expect(gw.subscribeAsync({ 'cg/v1/gongshu/gw-gs-01/cmd/#': { qos: 1 } })).rejects.toThrow();
    await expect(gw.subscribeAsync({ 'cg/v1/xihu/gw-xh-01/cmd/#': { qos: 1 } })).resolves.toBeDefined();
  });

  it('rejects malformed JSON, counts it, and still ingests and acks the next good message', async () => {
    const gw = await connect('gw-xh-01', passwords.xh);
    const ack = new Promise<{ bootId: string; seq: number }>((resolve) =>
      gw.on('message', (topic, payload) => {
        const body = JSON.parse(payload.toString()) as { bootId: string; seq: number };
        if (topic === 'cg/v1/xihu/gw-xh-01/cmd/ack' && body.seq >= 1) resolve(body);
      }),
    );
    await gw.subscribeAsync({ 'cg/v1/xihu/gw-xh-01/cmd/#': { qos: 1 } });
    await gw.publishAsync('cg/v1/xihu/gw-xh-01/telemetry', '{"gateway": "gw-xh-01", "seq": ', { qos: 1 });
    await gw.publishAsync('cg/v1/xihu/gw-xh-01/telemetry', telemetry(1, 'XH-GP002'), { qos: 1 });
    expect(await ack).toEqual({ bootId: 'boot-int', seq: 1 });
    expect(await metricsText()).toContain('citygrid_ingest_rejected_total{gateway="gw-xh-01",reason="bad-json"} 1');
    const latest = (await (
      await supervisorFetch(`${hub.httpUrl}/api/readings/latest?device=XH-GP002`)
    ).json()) as Record<string, unknown>[];
    expect(latest).toHaveLength(1);
    expect(latest[0]).toMatchObject({
      device: 'XH-GP002',
      kind: 'vehicle',
      district: 'xihu',
      gateway: 'gw-xh-01',
      grid: '330106001001',
    });
  });
});
