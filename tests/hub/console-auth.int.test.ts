/**
 * Console auth against a real hub (startHub in this process, the example city, an embedded
 * broker): login, the session cookie, logout, expiry (an injected clock), the login rate limit,
 * and a walk over every route of the guard's table: 401 without a session, 403 for each role the
 * table does not allow, and for the city supervisor a live route (not "no route").
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHubConfig } from '../../config/load.js';
import { silentLogger } from '../../drivers/sdk/log.js';
import { ROUTES } from '../../hub/src/http/guard.js';
import { type RunningHub, startHub } from '../../hub/src/main.js';
import { consoleLogin, TEST_SUPERVISOR, type TestConsoleUser, testUser } from '../helpers/console-session.js';
import { writeHubConfig } from '../helpers/system-configs.js';

const dir = mkdtempSync(path.join(tmpdir(), 'cg-console-auth-'));
const commander = testUser('xihu-commander', 'district_commander', { district: 'xihu' });
const handler = testUser('beishan-handler', 'unit_handler', { unit: 'beishan-street' });
const USERS: TestConsoleUser[] = [TEST_SUPERVISOR, commander, handler];
const TTL_MIN = 30;
let now = Date.parse('2026-11-24T02:00:00Z');
let hub: RunningHub;
const cookies = new Map<string, string>();

async function call(method: string, p: string, cookie?: string, body?: string) {
  const ac = new AbortController();
  const res = await fetch(`${hub.httpUrl}${p}`, {
    method,
    signal: ac.signal,
    headers: { ...(cookie ? { cookie } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body } : {}),
  });
  if (/event-stream/.test(res.headers.get('content-type') ?? '')) {
    ac.abort();
    return { status: res.status, body: {} as Record<string, unknown>, headers: res.headers };
  }
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown>, headers: res.headers };
}

const login = (username: string, password: string) =>
  call('POST', '/api/login', undefined, JSON.stringify({ username, password }));

beforeAll(async () => {
  writeHubConfig(dir, {
    hubId: 'hub-auth',
    mqtt: { mode: 'embedded', host: '127.0.0.1', port: 0 },
    httpPort: 0,
    consoleUsers: USERS,
    console: { sessionTtlMinutes: TTL_MIN, loginAttemptsPerMinute: 5 },
  });
  hub = await startHub(loadHubConfig(path.join(dir, 'hub.yaml')), {
    logger: silentLogger(),
    consoleClock: () => now,
  });
  for (const u of USERS) cookies.set(u.role, await consoleLogin(hub.httpUrl, u));
}, 30_000);

afterAll(async () => {
  await hub?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('console login and sessions', () => {
  it('logs in with the right password only, setting an HttpOnly SameSite=Strict session cookie', async () => {
    const wrong = await login(commander.id, `${commander.password}x`);
    expect(wrong).toMatchObject({ status: 401, body: { error: 'invalid-credentials' } });
    expect(wrong.headers.get('set-cookie')).toBeNull();
    expect((await login('nobody', commander.password)).status).toBe(401);
    expect((await call('POST', '/api/login', undefined, '{"username":"x"}')).status).toBe(400);
    const ok = await login(commander.id, commander.password);
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({
      user: { id: 'xihu-commander', name: 'xihu-commander', role: 'district_commander', district: 'xihu' },
    });
    expect(ok.headers.get('set-cookie')).toMatch(
      new RegExp(`^cg_session=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${TTL_MIN * 60}$`),
    );
    const cookie = (ok.headers.get('set-cookie') as string).split(';')[0] as string;
    expect((await call('GET', '/api/me', cookie)).body).toEqual(ok.body);
    expect(await call('GET', '/api/me')).toMatchObject({ status: 401, body: { error: 'unauthenticated' } });
    expect((await call('GET', '/api/me', 'cg_session=forged')).status).toBe(401);
  });

  it('ends the session on logout: 204, the cookie cleared, the old cookie refused', async () => {
    const cookie = await consoleLogin(hub.httpUrl, handler);
    const out = await call('POST', '/api/logout', cookie);
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/^cg_session=; .*Max-Age=0/);
    expect((await call('GET', '/api/me', cookie)).status).toBe(401);
    expect((await call('GET', '/api/me', cookies.get('unit_handler'))).status).toBe(200); // other sessions live on
  });

  it('refuses a session past its lifetime from login (absolute, not extended by use)', async () => {
    const cookie = await consoleLogin(hub.httpUrl, commander);
    now += (TTL_MIN - 1) * 60_000;
    expect((await call('GET', '/api/me', cookie)).status).toBe(200);
    now += 60_000;
    expect(await call('GET', '/api/me', cookie)).toMatchObject({ status: 401, body: { error: 'unauthenticated' } });
    for (const u of USERS) cookies.set(u.role, await consoleLogin(hub.httpUrl, u));
  });
});

describe('the guard on every route', () => {
  const concrete = (pattern: string) => pattern.replace(/:[a-z]+/g, 'X-1');
  const bodyOf = (method: string) => (method === 'POST' || method === 'PUT' ? '{}' : undefined);

  it('refuses every route of the table without a session (401) and with a role it does not allow (403)', async () => {
    expect(ROUTES.length).toBeGreaterThanOrEqual(20);
    for (const r of ROUTES) {
      const p = concrete(r.path);
      const anonymous = await call(r.method, p, undefined, bodyOf(r.method));
      expect(anonymous, `${r.method} ${p} without a session`).toMatchObject({
        status: 401,
        body: { error: 'unauthenticated' },
      });
      for (const u of USERS) {
        if (r.roles.includes(u.role)) continue;
        const refused = await call(r.method, p, cookies.get(u.role), bodyOf(r.method));
        expect(refused, `${r.method} ${p} as ${u.role}`).toMatchObject({ status: 403, body: { error: 'forbidden' } });
      }
    }
  }, 30_000);

  it('lets the city supervisor reach every route of the table (each is a live route, not "no route")', async () => {
    for (const r of ROUTES) {
      if (r.path === '/api/logout') continue;
      const res = await call(r.method, concrete(r.path), cookies.get('city_supervisor'), bodyOf(r.method));
      expect([401, 403], `${r.method} ${r.path}`).not.toContain(res.status);
      expect(res.body.error, `${r.method} ${r.path}: ${JSON.stringify(res.body)}`).not.toBe('not-found');
    }
  }, 30_000);

  it('keeps a route missing from the table to the supervisor, and /metrics, /healthz and / open', async () => {
    expect((await call('GET', '/api/not-yet-listed')).status).toBe(401);
    expect((await call('GET', '/api/not-yet-listed', cookies.get('district_commander'))).status).toBe(403);
    expect((await call('GET', '/api/not-yet-listed', cookies.get('city_supervisor'))).status).toBe(404);
    expect((await call('DELETE', '/api/cases/X-1', cookies.get('unit_handler'))).status).toBe(403);
    expect((await fetch(`${hub.httpUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${hub.httpUrl}/`)).status).toBe(200);
    const metrics = await (await fetch(`${hub.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/citygrid_http_refusals_total\{route="\/api\/evaluation",status="403"\} 2/);
    expect(metrics).toMatch(/citygrid_http_refusals_total\{route="unlisted",status="401"\} 1/);
    expect(metrics).toMatch(/citygrid_console_sessions_active \d+/);
  });
});

describe('login rate limit', () => {
  it('refuses logins with 429 after 5 failures a minute for a user, even with the right password, and counts them', async () => {
    const before = await (await fetch(`${hub.httpUrl}/metrics`)).text();
    const failedBefore = Number(/citygrid_console_logins_total\{result="failed"\} (\d+)/.exec(before)?.[1] ?? 0);
    for (let i = 0; i < 5; i++) expect((await login(handler.id, 'guess')).status).toBe(401);
    const limited = await login(handler.id, handler.password);
    expect(limited).toMatchObject({ status: 429, body: { error: 'too-many-attempts' } });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    const metrics = await (await fetch(`${hub.httpUrl}/metrics`)).text();
    expect(metrics).toContain(`citygrid_console_logins_total{result="failed"} ${failedBefore + 5}`);
    expect(metrics).toContain('citygrid_console_logins_total{result="limited"} 1');
    now += 61_000;
    expect((await login(handler.id, handler.password)).status).toBe(200);
  });
});
