/**
 * Config loading: read YAML -> substitute ${ENV} -> validate against the schema -> cross-check.
 * Every problem is collected (not only the first) and reported with the file, the line, the path
 * inside the file and what was expected there. Validation never touches the network.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type Document, isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError, type ConfigIssue } from '../drivers/sdk/errors.js';
import { describeZodIssue } from '../drivers/sdk/zod-issues.js';
import { type CityConfig, cityConfigSchema } from './schema/city.js';
import { type GatewayConfig, gatewayConfigSchema } from './schema/gateway.js';
import { type HubConfig, hubConfigSchema } from './schema/hub.js';

export type PathSegment = string | number;

export function formatPath(segments: readonly PathSegment[]): string {
  let out = '';
  for (const s of segments) out += typeof s === 'number' ? `[${s}]` : out ? `.${s}` : s;
  return out;
}

interface ParsedFile {
  file: string;
  doc: Document;
  lines: LineCounter;
  data: unknown;
  issues: ConfigIssue[];
}

function lineOf(parsed: ParsedFile, segments: readonly PathSegment[]): number | undefined {
  // Walk as deep as the document goes, so a missing key points at its parent.
  let node: unknown = parsed.doc.contents;
  let found: unknown = node;
  for (const s of segments) {
    if (isMap(node)) node = node.get(s, true);
    else if (isSeq(node) && typeof s === 'number') node = node.get(s, true);
    else break;
    if (node === undefined) break;
    found = node;
  }
  const range = (found as { range?: [number, number, number] } | undefined)?.range;
  return range ? parsed.lines.linePos(range[0]).line : undefined;
}

function issue(parsed: ParsedFile, segments: readonly PathSegment[], message: string): ConfigIssue {
  const line = lineOf(parsed, segments);
  return { file: line ? `${parsed.file}:${line}` : parsed.file, path: formatPath(segments), message };
}

/** Replaces `${NAME}` (or `${NAME:-default}`) in every string scalar; a missing variable becomes an issue at that path. */
function substituteEnv(parsed: ParsedFile, env: NodeJS.ProcessEnv): unknown {
  const walk = (value: unknown, at: PathSegment[]): unknown => {
    if (typeof value === 'string') {
      const whole = /^\$\{[^}]+\}$/.test(value);
      const out = value.replace(
        /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g,
        (_m, name: string, fallback?: string) => {
          const v = env[name] ?? fallback;
          if (v === undefined) {
            parsed.issues.push(issue(parsed, at, `environment variable ${name} is not set`));
            return '';
          }
          return v;
        },
      );
      // `port: ${PORT}` should read as the number it would be if written inline.
      return whole && /^-?\d+(\.\d+)?$/.test(out)
        ? Number(out)
        : whole && /^(true|false)$/.test(out)
          ? out === 'true'
          : out;
    }
    if (Array.isArray(value)) return value.map((v, i) => walk(v, [...at, i]));
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, [...at, k])]));
    }
    return value;
  };
  return walk(parsed.data, []);
}

function readYaml(file: string, env: NodeJS.ProcessEnv): ParsedFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([{ file, path: '', message: `cannot read file: ${(err as Error).message}` }]);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const parsed: ParsedFile = { file, doc, lines, data: undefined, issues: [] };
  for (const e of doc.errors) {
    const line = e.linePos?.[0]?.line;
    parsed.issues.push({
      file: line ? `${file}:${line}` : file,
      path: '',
      message: `YAML syntax: ${e.message.split('\n')[0]}`,
    });
  }
  if (parsed.issues.length) throw new ConfigError(parsed.issues);
  parsed.data = doc.toJS();
  if (isScalar(doc.contents) || doc.contents === null) parsed.data = parsed.data ?? {};
  parsed.data = substituteEnv(parsed, env);
  return parsed;
}

/** Validates data of one parsed file against a schema; returns the value or throws every issue. */
function validate<S extends z.ZodType>(parsed: ParsedFile, schema: S): z.output<S> {
  const result = schema.safeParse(parsed.data, { reportInput: true });
  if (!result.success) {
    for (const i of result.error.issues)
      parsed.issues.push(issue(parsed, i.path as PathSegment[], describeZodIssue(i)));
  }
  if (parsed.issues.length) throw new ConfigError(parsed.issues);
  return (result as { data: z.output<S> }).data;
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
}

export function loadCityConfig(file: string, opts: LoadOptions = {}): CityConfig {
  return validate(readYaml(file, opts.env ?? process.env), cityConfigSchema);
}

/** Loads any YAML config file against a schema, with the same error reporting (file:line, path, expectation). */
export function loadConfigFile<S extends z.ZodType>(file: string, schema: S, opts: LoadOptions = {}): z.output<S> {
  return validate(readYaml(file, opts.env ?? process.env), schema);
}

export interface LoadedHubConfig {
  file: string;
  hub: HubConfig;
  city: CityConfig;
  /** Absolute data dir. */
  dataDir: string;
}

export function loadHubConfig(file: string, opts: LoadOptions = {}): LoadedHubConfig {
  const parsed = readYaml(file, opts.env ?? process.env);
  const hub = validate(parsed, hubConfigSchema);
  const base = path.dirname(path.resolve(file));
  const city = loadCityConfig(path.resolve(base, hub.city), opts);
  const known = new Set(city.gateways.map((g) => g.id));
  hub.accounts.gateways.forEach((g, i) => {
    if (!known.has(g.id)) {
      parsed.issues.push(
        issue(parsed, ['accounts', 'gateways', i, 'id'], `gateway "${g.id}" is not in the city config ${hub.city}`),
      );
    }
  });
  const districts = new Set(city.districts.map((d) => d.id));
  const units = new Set(city.units.map((u) => u.id));
  const userIds = new Set<string>();
  hub.console.users.forEach((u, i) => {
    const at = (key: string, message: string) =>
      parsed.issues.push(issue(parsed, ['console', 'users', i, key], message));
    if (userIds.has(u.id)) at('id', `user "${u.id}" is listed twice`);
    userIds.add(u.id);
    if (u.district !== undefined && !districts.has(u.district))
      at('district', `district "${u.district}" is not in the city config ${hub.city}`);
    if (u.unit !== undefined && !units.has(u.unit))
      at('unit', `unit "${u.unit}" is not in the city config ${hub.city}`);
  });
  if (parsed.issues.length) throw new ConfigError(parsed.issues);
  return { file, hub, city, dataDir: path.resolve(base, hub.dataDir) };
}

/** Per-driver option validation, supplied by the caller (the driver registry), so config/ stays free of drivers. */
export type DeviceOptionsValidator = (
  driver: string,
  options: unknown,
  /**
   * `bus` when the device entry names a bus, `server` when it names a server, `transport` when it
   * has a transport of its own, else `none`.
   */
  placement?: 'transport' | 'bus' | 'server' | 'none',
) => { ok: true; options: unknown } | { ok: false; issues: { path: PathSegment[]; message: string }[] };

export interface LoadedGatewayConfig {
  file: string;
  gateway: GatewayConfig;
  dataDir: string;
}

export function loadGatewayConfig(
  file: string,
  validateOptions?: DeviceOptionsValidator,
  opts: LoadOptions = {},
): LoadedGatewayConfig {
  const parsed = readYaml(file, opts.env ?? process.env);
  const result = gatewayConfigSchema.safeParse(parsed.data, { reportInput: true });
  if (!result.success) {
    for (const i of result.error.issues)
      parsed.issues.push(issue(parsed, i.path as PathSegment[], describeZodIssue(i)));
  }
  // Driver options are checked on the raw entries too, so one run reports schema and option
  // mistakes together instead of making the technician fix them one round at a time.
  const rawDevices = (parsed.data as { devices?: unknown }).devices;
  const validated: unknown[] = [];
  if (validateOptions && Array.isArray(rawDevices)) {
    rawDevices.forEach((d, i) => {
      const driver = (d as { driver?: unknown } | null)?.driver;
      if (typeof driver !== 'string') return;
      const entry = d as { options?: unknown; bus?: unknown; server?: unknown; transport?: unknown };
      const placement =
        entry.bus !== undefined
          ? 'bus'
          : entry.transport !== undefined
            ? 'transport'
            : entry.server !== undefined
              ? 'server'
              : 'none';
      const r = validateOptions(driver, entry.options ?? {}, placement);
      if (r.ok) validated[i] = r.options;
      else for (const e of r.issues) parsed.issues.push(issue(parsed, ['devices', i, ...e.path], e.message));
    });
  }
  if (parsed.issues.length || !result.success) throw new ConfigError(parsed.issues);
  const gateway = result.data;
  gateway.devices.forEach((d, i) => {
    if (validated[i] !== undefined) d.options = validated[i] as Record<string, unknown>;
  });
  const base = path.dirname(path.resolve(file));
  return { file, gateway, dataDir: path.resolve(base, gateway.dataDir) };
}

/**
 * Guesses what a file is from its top-level keys: `city`, `gateway` or a hub config (`city` as a
 * path), a case catalogue (`classes`) or case rules (`rules` as a list).
 */
export function detectConfigKind(file: string): 'city' | 'gateway' | 'hub' | 'catalogue' | 'rules' | undefined {
  try {
    const data = parseDocument(readFileSync(file, 'utf8')).toJS() as Record<string, unknown> | null;
    if (!data || typeof data !== 'object') return undefined;
    if ('gateway' in data || 'devices' in data) return 'gateway';
    if ('districts' in data || (typeof data.city === 'object' && data.city !== null)) return 'city';
    if (typeof data.city === 'string' || 'mqtt' in data || 'accounts' in data) return 'hub';
    if ('classes' in data) return 'catalogue';
    if (Array.isArray(data.rules)) return 'rules';
  } catch {
    return undefined;
  }
  return undefined;
}
