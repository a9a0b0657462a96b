/**
 * Road-weather station, reference profile RWS-1 (ours: no public map exists). Input registers:
 *   0x0000 f32 CDAB road surface temperature, °C     0x0002 f32 CDAB air temperature, °C
 *   0x0004 u16 surface state, NTCIP 1204 essSurfaceStatus code (../shared/domain/7-thresholds.md §7.4)
 * The NTCIP codes fold into the field table's dry | wet | ice | snow; 0 undefined, 1 other and
 * 2 error are not listed, so the reading is marked bad. Plain data.
 */
import type { RegisterMapInput } from '../../modbus/register-map.js';

export const rws1 = {
  model: 'RWS-1',
  title: 'Road-weather station (surface temperature, air temperature, surface state)',
  kind: 'road_weather',
  blocks: [{ function: 4, start: 0x0000, count: 5 }],
  points: [
    { field: 'surface_temp_c', function: 4, address: 0x0000, type: 'f32', order: 'CDAB', range: { min: -50, max: 80 } },
    { field: 'air_temp_c', function: 4, address: 0x0002, type: 'f32', order: 'CDAB', range: { min: -50, max: 60 } },
    {
      field: 'surface_state',
      function: 4,
      address: 0x0004,
      type: 'u16',
      enum: {
        '3': 'dry',
        '4': 'wet', // trace moisture
        '5': 'wet',
        '6': 'wet', // chemically wet
        '7': 'ice', // ice warning
        '8': 'ice', // ice watch
        '9': 'snow', // snow warning
        '10': 'snow', // snow watch
        '11': 'wet', // absorption
        '12': 'wet', // dew
        '13': 'ice', // frost
        '14': 'wet', // absorption at dew point
      },
    },
  ],
  limits: {
    surface_temp_c: [
      { low: 1, hysteresis: 0.5, severity: 'warning', level: 'yellow' },
      { low: 0, hysteresis: 1, severity: 'critical', level: 'freezing' },
    ],
  },
} as const satisfies RegisterMapInput;
