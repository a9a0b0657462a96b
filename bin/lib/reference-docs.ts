/**
 * Generates the reference sections of README.md from the code, so the documentation cannot
 * drift: the config reference from the zod schemas (via their JSON Schema) and the metrics
 * reference from the counters and gauges the code registers. `citygrid docs --write` updates
 * README.md between its `<!-- name:start -->` / `<!-- name:end -->` markers; a test checks it is current.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { jsonSchemas } from '../../config/schema/json-schema.js';
import { FIELDS } from '../../drivers/sdk/fields.js';

type JsonSchema = {
  type?: string | string[];
  description?: string;
  default?: unknown;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  prefixItems?: JsonSchema[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  required?: string[];
};

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function typeOf(s: JsonSchema): string {
  if (s.const !== undefined) return `\`${JSON.stringify(s.const)}\``;
  if (s.enum) return s.enum.map((v) => `\`${String(v)}\``).join(' \\| ');
  const alts = s.anyOf ?? s.oneOf;
  if (alts) return [...new Set(alts.map(typeOf))].join(' \\| ');
  if (s.prefixItems) return `[${s.prefixItems.map(typeOf).join(', ')}]`;
  if (s.type === 'array')
    return s.items?.properties ? 'list of objects' : `list of ${s.items ? typeOf(s.items) : 'any'}`;
  return Array.isArray(s.type) ? s.type.join(' \\| ') : (s.type ?? 'any');
}

/** Rows (path, type, default, description) for every property, depth first. */
function rows(schema: JsonSchema, prefix: string, out: string[][]): void {
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants && !schema.properties) {
    for (const v of variants) rows(v, prefix, out);
    return;
  }
  const props = schema.properties ?? schema.items?.properties;
  const base = schema.items?.properties ? `${prefix}[]` : prefix;
  if (!props) return;
  for (const [key, child] of Object.entries(props)) {
    if (key === '$schema') continue;
    const at = base ? `${base}.${key}` : key;
    const kind = child.properties || (child.anyOf ?? child.oneOf)?.some((v) => v.properties);
    const required = (schema.required ?? schema.items?.required ?? []).includes(key) && child.default === undefined;
    const dflt = child.default === undefined ? (required ? 'required' : '') : `\`${JSON.stringify(child.default)}\``;
    if (!out.some((r) => r[0] === `\`${at}\``)) {
      out.push([`\`${at}\``, kind ? 'object' : typeOf(child), dflt, cell(child.description ?? '')]);
    }
    rows(child, at, out);
  }
}

export function configReference(): string {
  const titles = {
    hub: 'Hub config (`citygrid hub --config`)',
    gateway: 'Gateway config (`citygrid edge --config`)',
    city: 'City config (referenced by the hub config)',
  };
  const parts: string[] = [];
  for (const [name, schema] of Object.entries(jsonSchemas())) {
    const out: string[][] = [];
    rows(schema as JsonSchema, '', out);
    parts.push(
      `### ${titles[name as keyof typeof titles]}`,
      '',
      '| key | type | default | meaning |',
      '|---|---|---|---|',
      ...out.map((r) => `| ${r.join(' | ')} |`),
      '',
    );
  }
  return parts.join('\n');
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) out.push(...sourceFiles(full));
    else if (name.endsWith('.ts')) out.push(full);
  }
  return out;
}

const METRIC = /\.(counter|gauge)\(\s*'(citygrid_[a-z0-9_]+)',\s*'((?:[^'\\]|\\.)*)'/g;

/** Every metric the code registers, with its type and help text, sorted by name. */
export function metricsFound(root: string): { name: string; type: string; help: string; where: string }[] {
  const found = new Map<string, { name: string; type: string; help: string; where: string }>();
  for (const part of ['hub', 'edge', 'drivers']) {
    for (const file of sourceFiles(path.join(root, part))) {
      for (const m of readFileSync(file, 'utf8').matchAll(METRIC)) {
        const [, type, name, help] = m as unknown as [string, string, string, string];
        if (!found.has(name)) found.set(name, { name, type, help, where: part });
      }
    }
  }
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
}

export function metricsReference(root: string): string {
  const all = metricsFound(root);
  const table = (where: string) => [
    '| metric | type | meaning |',
    '|---|---|---|',
    ...all.filter((m) => m.where === where).map((m) => `| \`${m.name}\` | ${m.type} | ${cell(m.help)} |`),
  ];
  return [
    'Hub (`GET /metrics` on the hub):',
    '',
    ...table('hub'),
    '',
    'Edge agent (`GET /metrics` on the agent when `http.port` is set):',
    '',
    ...table('edge'),
    '',
  ].join('\n');
}

export function fieldsReference(): string {
  return [
    '| field | unit | type | meaning |',
    '|---|---|---|---|',
    ...Object.entries(FIELDS).map(([name, f]) => `| \`${name}\` | ${f.unit} | ${f.type} | ${cell(f.description)} |`),
    '',
  ].join('\n');
}

/** README with every generated section replaced. */
export function renderReadme(readme: string, root: string): string {
  const sections: Record<string, string> = {
    config: configReference(),
    metrics: metricsReference(root),
    fields: fieldsReference(),
  };
  let out = readme;
  for (const [name, body] of Object.entries(sections)) {
    const re = new RegExp(`(<!-- ${name}:start -->\\n)[\\s\\S]*?(<!-- ${name}:end -->)`);
    if (!re.test(out)) throw new Error(`README.md lacks the <!-- ${name}:start --> / <!-- ${name}:end --> markers`);
    out = out.replace(re, (_m, start: string, end: string) => `${start}${body}${end}`);
  }
  return out;
}
