/**
 * CJ/T 188 field encodings: BCD numbers, unit codes, meter time, status word, tables.
 * Pure: no I/O, no clock, no logging. Facts: ../shared/domain/1-cjt188.md §1.4–1.7.
 */
import { DecodeError } from '../sdk/errors.js';

/** Raises DecodeErrors with the whole frame and an offset inside it. */
export interface FieldReader {
  readonly frame: Buffer;
  /** Offset of the first byte of the frame proper (after the FE preamble). */
  readonly base: number;
}

const hex2 = (b: number) => b.toString(16).toUpperCase().padStart(2, '0');
export const hexByte = hex2;

/** [1-cjt188.md §1.4] ranges: 0x10–0x19 water, 0x20–0x29 heat, 0x30–0x39 gas, 0x40–0x49 custom. */
export type MeterCategory = 'water' | 'heat' | 'gas' | 'custom' | 'wildcard' | 'unknown';

const METER_TYPE_NAMES: Record<number, string> = {
  16: 'cold water meter',
  17: 'domestic hot water meter',
  18: 'drinking water meter',
  19: 'reclaimed water meter',
  32: 'heat meter',
  33: 'cooling meter',
  34: 'heat and cooling meter',
  48: 'gas meter',
  64: 'user-defined meter',
  170: 'wildcard',
};

export function meterCategory(t: number): MeterCategory {
  if (t === 0xaa) return 'wildcard';
  if (t >= 0x10 && t <= 0x19) return 'water';
  if (t >= 0x20 && t <= 0x29) return 'heat';
  if (t >= 0x30 && t <= 0x39) return 'gas';
  if (t >= 0x40 && t <= 0x49) return 'custom';
  return 'unknown';
}

export function meterTypeName(t: number): string {
  return METER_TYPE_NAMES[t] ?? `${meterCategory(t)} meter type ${hex2(t)}`;
}

/** [1-cjt188.md §1.6] function code (C bits D4..D0) -> name. */
export const FUNCTIONS: Record<number, string> = {
  1: 'read-data',
  3: 'read-address',
  4: 'write-data',
  9: 'read-key-version',
  21: 'write-address',
  22: 'write-motor-sync',
};

/** [1-cjt188.md §1.6] data identifiers this codec knows, as the 16-bit value written `901F`. */
export function isKnownDi(di: number): boolean {
  if (di === 0x901f) return true; // metering data
  if (di >= 0xd120 && di <= 0xd12b) return true; // history, months 1..12
  if (di >= 0x8102 && di <= 0x8106) return true; // price table .. key version
  if (di === 0x810a) return true; // meter address
  if (di >= 0xa010 && di <= 0xa019) return true; // 2004 write DIs
  if (di >= 0xa101 && di <= 0xa107) return true; // 2018 additions
  return false;
}

/** [1-cjt188.md §1.7] unit codes (2004 Table 13 / 2018 Table 20). */
const UNITS: Record<number, string> = {
  1: 'J',
  2: 'Wh',
  3: 'Wh×10',
  4: 'Wh×100',
  5: 'kWh',
  6: 'kWh×10',
  7: 'kWh×100',
  8: 'MWh',
  9: 'MWh×10',
  10: 'MWh×100',
  11: 'kJ',
  12: 'kJ×10',
  13: 'kJ×100',
  14: 'MJ',
  15: 'MJ×10',
  16: 'MJ×100',
  17: 'GJ',
  18: 'GJ×10',
  19: 'GJ×100',
  20: 'W',
  21: 'W×10',
  22: 'W×100',
  23: 'kW',
  24: 'kW×10',
  25: 'kW×100',
  26: 'MW',
  27: 'MW×10',
  28: 'MW×100',
  41: 'L',
  42: 'L×10',
  43: 'L×100',
  44: 'm³',
  45: 'm³×10',
  46: 'm³×100',
  50: 'L/h',
  51: 'L/h×10',
  52: 'L/h×100',
  53: 'm³/h',
  54: 'm³/h×10',
  55: 'm³/h×100',
  64: 'J/h',
  67: 'kJ/h',
  68: 'kJ/h×10',
  69: 'kJ/h×100',
  70: 'MJ/h',
  71: 'MJ/h×10',
  72: 'MJ/h×100',
  73: 'GJ/h',
  74: 'GJ/h×10',
  75: 'GJ/h×100',
};

/** Unit code -> unit text, or undefined for a code not in the table. */
export function unitName(code: number): string | undefined {
  return UNITS[code];
}

/**
 * Little-endian BCD (first byte lowest) -> integer. `FF…` is "no data" and gives null
 * [1-cjt188.md §1.7]; any other nibble above 9 is refused with the byte's offset.
 */
export function readBcd(r: FieldReader, at: number, size: number, what: string): number | null {
  const start = r.base + at;
  let allFf = true;
  for (let i = 0; i < size; i++) if (r.frame[start + i] !== 0xff) allFf = false;
  if (allFf) return null;
  let value = 0;
  for (let i = size - 1; i >= 0; i--) {
    const b = r.frame[start + i] as number;
    const hi = b >> 4;
    const lo = b & 0x0f;
    if (hi > 9 || lo > 9)
      throw new DecodeError(
        'bad-field',
        `${what}: impossible BCD digit in byte ${hex2(b)} at offset ${start + i} (each nibble must be 0-9)`,
        r.frame,
        start + i,
      );
    value = value * 100 + hi * 10 + lo;
  }
  return value;
}

export interface Quantity {
  /** In `unit`; null when the meter sent `FF…` (no data). */
  value: number | null;
  /** Unit text from the unit code; undefined for a code outside the table. */
  unit?: string;
  /** The unit code as sent, two hex digits. */
  unitCode: string;
}

/** A 4-byte BCD value with `decimals` implied decimals followed by its unit byte. */
export function readQuantity(r: FieldReader, at: number, decimals: number, what: string): Quantity {
  const raw = readBcd(r, at, 4, what);
  const code = r.frame[r.base + at + 4] as number;
  const q: Quantity = { value: raw === null ? null : raw / 10 ** decimals, unitCode: hex2(code) };
  const unit = unitName(code);
  if (unit !== undefined) q.unit = unit;
  return q;
}

/**
 * [1-cjt188.md §1.7] real time, BCD `ss mm hh DD MM YY CC` -> `YYYY-MM-DDTHH:mm:ss` in the
 * meter's own (local) time. All zeros is a meter whose clock was never set: null.
 */
export function readMeterTime(r: FieldReader, at: number): string | null {
  const start = r.base + at;
  let allZero = true;
  const parts: number[] = [];
  for (let i = 0; i < 7; i++) {
    const b = r.frame[start + i] as number;
    if (b !== 0) allZero = false;
    const v = readBcd(r, at + i, 1, 'meter time');
    parts.push(v ?? 0xff);
  }
  if (allZero) return null;
  const [ss, mm, hh, dd, mo, yy, cc] = parts as [number, number, number, number, number, number, number];
  const year = cc * 100 + yy;
  const days = new Date(Date.UTC(year, mo, 0)).getUTCDate();
  const bad = (i: number, what: string): never => {
    throw new DecodeError(
      'out-of-range',
      `meter time: ${what} ${hex2(r.frame[start + i] as number)} at offset ${start + i} is out of range`,
      r.frame,
      start + i,
    );
  };
  if (ss > 59) bad(0, 'seconds');
  if (mm > 59) bad(1, 'minutes');
  if (hh > 23) bad(2, 'hours');
  if (mo < 1 || mo > 12) bad(4, 'month');
  if (dd < 1 || dd > days) bad(3, 'day');
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(year, 4)}-${p(mo)}-${p(dd)}T${p(hh)}:${p(mm)}:${p(ss)}`;
}

/** [1-cjt188.md §1.7] standard ST1 mapping: D1D0 valve, D2 battery; D3..D7 and ST2 are vendor bits. */
export interface MeterStatus {
  /** ST1 ST2 as sent, four hex digits, for vendor-specific bit maps. */
  raw: string;
  valve: 'open' | 'closed' | 'abnormal' | 'undefined';
  batteryLow: boolean;
  /** ST1 D3..D7 or any ST2 bit set: a manufacturer-defined alarm or fault (magnetic attack, sensor fault...). */
  vendorAlarm: boolean;
}

const VALVE = ['open', 'closed', 'undefined', 'abnormal'] as const;

/**
 * Where a meter model puts the valve and battery bits of ST1 [1-cjt188.md §1.7]:
 * `standard` D1D0 valve, D2 battery; `msb-first` (S-XJZ) the same bits numbered from the top,
 * D7D6 valve (`40` closed, `C0` abnormal), D5 battery.
 */
export type StatusBitMap = 'standard' | 'msb-first';

export function readStatus(st1: number, st2: number, bitMap: StatusBitMap = 'standard'): MeterStatus {
  const msbFirst = bitMap === 'msb-first';
  // S-XJZ reads 0x40 as closed and 0xC0 as abnormal: D6 is the low valve bit, D7 the high one
  const valve = msbFirst ? (st1 >> 6) & 0x03 : st1 & 0x03;
  const batteryMask = msbFirst ? 0x20 : 0x04;
  const vendorMask = msbFirst ? 0x1f : 0xf8;
  return {
    raw: hex2(st1) + hex2(st2),
    valve: VALVE[valve] as MeterStatus['valve'],
    batteryLow: (st1 & batteryMask) !== 0,
    vendorAlarm: (st1 & vendorMask) !== 0 || st2 !== 0,
  };
}

/** Re-reads `MeterStatus.raw` (four hex digits) with a model's bit map. */
export function statusFromRaw(raw: string, bitMap: StatusBitMap): MeterStatus {
  if (!/^[0-9A-Fa-f]{4}$/.test(raw)) throw new RangeError(`status "${raw}" must be four hex digits (ST1 ST2)`);
  return readStatus(Number.parseInt(raw.slice(0, 2), 16), Number.parseInt(raw.slice(2), 16), bitMap);
}
