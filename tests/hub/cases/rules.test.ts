import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Profile, ruleSchema, rulesConfigSchema } from '../../../config/schema/rules.js';
import { loadRules } from '../../../hub/src/cases/catalogue.js';
import { createRuleEngine, type Observation, type Signal } from '../../../hub/src/cases/rules.js';
import { CITY_FILE, catalogue, city, MIN } from './fixtures.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'cg-rules-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const T0 = Date.parse('2026-07-01T00:00:00Z');
const base = { category: 'event:0406', match: { deviceKinds: ['flood'] } };
const gauge = (device: string, min: number, v: number | string, extra: Partial<Observation> = {}): Observation => ({
  device,
  kind: 'flood',
  ts: T0 + min * MIN,
  fields: { water_level_cm: v },
  asset: 'UP-XH-001',
  assetKind: 'underpass',
  grid: '330106001001',
  ...extra,
});
const short = (s: Signal) =>
  `${(s.at - T0) / MIN} ${s.kind}${s.urgency ? ` ${s.urgency}` : ''}${s.device ? ` ${s.device}` : ''}`;

/** Feeds [minute, value] pairs of one device (or a profile switch, or a tick) and lists the signals. */
function feed(rule: unknown, steps: ([number, number | string] | ['profile', Profile] | ['tick', number])[]): string[] {
  const engine = createRuleEngine([ruleSchema.parse(rule)]);
  const out: Signal[] = [];
  for (const [a, b] of steps) {
    if (a === 'profile') engine.setProfile(b as Profile);
    else if (a === 'tick') out.push(...engine.tick(T0 + (b as number) * MIN));
    else out.push(...engine.onReading(gauge('g1', a as number, b as number | string)));
  }
  return out.map(short);
}

const twoLevels = { ...base, id: 'wl', type: 'threshold', field: 'water_level_cm', hysteresis: 5 };
const levels = {
  normal: [
    { at: 15, urgency: 'urgent' },
    { at: 25, urgency: 'critical' },
  ],
  flood: [{ at: 10, urgency: 'urgent' }],
};

describe('rules', () => {
  it('the example rules validate against the catalogue', () => {
    const rules = loadRules(CITY_FILE, city.rules, catalogue);
    expect(rules.rules.map((r) => r.type).sort()).toEqual(
      ['camera', 'deviation', 'deviation', 'k-of-n', 'rate', 'staleness', 'threshold', 'threshold', 'threshold'].sort(),
    );
  });

  it('refuses unknown categories, duplicate ids and levels out of order, naming the path', () => {
    const file = path.join(tmp, 'rules.yaml');
    writeFileSync(file, 'rules:\n  - { id: a, type: staleness, category: "event:0999", maxSilence: { normal: 5m } }\n');
    expect(() => loadRules(path.join(tmp, 'city.yaml'), 'rules.yaml', catalogue)).toThrow(
      /rules\[0\]\.category: category "event:0999" is not in the catalogue/,
    );
    const r = rulesConfigSchema.safeParse({
      rules: [
        {
          ...twoLevels,
          levels: {
            normal: [
              { at: 25, urgency: 'urgent' },
              { at: 15, urgency: 'critical' },
            ],
          },
        },
        { ...twoLevels, levels },
      ],
    });
    expect(r.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      'rules.0.levels.normal.1.at: levels must get more severe: 15 after 25 (above)',
      'rules.1.id: duplicate rule id "wl"',
    ]);
  });

  const table: [string, unknown, Parameters<typeof feed>[1], string[]][] = [
    [
      'threshold: raise, worsen, leave levels only past the hysteresis',
      { ...twoLevels, levels },
      [
        [0, 10],
        [1, 16],
        [2, 14],
        [3, 11],
        [4, 9],
        [5, 16],
        [6, 26],
        [7, 22],
        [8, 19],
        [9, 14],
        [10, 10],
        [11, 9.9],
      ],
      ['1 raise urgent g1', '4 normal g1', '5 raise urgent g1', '6 worsen critical g1', '11 normal g1'],
    ],
    [
      'threshold: minimum duration, restarted by a dip',
      { ...twoLevels, levels, minDuration: '2m' },
      [
        [0, 16],
        [1, 17],
        [2, 14],
        [3, 16],
        [4, 16],
        [5, 16],
      ],
      ['5 raise urgent g1'],
    ],
    [
      'threshold below (icing) with hysteresis',
      {
        ...base,
        id: 'ice',
        type: 'threshold',
        field: 'water_level_cm',
        direction: 'below',
        hysteresis: 1,
        levels: { normal: [{ at: 0, urgency: 'urgent' }] },
      },
      [
        [0, 2],
        [1, 0.5],
        [2, -0.5],
        [3, 0.5],
        [4, 1.5],
      ],
      ['2 raise urgent g1', '4 normal g1'],
    ],
    [
      'threshold: profile switch to flood lowers the level',
      { ...twoLevels, levels },
      [
        [0, 12],
        ['profile', 'flood'],
        [1, 12],
        ['profile', 'normal'],
        [2, 12],
        [3, 4],
      ],
      ['1 raise urgent g1', '3 normal g1'],
    ],
    [
      'threshold: non-numeric values are skipped',
      { ...twoLevels, levels },
      [
        [0, 'n/a'],
        [1, 30],
      ],
      ['1 raise critical g1'],
    ],
    [
      'rate of rise over a window',
      { ...base, id: 'rise', type: 'rate', field: 'water_level_cm', window: '1h', perHour: { normal: 1 } },
      [
        [0, 0],
        [10, 0.1],
        [20, 0.2],
        [30, 0.3],
        [40, 0.4],
        [50, 0.5],
        [60, 0.6],
        [70, 2],
        [80, 2],
        [90, 2],
        [120, 2],
        [130, 2],
      ],
      ['70 raise g1', '130 normal g1'],
    ],
    [
      'staleness per profile, raised once, back on the next reading',
      {
        ...base,
        id: 'silent',
        type: 'staleness',
        category: 'component:0206',
        maxSilence: { normal: '15m', flood: '5m' },
      },
      [
        [0, 1],
        ['tick', 15],
        ['tick', 16],
        ['tick', 20],
        [21, 1],
        ['profile', 'flood'],
        ['tick', 26],
        ['tick', 27],
      ],
      ['16 raise g1', '21 normal g1', '27 raise g1'],
    ],
  ];
  it.each(table)('%s', (_name, rule, steps, expected) => {
    expect(feed(rule, steps)).toEqual(expected);
  });

  it('deviation from the device’s own baseline, which does not learn the anomaly', () => {
    const engine = createRuleEngine([
      ruleSchema.parse({
        ...base,
        id: 'dev',
        type: 'deviation',
        field: 'water_level_cm',
        samples: 10,
        sigmas: { normal: 4 },
        minDeviation: 1,
      }),
    ]);
    const out: Signal[] = [];
    for (let i = 0; i < 20; i++) out.push(...engine.onReading(gauge('g1', i, 100 + (i % 2))));
    expect(out).toEqual([]);
    out.push(...engine.onReading(gauge('g1', 20, 150)), ...engine.onReading(gauge('g1', 21, 140)));
    out.push(...engine.onReading(gauge('g1', 22, 100.5)));
    expect(out.map(short)).toEqual(['20 raise g1', '22 normal g1']);
    const mean = (out[1]?.detail as { mean: number } | undefined)?.mean ?? Number.NaN;
    expect(mean).toBeGreaterThan(100);
    expect(mean).toBeLessThan(101);
  });

  it('k of n devices of a kind in one asset within a window; expiring exceedances end it on a tick', () => {
    const engine = createRuleEngine([
      ruleSchema.parse({
        ...base,
        id: 'two-of-three',
        type: 'k-of-n',
        field: 'water_level_cm',
        k: 2,
        above: { normal: 15 },
        window: '10m',
      }),
    ]);
    const out = [
      ...engine.onReading(gauge('g1', 0, 16)),
      ...engine.onReading(gauge('g3', 1, 5)),
      ...engine.onReading(gauge('g2', 2, 10)),
      ...engine.onReading(gauge('g2', 3, 16)),
      ...engine.onReading(gauge('g2', 4, 17)),
      // a gauge of another underpass does not count here
      ...engine.onReading(gauge('g9', 5, 30, { asset: 'UP-XH-002' })),
      ...engine.tick(T0 + 10 * MIN),
      ...engine.tick(T0 + 11 * MIN),
    ];
    expect(out.map((s) => `${short(s)} ${s.asset} ${JSON.stringify(s.detail)}`)).toEqual([
      '3 raise UP-XH-001 {"count":2,"n":3,"k":2}',
      '11 normal UP-XH-001 {"count":1,"n":3,"k":2}',
    ]);
  });

  it('k of n in a grid cell counts devices on different assets', () => {
    const engine = createRuleEngine([
      ruleSchema.parse({
        ...base,
        id: 'cell',
        type: 'k-of-n',
        field: 'water_level_cm',
        scope: 'grid',
        k: 2,
        above: { normal: 15 },
      }),
    ]);
    const out = [
      ...engine.onReading(gauge('g1', 0, 16)),
      ...engine.onReading(gauge('g9', 1, 20, { asset: 'UP-XH-002' })),
    ];
    expect(out.map((s) => [s.kind, s.grid, s.asset])).toEqual([['raise', '330106001001', undefined]]);
  });

  it('camera events on an asset raise each time, and quiet for clearAfter is back to normal', () => {
    const engine = createRuleEngine([
      ruleSchema.parse({
        id: 'dump',
        type: 'camera',
        category: 'event:0103',
        events: ['camera.analytics'],
        clearAfter: '30m',
      }),
    ]);
    const ev = (type: string, min: number) => ({ type, device: 'cam-1', ts: T0 + min * MIN, asset: 'BR-GS-001' });
    const out = [
      ...engine.onCameraEvent(ev('camera.analytics', 0)),
      ...engine.onCameraEvent(ev('camera.motion', 1)),
      ...engine.onCameraEvent(ev('camera.analytics', 5)),
      ...engine.tick(T0 + 34 * MIN),
      ...engine.tick(T0 + 35 * MIN),
      ...engine.tick(T0 + 40 * MIN),
    ];
    expect(out.map((s) => `${short(s)} ${s.asset} ${s.category}`)).toEqual([
      '0 raise cam-1 BR-GS-001 event:0103',
      '5 raise cam-1 BR-GS-001 event:0103',
      '35 normal cam-1 BR-GS-001 event:0103',
    ]);
  });

  it('state per (rule, key) survives a restart through changed() and load()', () => {
    const rule = ruleSchema.parse({ ...twoLevels, levels });
    const first = createRuleEngine([rule]);
    expect(first.onReading(gauge('g1', 0, 20)).map(short)).toEqual(['0 raise urgent g1']);
    first.onReading(gauge('g2', 0, 3));
    const saved = JSON.parse(JSON.stringify(first.changed()));
    expect(saved.map((e: { rule: string; key: string }) => `${e.rule} ${e.key}`)).toEqual([
      'wl UP-XH-001/g1',
      'wl UP-XH-001/g2',
    ]);
    expect(first.changed()).toEqual([]);
    const second = createRuleEngine([rule]);
    second.load(saved);
    // still raised: no second raise at 20, a normal below the hysteresis
    expect([...second.onReading(gauge('g1', 1, 20)), ...second.onReading(gauge('g1', 2, 9))].map(short)).toEqual([
      '2 normal g1',
    ]);
  });
});
