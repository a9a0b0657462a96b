/**
 * From decoded sentences to a position fix: group RMC and GGA of one epoch (same UTC time of
 * day), judge the fix by the validity rule of 3-nmea0183.md §3.4, and map it to Reading fields.
 * Pure; the driver in definition.ts owns time, throttling and emission.
 */
import type { FieldValue } from '../sdk/reading.js';
import type { GgaFrame, NmeaFrame, RmcFrame } from './codec.js';

/** The sentences of one receiver epoch. */
export interface Epoch {
  timeOfDayMs: number | undefined;
  rmc?: RmcFrame;
  gga?: GgaFrame;
}

/** What makes a fix usable; from the driver options. */
export interface FixRules {
  maxHdop: number;
  minSatellites: number;
  allowDeadReckoning: boolean;
}

export type FixVerdict = { usable: true; quality: 'good' | 'uncertain' } | { usable: false; reason: string };

/**
 * Collects frames into epochs. `push` returns the epoch that became complete: either both RMC
 * and GGA of one time arrived, or a frame of a new time closed the previous epoch (receivers
 * sending only RMC, or a lost GGA).
 */
export class EpochAssembler {
  private pending: Epoch | undefined;

  push(frame: NmeaFrame): Epoch[] {
    const done: Epoch[] = [];
    const slot = frame.type === 'RMC' ? 'rmc' : 'gga';
    if (this.pending && (this.pending.timeOfDayMs !== frame.timeOfDayMs || this.pending[slot])) {
      done.push(this.pending);
      this.pending = undefined;
    }
    const epoch: Epoch = this.pending ?? { timeOfDayMs: frame.timeOfDayMs };
    if (frame.type === 'RMC') epoch.rmc = frame;
    else epoch.gga = frame;
    if (epoch.rmc && epoch.gga) {
      done.push(epoch);
      this.pending = undefined;
    } else this.pending = epoch;
    return done;
  }

  clear(): void {
    this.pending = undefined;
  }
}

/** [3-nmea0183.md §3.4] the fix is usable when every condition holds; GGA quality 6 / RMC mode E only when opted in. */
export function judgeFix(epoch: Epoch, rules: FixRules): FixVerdict {
  const { rmc, gga } = epoch;
  if (!rmc) return { usable: false, reason: 'no RMC in epoch' };
  if (rmc.status !== 'A') return { usable: false, reason: 'RMC status V (void)' };
  if (rmc.mode === 'N') return { usable: false, reason: 'RMC mode N (not valid)' };
  if (rmc.mode === 'E' && !rules.allowDeadReckoning) return { usable: false, reason: 'RMC mode E (dead reckoning)' };
  if (rmc.lat === undefined || rmc.lon === undefined) return { usable: false, reason: 'RMC without position' };
  // An RMC-only receiver gives no HDOP or satellite count: the rule cannot be checked in full.
  if (!gga) return { usable: true, quality: 'uncertain' };
  const q = gga.fixQuality;
  if (q === 6 && !rules.allowDeadReckoning) return { usable: false, reason: 'GGA quality 6 (dead reckoning)' };
  if (!((q >= 1 && q <= 5) || q === 6)) return { usable: false, reason: `GGA quality ${q}` };
  if (gga.hdop === undefined || gga.hdop > rules.maxHdop)
    return { usable: false, reason: `HDOP ${gga.hdop ?? 'missing'} > ${rules.maxHdop}` };
  if (gga.satellites === undefined || gga.satellites < rules.minSatellites)
    return { usable: false, reason: `${gga.satellites ?? 'unknown'} satellites < ${rules.minSatellites}` };
  return { usable: true, quality: 'good' };
}

/** Reading fields of a usable epoch (FIELDS names; absent values are left out, never NaN). */
export function fixFields(epoch: Epoch): Record<string, FieldValue> {
  const { rmc, gga } = epoch;
  const fields: Record<string, FieldValue> = {};
  const put = (name: string, value: number | undefined) => {
    if (value !== undefined && Number.isFinite(value)) fields[name] = value;
  };
  put('lat', rmc?.lat);
  put('lon', rmc?.lon);
  put('speed_kmh', rmc?.speedKmh);
  put('heading_deg', rmc?.courseDeg);
  put('altitude_m', gga?.altitudeM);
  put('satellites', gga?.satellites);
  put('hdop', gga?.hdop);
  put('fix_quality', gga?.fixQuality);
  return fields;
}

/** Fields this driver may emit; declared in the definition and checked by the registry. */
export const NMEA_FIELDS = [
  'lat',
  'lon',
  'speed_kmh',
  'heading_deg',
  'altitude_m',
  'satellites',
  'hdop',
  'fix_quality',
] as const;
