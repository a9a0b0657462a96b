/**
 * The session routes of the hub API:
 *
 *   POST /api/login   { username, password } -> 200 { user } + Set-Cookie cg_session (HttpOnly, SameSite=Strict);
 *                     401 { error: 'invalid-credentials' }; 429 { error: 'too-many-attempts' } + Retry-After
 *   POST /api/logout  -> 204, the session ends and the cookie is cleared
 *   GET  /api/me      -> 200 { user: { id, name, role, district?, unit? } }
 *
 * /api/login is the only open /api route; the guard has already admitted /api/logout and /api/me.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { CLEAR_COOKIE, type ConsoleAuth } from '../auth/console-auth.js';
import { userOf } from './guard.js';
import { allowMethods, readJson, sendError, sendJson } from './respond.js';

const loginBody = z.object({ username: z.string().min(1).max(200), password: z.string().max(1000) }).strict();

/** Handles the route when it is one of these; returns false otherwise. */
export function handleAuthRoute(auth: ConsoleAuth, req: IncomingMessage, res: ServerResponse, route: string): boolean {
  const only = (allowed: string): boolean => allowMethods(req, res, route, [allowed]);
  if (route === '/api/login') {
    if (!only('POST')) return true;
    readJson(req)
      .then(async (body) => {
        const parsed = loginBody.safeParse(body);
        if (!parsed.success) return sendError(res, 400, 'bad-request', 'give { username, password }');
        const address = req.socket.remoteAddress ?? 'unknown';
        const result = await auth.login(parsed.data.username, parsed.data.password, address);
        if (result.ok) return sendJson(res, 200, { user: result.session.user }, { 'set-cookie': result.cookie });
        if (result.status === 429) {
          res.setHeader('retry-after', String(result.retryAfterS));
          return sendError(
            res,
            429,
            'too-many-attempts',
            `too many failed logins; try again in ${result.retryAfterS} s`,
          );
        }
        sendError(res, 401, 'invalid-credentials', 'unknown user or wrong password');
      })
      .catch((err: Error) => {
        if (!res.headersSent) sendError(res, 400, 'bad-request', err.message);
      });
    return true;
  }
  if (route === '/api/logout') {
    if (!only('POST')) return true;
    auth.logout(req);
    res.writeHead(204, { 'set-cookie': CLEAR_COOKIE, 'cache-control': 'no-store' });
    res.end();
    return true;
  }
  if (route === '/api/me') {
    if (!only('GET')) return true;
    sendJson(res, 200, { user: userOf(req) });
    return true;
  }
  return false;
}
