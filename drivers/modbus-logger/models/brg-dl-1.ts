/**
 * Bridge structural-health data logger, reference profile BRG-DL-1 (../shared/domain/2-modbus.md
 * §2.5a): eight f32 ABCD channels at input registers 0x0010.., a quality register per channel at
 * 0x0040.., and (our addition to the profile) a 100 Hz acceleration sample buffer at 0x0200.
 * Limits after ../shared/domain/7-thresholds.md §7.1 (crack 0.20 mm, 0.6·L_d yellow; deflection
 * L/600 of a 40 m span). Plain data: the simulators read it too.
 */
import type { RegisterMapInput } from '../../modbus/register-map.js';

/** Degrees -> milliradians (the profile gives tilt in °, the field table in mrad). */
const MRAD_PER_DEG = 1000 * (Math.PI / 180);

export const brgDl1 = {
  model: 'BRG-DL-1',
  title:
    'Bridge structural-health data logger (strain, deflection, displacement, tilt, crack, temperature, acceleration)',
  kind: 'bridge',
  blocks: [
    { function: 4, start: 0x0010, count: 16 },
    { function: 4, start: 0x0040, count: 8 },
  ],
  points: [
    {
      field: 'strain_ue',
      function: 4,
      address: 0x0010,
      type: 'f32',
      order: 'ABCD',
      range: { min: -3000, max: 3000 },
      qualityRegister: 0x0040,
    },
    {
      field: 'deflection_mm',
      function: 4,
      address: 0x0012,
      type: 'f32',
      order: 'ABCD',
      range: { min: -500, max: 500 },
      qualityRegister: 0x0041,
    },
    {
      field: 'displacement_mm',
      function: 4,
      address: 0x0014,
      type: 'f32',
      order: 'ABCD',
      range: { min: -300, max: 300 },
      qualityRegister: 0x0042,
    },
    {
      field: 'tilt_x_mrad',
      function: 4,
      address: 0x0016,
      type: 'f32',
      order: 'ABCD',
      scale: MRAD_PER_DEG,
      range: { min: -90, max: 90 },
      qualityRegister: 0x0043,
    },
    {
      field: 'tilt_y_mrad',
      function: 4,
      address: 0x0018,
      type: 'f32',
      order: 'ABCD',
      scale: MRAD_PER_DEG,
      range: { min: -90, max: 90 },
      qualityRegister: 0x0044,
    },
    // ch6 (0x001A, the logger's own acceleration RMS in m/s²) is not mapped: the edge reduces the sample buffer itself
    {
      field: 'crack_width_mm',
      function: 4,
      address: 0x001c,
      type: 'f32',
      order: 'ABCD',
      range: { min: 0, max: 10 },
      qualityRegister: 0x0046,
    },
    {
      field: 'temperature_c',
      function: 4,
      address: 0x001e,
      type: 'f32',
      order: 'ABCD',
      range: { min: -40, max: 80 },
      qualityRegister: 0x0047,
    },
  ],
  waveform: {
    function: 4,
    counterAddress: 0x0200,
    address: 0x0202,
    count: 100,
    type: 's16',
    scale: 0.0001,
    rateHz: 100,
    windowS: 10,
  },
  limits: {
    crack_width_mm: [
      { high: 0.12, hysteresis: 0.01, severity: 'warning', level: 'yellow' },
      { high: 0.2, hysteresis: 0.02, severity: 'critical', level: 'red' },
    ],
    deflection_mm: [{ high: 66.7, hysteresis: 6.7, severity: 'critical', level: 'red' }],
    accel_peak_g: [{ high: 0.5, hysteresis: 0.05, severity: 'warning', level: 'yellow' }],
  },
} as const satisfies RegisterMapInput;
