/**
 * The case core as the hub runs it (hub-cases.ts) and its HTTP routes (case-routes.ts), on a real
 * cases.db with the example city's catalogue, rules and units. The capture commands are a fake
 * (this is a unit test of the wiring; the e2e test has the real pipeline).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LoadedHubConfig } from '../../../config/load.js';
import { silentLogger } from '../../../drivers/sdk/log.js';
import { MetricsRegistry } from '../../../drivers/sdk/metrics.js';
import type { Reading } from '../../../drivers/sdk/reading.js';
import { CAPTURE_ATTEMPTS, HubCases } from '../../../hub/src/cases/hub-cases.js';
import { handleAuthRoute } from '../../../hub/src/http/auth-routes.js';
import { handleCaseRoute } from '../../../hub/src/http/case-routes.js';
import { type CaseUpdate, LiveBus } from '../../../hub/src/live/bus.js';
import { ReadingPoint } from '../../../hub/src/telemetry/point-mapping.js';
import {
  consoleFetch,
  TEST_SUPERVISOR,
  type TestConsoleUser,
  testGuard,
  testUser,
} from '../../helpers/console-session.js';
import { CITY_FILE, city, MIN, sh } from './fixtures.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'cg-hub-cases-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const t0 = sh('2026-11-24 10:00');
let now = t0;
let dirN = 0;
let cases: HubCases;
let bus: LiveBus;
let metrics: MetricsRegistry;
let updates: CaseUpdate[];
let captureCalls: string[];
let captureFails: number;

const flood = (min: number, cm: number): ReadingPoint => {
  const reading: Reading = { device: 'XH-UP01', kind: 'flood', ts: t0 + min * MIN, fields: { water_level_cm: cm } };
  return new ReadingPoint(reading, 'xihu', 'gw-xh-01', 'UP-XH-001', '330106001001', t0 + min * MIN);
};
const turn = () => new Promise((r) => setImmediate(r));

beforeEach(() => {
  now = t0;
  updates = [];
  captureCalls = [];
  captureFails = 0;
  bus = new LiveBus(silentLogger());
  bus.on('case', (u) => updates.push(u));
  metrics = new MetricsRegistry();
  cases = openCases(path.join(root, `d${++dirN}`));
});
afterEach(() => cases.close());

function openCases(dataDir: string): HubCases {
  const loaded = {
    file: path.join(path.dirname(CITY_FILE), 'hub.yaml'),
    hub: { city: './city.yaml', cases: { webhooks: [] } },
    city,
    dataDir,
  };
  const answer = (device: string) => {
    captureCalls.push(device);
    if (captureFails > 0) {
      captureFails--;
      return { device, error: 'gateway-offline: gw-xh-01 is offline' };
    }
    return { device, command: { id: `cmd-${captureCalls.length}` } as never };
  };
  return new HubCases({
    loaded: loaded as unknown as LoadedHubConfig,
    bus,
    log: silentLogger(),
    metrics,
    now: () => now,
    tickMs: 3_600_000,
    capture: {
      // UP-XH-001 has one camera, XH-CAM02: the fan-out answers for it.
      requestCapture: async () => [answer('XH-CAM02')],
      capture: async (device) => {
        const r = answer(device);
        if (r.error) throw new Error(r.error);
        return r.command as never;
      },
    },
  });
}
afterEach(() => cases.close());

/** Floods UP-XH-001 past the waterlogging rule (15 cm held 1 min) and returns the case id. */
async function flooded(): Promise<string> {
  cases.onStored({ readings: [flood(0, 5), flood(1, 16)] });
  cases.onStored({ readings: [flood(2, 17)] });
  expect(updates).toEqual([]); // only queued: the ack path does no case work
  await turn();
  const opened = updates.find((u) => u.effect === 'opened');
  expect(opened?.case).toMatchObject({ category: 'event:0406', asset: 'UP-XH-001', state: 'filed' });
  return opened?.case.id as string;
}

describe('HubCases', () => {
  it('opens a case from stored readings after the ack path, publishes it, and requests evidence once', async () => {
    const id = await flooded();
    await turn();
    expect(captureCalls).toEqual(['XH-CAM02']);
    expect(cases.captureOf(id)).toMatchObject({ attempts: 1, commands: [{ device: 'XH-CAM02', commandId: 'cmd-1' }] });
    // A higher reading joins; no second case, no second capture.
    cases.onStored({ readings: [flood(3, 30), flood(4, 30)] });
    await turn();
    expect(updates.filter((u) => u.effect === 'opened')).toHaveLength(1);
    expect(captureCalls).toHaveLength(1);
    expect(metrics.render()).toMatch(/citygrid_cases_changes_total\{category="event:0406",effect="opened"\} 1/);
    expect(metrics.render()).toMatch(/citygrid_cases_open\{category="event:0406"\} 1/);
  });

  it('retries a failed evidence request on the clock, and gives up after the last attempt', async () => {
    captureFails = 100;
    const id = await flooded();
    await turn();
    expect(cases.captureOf(id)).toMatchObject({ attempts: 1, error: expect.stringMatching(/XH-CAM02.*offline/) });
    for (let i = 0; i < CAPTURE_ATTEMPTS + 2; i++) {
      now += MIN;
      cases.tick();
      await turn();
    }
    expect(captureCalls).toHaveLength(CAPTURE_ATTEMPTS);
    expect(cases.captureOf(id)?.attempts).toBe(CAPTURE_ATTEMPTS);
    expect(metrics.render()).toMatch(new RegExp(`citygrid_cases_capture_failures_total ${CAPTURE_ATTEMPTS}`));
  });

  it('keeps a failed request in cases.db and retries it after a restart', async () => {
    captureFails = 1;
    const id = await flooded();
    await turn();
    const dataDir = path.join(root, `d${dirN}`);
    cases.close();
    cases = openCases(dataDir);
    expect(cases.captureOf(id)).toMatchObject({ attempts: 1, error: expect.stringMatching(/offline/) });
    cases.tick();
    await turn();
    expect(cases.captureOf(id)).toMatchObject({ attempts: 2, commands: [{ device: 'XH-CAM02', commandId: 'cmd-2' }] });
    cases.close();
    cases = openCases(dataDir);
    expect(cases.captureOf(id)?.error).toBeUndefined();
  });

  it('a request that fails once is sent on the next tick', async () => {
    captureFails = 1;
    const id = await flooded();
    await turn();
    cases.tick();
    await turn();
    expect(cases.captureOf(id)).toMatchObject({ attempts: 2, commands: [{ commandId: 'cmd-2' }] });
    expect(cases.captureOf(id)?.error).toBeUndefined();
  });

  it('marks an overdue stage on the clock and counts it', async () => {
    const id = await flooded();
    now = t0 + 2 * 3_600_000; // dispatch at urgent is due in 15 min
    const changes = cases.tick();
    expect(changes.map((c) => [c.case.id, c.effect])).toContainEqual([id, 'mark_overdue']);
    expect(metrics.render()).toMatch(/citygrid_cases_overdue\{category="event:0406"\} 1/);
  });

  it('switches the rule profile: recorded, announced on the bus, in force after a restart', () => {
    const announced: unknown[] = [];
    bus.on('profile', (p) => announced.push(p));
    expect(cases.profile()).toMatchObject({ profile: 'normal', actor: 'system' });
    const change = { profile: 'snow' as const, actor: 'duty-1', note: '暴雪橙色预警', at: now };
    cases.setProfile(change);
    expect(announced).toEqual([change]);
    expect(cases.profile()).toEqual(change);
    cases.close();
    cases = openCases(path.join(root, `d${dirN}`));
    expect(cases.profile()).toEqual(change);
  });
});

describe('case routes', () => {
  let server: Server;
  let base: string;
  const commander = testUser('cmd-xh', 'district_commander', { district: 'xihu' });
  const handler = testUser('h1', 'unit_handler', { unit: 'beishan-street' });
  beforeEach(async () => {
    const guard = testGuard(new MetricsRegistry(), [TEST_SUPERVISOR, commander, handler]);
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://hub');
      if (url.pathname !== '/api/login' && !guard.guard(req, res, url.pathname)) return;
      if (handleAuthRoute(guard.auth, req, res, url.pathname)) return;
      const send = {
        json: (r: typeof res, status: number, body: unknown) => {
          r.writeHead(status, { 'content-type': 'application/json' });
          r.end(JSON.stringify(body));
        },
        error: (r: typeof res, status: number, error: string, message: string) =>
          send.json(r, status, { error, message }),
      };
      if (
        !handleCaseRoute({ cases, timeZone: 'Asia/Shanghai', now: () => now, city }, req, res, url, url.pathname, send)
      )
        send.error(res, 404, 'not-found', url.pathname);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterEach(() => new Promise<void>((r) => server.close(() => r())));

  const call = async (method: string, p: string, body?: unknown, as: TestConsoleUser = TEST_SUPERVISOR) => {
    const res = await consoleFetch(base, as)(p, {
      method,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> & { items?: unknown[] } };
  };

  it('lists with filters and paging, shows a case, refuses bad filters and unknown ids', async () => {
    const id = await flooded();
    const report = await call('POST', '/api/reports', {
      text: '拱墅区某路口井盖缺失',
      category: 'component:0101',
      point: [120.14, 30.3],
      reporter: 'inspector-7',
      source: 'inspector',
    });
    expect(report.status).toBe(201);
    expect(report.body).toMatchObject({ effect: 'opened', case: { source: 'inspector', state: 'reported' } });
    const all = await call('GET', '/api/cases');
    expect(all.body.items).toHaveLength(2);
    const xihu = await call('GET', '/api/cases?district=xihu&state=filed');
    expect((xihu.body.items as { id: string; overdue: boolean }[]).map((c) => c.id)).toEqual([id]);
    const page = await call('GET', '/api/cases?limit=1&offset=1');
    expect(page.body).toMatchObject({ limit: 1, offset: 1 });
    expect(page.body.items).toHaveLength(1);
    expect((await call('GET', '/api/cases?state=flooded')).status).toBe(400);
    now = t0 + 2 * 3_600_000;
    const overdue = await call('GET', '/api/cases?overdue=true');
    expect((overdue.body.items as { id: string }[]).map((c) => c.id)).toEqual([id]);
    const detail = await call('GET', `/api/cases/${id}`);
    expect(detail.body).toMatchObject({ id, signalCount: 1, overdue: true, evidence: [] });
    expect((detail.body.history as unknown[]).length).toBeGreaterThanOrEqual(3);
    expect((await call('GET', '/api/cases/CG-999999')).body).toMatchObject({ error: 'unknown-case' });
    expect((await call('DELETE', `/api/cases/${id}`)).status).toBe(405);
  });

  it('applies transitions: 200 with the new state, 409 with the refusal, 400 for a bad body, 404 unknown', async () => {
    const id = await flooded();
    const ok = await call('POST', `/api/cases/${id}/transitions`, { action: 'dispatch', note: 'go' }, commander);
    expect(ok).toMatchObject({ status: 200, body: { state: 'dispatched' } });
    // Actor and role are the session's user: the body cannot name them.
    expect((ok.body.history as { actor: unknown }[]).at(-1)?.actor).toEqual({
      id: 'cmd-xh',
      role: 'district_commander',
    });
    expect(updates.at(-1)).toMatchObject({ effect: 'dispatch', case: { id } });
    const refused = await call('POST', `/api/cases/${id}/transitions`, { action: 'pass' }, handler);
    expect(refused.status).toBe(409);
    expect(refused.body.message).toMatch(/cannot pass a case in state dispatched as unit_handler/);
    const bad = await call('POST', `/api/cases/${id}/transitions`, { action: 'fly' });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/^action:/);
    const named = await call('POST', `/api/cases/${id}/transitions`, { action: 'start', actor: 'x', role: 'system' });
    expect(named.status).toBe(400);
    expect((await call('POST', '/api/cases/CG-999999/transitions', { action: 'start' }, handler)).status).toBe(404);
  });

  it('joins a hotline report on the asset, refuses unknown categories and reports without a place', async () => {
    const id = await flooded();
    const joined = await call('POST', '/api/reports', { text: '积水', category: 'event:0406', asset: 'UP-XH-001' });
    expect(joined).toMatchObject({ status: 200, body: { effect: 'joined', case: { id, repeatCount: 1 } } });
    const unknown = await call('POST', '/api/reports', { text: 'x', category: 'event:0999', asset: 'UP-XH-001' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toMatch(/event:0999/);
    expect((await call('POST', '/api/reports', { text: 'x', category: 'event:0406' })).status).toBe(400);
  });

  it('evaluates a period in the city time zone, by unit or district', async () => {
    await flooded(); // filed 2026-11-24 10:02 Shanghai
    const day = await call('GET', '/api/evaluation?period=2026-11-24&by=district');
    expect(day.body).toMatchObject({ from: sh('2026-11-24 00:00'), to: sh('2026-11-25 00:00') });
    expect(day.body.total).toMatchObject({ registered: 1 });
    expect(day.body.byDistrict).toMatchObject({ xihu: { registered: 1 } });
    expect(day.body.byUnit).toBeUndefined();
    // The same numbers in /metrics, for the month of the hub's clock.
    expect(metrics.render()).toMatch(/citygrid_cases_evaluation\{indicator="registered",key="",scope="total"\} 1/);
    expect(metrics.render()).toMatch(
      /citygrid_cases_evaluation\{indicator="registered",key="xihu",scope="district"\} 1/,
    );
    const before = await call('GET', '/api/evaluation?period=2026-10&by=unit');
    expect(before.body.total).toMatchObject({ registered: 0 });
    expect(before.body.byUnit).toEqual({});
    expect((await call('GET', '/api/evaluation?period=last-week')).status).toBe(400);
    expect((await call('GET', '/api/evaluation?period=2026&by=street')).status).toBe(400);
  });
});
