import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadCityConfig } from '../../../config/load.js';
import type { CategoryKey } from '../../../config/schema/catalogue.js';
import { cityConfigSchema } from '../../../config/schema/city.js';
import { createResponsibility } from '../../../hub/src/cases/responsibility.js';
import type { LonLat } from '../../../hub/src/geo.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const city = loadCityConfig(path.join(ROOT, 'config/examples/city.yaml'));
const r = createResponsibility(city);

describe('responsibility (先属主后属地 for components, 先属地后属主 for events)', () => {
  const cases: [string, CategoryKey, { asset?: string; point?: LonLat }, object][] = [
    // The bridge's owner string names a unit: the owner, although the grid has a street office.
    [
      'component on an owned bridge -> owner',
      'component:0208',
      { asset: 'BR-XH-001' },
      { unit: 'city-bridge-tunnel', via: 'owner', district: 'xihu', grid: '330106001002' },
    ],
    // Tunnel has no grid of its own: its location falls in 南山路 (no street office) -> district.
    [
      'component on a tunnel (kind owned)',
      'component:0216',
      { asset: 'TN-XH-001' },
      { unit: 'city-bridge-tunnel', via: 'owner', district: 'xihu', grid: '330106002001' },
    ],
    // Waterlogging (event) at an underpass in 北山街 grid cell: the street office, not the asset owner.
    [
      'event at an underpass -> grid unit first',
      'event:0406',
      { asset: 'UP-XH-001' },
      { unit: 'beishan-street', via: 'grid', district: 'xihu', grid: '330106001001' },
    ],
    [
      'event in a cell without a street office -> district office',
      'event:0407',
      { asset: 'RW-GS-001' },
      { unit: 'gongshu-cgj', via: 'district', district: 'gongshu', grid: '330105001002' },
    ],
    [
      'event in the statutory remit of a company -> that company',
      'event:0402',
      { asset: 'WM-GS-001' },
      { unit: 'hz-water', via: 'remit', district: 'gongshu', grid: '330105001001' },
    ],
    [
      'event from a point only (hotline), point in polygon',
      'event:0103',
      { point: [120.1, 30.23] },
      { unit: 'xihu-cgj', via: 'district', district: 'xihu', grid: '330106002001' },
    ],
    [
      'component reported at a point, no asset -> territorial unit',
      'component:0118',
      { point: [120.13, 30.27] },
      { unit: 'beishan-street', via: 'grid', district: 'xihu', grid: '330106001002' },
    ],
    ['a point outside the city -> nobody', 'event:0103', { point: [121.5, 31.2] }, { via: 'none' }],
  ];
  it.each(cases)('%s', (_name, category, where, expected) => {
    expect(r.assign(category, where)).toEqual(expected);
  });

  it('falls back to the owner for an event when no territorial unit exists', () => {
    const bare = createResponsibility({
      ...city,
      units: city.units.filter((u) => u.type !== 'district_office' && u.type !== 'street_office'),
    });
    expect(bare.assign('event:0406', { asset: 'BR-XH-001' })).toMatchObject({
      unit: 'city-bridge-tunnel',
      via: 'owner',
    });
    // and a component whose asset has no owner falls to the territory (属地兜底)
    const ownerless = createResponsibility({
      ...city,
      assets: city.assets.map((a) => (a.id === 'UP-GS-002' ? { ...a, owner: undefined } : a)),
    });
    expect(ownerless.assign('component:0206', { asset: 'UP-GS-002' })).toEqual({
      unit: 'gongshu-cgj',
      via: 'district',
      district: 'gongshu',
      grid: '330105001001',
    });
  });

  it('the city config refuses an owner that is no unit and units that name unknown places', () => {
    const raw = {
      city: { id: 'c', name: 'c' },
      districts: [
        {
          id: 'd',
          name: 'd',
          adminCode: '330106',
          boundary: [
            [0, 0],
            [1, 0],
            [1, 1],
          ],
        },
      ],
      assets: [{ id: 'A-1', name: 'a', kind: 'bridge', district: 'd', owner: '某公司' }],
      units: [
        { id: 'u1', name: 'U1', type: 'company', owns: { assets: ['A-2'] }, territory: { districts: ['e'] } },
        { id: 'u1', name: 'U1b', type: 'department' },
      ],
    };
    const res = cityConfigSchema.safeParse(raw);
    expect(res.success).toBe(false);
    const msgs = res.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
    expect(msgs).toEqual(
      expect.arrayContaining([
        'units.1.id: duplicate unit "u1"',
        'units.0.territory.districts.0: unknown district "e"',
        'units.0.owns.assets.0: unknown asset "A-2"',
        'assets.0.owner: owner "某公司" is not a unit id or name in units',
      ]),
    );
  });
});
