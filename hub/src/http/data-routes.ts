/**
 * Data the console charts (issue 8):
 *
 *   GET /api/telemetry?device=&field=&from=&to=&maxPoints=
 *       { device, kind, field, from, to, raw, downsampled, points: [[ts, value], ...] } from the
 *       telemetry store (InfluxDB or the embedded store), oldest first; beyond maxPoints (default
 *       1000, at most 10 000) the range is cut into maxPoints equal buckets and each bucket gives
 *       the mean of its values at the mean of its times. from/to: ms or ISO; default the last 6 h.
 *   GET /api/rules?device=|asset=
 *       { profile, rules: [{ id, type, category, field?, direction?, inForce, levels? }] }: the rules
 *       that apply to the device (its kind and asset) or to the asset's devices; a threshold rule's
 *       `levels` per profile ({ normal: [{ at, urgency }], flood?, snow? }), `inForce` the profile
 *       that holds there: an open incident's in its districts, else the city-wide one.
 *
 *   GET /api/assets/status
 *       [{ asset, district, openCases, worstUrgency, worstState, cases: [id...] }] for every asset with an
 *       open case: the map colours assets by the most urgent open case on them.
 *
 * Scope: a district commander gets devices and assets of their district only (others: 404); a unit
 * handler the assets of the cases dispatched to their unit.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { URGENCIES } from '../../../config/schema/catalogue.js';
import type { CityConfig } from '../../../config/schema/city.js';
import { seesCase, seesDistrict } from '../auth/scope.js';
import type { ConsoleUser } from '../auth/users.js';
import type { HubCases } from '../cases/hub-cases.js';
import { matches } from '../cases/rules.js';
import type { GatewayRegistry } from '../ingest/gateways.js';
import type { LatestValueCache } from '../live/latest-cache.js';
import type { TelemetryStore } from '../telemetry/types.js';
import { userOf } from './guard.js';
import { allowMethods, sendError, sendJson } from './respond.js';

export interface DataRouteDeps {
  store: TelemetryStore;
  registry: GatewayRegistry;
  latest: LatestValueCache;
  city: Pick<CityConfig, 'assets'>;
  cases?: HubCases;
  now?: () => number;
}

const DEFAULT_SPAN_MS = 6 * 3_600_000;
/** Points read from the store for one chart at most (the newest are kept). */
const READ_MAX = 200_000;

interface DeviceInfo {
  id: string;
  kind: string;
  district: string;
  asset?: string;
}

function deviceInfo(deps: DataRouteDeps, id: string): DeviceInfo | undefined {
  const live = deps.latest.get(id);
  if (live)
    return {
      id,
      kind: live.reading.kind,
      district: live.district,
      ...((live.asset ?? live.reading.asset) ? { asset: (live.asset ?? live.reading.asset) as string } : {}),
    };
  const d = deps.registry.listDevices().find((x) => x.id === id);
  return d ? { id, kind: d.kind, district: d.district, ...(d.asset ? { asset: d.asset } : {}) } : undefined;
}

const time = (v: string | null): number | undefined =>
  v === null ? undefined : /^\d+$/.test(v) ? Number(v) : Date.parse(v);

/** Equal time buckets, each its mean value at its mean time; empty buckets give nothing. */
export function downsample(points: [number, number][], from: number, to: number, max: number): [number, number][] {
  if (points.length <= max) return points;
  const width = (to - from) / max;
  const sums = new Map<number, [number, number, number]>();
  for (const [ts, v] of points) {
    const b = Math.min(max - 1, Math.floor((ts - from) / width));
    const s = sums.get(b) ?? [0, 0, 0];
    s[0] += ts;
    s[1] += v;
    s[2] += 1;
    sums.set(b, s);
  }
  return [...sums.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([, [ts, v, n]]) => [Math.round(ts / n), v / n] as [number, number]);
}

/** Handles the route when it is one of these; returns false otherwise. */
export function handleDataRoute(
  deps: DataRouteDeps,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  route: string,
): boolean {
  if (route !== '/api/telemetry' && route !== '/api/rules' && route !== '/api/assets/status') return false;
  if (!allowMethods(req, res, route, ['GET'])) return true;
  const user = userOf(req);
  if (route === '/api/assets/status') {
    sendJson(res, 200, assetStatus(deps, user));
    return true;
  }
  const q = url.searchParams;
  const deviceId = q.get('device');
  const device = deviceId ? deviceInfo(deps, deviceId) : undefined;
  if (deviceId && (!device || !seesDistrict(user, device.district))) {
    sendError(res, 404, 'unknown-device', `no device ${deviceId} the hub has heard of in your scope`);
    return true;
  }
  if (route === '/api/telemetry') {
    const field = q.get('field');
    if (!device || !field) {
      sendError(res, 400, 'bad-request', 'give device= and field=');
      return true;
    }
    const to = time(q.get('to')) ?? (deps.now ?? Date.now)();
    const from = time(q.get('from')) ?? to - DEFAULT_SPAN_MS;
    const maxPoints = Math.min(10_000, Math.max(2, Number(q.get('maxPoints') ?? 1000) || 1000));
    if (Number.isNaN(from) || Number.isNaN(to) || from >= to) {
      sendError(res, 400, 'bad-request', 'from and to are ms or ISO times, from before to');
      return true;
    }
    deps.store.query({ measurement: device.kind, device: device.id, since: from, until: to, limit: READ_MAX }).then(
      (rows) => {
        const raw: [number, number][] = [];
        for (const r of rows) {
          const v = r.fields[field];
          if (typeof v === 'number' && Number.isFinite(v)) raw.push([r.ts, v]);
        }
        const points = downsample(raw, from, to, maxPoints);
        sendJson(res, 200, {
          device: device.id,
          kind: device.kind,
          field,
          from,
          to,
          raw: raw.length,
          downsampled: points.length < raw.length,
          points,
        });
      },
      (err: Error) => sendError(res, 503, 'store-unavailable', `telemetry store: ${err.message}`),
    );
    return true;
  }
  const assetId = device?.asset ?? q.get('asset') ?? undefined;
  const asset = assetId ? deps.city.assets.find((a) => a.id === assetId) : undefined;
  if (!device && (!asset || !seesDistrict(user, asset.district))) {
    sendError(
      res,
      assetId ? 404 : 400,
      assetId ? 'unknown-asset' : 'bad-request',
      assetId ? `no asset ${assetId} in your scope` : 'give device= or asset=',
    );
    return true;
  }
  // An asset alone: the rules of the kinds of devices on it that the hub knows.
  const kinds = device
    ? [device.kind]
    : [
        ...new Set(
          deps.registry
            .listDevices()
            .filter((d) => d.asset === assetId)
            .map((d) => d.kind),
        ),
      ];
  const profile = deps.cases?.profile().profile ?? 'normal';
  const place = { ...(assetId ? { asset: assetId } : {}), ...(asset ? { assetKind: asset.kind } : {}) };
  // An open incident's profile where it holds (its districts), else the city-wide one.
  const inForce =
    deps.cases?.service.profileAt({
      ...(device ? { device: device.id } : {}),
      ...(assetId ? { asset: assetId } : {}),
    }) ?? profile;
  // No device known on the asset yet: every rule for the asset, whatever device kind it names.
  const rules = (deps.cases?.rules.rules ?? []).filter((r) =>
    kinds.length
      ? kinds.some((kind) => matches(r, { ...place, kind }))
      : matches({ ...r, match: { ...r.match, deviceKinds: [] } }, place),
  );
  sendJson(res, 200, {
    profile,
    rules: rules.map((r) => ({
      id: r.id,
      type: r.type,
      category: r.category,
      ...('field' in r ? { field: r.field } : {}),
      ...('direction' in r ? { direction: r.direction } : {}),
      inForce,
      ...(r.type === 'threshold' ? { levels: r.levels } : {}),
    })),
  });
  return true;
}

/** Open cases per asset, worst urgency first, within the user's scope. */
function assetStatus(deps: DataRouteDeps, user: ConsoleUser): Record<string, unknown>[] {
  const rank = (u: string) => URGENCIES.indexOf(u as (typeof URGENCIES)[number]);
  const byAsset = new Map<string, { district?: string; cases: { id: string; urgency: string; state: string }[] }>();
  for (const c of deps.cases?.service.store.openCases() ?? []) {
    if (!c.asset || !seesCase(user, c)) continue;
    const entry = byAsset.get(c.asset) ?? { ...(c.district ? { district: c.district } : {}), cases: [] };
    entry.cases.push({ id: c.id, urgency: c.urgency, state: c.state });
    byAsset.set(c.asset, entry);
  }
  return [...byAsset.entries()]
    .map(([asset, e]) => {
      const worst = [...e.cases].sort((a, b) => rank(b.urgency) - rank(a.urgency))[0] as {
        urgency: string;
        state: string;
      };
      return {
        asset,
        district: e.district,
        openCases: e.cases.length,
        worstUrgency: worst.urgency,
        worstState: worst.state,
        cases: e.cases.map((c) => c.id),
      };
    })
    .sort((a, b) => rank(b.worstUrgency) - rank(a.worstUrgency) || a.asset.localeCompare(b.asset));
}
