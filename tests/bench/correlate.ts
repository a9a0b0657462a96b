/**
 * `npm run bench -- correlate [--assets 5000] [--readings 200000] [--batch 200]`
 *
 * The case core in one process, without MQTT: readings of 2 water gauges per underpass (--assets
 * underpasses) go through the rule engine (a threshold and a staleness rule per gauge, a 2-of-n
 * rule per underpass: 5 rule instances per asset, 25 000 at the default), the correlator, and the
 * case store (cases.db, WAL, synchronous FULL), one durable save per --batch readings. About 1 %
 * of the underpasses flood during the run. Reported: readings/s sustained, signals and cases, and
 * p50/p99/max from a reading entering the core to its case change being committed. The hub path
 * (MQTT ingest in front of it) is not measured here.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfigFile } from '../../config/load.js';
import { workCalendarSchema } from '../../config/schema/calendar.js';
import { catalogueSchema } from '../../config/schema/catalogue.js';
import type { CityConfig } from '../../config/schema/city.js';
import { rulesConfigSchema } from '../../config/schema/rules.js';
import { createWorkCalendar } from '../../hub/src/cases/calendar.js';
import { createCatalogue, DEFAULT_CATALOGUE_FILE } from '../../hub/src/cases/catalogue.js';
import { type CaseSignal, Correlator } from '../../hub/src/cases/correlation.js';
import type { CaseRecord } from '../../hub/src/cases/model.js';
import { createResponsibility } from '../../hub/src/cases/responsibility.js';
import { createRuleEngine, type Observation } from '../../hub/src/cases/rules.js';
import { openCaseStore } from '../../hub/src/cases/store.js';
import { log, percentile } from './lib/proc.js';

const opt = (args: string[], name: string, def: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};

export async function main(args: string[]): Promise<number> {
  const assets = opt(args, 'assets', 5000);
  const readings = opt(args, 'readings', 200_000);
  const batch = opt(args, 'batch', 200);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cg-bench-correlate-'));
  const square: [number, number][] = [
    [120, 30],
    [121, 30],
    [121, 31],
  ];
  const city: CityConfig = {
    city: { id: 'bench', name: 'bench', timezone: 'Asia/Shanghai' },
    districts: [{ id: 'd1', name: 'd1', adminCode: '330106', boundary: square }],
    gridCells: [],
    assets: Array.from({ length: assets }, (_, i) => ({
      id: `UP-${i}`,
      name: `UP-${i}`,
      kind: 'underpass' as const,
      district: 'd1',
      grid: `330106001${String(i % 999).padStart(3, '0')}`,
    })),
    routes: [],
    roads: [],
    vehicles: [],
    gateways: [],
    units: [
      {
        id: 'd1-office',
        name: 'd1',
        type: 'district_office',
        owns: { assets: [], assetKinds: [], classes: [] },
        territory: { districts: ['d1'], gridCells: [] },
      },
    ],
    workCalendar: workCalendarSchema.parse({}),
  };
  const calendar = createWorkCalendar(city.workCalendar, city.city.timezone);
  const catalogue = createCatalogue(loadConfigFile(DEFAULT_CATALOGUE_FILE, catalogueSchema), calendar.workDayMs);
  const { rules } = rulesConfigSchema.parse({
    rules: [
      {
        id: 'wl',
        type: 'threshold',
        category: 'event:0406',
        match: { deviceKinds: ['flood'] },
        field: 'water_level_cm',
        levels: {
          normal: [
            { at: 15, urgency: 'urgent' },
            { at: 25, urgency: 'critical' },
          ],
        },
        hysteresis: 5,
        autoFile: true,
      },
      {
        id: 'two',
        type: 'k-of-n',
        category: 'event:0406',
        match: { deviceKinds: ['flood'] },
        field: 'water_level_cm',
        k: 2,
        above: { normal: 15 },
      },
      {
        id: 'silent',
        type: 'staleness',
        category: 'component:0206',
        match: { deviceKinds: ['flood'] },
        maxSilence: { normal: '15m' },
      },
    ],
  });
  const engine = createRuleEngine(rules);
  const store = openCaseStore(path.join(dir, 'data'));
  const cor = new Correlator({
    ctx: { catalogue, calendar },
    responsibility: createResponsibility(city),
    newId: () => store.nextId('CG'),
  });

  // Deterministic pseudo-random stream (LCG), so runs compare.
  let seed = 42;
  const rnd = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const flooding = new Set(Array.from({ length: Math.max(1, Math.round(assets / 100)) }, (_, i) => i * 100));
  const t0 = Date.parse('2026-07-01T00:00:00Z');
  const latencies: number[] = [];
  let signals = 0;
  const started = performance.now();
  for (let done = 0; done < readings; done += batch) {
    const batchStart = performance.now();
    const cases = new Map<string, CaseRecord>();
    const sigs: CaseSignal[] = [];
    let changed = false;
    for (let j = 0; j < batch && done + j < readings; j++) {
      const n = done + j;
      const asset = n % assets;
      const gauge = (n / assets) % 2 < 1 ? 'a' : 'b';
      const ts = t0 + n * 10;
      const level = flooding.has(asset) ? 10 + 20 * Math.abs(Math.sin(n / 50_000)) + rnd() : 2 + rnd() * 3;
      const o: Observation = {
        device: `UP-${asset}-${gauge}`,
        kind: 'flood',
        ts,
        fields: { water_level_cm: level },
        asset: `UP-${asset}`,
        assetKind: 'underpass',
      };
      for (const s of engine.onReading(o)) {
        signals++;
        const out = cor.onSignal(s);
        if (out) {
          cases.set(out.case.id, out.case);
          sigs.push(out.signal);
          changed = true;
        }
      }
    }
    store.save({ cases: [...cases.values()], signals: sigs, ruleState: engine.changed() }, t0 + done * 10);
    // Every reading of the batch waited at most from the batch start until the commit.
    if (changed) latencies.push(performance.now() - batchStart);
  }
  const seconds = (performance.now() - started) / 1000;
  const line = {
    bench: 'correlate',
    assets,
    ruleInstances: assets * 5,
    readings,
    batch,
    readingsPerSecond: Math.round(readings / seconds),
    signals,
    cases: store.list({ limit: 100_000 }).length,
    openCases: cor.openCases().length,
    p50Ms: Math.round(percentile(latencies, 50) * 100) / 100,
    p99Ms: Math.round(percentile(latencies, 99) * 100) / 100,
    maxMs: Math.round(Math.max(0, ...latencies) * 100) / 100,
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
  log(`correlate: ${line.readingsPerSecond} readings/s, p99 ${line.p99Ms} ms reading -> case stored`);
  store.close();
  rmSync(dir, { recursive: true, force: true });
  return 0;
}
