/**
 * The case routes of the hub API:
 *
 *   GET  /api/cases?state=&district=&unit=&category=&urgency=&open=&overdue=&limit=&offset=
 *                                         cases newest first, without their history ({ items, limit, offset })
 *   GET  /api/cases/<id>                  the case with its history, signals (?signalsOffset=), capture request, evidence ids
 *   POST /api/cases/<id>/transitions      { action, note?, unit?, extensionHours?, urgency? } -> the case;
 *                                         409 with the workflow's refusal; actor and role are the session's user
 *   POST /api/reports                     hotline / inspector intake { text, category, asset? | point?, reporter?, source? }
 *                                         -> 201 { effect: opened|joined, case }
 *   GET  /api/catalogue                   case classes { key, kind, code, name, nameEn?, defaultUrgency }, the
 *                                         workflow's guards { action: { from, roles } } and the terminal states
 *   GET  /api/evaluation?period=YYYY[-MM[-DD]]|from=&to=&by=unit|district
 *   GET  /api/profile                     the rule profile in force { profile, actor, note?, at } (normal until switched)
 *   PUT  /api/profile                     { profile: normal|flood|snow, note? } -> the recorded switch (actor: the
 *                                         session's user); kept in cases.db across restarts, announced as
 *                                         `profile` on /api/stream
 *
 * Who may call which route is the guard's table (guard.ts); the actor and role of a transition are
 * the session's user. Errors are typed JSON `{ error, message }`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { URGENCIES } from '../../../config/schema/catalogue.js';
import type { CityConfig } from '../../../config/schema/city.js';
import { PROFILES } from '../../../config/schema/rules.js';
import { seesCase } from '../auth/scope.js';
import { TransitionRefusedError, UnknownCaseError, UnknownCategoryError } from '../cases/errors.js';
import { type HubCases, isOverdue } from '../cases/hub-cases.js';
import { CASE_STATES, type CaseRecord, TERMINAL_STATES } from '../cases/model.js';
import { localPeriod, type Period } from '../cases/period.js';
import type { CaseFilter } from '../cases/store.js';
import { ACTIONS, GUARDS } from '../cases/workflow.js';
import type { EvidenceStore } from '../evidence/store.js';
import { pointInPolygon } from '../geo.js';
import { userOf } from './guard.js';
import { allowMethods, readJson, type Send, type SendError } from './respond.js';

export interface CaseRouteDeps {
  cases: HubCases;
  /** Evidence of a case: what its capture commands brought, and what its asset's cameras took since it opened. */
  evidence?: EvidenceStore;
  /** The city's time zone: `period=2026-11` is a month there. */
  timeZone: string;
  /** Districts and assets, to hold a district commander's reports to their district. */
  city: Pick<CityConfig, 'districts' | 'assets'>;
  now?: () => number;
}

const PAGE_MAX = 500;
/** Cases of a unit read to find those dispatched to it (a unit's own list is short). */
const HANDLER_SCAN_MAX = 5000;

const transitionBody = z
  .object({
    action: z.enum(ACTIONS),
    note: z.string().max(2000).optional(),
    unit: z.string().min(1).optional(),
    extensionHours: z.number().positive().optional(),
    urgency: z.enum(URGENCIES).optional(),
  })
  .strict();

const reportBody = z
  .object({
    text: z.string().min(1).max(2000),
    category: z.string().regex(/^(component|event):\d{4}$/, 'a category such as event:0406 or component:0208'),
    asset: z.string().min(1).optional(),
    point: z.tuple([z.number().min(-180).max(180), z.number().min(-90).max(90)]).optional(),
    reporter: z.string().max(200).optional(),
    source: z.enum(['hotline', 'inspector']).default('hotline'),
  })
  .strict()
  .refine((b) => b.asset !== undefined || b.point !== undefined, 'a report needs an asset or a point [lon, lat]');

const profileBody = z.object({ profile: z.enum(PROFILES), note: z.string().max(2000).optional() }).strict();

/** A case without its history, for lists and the stream. */
export function caseSummary(c: CaseRecord, now: number): Record<string, unknown> {
  const { history, ...rest } = c;
  return { ...rest, overdue: isOverdue(c, now), historyLength: history.length };
}

/** Handles the route when it is one of these; returns false otherwise. */
export function handleCaseRoute(
  deps: CaseRouteDeps,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  route: string,
  send: { json: Send; error: SendError },
): boolean {
  const parts = route.split('/').slice(1).map(decodeURIComponent);
  const [api, what, id, sub, extra] = parts;
  if (api !== 'api' || extra !== undefined) return false;
  if (what !== 'cases' && what !== 'reports' && what !== 'evaluation' && what !== 'profile' && what !== 'catalogue')
    return false;
  const method = req.method ?? 'GET';
  const now = (deps.now ?? Date.now)();
  const only = (allowed: readonly string[]): boolean => allowMethods(req, res, route, allowed);
  const store = deps.cases.service.store;
  /** Sends a typed error; true, so a branch can `return fail(…)`. */
  const fail = (status: number, error: string, message: string): true => {
    send.error(res, status, error, message);
    return true;
  };
  const bad = (message: string): true => fail(400, 'bad-request', message);
  const user = userOf(req);

  if (what === 'catalogue' && id === undefined) {
    if (!only(['GET', 'HEAD'])) return true;
    send.json(res, 200, catalogueJson(deps.cases.catalogue));
    return true;
  }

  if (what === 'cases' && id === undefined) {
    if (!only(['GET', 'HEAD'])) return true;
    const q = url.searchParams;
    const state = q.get('state') ?? undefined;
    if (state !== undefined && !(CASE_STATES as readonly string[]).includes(state))
      return bad(`state must be one of ${CASE_STATES.join(', ')}`);
    const limit = Math.min(PAGE_MAX, Math.max(1, Number(q.get('limit') ?? 50) || 50));
    const offset = Math.max(0, Number(q.get('offset') ?? 0) || 0);
    const filter: CaseFilter = {
      ...(state ? { state: state as CaseRecord['state'] } : {}),
      ...opt('district', q.get('district')),
      ...opt('unit', q.get('unit')),
      ...opt('category', q.get('category')),
      ...opt('urgency', q.get('urgency')),
      ...(q.has('open') ? { open: q.get('open') !== 'false' } : {}),
    };
    // Scope: a commander's district, a handler's unit. Asking for another gives an empty list.
    const NOWHERE = '\u0000';
    if (user.role === 'district_commander')
      filter.district = filter.district === undefined || filter.district === user.district ? user.district : NOWHERE;
    if (user.role === 'unit_handler')
      filter.unit = filter.unit === undefined || filter.unit === user.unit ? user.unit : NOWHERE;
    let items: CaseRecord[];
    if (q.get('overdue') === 'true') {
      // Overdue is a property of the clock, not a column: the store's open cases past due, then the rest of the filter.
      const matches = (c: CaseRecord) =>
        Object.entries(filter).every(([k, v]) =>
          k === 'open' ? v === true : (c as unknown as Record<string, unknown>)[k] === v,
        );
      items = store
        .openCases()
        .filter((c) => isOverdue(c, now) && matches(c) && seesCase(user, c))
        .sort((a, b) => b.reportedAt - a.reportedAt)
        .slice(offset, offset + limit);
    } else if (user.role === 'unit_handler') {
      // Cases only proposed to the unit (not dispatched) are not the handler's: filter, then page.
      items = store
        .list({ ...filter, limit: HANDLER_SCAN_MAX, offset: 0 })
        .filter((c) => seesCase(user, c))
        .slice(offset, offset + limit);
    } else items = store.list({ ...filter, limit, offset });
    send.json(res, 200, { items: items.map((c) => caseSummary(c, now)), limit, offset });
    return true;
  }

  if (what === 'cases' && id !== undefined && sub === undefined) {
    if (!only(['GET', 'HEAD'])) return true;
    const c = store.get(id);
    // A case outside the user's scope is as unknown as a missing one: its existence is not told.
    if (!c || !seesCase(user, c)) return fail(404, 'unknown-case', `no case "${id}"`);
    const signalsOffset = Math.max(0, Number(url.searchParams.get('signalsOffset') ?? 0) || 0);
    const capture = deps.cases.captureOf(id);
    send.json(res, 200, {
      ...c,
      overdue: isOverdue(c, now),
      signals: store.signals(id, { limit: 100, offset: signalsOffset }),
      signalCount: store.signalCount(id),
      ...(capture ? { capture } : {}),
      evidence: evidenceOf(deps, c, capture?.commands.map((x) => x.commandId) ?? []),
    });
    return true;
  }

  if (what === 'cases' && id !== undefined && sub === 'transitions') {
    if (!only(['POST'])) return true;
    readJson(req).then(
      (body) => {
        const parsed = transitionBody.safeParse(body);
        if (!parsed.success) return bad(zodMessage(parsed.error));
        const b = parsed.data;
        const current = store.get(id);
        if (!current || !seesCase(user, current)) return fail(404, 'unknown-case', `no case "${id}"`);
        try {
          const next = deps.cases.apply(id, {
            action: b.action,
            actor: { id: user.id, role: user.role },
            at: (deps.now ?? Date.now)(),
            ...(b.note !== undefined ? { note: b.note } : {}),
            ...(b.unit !== undefined ? { unit: b.unit } : {}),
            ...(b.extensionHours !== undefined ? { extensionMs: b.extensionHours * 3_600_000 } : {}),
            ...(b.urgency !== undefined ? { urgency: b.urgency } : {}),
          });
          send.json(res, 200, { ...next, overdue: isOverdue(next, now) });
        } catch (err) {
          if (err instanceof UnknownCaseError) return send.error(res, 404, 'unknown-case', err.message);
          if (err instanceof TransitionRefusedError) return send.error(res, 409, 'transition-refused', err.message);
          throw err;
        }
      },
      (err: Error) => bad(err.message),
    );
    return true;
  }

  if (what === 'reports' && id === undefined) {
    if (!only(['POST'])) return true;
    readJson(req).then(
      (body) => {
        const parsed = reportBody.safeParse(body);
        if (!parsed.success) return bad(zodMessage(parsed.error));
        const b = parsed.data;
        if (user.role === 'district_commander' && reportDistrict(deps, b) !== user.district)
          return fail(403, 'forbidden', `a district commander reports only inside ${user.district}`);
        try {
          const change = deps.cases.report({
            category: b.category as CaseRecord['category'],
            source: b.source,
            at: (deps.now ?? Date.now)(),
            text: b.text,
            ...(b.asset ? { asset: b.asset } : {}),
            ...(b.point ? { point: b.point } : {}),
            ...(b.reporter ? { reporter: b.reporter } : {}),
          });
          send.json(res, change.effect === 'opened' ? 201 : 200, { effect: change.effect, case: change.case });
        } catch (err) {
          if (err instanceof UnknownCategoryError) return bad(err.message);
          throw err;
        }
      },
      (err: Error) => bad(err.message),
    );
    return true;
  }

  if (what === 'profile' && id === undefined) {
    if (method === 'GET' || method === 'HEAD') {
      send.json(res, 200, deps.cases.profile());
      return true;
    }
    if (!only(['GET', 'HEAD', 'PUT'])) return true;
    readJson(req).then(
      (body) => {
        const parsed = profileBody.safeParse(body);
        if (!parsed.success) return bad(zodMessage(parsed.error));
        const b = parsed.data;
        const change = deps.cases.setProfile({
          profile: b.profile,
          actor: user.id,
          at: (deps.now ?? Date.now)(),
          ...(b.note !== undefined ? { note: b.note } : {}),
        });
        send.json(res, 200, change);
      },
      (err: Error) => bad(err.message),
    );
    return true;
  }

  if (what === 'evaluation' && id === undefined) {
    if (!only(['GET', 'HEAD'])) return true;
    const q = url.searchParams;
    const range = periodRange(q, deps.timeZone, now);
    if (typeof range === 'string') return bad(range);
    const by = q.get('by');
    if (by !== null && by !== 'unit' && by !== 'district') return bad('by must be unit or district');
    const ev = deps.cases.evaluation(range);
    const body: Record<string, unknown> = { from: ev.from, to: ev.to, total: ev.total };
    if (by !== 'district') body.byUnit = ev.byUnit;
    if (by !== 'unit') body.byDistrict = ev.byDistrict;
    send.json(res, 200, body);
    return true;
  }
  return false;
}

/** The catalogue as the console needs it: class names for labels, and who may take which action from where. */
export function catalogueJson(catalogue: HubCases['catalogue']): Record<string, unknown> {
  return {
    classes: catalogue.classes.map((c) => ({
      key: `${c.kind}:${c.code}`,
      kind: c.kind,
      code: c.code,
      name: c.name,
      ...('nameEn' in c && c.nameEn ? { nameEn: c.nameEn } : {}),
      defaultUrgency: c.defaultUrgency,
    })),
    workflow: Object.fromEntries(
      Object.entries(GUARDS).map(([action, g]) => [action, { from: g.from, roles: g.roles }]),
    ),
    terminalStates: TERMINAL_STATES,
  };
}

const opt = (key: string, v: string | null) => (v ? { [key]: v } : {});

const zodMessage = (e: z.ZodError) =>
  e.issues.map((i) => `${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`).join('; ');

function evidenceOf(deps: CaseRouteDeps, c: CaseRecord, commands: string[]): string[] {
  const store = deps.evidence;
  if (!store) return [];
  const ids = new Set<string>();
  for (const command of commands) for (const e of store.list({ command })) ids.add(e.id);
  if (c.asset) {
    const closedAt = c.history.find((h) => h.to === 'closed' || h.to === 'not_filed')?.at ?? Number.POSITIVE_INFINITY;
    for (const e of store.list({ asset: c.asset, limit: 100 }))
      if (e.ts >= c.reportedAt - 60_000 && e.ts <= closedAt) ids.add(e.id);
  }
  return [...ids];
}

/** [from, to) of `period` (YYYY, YYYY-MM, YYYY-MM-DD in the city's zone) or of `from`/`to` (ISO or ms); default today. */
function periodRange(q: URLSearchParams, timeZone: string, now: number): Period | string {
  const period = q.get('period');
  if (period !== null)
    return localPeriod(period, timeZone, now) ?? 'period must be YYYY, YYYY-MM, YYYY-MM-DD, month or today';
  const parse = (v: string | null) => (v === null ? undefined : /^\d+$/.test(v) ? Number(v) : Date.parse(v));
  const from = parse(q.get('from'));
  const to = parse(q.get('to'));
  if (from === undefined && to === undefined) return localPeriod('today', timeZone, now) as Period;
  if (from === undefined || to === undefined || Number.isNaN(from) || Number.isNaN(to) || from >= to)
    return 'give period=, or both from= and to= (ISO time or ms) with from before to';
  return { from, to };
}

/** The district a report is in: its asset's, else the district whose boundary holds its point. */
function reportDistrict(deps: CaseRouteDeps, b: { asset?: string; point?: [number, number] }): string | undefined {
  if (b.asset !== undefined) return deps.city.assets.find((a) => a.id === b.asset)?.district;
  const point = b.point;
  return point ? deps.city.districts.find((d) => pointInPolygon(point, d.boundary))?.id : undefined;
}
