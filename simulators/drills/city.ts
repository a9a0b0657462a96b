/**
 * The drill's city: the example city (its two districts) or that city scaled to N districts, and
 * one gateway config per district with only its structure loggers (the drills do not need the
 * trucks, meters and cameras). Works on the raw YAML objects of config/examples, so what the
 * example city says (assets, units, calendar, catalogue, rules) is what the drill runs; a cloned
 * district k copies template district (k-1) mod 2 with ids renamed and its map shifted east.
 * Pure: files in and out are the runner's business.
 */

type Raw = Record<string, unknown>;
type RawList = Raw[];

export interface DrillDevice {
  id: string;
  kind: string;
  asset: string;
  model: string;
}

export interface DrillGateway {
  id: string;
  district: string;
  devices: DrillDevice[];
}

export interface DrillCity {
  /** The city config (raw, ready for YAML). */
  city: Raw;
  gateways: DrillGateway[];
  underpasses: string[];
  roads: string[];
}

const STRUCTURE_DRIVER = 'modbus-tcp-logger';
const STRUCTURE_MODELS = new Set(['BRG-DL-1', 'TUN-ENV-1', 'UPS-WL-1', 'RWS-1']);

const list = (v: unknown): RawList => (Array.isArray(v) ? (v as RawList) : []);
const pad2 = (n: number) => String(n).padStart(2, '0');

function structureDevices(gateway: Raw): DrillDevice[] {
  return list(gateway.devices).flatMap((d) => {
    const options = (d.options ?? {}) as Raw;
    const model = String(options.model ?? '');
    if (d.driver !== STRUCTURE_DRIVER || !STRUCTURE_MODELS.has(model) || typeof d.asset !== 'string') return [];
    return [{ id: String(d.id), kind: String(d.kind), asset: d.asset, model }];
  });
}

const shift = (ring: unknown, dLon: number): number[][] =>
  (ring as number[][]).map(([lon, lat]) => [Math.round(((lon as number) + dLon) * 1e6) / 1e6, lat as number]);

/**
 * The example city scaled to `districts` districts (at least 1; up to the example's count returns
 * its first districts unchanged, apart from the cameras: the drills run no camera simulators).
 */
export function scaleCity(exampleCity: Raw, exampleGateways: readonly Raw[], districts: number): DrillCity {
  if (!Number.isInteger(districts) || districts < 1 || districts > 99)
    throw new RangeError(`districts must be 1..99, got ${districts}`);
  const templates = list(exampleCity.districts);
  if (templates.length === 0) throw new RangeError('the example city has no districts');
  const gwTemplates = exampleGateways.map((g) => {
    const gw = g.gateway as Raw;
    return { id: String(gw.id), district: String(gw.district), devices: structureDevices(g) };
  });
  const assets = list(exampleCity.assets).map(({ cameras: _cameras, ...a }) => a);
  const city: Raw = {
    ...exampleCity,
    districts: templates.slice(0, districts),
    gridCells: list(exampleCity.gridCells),
    assets,
    gateways: list(exampleCity.gateways),
    units: list(exampleCity.units),
  };
  const gateways: DrillGateway[] = gwTemplates.filter((g) =>
    (city.districts as RawList).some((d) => d.id === g.district),
  );
  if (districts < templates.length) {
    const keep = new Set((city.districts as RawList).map((d) => d.id));
    const kept = (key: string) => list(exampleCity[key]).filter((x) => keep.has(x.district));
    for (const key of ['gridCells', 'gateways', 'assets', 'routes', 'roads', 'vehicles'])
      if (key in exampleCity) city[key] = kept(key);
    city.assets = (city.assets as RawList).map(({ cameras: _cameras, ...a }) => a);
    const assetIds = new Set((city.assets as RawList).map((a) => a.id));
    const cellIds = new Set((city.gridCells as RawList).map((c) => c.id));
    // units keep only what is left of their territory and assets; a unit left with nothing goes
    const trim = (o: unknown, key: string, ids: Set<unknown>) => {
      const r = o as Raw | undefined;
      if (!r || !Array.isArray(r[key])) return;
      r[key] = (r[key] as unknown[]).filter((x) => ids.has(x));
      if ((r[key] as unknown[]).length === 0) delete r[key];
    };
    city.units = list(exampleCity.units)
      .map((u) => structuredClone(u))
      .filter((u) => {
        trim(u.territory, 'districts', keep);
        trim(u.territory, 'gridCells', cellIds);
        trim(u.owns, 'assets', assetIds);
        for (const k of ['territory', 'owns']) if (u[k] && Object.keys(u[k] as Raw).length === 0) delete u[k];
        return u.territory !== undefined || u.owns !== undefined;
      });
  }
  const width = 0.14;
  for (let k = templates.length + 1; k <= districts; k++) {
    const t = templates[(k - 1) % templates.length] as Raw;
    const tid = String(t.id);
    const id = `d${pad2(k)}`;
    const code = `3399${pad2(k)}`;
    const dLon = width * Math.ceil((k - templates.length) / templates.length);
    const tag = `D${pad2(k)}`;
    // asset and device ids carry a district tag (UP-XH-001, XH-UP001): XH/GS -> D07
    const tmplGw = gwTemplates.find((g) => g.district === tid);
    const tTag = tmplGw?.devices[0]?.id.split('-')[0] ?? '';
    const rename = (s: string) => (tTag ? s.split(tTag).join(tag) : `${s}-${tag}`);
    const tCode = String(t.adminCode);
    (city.districts as RawList).push({
      ...t,
      id,
      name: `${t.name} ${k}`,
      adminCode: code,
      boundary: shift(t.boundary, dLon),
    });
    for (const c of list(exampleCity.gridCells).filter((c) => c.district === tid))
      (city.gridCells as RawList).push({
        ...c,
        id: String(c.id).replace(tCode, code),
        district: id,
        boundary: shift(c.boundary, dLon),
      });
    const unit = `${id}-office`;
    (city.units as RawList).push({
      id: unit,
      name: `${t.name} ${k} 城管局`,
      type: 'district_office',
      territory: { districts: [id] },
    });
    for (const a of assets.filter((a) => a.district === tid && a.kind !== 'vehicle' && a.kind !== 'water_meter')) {
      const { grid: _grid, objectId, ...rest } = a;
      (city.assets as RawList).push({
        ...rest,
        id: rename(String(a.id)),
        district: id,
        name: `${a.name} ${k}`,
        ...(objectId ? { objectId: String(objectId).replace(tCode, code) } : {}),
        ...(Array.isArray(a.location) ? { location: shift([a.location], dLon)[0] } : {}),
        owner: a.kind === 'bridge' || a.kind === 'tunnel' ? a.owner : unit,
      });
    }
    const gwId = `gw-${id}`;
    (city.gateways as RawList).push({ id: gwId, district: id, name: `${t.name} ${k} 网关` });
    gateways.push({
      id: gwId,
      district: id,
      devices: (tmplGw?.devices ?? []).map((d) => ({ ...d, id: rename(d.id), asset: rename(d.asset) })),
    });
  }
  const byId = new Map((city.assets as RawList).map((a) => [String(a.id), a]));
  const kindOf = (kind: string) =>
    gateways.flatMap((g) => g.devices.filter((d) => byId.get(d.asset)?.kind === kind).map((d) => d.asset));
  return { city, gateways, underpasses: kindOf('underpass'), roads: kindOf('road') };
}

/**
 * A gateway config for the drill (raw YAML object): its structure loggers polled every
 * `intervalMs`, pointed at the simulator endpoints `endpoint(deviceId)` gives, batching and
 * reconnection tuned so a compressed timeline is not smeared by the uplink.
 */
export function drillGatewayConfig(
  gw: DrillGateway,
  o: {
    hubUrl: string;
    passwordRef: string;
    dataDir: string;
    intervalMs: number;
    endpoint: (deviceId: string) => { port: number; unit: number };
  },
): Raw {
  return {
    gateway: { id: gw.id, district: gw.district },
    hub: { url: o.hubUrl, password: o.passwordRef, reconnectPeriod: '250ms' },
    dataDir: o.dataDir,
    batch: { maxReadings: 50, maxDelay: '100ms' },
    delivery: { resendAfter: '2s' },
    devices: gw.devices.map((d) => {
      const e = o.endpoint(d.id);
      return {
        id: d.id,
        kind: d.kind,
        driver: STRUCTURE_DRIVER,
        asset: d.asset,
        options: { host: '127.0.0.1', port: e.port, unit: e.unit, model: d.model, interval: `${o.intervalMs}ms` },
      };
    }),
  };
}
