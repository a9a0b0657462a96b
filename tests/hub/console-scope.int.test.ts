/**
 * What each console role sees, against a real hub (startHub in this process, the example city,
 * the embedded broker, gateways publishing over MQTT): cases of another district or unit are
 * absent from lists and 404 on detail and transitions; devices, gateways and readings are held
 * to the commander's district; /api/stream carries only the session's scope.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHubConfig } from '../../config/load.js';
import { silentLogger } from '../../drivers/sdk/log.js';
import { type RunningHub, startHub } from '../../hub/src/main.js';
import { eventually } from '../helpers/cli-process.js';
import { consoleLogin, TEST_SUPERVISOR, type TestConsoleUser, testUser } from '../helpers/console-session.js';
import { type JsonApi, jsonApi } from '../helpers/json-api.js';
import { type FollowedStream, followStream } from '../helpers/sse-follow.js';
import { writeHubConfig } from '../helpers/system-configs.js';

const dir = mkdtempSync(path.join(tmpdir(), 'cg-console-scope-'));
const xihu = testUser('xihu-commander', 'district_commander', { district: 'xihu' });
const gongshu = testUser('gongshu-commander', 'district_commander', { district: 'gongshu' });
const handler = testUser('beishan-handler', 'unit_handler', { unit: 'beishan-street' });
const pw = { xh: randomBytes(9).toString('hex'), gs: randomBytes(9).toString('hex') };
let hub: RunningHub;
const clients: MqttClient[] = [];
const as = new Map<TestConsoleUser, JsonApi>();
const api = (u: TestConsoleUser) => as.get(u) as JsonApi;
const streams = new Map<TestConsoleUser, FollowedStream>();
let seq = 0;

type Case = { id: string; district: string; unit?: string; state: string };

async function publish(gateway: 'gw-xh-01' | 'gw-gs-01', device: string): Promise<void> {
  const district = gateway === 'gw-xh-01' ? 'xihu' : 'gongshu';
  const c = await mqtt.connectAsync(hub.mqttUrl, {
    username: gateway,
    password: gateway === 'gw-xh-01' ? pw.xh : pw.gs,
    clientId: `${gateway}-${++seq}`,
    reconnectPeriod: 0,
  });
  clients.push(c);
  const body = {
    gateway,
    bootId: `boot-${seq}`,
    seq: 1,
    firstUnacked: 0,
    readings: [{ device, kind: 'vehicle', ts: Date.now(), fields: { lat: 30.27, lon: 120.1, speed_kmh: 12 } }],
  };
  await c.publishAsync(`cg/v1/${district}/${gateway}/telemetry`, JSON.stringify(body), { qos: 1 });
}

beforeAll(async () => {
  writeHubConfig(dir, {
    hubId: 'hub-scope',
    mqtt: { mode: 'embedded', host: '127.0.0.1', port: 0 },
    httpPort: 0,
    gateways: { 'gw-xh-01': pw.xh, 'gw-gs-01': pw.gs },
    consoleUsers: [TEST_SUPERVISOR, xihu, gongshu, handler],
  });
  hub = await startHub(loadHubConfig(path.join(dir, 'hub.yaml')), { logger: silentLogger() });
  for (const u of [TEST_SUPERVISOR, xihu, gongshu, handler]) {
    as.set(
      u,
      jsonApi(() => hub.httpUrl, u),
    );
    streams.set(
      u,
      await followStream(`${hub.httpUrl}/api/stream`, { headers: { cookie: await consoleLogin(hub.httpUrl, u) } }),
    );
  }
}, 30_000);

afterAll(async () => {
  for (const s of streams.values()) s.stop();
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await hub?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('scope by role', () => {
  let xhCase: Case;
  let gsCase: Case;

  it('holds cases to the district of a commander and to the unit a case was dispatched to', async () => {
    const report = (u: TestConsoleUser, asset: string) =>
      api(u)<{ case: Case }>('POST', '/api/reports', { text: '积水', category: 'event:0406', asset });
    xhCase = (await report(xihu, 'UP-XH-001')).body.case;
    gsCase = (await report(TEST_SUPERVISOR, 'UP-GS-001')).body.case;
    expect([xhCase.district, gsCase.district]).toEqual(['xihu', 'gongshu']);
    // A commander reports only inside their district.
    expect(await report(xihu, 'UP-GS-001')).toMatchObject({ status: 403, body: { error: 'forbidden' } });

    const ids = async (u: TestConsoleUser, q = '') =>
      (await api(u)<{ items: Case[] }>('GET', `/api/cases${q}`)).body.items.map((c) => c.id).sort();
    expect(await ids(TEST_SUPERVISOR)).toEqual([xhCase.id, gsCase.id].sort());
    expect(await ids(xihu)).toEqual([xhCase.id]);
    expect(await ids(xihu, '?district=gongshu')).toEqual([]);
    expect(await ids(gongshu)).toEqual([gsCase.id]);
    // Proposed to beishan-street, not yet dispatched: not the handler's yet.
    expect(await ids(handler)).toEqual([]);
    expect((await api(handler)('GET', `/api/cases/${xhCase.id}`)).status).toBe(404);

    for (const action of ['accept', 'file']) {
      const r = await api(TEST_SUPERVISOR)<Case>('POST', `/api/cases/${xhCase.id}/transitions`, { action });
      expect(r.status, action).toBe(200);
    }
    // Another district's commander cannot see, let alone dispatch, the case: 404, as if it did not exist.
    expect(await api(gongshu)('GET', `/api/cases/${xhCase.id}`)).toMatchObject({
      status: 404,
      body: { error: 'unknown-case' },
    });
    const foreign = await api(gongshu)('POST', `/api/cases/${xhCase.id}/transitions`, { action: 'dispatch' });
    expect(foreign.status).toBe(404);
    const dispatched = await api(xihu)<Case>('POST', `/api/cases/${xhCase.id}/transitions`, { action: 'dispatch' });
    expect(dispatched.body).toMatchObject({ state: 'dispatched', unit: 'beishan-street' });

    expect(await ids(handler)).toEqual([xhCase.id]);
    expect((await api(handler)('GET', `/api/cases/${xhCase.id}`)).status).toBe(200);
    expect((await api(handler)('GET', `/api/cases/${gsCase.id}`)).status).toBe(404);
    expect((await api(handler)('POST', `/api/cases/${gsCase.id}/transitions`, { action: 'start' })).status).toBe(404);
    const started = await api(handler)<Case>('POST', `/api/cases/${xhCase.id}/transitions`, { action: 'start' });
    expect(started.body).toMatchObject({ state: 'processing' });
  });

  it('holds devices, gateways, readings and city assets to the commander’s district', async () => {
    await publish('gw-xh-01', 'XH-GP001');
    await publish('gw-gs-01', 'GS-GP001');
    await eventually(async () => {
      const all = (await api(TEST_SUPERVISOR)<{ device: string }[]>('GET', '/api/readings/latest')).body;
      return all.length === 2 ? all : undefined;
    }, 10_000);
    const latest = (u: TestConsoleUser, q = '') =>
      api(u)<{ device: string }[]>('GET', `/api/readings/latest${q}`).then((r) => r.body.map((x) => x.device));
    expect(await latest(xihu)).toEqual(['XH-GP001']);
    expect(await latest(xihu, '?district=gongshu')).toEqual([]);
    expect(await latest(gongshu)).toEqual(['GS-GP001']);
    const named = (u: TestConsoleUser, p: string) =>
      api(u)<{ id: string; district: string }[]>('GET', p).then((r) => [...new Set(r.body.map((x) => x.district))]);
    expect(await named(xihu, '/api/devices')).toEqual(['xihu']);
    expect(await named(xihu, '/api/gateways')).toEqual(['xihu']);
    expect((await named(TEST_SUPERVISOR, '/api/gateways')).sort()).toEqual(['gongshu', 'xihu']);
    const city = (await api(xihu)<{ assets: { district: string }[] }>('GET', '/api/city')).body;
    expect(new Set(city.assets.map((a) => a.district))).toEqual(new Set(['xihu']));
    const handlerCity = (await api(handler)<{ assets: { id: string }[] }>('GET', '/api/city')).body;
    expect(handlerCity.assets.map((a) => a.id)).toEqual(['UP-XH-001']);
    // A unit handler has no device, gateway or reading views.
    expect((await api(handler)('GET', '/api/readings/latest')).status).toBe(403);
  });

  it('serves telemetry history and rule limits for charts, within the scope', async () => {
    const series = await eventually(async () => {
      const r = await api(xihu)<{ points: [number, number][]; kind: string }>(
        'GET',
        `/api/telemetry?device=XH-GP001&field=speed_kmh&from=${Date.now() - 3_600_000}&maxPoints=100`,
      );
      return r.body.points?.length ? r.body : undefined;
    }, 10_000);
    expect(series).toMatchObject({ kind: 'vehicle', points: [[expect.any(Number), 12]] });
    expect((await api(gongshu)('GET', '/api/telemetry?device=XH-GP001&field=speed_kmh')).status).toBe(404);
    expect((await api(xihu)('GET', '/api/telemetry?device=XH-GP001')).status).toBe(400);
    const rules = (
      await api(xihu)<{
        profile: string;
        rules: { id: string; field: string; levels: { normal: { at: number }[] } }[];
      }>('GET', '/api/rules?asset=UP-XH-001')
    ).body;
    expect(rules.profile).toBe('normal');
    const waterlogging = rules.rules.find((r) => r.id === 'underpass-waterlogging');
    expect(waterlogging?.field).toBe('water_level_cm');
    expect(waterlogging?.levels.normal.length).toBeGreaterThan(0);
    expect((await api(gongshu)('GET', '/api/rules?asset=UP-XH-001')).status).toBe(404);
  });

  it('colours assets by their worst open case, within the scope', async () => {
    const status = async (u: TestConsoleUser) =>
      (await api(u)<{ asset: string; openCases: number; worstUrgency: string }[]>('GET', '/api/assets/status')).body;
    expect((await status(TEST_SUPERVISOR)).map((a) => a.asset).sort()).toEqual(['UP-GS-001', 'UP-XH-001']);
    expect((await status(xihu)).map((a) => a.asset)).toEqual(['UP-XH-001']);
    expect((await status(gongshu)).map((a) => a.asset)).toEqual(['UP-GS-001']);
    expect(await status(handler)).toEqual([expect.objectContaining({ asset: 'UP-XH-001', openCases: 1 })]);
    const gateways = (await api(xihu)<{ id: string; devicesOffline: number }[]>('GET', '/api/gateways')).body;
    expect(gateways).toEqual([expect.objectContaining({ id: 'gw-xh-01', devicesOffline: expect.any(Number) })]);
  });

  it('filters the event stream per session: readings and cases of the scope only', async () => {
    const seen = (u: TestConsoleUser, event: string) =>
      (streams.get(u) as FollowedStream).events.filter((e) => e.event === event).map((e) => e.data);
    await eventually(
      async () => (seen(TEST_SUPERVISOR, 'reading').length >= 2 ? true : undefined),
      10_000,
      'readings on the stream',
    );
    const devicesOf = (u: TestConsoleUser) => [...new Set(seen(u, 'reading').map((r) => r.device))].sort();
    expect(devicesOf(TEST_SUPERVISOR)).toEqual(['GS-GP001', 'XH-GP001']);
    expect(devicesOf(xihu)).toEqual(['XH-GP001']);
    expect(devicesOf(gongshu)).toEqual(['GS-GP001']);
    expect(devicesOf(handler)).toEqual([]);
    const casesOf = (u: TestConsoleUser) => [...new Set(seen(u, 'case').map((c) => c.id))].sort();
    expect(casesOf(TEST_SUPERVISOR)).toEqual([xhCase.id, gsCase.id].sort());
    expect(casesOf(xihu)).toEqual([xhCase.id]);
    expect(casesOf(gongshu)).toEqual([gsCase.id]);
    // The handler's stream starts carrying the case at its dispatch to the unit.
    expect(casesOf(handler)).toEqual([xhCase.id]);
    expect(seen(handler, 'case').map((c) => c.effect)).toEqual(['dispatch', 'start']);
    const gateways = (u: TestConsoleUser) => [...new Set(seen(u, 'gateway').map((g) => g.district))];
    expect(gateways(xihu).every((d) => d === 'xihu')).toBe(true);
  });

  it('draws the limits in force where an incident holds: flood in its district, normal elsewhere', async () => {
    const inForce = async (asset: string) =>
      (
        await api(TEST_SUPERVISOR)<{ rules: { id: string; inForce: string }[] }>('GET', `/api/rules?asset=${asset}`)
      ).body.rules.find((r) => r.id === 'underpass-waterlogging')?.inForce;
    expect(await inForce('UP-XH-001')).toBe('normal');
    const opened = await api(TEST_SUPERVISOR)<{ id: string }>('POST', '/api/incidents', {
      type: 'flood',
      scope: { districts: ['xihu'] },
      level: 'IV',
      reason: 'limits in force',
    });
    expect(opened.status).toBe(201);
    expect(await inForce('UP-XH-001')).toBe('flood');
    expect(await inForce('UP-GS-001')).toBe('normal');
    const closed = await api(TEST_SUPERVISOR)('POST', `/api/incidents/${opened.body.id}/close`, { reason: 'done' });
    expect(closed.status).toBe(200);
    expect(await inForce('UP-XH-001')).toBe('normal');
  });
});
