/**
 * Enforces the import directions of DESIGN §3: data flows one way, so must dependencies.
 * Reads every source file's import specifiers (static, dynamic and `export … from`) and checks
 * each against the rules below.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TOP = ['drivers', 'edge', 'hub', 'config', 'simulators', 'bin'];

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (name === 'node_modules' || name === 'generated') continue;
    if (statSync(full).isDirectory()) out.push(...sourceFiles(full));
    else if (/\.(ts|mts|js|mjs)$/.test(name) && !name.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

const IMPORT =
  /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|import\s+['"]([^'"]+)['"]/g;

interface Edge {
  from: string; // repo-relative file
  spec: string; // as written
  target: string; // repo-relative resolved path, or the bare package name
}

function importsOf(file: string): Edge[] {
  const text = readFileSync(file, 'utf8');
  const from = path.relative(ROOT, file);
  const edges: Edge[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (!spec) continue;
    const target = spec.startsWith('.') ? path.relative(ROOT, path.resolve(path.dirname(file), spec)) : spec;
    edges.push({ from, spec, target });
  }
  return edges;
}

const ALL = TOP.flatMap((d) => {
  try {
    return sourceFiles(path.join(ROOT, d));
  } catch {
    return [];
  }
}).flatMap(importsOf);

const within = (p: string, dir: string) => p === dir || p.startsWith(`${dir}/`);
const NODE_IO =
  /^(node:)?(fs|fs\/promises|net|tls|dgram|http|https|child_process|worker_threads|os|serialport|@serialport\/.*|mqtt|aedes|influx|libsql)$/;

/** [rule, predicate over an import edge that must be false]. */
const RULES: [string, (e: Edge) => boolean][] = [
  [
    'drivers/sdk imports nothing of drivers/<id>, edge, hub, config, simulators',
    (e) =>
      within(e.from, 'drivers/sdk') &&
      (['edge', 'hub', 'config', 'simulators'].some((d) => within(e.target, d)) ||
        (within(e.target, 'drivers') && !within(e.target, 'drivers/sdk'))),
  ],
  [
    'drivers never import edge, hub, config or simulators',
    (e) => within(e.from, 'drivers') && ['edge', 'hub', 'config', 'simulators', 'bin'].some((d) => within(e.target, d)),
  ],
  [
    'codecs import no transport and no Node I/O',
    (e) =>
      /^drivers\/[^/]+\/codec(\.|-)/.test(e.from) && (within(e.target, 'drivers/transports') || NODE_IO.test(e.target)),
  ],
  [
    'hub never imports edge or simulators',
    (e) => within(e.from, 'hub') && (within(e.target, 'edge') || within(e.target, 'simulators')),
  ],
  [
    'edge never imports hub or simulators',
    (e) => within(e.from, 'edge') && (within(e.target, 'hub') || within(e.target, 'simulators')),
  ],
  [
    'config imports no application (edge, hub, simulators)',
    (e) => within(e.from, 'config') && ['edge', 'hub', 'simulators', 'bin'].some((d) => within(e.target, d)),
  ],
  [
    'simulators share data with drivers, not their codecs',
    (e) => within(e.from, 'simulators') && /^drivers\/[^/]+\/codec/.test(e.target),
  ],
];

describe('import directions (DESIGN §3)', () => {
  it('finds the source tree', () => {
    expect(ALL.some((e) => within(e.from, 'drivers/sdk'))).toBe(true);
    expect(ALL.some((e) => within(e.from, 'config'))).toBe(true);
  });

  for (const [rule, violates] of RULES) {
    it(rule, () => {
      expect(ALL.filter(violates).map((e) => `${e.from} -> ${e.spec}`)).toEqual([]);
    });
  }

  it('each rule catches a violation it is meant for', () => {
    const fake = (from: string, target: string): Edge => ({ from, spec: target, target });
    const cases: [number, Edge][] = [
      [0, fake('drivers/sdk/wire.ts', 'drivers/nmea-gps/codec.ts')],
      [1, fake('drivers/nmea-gps/definition.ts', 'edge/src/agent.ts')],
      [2, fake('drivers/nmea-gps/codec.ts', 'node:fs')],
      [2, fake('drivers/nmea-gps/codec.ts', 'drivers/transports/serial.ts')],
      [3, fake('hub/src/main.ts', 'edge/src/outbox.ts')],
      [4, fake('edge/src/agent.ts', 'hub/src/geo.ts')],
      [5, fake('config/load.ts', 'hub/src/main.ts')],
      [6, fake('simulators/gps/nmea.ts', 'drivers/nmea-gps/codec.ts')],
    ];
    for (const [i, edge] of cases) expect((RULES[i] as (typeof RULES)[number])[1](edge), `${RULES[i]?.[0]}`).toBe(true);
  });
});
