/**
 * The field/unit table (DESIGN §4.1): every field name a Reading may carry, with its unit, fixed
 * once for the whole system. The unit is part of the name's contract, so the name carries a unit
 * suffix where one applies. Integrators read this table (README "Measurements") to know what a
 * number means; the hub refuses nothing for an unknown field, but the edge only emits known ones.
 */
export interface FieldSpec {
  /** Unit symbol, or '' for dimensionless / enumerated values. */
  readonly unit: string;
  readonly type: 'number' | 'boolean' | 'string';
  readonly description: string;
}

export const FIELDS = {
  // vehicle position (NMEA, JT/T 808)
  lat: { unit: '°', type: 'number', description: 'WGS-84 latitude, degrees, north positive' },
  lon: { unit: '°', type: 'number', description: 'WGS-84 longitude, degrees, east positive' },
  speed_kmh: { unit: 'km/h', type: 'number', description: 'Speed over ground' },
  heading_deg: { unit: '°', type: 'number', description: 'Course over ground, degrees true' },
  altitude_m: { unit: 'm', type: 'number', description: 'Altitude above mean sea level' },
  satellites: { unit: '', type: 'number', description: 'Satellites used in the fix' },
  hdop: { unit: '', type: 'number', description: 'Horizontal dilution of precision' },
  fix_quality: {
    unit: '',
    type: 'number',
    description: 'GGA fix quality (0 none, 1 GPS, 2 DGPS, 4 RTK fixed, 5 RTK float, 6 estimated)',
  },
  mileage_km: { unit: 'km', type: 'number', description: 'Odometer' },
  working: {
    unit: '',
    type: 'boolean',
    description:
      'Sanitation vehicle work state: brush down, pump or spreader on, blade down (JT/T 808 additional item 0xE1, bit 0)',
  },
  alarm_flags: {
    unit: '',
    type: 'number',
    description: 'JT/T 808 alarm flag DWORD as reported (bit 0 emergency, 1 overspeed, 2 fatigue, ...)',
  },
  status_flags: {
    unit: '',
    type: 'number',
    description: 'JT/T 808 status DWORD as reported (bit 0 ACC on, 1 located, 2 south, 3 west, ...)',
  },
  // water meters
  volume_m3: { unit: 'm³', type: 'number', description: 'Cumulative volume' },
  volume_reverse_m3: {
    unit: 'm³',
    type: 'number',
    description: 'Cumulative reverse volume (meters that count it apart)',
  },
  volume_interval_m3: {
    unit: 'm³',
    type: 'number',
    description: 'Consumption since the previous read (negative when water ran backwards)',
  },
  flow_m3h: { unit: 'm³/h', type: 'number', description: 'Instantaneous flow' },
  pressure_mpa: { unit: 'MPa', type: 'number', description: 'Pipe pressure' },
  valve_open: { unit: '', type: 'boolean', description: 'Valve state (true = open)' },
  battery_low: { unit: '', type: 'boolean', description: 'Battery low flag' },
  battery_v: { unit: 'V', type: 'number', description: 'Battery voltage' },
  // bridges
  strain_ue: { unit: 'µε', type: 'number', description: 'Strain, microstrain' },
  deflection_mm: { unit: 'mm', type: 'number', description: 'Deflection' },
  displacement_mm: { unit: 'mm', type: 'number', description: 'Displacement' },
  tilt_x_mrad: { unit: 'mrad', type: 'number', description: 'Tilt about X' },
  tilt_y_mrad: { unit: 'mrad', type: 'number', description: 'Tilt about Y' },
  crack_width_mm: { unit: 'mm', type: 'number', description: 'Crack width' },
  accel_rms_g: { unit: 'g', type: 'number', description: 'Acceleration RMS over the window' },
  accel_peak_g: { unit: 'g', type: 'number', description: 'Acceleration peak over the window' },
  accel_freq_hz: { unit: 'Hz', type: 'number', description: 'Dominant frequency over the window' },
  temperature_c: { unit: '°C', type: 'number', description: 'Structure or device temperature' },
  // tunnels
  co_ppm: { unit: 'ppm', type: 'number', description: 'Carbon monoxide' },
  visibility_per_m: { unit: 'm⁻¹', type: 'number', description: 'Extinction coefficient K (VI)' },
  wind_ms: { unit: 'm/s', type: 'number', description: 'Wind speed' },
  illuminance_lx: { unit: 'lx', type: 'number', description: 'Illuminance' },
  // flood / underpass
  water_level_cm: { unit: 'cm', type: 'number', description: 'Water depth at the low point' },
  rain_intensity_mmh: { unit: 'mm/h', type: 'number', description: 'Rain intensity' },
  rain_total_mm: { unit: 'mm', type: 'number', description: 'Accumulated rain' },
  // road weather
  surface_temp_c: { unit: '°C', type: 'number', description: 'Road surface temperature' },
  air_temp_c: { unit: '°C', type: 'number', description: 'Air temperature' },
  surface_state: { unit: '', type: 'string', description: 'dry | wet | ice | snow' },
} as const satisfies Record<string, FieldSpec>;

export type FieldName = keyof typeof FIELDS;

export function isKnownField(name: string): name is FieldName {
  return Object.hasOwn(FIELDS, name);
}
