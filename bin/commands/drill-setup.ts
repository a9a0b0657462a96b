/**
 * Files of a drill: the example city scaled to N districts (simulators/drills/city.ts), its case
 * rules and incident settings compressed to the drill's speedup, and the hub config. A drill
 * compresses time: every duration the hub waits in real time (a rule's minimum duration, a
 * trigger's window, a closure's lift hold, the incident clock) is divided by the speedup, so a
 * storm of three hours plays in minutes and still behaves as it would have.
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { hubConfigSchema } from '../../config/schema/hub.js';
import { type DrillCity, scaleCity } from '../../simulators/drills/city.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const EXAMPLES = path.join(ROOT, 'config/examples');
export const CLI = path.join(ROOT, 'bin/citygrid.mjs');

type Raw = Record<string, unknown>;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "10m" -> ms (the config's duration strings); undefined when it is not one. */
export function durationMs(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  const m = typeof v === 'string' ? /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(v.trim()) : null;
  return m ? Number(m[1]) * (UNIT_MS[m[2] as string] as number) : undefined;
}

const ms = (n: number) => `${Math.max(1, Math.round(n))}ms`;

/** Rule durations (minDuration, hold, window, maxSilence, clearAfter) divided by the speedup. */
export function compressRules(rules: Raw, speedup: number, o: { minSilenceMs: number }): Raw {
  const scale = (v: unknown, floor = 0): unknown => {
    const d = durationMs(v);
    return d === undefined ? v : ms(Math.max(floor, d / speedup));
  };
  const list = Array.isArray(rules.rules) ? (rules.rules as Raw[]) : [];
  return {
    ...rules,
    rules: list.map((r) => {
      const out: Raw = { ...r };
      for (const k of ['minDuration', 'hold', 'window', 'clearAfter']) if (k in out) out[k] = scale(out[k]);
      if (out.maxSilence && typeof out.maxSilence === 'object')
        out.maxSilence = Object.fromEntries(
          Object.entries(out.maxSilence as Raw).map(([p, v]) => [p, scale(v, o.minSilenceMs)]),
        );
      else if ('maxSilence' in out) out.maxSilence = scale(out.maxSilence, o.minSilenceMs);
      return out;
    }),
  };
}

/** Whether this hub takes an `incidents:` section (issue 10). */
export const hubHas = (key: string): boolean => key in (hubConfigSchema as unknown as { shape: Raw }).shape;

/** Whether this hub has console logins (`console: { users }`, issue 8). */
export function hubHasLogins(): boolean {
  const section = (
    hubConfigSchema as unknown as { shape: Record<string, { safeParse(v: unknown): { success: boolean } }> }
  ).shape.console;
  return section?.safeParse({ users: [] }).success ?? false;
}

/**
 * The hub's `incidents:` for a drill: the shipped triggers and closure depths, with windows, the
 * lift hold and the clock compressed, and an incident's sample interval `incidentIntervalMs` for
 * every level (the drill measures that the edges follow it, not the city's choice of seconds).
 */
export function drillIncidents(example: Raw | undefined, speedup: number, incidentIntervalMs: number): Raw {
  const base = example ?? {};
  const section = (hubConfigSchema as unknown as { shape: Record<string, { parse(v: unknown): Raw }> }).shape
    .incidents as { parse(v: unknown): Raw };
  const full = section.parse(base) as Raw;
  const levels = {
    IV: ms(incidentIntervalMs),
    III: ms(incidentIntervalMs),
    II: ms(incidentIntervalMs),
    I: ms(incidentIntervalMs),
  };
  const triggers = (full.triggers as Raw[]).map((t) => ({ ...t, window: ms((t.window as number) / speedup) }));
  const closures = full.closures as Raw;
  return {
    ...base,
    triggers,
    flood: { ...((base.flood as Raw) ?? {}), sampleInterval: levels },
    snow: { ...((base.snow as Raw) ?? {}), sampleInterval: levels },
    closures: { ...((base.closures as Raw) ?? {}), liftHold: ms((closures.liftHold as number) / speedup) },
    tick: ms(Math.min(1000, (full.tick as number) / Math.max(1, speedup / 60))),
  };
}

export interface DrillFiles {
  hubFile: string;
  city: DrillCity;
  /** Rules as written (for the crossing levels). */
  rules: Raw;
}

/** Writes city.yaml, catalogue.yaml, rules.yaml and hub.yaml into `dir`. */
export function writeDrillFiles(
  dir: string,
  o: {
    districts: number;
    speedup: number;
    normalIntervalMs: number;
    incidentIntervalMs: number;
    mqttPort: number;
    httpPort: number;
    /** Env variable names of the gateway passwords, by gateway id. */
    passwordEnv: (gatewayId: string) => string;
    /** Console users (when the hub has logins). */
    users?: Raw[];
  },
): DrillFiles {
  const read = (f: string) => parse(readFileSync(path.join(EXAMPLES, f), 'utf8')) as Raw;
  const exampleCity = read('city.yaml');
  const gatewayFiles = ['gateways/gw-xh-01.yaml', 'gateways/gw-gs-01.yaml'];
  const city = scaleCity(exampleCity, gatewayFiles.map(read), o.districts);
  writeFileSync(
    path.join(dir, 'city.yaml'),
    stringify({ ...city.city, catalogue: './catalogue.yaml', rules: './rules.yaml' }),
  );
  copyFileSync(path.join(EXAMPLES, 'catalogue.yaml'), path.join(dir, 'catalogue.yaml'));
  const rules = compressRules(read('rules.yaml'), o.speedup, { minSilenceMs: 4 * o.normalIntervalMs });
  writeFileSync(path.join(dir, 'rules.yaml'), stringify(rules));
  const exampleHub = read('hub.yaml');
  const hub: Raw = {
    hubId: 'hub-drill',
    city: './city.yaml',
    dataDir: './hub-data',
    logLevel: 'info',
    mqtt: { mode: 'embedded', host: '127.0.0.1', port: o.mqttPort },
    http: { host: '127.0.0.1', port: o.httpPort },
    accounts: {
      gateways: city.gateways.map((g) => ({ id: g.id, password: `\${${o.passwordEnv(g.id)}}` })),
    },
  };
  if (hubHas('incidents'))
    hub.incidents = drillIncidents(exampleHub.incidents as Raw | undefined, o.speedup, o.incidentIntervalMs);
  if (o.users) hub.console = { users: o.users };
  const hubFile = path.join(dir, 'hub.yaml');
  writeFileSync(hubFile, stringify(hub));
  return { hubFile, city, rules };
}
