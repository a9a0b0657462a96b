/**
 * Underpass water-level gauge with a tipping-bucket rain gauge, reference profile UPS-WL-1 (ours:
 * no public map exists, ../shared/domain/2-modbus.md §2.5). Input registers:
 *   0x0000 u16 water depth at the low point, mm      0x0001 u16 rain intensity, 0.1 mm/h
 *   0x0002 u32 CDAB rain accumulated since reset, 0.1 mm (word-swapped, as many Chinese gauges)
 *   0x0004 u16 status bits (b0 level sensor fault, b1 rain gauge fault)
 * Limits after ../shared/domain/7-thresholds.md §7.2 (5 cm notice, 15 cm yellow, 25 cm closure,
 * 40 cm extreme, clear 5 cm below; rain 30 mm/h). Plain data.
 */
import type { RegisterMapInput } from '../../modbus/register-map.js';

export const upsWl1 = {
  model: 'UPS-WL-1',
  title: 'Underpass water-level gauge with rain gauge (water depth, rain intensity and accumulation)',
  kind: 'flood',
  blocks: [{ function: 4, start: 0x0000, count: 5 }],
  points: [
    { field: 'water_level_cm', function: 4, address: 0x0000, type: 'u16', scale: 0.1, range: { min: 0, max: 300 } },
    { field: 'rain_intensity_mmh', function: 4, address: 0x0001, type: 'u16', scale: 0.1, range: { min: 0, max: 300 } },
    {
      field: 'rain_total_mm',
      function: 4,
      address: 0x0002,
      type: 'u32',
      order: 'CDAB',
      scale: 0.1,
      range: { min: 0, max: 100000 },
    },
  ],
  limits: {
    water_level_cm: [
      { high: 5, hysteresis: 2, severity: 'info', level: 'notice' },
      { high: 15, hysteresis: 5, severity: 'warning', level: 'yellow' },
      { high: 25, hysteresis: 5, severity: 'critical', level: 'closure' },
      { high: 40, hysteresis: 5, severity: 'critical', level: 'extreme' },
    ],
    rain_intensity_mmh: [{ high: 30, hysteresis: 5, severity: 'warning', level: 'heavy-rain' }],
  },
} as const satisfies RegisterMapInput;
