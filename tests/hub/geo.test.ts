import { describe, expect, it } from 'vitest';
import { assetGrids, gridResolver, pointInPolygon } from '../../hub/src/geo.js';

const cells = [
  {
    id: '330106001001',
    district: 'xihu',
    boundary: [
      [120.08, 30.26],
      [120.12, 30.26],
      [120.12, 30.3],
      [120.08, 30.3],
    ] as [number, number][],
  },
  {
    id: '330106001002',
    district: 'xihu',
    boundary: [
      [120.12, 30.26],
      [120.16, 30.26],
      [120.16, 30.3],
      [120.12, 30.3],
    ] as [number, number][],
  },
];
const assets = [
  {
    id: 'BR-1',
    name: 'b',
    kind: 'bridge' as const,
    district: 'xihu',
    grid: '330106001002',
    location: [120.09, 30.27] as [number, number],
  },
  { id: 'UP-1', name: 'u', kind: 'underpass' as const, district: 'xihu', location: [120.1, 30.27] as [number, number] },
  { id: 'TRUCK-1', name: 't', kind: 'vehicle' as const, district: 'xihu' },
];

describe('grid lookup', () => {
  it('tells inside from outside of a ring', () => {
    expect(pointInPolygon([120.1, 30.28], cells[0]?.boundary ?? [])).toBe(true);
    expect(pointInPolygon([120.13, 30.28], cells[0]?.boundary ?? [])).toBe(false);
  });

  it('prefers the configured cell of an asset, else its location', () => {
    expect(Object.fromEntries(assetGrids({ assets, gridCells: cells }))).toEqual({
      'BR-1': '330106001002',
      'UP-1': '330106001001',
    });
  });

  it("places a moving asset's reading by the reading's own position", () => {
    const resolve = gridResolver({ assets, gridCells: cells });
    const at = (lon: number, lat: number) => ({ device: 'GP1', kind: 'vehicle', ts: 1, fields: { lon, lat } });
    expect(resolve(at(120.13, 30.27), 'TRUCK-1')).toBe('330106001002');
    expect(resolve(at(120.13, 30.27), 'BR-1')).toBe('330106001002');
    expect(resolve(at(120.09, 30.27), 'UP-1')).toBe('330106001001');
    expect(resolve(at(121, 31), undefined)).toBeUndefined();
    expect(resolve({ device: 'X', kind: 'flood', ts: 1, fields: { water_level_cm: 3 } }, undefined)).toBeUndefined();
  });
});
