/**
 * JT/T 808 alarm flag bits (../shared/domain/4-jt808.md §4.6) as event names and severities, and
 * the transitions between two alarm DWORDs. Pure.
 */
import type { Severity } from '../sdk/reading.js';

export interface AlarmBit {
  name: string;
  severity: Severity;
}

/** The standard bits; 15–17 are reserved (cheap trackers reuse them: override per device). */
export const STANDARD_ALARM_BITS: Readonly<Record<number, AlarmBit>> = {
  0: { name: 'emergency', severity: 'critical' },
  1: { name: 'overspeed', severity: 'warning' },
  2: { name: 'fatigue', severity: 'warning' },
  3: { name: 'danger', severity: 'warning' },
  4: { name: 'gnss_fault', severity: 'warning' },
  5: { name: 'gnss_antenna_cut', severity: 'warning' },
  6: { name: 'gnss_antenna_short', severity: 'warning' },
  7: { name: 'power_low', severity: 'warning' },
  8: { name: 'power_off', severity: 'critical' },
  9: { name: 'display_fault', severity: 'info' },
  10: { name: 'tts_fault', severity: 'info' },
  11: { name: 'camera_fault', severity: 'info' },
  12: { name: 'ic_card_fault', severity: 'info' },
  13: { name: 'overspeed_warning', severity: 'info' },
  14: { name: 'fatigue_warning', severity: 'info' },
  18: { name: 'driving_time_exceeded', severity: 'warning' },
  19: { name: 'overtime_parking', severity: 'warning' },
  20: { name: 'area_in_out', severity: 'info' },
  21: { name: 'route_in_out', severity: 'info' },
  22: { name: 'section_time', severity: 'info' },
  23: { name: 'route_deviation', severity: 'warning' },
  24: { name: 'vss_fault', severity: 'warning' },
  25: { name: 'fuel_abnormal', severity: 'warning' },
  26: { name: 'stolen', severity: 'critical' },
  27: { name: 'illegal_ignition', severity: 'critical' },
  28: { name: 'illegal_displacement', severity: 'critical' },
  29: { name: 'collision', severity: 'critical' },
  30: { name: 'rollover', severity: 'critical' },
  31: { name: 'illegal_door_open', severity: 'warning' },
};

export interface AlarmTransition {
  bit: number;
  raised: boolean;
  alarm: AlarmBit;
}

/** Bits that changed from `previous` to `next`, lowest first; unnamed bits are skipped. */
export function alarmTransitions(
  previous: number,
  next: number,
  bits: Readonly<Record<number, AlarmBit>>,
): AlarmTransition[] {
  const changed = (previous ^ next) >>> 0;
  const out: AlarmTransition[] = [];
  for (let bit = 0; bit < 32; bit++) {
    if (((changed >>> bit) & 1) === 0) continue;
    const alarm = bits[bit];
    if (alarm) out.push({ bit, raised: ((next >>> bit) & 1) === 1, alarm });
  }
  return out;
}
