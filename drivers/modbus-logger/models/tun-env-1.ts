/**
 * Tunnel environment controller, reference profile TUN-ENV-1 (../shared/domain/2-modbus.md §2.5b):
 * CO, VI, wind, illuminance, low-point water level and air temperature as 16-bit input registers
 * 0x0000..0x0009. Limits after ../shared/domain/7-thresholds.md §7.3 (CO design value 150 ppm,
 * K 0.0065 m⁻¹ at ≥ 90 km/h, closure at K ≥ 0.012 m⁻¹, wind above 10 m/s). Plain data.
 */
import type { RegisterMapInput } from '../../modbus/register-map.js';

export const tunEnv1 = {
  model: 'TUN-ENV-1',
  title: 'Tunnel environment controller (CO, VI, wind, illuminance, sump water level)',
  kind: 'tunnel',
  blocks: [{ function: 4, start: 0x0000, count: 10 }],
  points: [
    { field: 'co_ppm', function: 4, address: 0x0000, type: 'u16', range: { min: 0, max: 1000 } },
    // VI in units of 1e-4 m⁻¹ (35 -> 0.0035 m⁻¹)
    {
      field: 'visibility_per_m',
      function: 4,
      address: 0x0001,
      type: 'u16',
      scale: 0.0001,
      range: { min: 0, max: 0.05 },
    },
    // 0.1 m/s, + in the driving direction
    { field: 'wind_ms', function: 4, address: 0x0002, type: 's16', scale: 0.1, range: { min: -30, max: 30 } },
    { field: 'illuminance_lx', function: 4, address: 0x0005, type: 'u16', range: { min: 0, max: 20000 } },
    // mm relative to the alarm datum -> cm (negative = below the datum)
    { field: 'water_level_cm', function: 4, address: 0x0006, type: 's16', scale: 0.1, range: { min: -500, max: 500 } },
    { field: 'temperature_c', function: 4, address: 0x0007, type: 's16', scale: 0.1, range: { min: -40, max: 80 } },
  ],
  limits: {
    co_ppm: [
      { high: 120, hysteresis: 10, severity: 'warning', level: 'yellow' },
      { high: 250, hysteresis: 20, severity: 'critical', level: 'red' },
    ],
    visibility_per_m: [
      { high: 0.0065, hysteresis: 0.0005, severity: 'warning', level: 'yellow' },
      { high: 0.012, hysteresis: 0.001, severity: 'critical', level: 'closure' },
    ],
    wind_ms: [{ high: 10, hysteresis: 1, severity: 'warning', level: 'yellow' }],
    water_level_cm: [{ high: 0, hysteresis: 5, severity: 'warning', level: 'pump' }],
  },
} as const satisfies RegisterMapInput;
