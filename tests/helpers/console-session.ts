/**
 * Console users and sessions for tests that call a hub's /api: users with random passwords made
 * at run time, their hub.yaml entries, and a fetch that logs in (POST /api/login) and sends the
 * session cookie, logging in again when the hub answers 401 (a restarted hub forgot its sessions).
 */
import { randomBytes } from 'node:crypto';
import type { ConsoleUserConfig } from '../../config/schema/hub.js';
import { silentLogger } from '../../drivers/sdk/log.js';
import type { MetricsRegistry } from '../../drivers/sdk/metrics.js';
import { ConsoleAuth } from '../../hub/src/auth/console-auth.js';
import { hashPasswordSync } from '../../hub/src/broker/passwords.js';
import { ApiGuard } from '../../hub/src/http/guard.js';

export interface TestConsoleUser {
  id: string;
  role: 'city_supervisor' | 'district_commander' | 'unit_handler';
  name?: string;
  district?: string;
  unit?: string;
  password: string;
}

/** A console user with a fresh random password. */
export function testUser(id: string, role: TestConsoleUser['role'], scope: { district?: string; unit?: string } = {}) {
  return { id, role, ...scope, password: randomBytes(12).toString('base64url') } satisfies TestConsoleUser;
}

/** The city supervisor writeHubConfig puts in every hub.yaml unless told otherwise; what jsonApi logs in as. */
export const TEST_SUPERVISOR: TestConsoleUser = testUser('test-supervisor', 'city_supervisor');

const hashes = new Map<TestConsoleUser, string>();

/** The `console.users` entry of a test user (scrypt, ~40 ms the first time per user). */
export function consoleUserEntry(u: TestConsoleUser): Record<string, unknown> {
  let hash = hashes.get(u);
  if (!hash) {
    hash = hashPasswordSync(u.password);
    hashes.set(u, hash);
  }
  const { password: _password, ...rest } = u;
  return { ...rest, passwordHash: hash };
}

/** Logs in; returns the `cookie` request header value of the session. Throws on anything but 200. */
export async function consoleLogin(hubUrl: string, user: TestConsoleUser = TEST_SUPERVISOR): Promise<string> {
  const res = await fetch(`${hubUrl}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: user.id, password: user.password }),
  });
  if (res.status !== 200) throw new Error(`login of ${user.id} at ${hubUrl}: HTTP ${res.status} ${await res.text()}`);
  const setCookie = res.headers.get('set-cookie') ?? '';
  const cookie = setCookie.split(';')[0];
  if (!cookie?.startsWith('cg_session=')) throw new Error(`login of ${user.id}: no session cookie in "${setCookie}"`);
  return cookie;
}

export type ConsoleFetch = (pathOrUrl: string, init?: RequestInit) => Promise<Response>;

/**
 * fetch() as `user`: a path is taken relative to the hub URL, a full URL as it is. Logs in on
 * first use and once more on a 401 (then retries; a body must be a string or absent to be re-sent).
 */
export function consoleFetch(hubUrl: string | (() => string), user: TestConsoleUser = TEST_SUPERVISOR): ConsoleFetch {
  const base = typeof hubUrl === 'string' ? () => hubUrl : hubUrl;
  let cookie: string | undefined;
  const send = (url: string, init: RequestInit | undefined, c: string) => {
    const headers = new Headers(init?.headers);
    headers.set('cookie', c);
    return fetch(url, { ...init, headers });
  };
  return async (pathOrUrl, init) => {
    const url = /^https?:/.test(pathOrUrl) ? pathOrUrl : `${base()}${pathOrUrl}`;
    const origin = new URL(url).origin;
    cookie ??= await consoleLogin(origin, user);
    const res = await send(url, init, cookie);
    if (res.status !== 401) return res;
    await res.body?.cancel();
    cookie = await consoleLogin(origin, user);
    return send(url, init, cookie);
  };
}

/** The access check of an in-process HTTP API (startHttpApi in a unit test) with these users. */
export function testGuard(
  metrics: MetricsRegistry,
  users: TestConsoleUser[] = [TEST_SUPERVISOR],
  opts: { sessionTtlMinutes?: number; loginAttemptsPerMinute?: number; now?: () => number } = {},
): ApiGuard {
  const auth = new ConsoleAuth(
    {
      users: users.map((u) => consoleUserEntry(u) as unknown as ConsoleUserConfig),
      sessionTtlMinutes: opts.sessionTtlMinutes ?? 480,
      loginAttemptsPerMinute: opts.loginAttemptsPerMinute ?? 5,
    },
    silentLogger(),
    metrics,
    opts.now ? { now: opts.now } : {},
  );
  return new ApiGuard(auth, metrics);
}

/** fetch() of full URLs as TEST_SUPERVISOR, for tests that build URLs of a hub writeHubConfig configured. */
export const supervisorFetch: ConsoleFetch = consoleFetch('');
