/**
 * Incidents as the hub runs them (incidents/hub-incidents.ts) on a real cases.db with the example
 * city's rules: sample-interval commands to the gateways in scope only (a fake broker link records
 * them), the flood profile in scope only, new cases linked to the incident, re-sending to a gateway
 * born again, proposals from trigger rules, closures from readings on the live bus.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LoadedHubConfig } from '../../../config/load.js';
import { incidentsConfigSchema } from '../../../config/schema/incidents.js';
import { silentLogger } from '../../../drivers/sdk/log.js';
import { MetricsRegistry } from '../../../drivers/sdk/metrics.js';
import type { Reading } from '../../../drivers/sdk/reading.js';
import type { BrokerLink, MessageHandler } from '../../../hub/src/broker/link.js';
import { HubCases } from '../../../hub/src/cases/hub-cases.js';
import { handleIncidentRoute, type Operator } from '../../../hub/src/http/incident-routes.js';
import { HubIncidents } from '../../../hub/src/incidents/hub-incidents.js';
import { IncidentError } from '../../../hub/src/incidents/model.js';
import { GatewayRegistry } from '../../../hub/src/ingest/gateways.js';
import { LiveBus, type LiveEventMap } from '../../../hub/src/live/bus.js';
import { LatestValueCache } from '../../../hub/src/live/latest-cache.js';
import { ReadingPoint } from '../../../hub/src/telemetry/point-mapping.js';
import { CITY_FILE, city, MIN, sh } from '../cases/fixtures.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'cg-hub-incidents-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const t0 = sh('2026-11-24 10:00');
const sup = { id: 'sup-1', role: 'city_supervisor' };
let now = t0;
let dirN = 0;
let bus: LiveBus;
let registry: GatewayRegistry;
let published: { topic: string; body: Record<string, unknown> }[];
let resultHandler: MessageHandler | undefined;
let cases: HubCases;
let incidents: HubIncidents;
let snapshots: string[];
let events: { incident: LiveEventMap['incident'][]; closure: LiveEventMap['closure'][] };

const link: BrokerLink = {
  mode: 'embedded',
  url: 'mqtt://test',
  subscribe: async (_filter, handler) => {
    resultHandler = handler;
  },
  publish: async (topic, payload) => {
    published.push({ topic, body: JSON.parse(String(payload)) });
  },
  connected: () => true,
  close: async () => {},
};

function born(gateway: string, district: string, devices: [string, string, string?][]): void {
  now += 1000;
  registry.applyState(
    district,
    {
      gateway,
      state: 'online',
      ts: now,
      bootId: `boot-${now}`,
      devices: devices.map(([id, kind, asset]) => ({
        id,
        kind,
        driver: 'modbus-tcp-logger',
        ...(asset ? { asset } : {}),
      })),
    },
    now,
  );
  bus.emit('gateway', { gateway, district, online: true, ts: now });
}

const sampleCommands = () =>
  published
    .filter((p) => p.topic.endsWith('/cmd/sample-interval'))
    .map((p) => ({ topic: p.topic, ...p.body, id: undefined }));

function start(dataDir: string, config = {}): void {
  cases = new HubCases({
    loaded: {
      file: path.join(path.dirname(CITY_FILE), 'hub.yaml'),
      hub: { city: './city.yaml', cases: { webhooks: [] } },
      city,
      dataDir,
    } as unknown as LoadedHubConfig,
    bus,
    log: silentLogger(),
    metrics: new MetricsRegistry(),
    now: () => now,
    tickMs: 3_600_000,
  });
  incidents = new HubIncidents({
    config: incidentsConfigSchema.parse({ tick: '1h', ...config }),
    city,
    dataDir,
    bus,
    link,
    registry,
    cases,
    capture: {
      requestCapture: async (asset) => {
        snapshots.push(asset);
        return [];
      },
    },
    log: silentLogger(),
    metrics: new MetricsRegistry(),
    now: () => now,
  });
}

const flood = (device: string, asset: string, district: string, min: number, fields: Reading['fields']) => {
  const reading: Reading = { device, kind: 'flood', ts: t0 + min * MIN, fields };
  return new ReadingPoint(
    reading,
    district,
    `gw-${district === 'xihu' ? 'xh' : 'gs'}-01`,
    asset,
    undefined,
    t0 + min * MIN,
  );
};
const turn = () => new Promise((r) => setImmediate(r));

beforeEach(async () => {
  now = t0;
  published = [];
  snapshots = [];
  bus = new LiveBus(silentLogger());
  events = { incident: [], closure: [] };
  bus.on('incident', (e) => events.incident.push(e));
  bus.on('closure', (e) => events.closure.push(e));
  registry = new GatewayRegistry(city);
  start(path.join(root, `d${++dirN}`));
  await incidents.start();
  born('gw-xh-01', 'xihu', [
    ['XH-UP001', 'flood', 'UP-XH-001'],
    ['XH-RW001', 'road_weather'],
  ]);
  born('gw-gs-01', 'gongshu', [['GS-UP001', 'flood', 'UP-GS-001']]);
});
afterEach(() => {
  incidents.close();
  cases.close();
});

describe('HubIncidents', () => {
  it('sends sample-interval to the gateways in scope only, per level, and default when it closes', () => {
    expect(sampleCommands()).toEqual([]);
    const i = incidents.open({ type: 'flood', scope: { districts: ['xihu'] }, level: 'IV', reason: '暴雨', by: sup });
    expect(i).toMatchObject({ id: 'INC-000001', state: 'open' });
    expect(sampleCommands()).toEqual([
      { topic: 'cg/v1/xihu/gw-xh-01/cmd/sample-interval', kinds: ['flood'], interval: 30_000, id: undefined },
    ]);
    incidents.command(i.id, { action: 'level', level: 'I', reason: '红色预警', by: sup });
    expect(sampleCommands().at(-1)).toMatchObject({ kinds: ['flood'], interval: 5_000 });
    incidents.command(i.id, { action: 'close', reason: '雨停', by: sup });
    expect(sampleCommands().at(-1)).toMatchObject({
      topic: 'cg/v1/xihu/gw-xh-01/cmd/sample-interval',
      interval: 'default',
    });
    expect(sampleCommands()).toHaveLength(3);
    expect(events.incident.map((e) => e.effect)).toEqual(['open', 'level', 'close']);
    expect(incidents.commands(['xihu'], 0)).toHaveLength(3);
    expect(incidents.commands(['gongshu'], 0)).toHaveLength(0);
  });

  it('re-sends the interval to a gateway born again while the incident is open, and records its answer', async () => {
    incidents.open({ type: 'flood', scope: { city: true }, level: 'III', reason: '台风', by: sup });
    expect(
      sampleCommands()
        .map((c) => c.topic)
        .sort(),
    ).toEqual(['cg/v1/gongshu/gw-gs-01/cmd/sample-interval', 'cg/v1/xihu/gw-xh-01/cmd/sample-interval']);
    born('gw-gs-01', 'gongshu', [['GS-UP001', 'flood', 'UP-GS-001']]);
    expect(sampleCommands()).toHaveLength(3);
    expect(sampleCommands()[2]).toMatchObject({
      topic: 'cg/v1/gongshu/gw-gs-01/cmd/sample-interval',
      interval: 15_000,
    });
    const last = published.at(-1)?.body as { id: string };
    await resultHandler?.(
      'cg/v1/gongshu/gw-gs-01/cmd-result',
      Buffer.from(
        JSON.stringify({ id: last.id, ok: true, devices: [{ device: 'GS-UP001', ok: true, interval: 15000 }] }),
      ),
    );
    expect(incidents.commands(['gongshu'], 0)[0]).toMatchObject({
      state: 'ok',
      result: { devices: [{ interval: 15000 }] },
    });
  });

  it('uses the flood profile in scope only, and links the cases raised there to the incident', async () => {
    const i = incidents.open({ type: 'flood', scope: { districts: ['xihu'] }, level: 'IV', reason: '暴雨', by: sup });
    // 12 cm held over a minute: a case under the flood profile (10 cm), none under normal (15 cm).
    cases.onStored({
      readings: [
        flood('XH-UP001', 'UP-XH-001', 'xihu', 0, { water_level_cm: 12 }),
        flood('XH-UP001', 'UP-XH-001', 'xihu', 2, { water_level_cm: 12 }),
        flood('GS-UP001', 'UP-GS-001', 'gongshu', 0, { water_level_cm: 12 }),
        flood('GS-UP001', 'UP-GS-001', 'gongshu', 2, { water_level_cm: 12 }),
      ],
    });
    await turn();
    const open = cases.service.store.openCases();
    expect(open.map((c) => [c.asset, c.urgency, c.incident])).toEqual([['UP-XH-001', 'urgent', i.id]]);
  });

  it('a trigger rule proposes, confirm opens it, a second flood incident over it is refused', () => {
    for (const [device, asset, min] of [
      ['XH-UP001', 'UP-XH-001', 0],
      ['XH-UP002', 'UP-XH-002', 1],
    ] as const)
      bus.emit('reading', flood(device, asset, 'xihu', min, { rain_intensity_mmh: 42, water_level_cm: 2 }));
    const [p] = incidents.list();
    expect(p).toMatchObject({
      type: 'flood',
      state: 'proposed',
      scope: { districts: ['xihu'] },
      trigger: { rule: 'rain-at-gauges' },
    });
    expect(sampleCommands()).toEqual([]);
    // Still raining: no second proposal while this one is live.
    bus.emit('reading', flood('XH-UP001', 'UP-XH-001', 'xihu', 2, { rain_intensity_mmh: 50, water_level_cm: 3 }));
    expect(incidents.list()).toHaveLength(1);
    const open = incidents.command(p?.id as string, { action: 'confirm', reason: '值班长确认', by: sup });
    expect(open.state).toBe('open');
    expect(sampleCommands()).toHaveLength(1);
    expect(() =>
      incidents.open({ type: 'flood', scope: { city: true }, level: 'II', reason: 'x', by: sup }),
    ).toThrowError(IncidentError);
    // A snow incident may run beside it.
    expect(incidents.open({ type: 'snow', scope: { city: true }, level: 'IV', reason: '寒潮', by: sup }).state).toBe(
      'open',
    );
    expect(events.incident.map((e) => e.effect)).toEqual(['propose', 'confirm', 'open']);
  });

  it('a dismissed proposal is not raised again within the quiet time', () => {
    const rain = (min: number) => {
      bus.emit('reading', flood('XH-UP001', 'UP-XH-001', 'xihu', min, { rain_intensity_mmh: 42 }));
      bus.emit('reading', flood('XH-UP002', 'UP-XH-002', 'xihu', min, { rain_intensity_mmh: 42 }));
    };
    rain(0);
    const [p] = incidents.list();
    incidents.command(p?.id as string, { action: 'dismiss', reason: '传感器误报', by: sup });
    now += 30 * MIN;
    rain(30);
    expect(incidents.list().map((i) => i.state)).toEqual(['dismissed']);
    now += 31 * MIN;
    rain(61);
    expect(
      incidents
        .list()
        .map((i) => i.state)
        .sort(),
    ).toEqual(['dismissed', 'proposed']);
  });

  it('recommends a closure from the depth on the live bus and lifts it; both recorded', () => {
    const depth = (min: number, cm: number) =>
      bus.emit('reading', flood('XH-UP001', 'UP-XH-001', 'xihu', min, { water_level_cm: cm }));
    depth(0, 10);
    depth(1, 26);
    depth(2, 30);
    expect(incidents.closures.inForce()).toHaveLength(1);
    depth(3, 15);
    depth(14, 14);
    expect(events.closure.map((e) => e.action)).toEqual(['raised', 'lifted']);
    expect(incidents.store.closures(0, 10)).toMatchObject([{ asset: 'UP-XH-001', inForce: false, maxDepthCm: 30 }]);
  });

  it('has the cameras of the hotspots in scope snapshot at once and then on the level’s schedule', () => {
    const i = incidents.open({ type: 'flood', scope: { districts: ['xihu'] }, level: 'IV', reason: '暴雨', by: sup });
    // The xihu underpasses with cameras; bridges are no flood hotspots, gongshu is out of scope.
    expect(snapshots.sort()).toEqual(['UP-XH-001', 'UP-XH-002']);
    now += 9 * MIN;
    incidents.tick();
    expect(snapshots).toHaveLength(2);
    now += MIN;
    incidents.tick();
    expect(snapshots).toHaveLength(4);
    // Level I snapshots every minute, starting at once.
    incidents.command(i.id, { action: 'level', level: 'I', reason: '红色预警', by: sup });
    expect(snapshots).toHaveLength(6);
    now += MIN;
    incidents.tick();
    expect(snapshots).toHaveLength(8);
    incidents.command(i.id, { action: 'close', reason: '雨停', by: sup });
    now += 10 * MIN;
    incidents.tick();
    expect(snapshots).toHaveLength(8);
    expect(incidents.hotspots()).toEqual([]);
  });

  it('keeps incidents across a restart and applies them again', async () => {
    const i = incidents.open({
      type: 'flood',
      scope: { districts: ['gongshu'] },
      level: 'II',
      reason: '暴雨',
      by: sup,
    });
    const dataDir = path.join(root, `d${dirN}`);
    incidents.close();
    cases.close();
    published = [];
    // A new hub process: it knows no gateway state until the retained state messages arrive.
    registry = new GatewayRegistry(city);
    start(dataDir);
    await incidents.start();
    expect(incidents.get(i.id)?.history).toHaveLength(1);
    expect(incidents.effectsIn('gongshu')).toMatchObject({ profile: 'flood', governing: { id: i.id } });
    // The hub restarted: the gateway's state message makes it send the interval again.
    born('gw-gs-01', 'gongshu', [['GS-UP001', 'flood', 'UP-GS-001']]);
    expect(sampleCommands()).toMatchObject([{ topic: 'cg/v1/gongshu/gw-gs-01/cmd/sample-interval', interval: 10_000 }]);
  });
});

describe('incident routes', () => {
  const users: Record<string, Operator> = {
    sup: { id: 'sup-1', role: 'city_supervisor' },
    xh: { id: 'cmd-xh', role: 'district_commander', district: 'xihu' },
    unit: { id: 'h-1', role: 'unit_handler' },
  };
  async function withApi(
    fn: (
      // biome-ignore lint/suspicious/noExplicitAny: response bodies of many shapes, read by assertions only
      call: (user: string, method: string, p: string, body?: unknown) => Promise<{ status: number; body: any }>,
    ) => Promise<void>,
  ) {
    const latest = new LatestValueCache();
    latest.attach(bus);
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://hub');
      const send = {
        json: (r: typeof res, status: number, body: unknown) => {
          r.writeHead(status, { 'content-type': 'application/json' });
          r.end(JSON.stringify(body));
        },
        error: (r: typeof res, status: number, error: string, message: string) =>
          send.json(r, status, { error, message }),
      };
      const deps = {
        incidents,
        latest,
        registry,
        city,
        cases,
        now: () => now,
        // The console's guard: the test names the user in a header.
        authorize: (rq: typeof req, rs: typeof res, roles: readonly string[]) => {
          const u = users[String(rq.headers['x-user'])];
          if (!u) return void send.error(rs, 401, 'unauthenticated', 'no session');
          if (!roles.includes(u.role)) return void send.error(rs, 403, 'forbidden', 'role');
          return u;
        },
      };
      if (!handleIncidentRoute(deps, req, res, url, url.pathname, send))
        send.error(res, 404, 'not-found', url.pathname);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      await fn(async (user, method, p, body) => {
        const res = await fetch(`http://127.0.0.1:${port}${p}`, {
          method,
          headers: { 'x-user': user },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        });
        return { status: res.status, body: await res.json() };
      });
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  }

  it('opens, switches and lists incidents, with role and district checks and typed errors', async () => {
    await withApi(async (call) => {
      const open = { type: 'flood', scope: { districts: ['xihu'] }, level: 'IV', reason: '暴雨蓝色预警' };
      expect((await call('nobody', 'GET', '/api/incidents')).status).toBe(401);
      expect((await call('unit', 'POST', '/api/incidents', open)).status).toBe(403);
      const city = await call('xh', 'POST', '/api/incidents', { ...open, scope: { city: true } });
      expect(city).toMatchObject({ status: 403, body: { error: 'forbidden' } });
      const created = await call('xh', 'POST', '/api/incidents', open);
      expect(created).toMatchObject({
        status: 201,
        body: { id: 'INC-000001', state: 'open', districts: ['xihu'], history: [{ action: 'open', by: 'cmd-xh' }] },
      });
      expect(created.body.commands).toMatchObject([{ gateway: 'gw-xh-01', kinds: ['flood'], interval: 30000 }]);
      expect((await call('sup', 'POST', '/api/incidents', { ...open, level: 'V' })).status).toBe(400);
      expect(
        (await call('sup', 'POST', '/api/incidents', { ...open, scope: { districts: ['nowhere'] } })).body.error,
      ).toBe('bad-scope');
      expect((await call('sup', 'POST', '/api/incidents', { ...open, reason: '' })).status).toBe(400);
      expect((await call('sup', 'POST', '/api/incidents', open)).body.error).toBe('incident-overlap');
      const id = created.body.id as string;
      expect(await call('sup', 'POST', `/api/incidents/${id}/level`, { level: 'II', reason: '橙色' })).toMatchObject({
        status: 200,
        body: { level: 'II' },
      });
      expect((await call('sup', 'POST', `/api/incidents/${id}/confirm`, { reason: 'x' })).body.error).toBe(
        'incident-refused',
      );
      expect((await call('sup', 'POST', '/api/incidents/INC-9/close', { reason: 'x' })).status).toBe(404);
      expect((await call('unit', 'GET', `/api/incidents/${id}`)).body.level).toBe('II');
      expect((await call('sup', 'GET', '/api/incidents')).body.items).toHaveLength(1);
      const closed = await call('xh', 'POST', `/api/incidents/${id}/close`, { reason: '雨停' });
      expect(closed.body.history.map((h: { action: string }) => h.action)).toEqual(['open', 'level', 'close']);
      expect((await call('sup', 'DELETE', `/api/incidents/${id}`)).status).toBe(405);
    });
  });

  it('serves the situation of an incident: underpasses by depth with closures, cases, gateways', async () => {
    await withApi(async (call) => {
      const depth = (device: string, asset: string, district: string, min: number, cm: number) =>
        bus.emit(
          'reading',
          flood(device, asset, district, min, { water_level_cm: cm, rain_intensity_mmh: 20, rain_total_mm: 31 }),
        );
      depth('XH-UP001', 'UP-XH-001', 'xihu', 0, 18);
      depth('XH-UP002', 'UP-XH-002', 'xihu', 0, 3);
      depth('XH-UP001', 'UP-XH-001', 'xihu', 5, 27);
      depth('GS-UP001', 'UP-GS-001', 'gongshu', 5, 40);
      const i = incidents.open({
        type: 'flood',
        scope: { districts: ['xihu'] },
        level: 'III',
        reason: '暴雨',
        by: sup,
      });
      const s = (await call('sup', 'GET', `/api/situation?incident=${i.id}`)).body;
      expect(s.districts).toEqual(['xihu']);
      expect(s.underpasses.map((u: { asset: string; depthCm: number }) => [u.asset, u.depthCm])).toEqual([
        ['UP-XH-001', 27],
        ['UP-XH-002', 3],
      ]);
      expect(s.underpasses[0]).toMatchObject({ closed: true, trend: 'rising', closeAtCm: 25 });
      expect(s.closures).toMatchObject([{ asset: 'UP-XH-001', inForce: true }]);
      expect(s.rain.byDistrict.xihu).toEqual({ gauges: 2, maxIntensityMmh: 20, maxTotalMm: 31 });
      expect(s.profiles.xihu).toMatchObject({ profile: 'flood', incident: i.id, intervals: { flood: 15000 } });
      expect(s.incidents).toMatchObject([{ id: i.id, state: 'open' }]);
      expect(s.gateways).toEqual({ online: 1, offline: [] });
      expect(s.cases).toMatchObject({ open: 0, byUrgency: { critical: 0 } });
      // A district commander sees their district only.
      expect((await call('xh', 'GET', '/api/situation')).body.districts).toEqual(['xihu']);
      expect((await call('sup', 'GET', '/api/situation?incident=INC-404')).status).toBe(404);
    });
  });
});
