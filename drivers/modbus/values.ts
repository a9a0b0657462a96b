/**
 * Register values: 16-bit, 32-bit and float32 numbers read from (and written to) 16-bit Modbus
 * registers, with the word/byte order configured per device, plus scale and offset.
 * Pure. Facts: ../shared/domain/2-modbus.md §2.4.
 *
 * Order names follow the domain doc: name the bytes of the big-endian value A B C D; the name
 * lists them in the order they appear on the wire (register 1 high, register 1 low, register 2
 * high, register 2 low). ABCD = big-endian ("Modbus standard"), CDAB = word-swapped (common on
 * Chinese sensors and meters), BADC = byte-swapped, DCBA = little-endian (the Xintai meter).
 * These are deliberately not libmodbus's `modbus_get_float_abcd/_cdab/...` names: their meaning
 * has been inconsistent between libmodbus versions and platforms (libmodbus issues #358, #529,
 * #611, #807), so a device profile copied from libmodbus code could silently swap words.
 */
import { DecodeError } from '../sdk/errors.js';

export const WORD_ORDERS = ['ABCD', 'CDAB', 'BADC', 'DCBA'] as const;
export type WordOrder = (typeof WORD_ORDERS)[number];

export const VALUE_TYPES = ['u16', 's16', 'u32', 's32', 'f32', 'bcd16'] as const;
export type ValueType = (typeof VALUE_TYPES)[number];

/** How one point is read from a register block. */
export interface PointSpec {
  type: ValueType;
  /** Order of the 4 bytes of 32-bit types; ignored for 16-bit ones. Default ABCD. */
  order?: WordOrder;
  /** Engineering value = raw × scale + offset. Defaults 1 and 0. */
  scale?: number;
  offset?: number;
}

/** Registers a type occupies. */
export function registerCount(type: ValueType): 1 | 2 {
  return type === 'u32' || type === 's32' || type === 'f32' ? 2 : 1;
}

/** For each order, the position on the wire of A, B, C, D (wire index of the big-endian byte i). */
const WIRE_POSITION: Record<WordOrder, readonly [number, number, number, number]> = {
  ABCD: [0, 1, 2, 3],
  CDAB: [2, 3, 0, 1],
  BADC: [1, 0, 3, 2],
  DCBA: [3, 2, 1, 0],
};

function registerAt(registers: readonly number[], index: number): number {
  const r = registers[index];
  if (r === undefined)
    throw new DecodeError('short-frame', `register ${index} is past the ${registers.length} registers read`, '', index);
  return r;
}

/** The 4 bytes A B C D (big-endian order) of the 32-bit value at `index`, `index + 1`. */
export function bigEndianBytes(registers: readonly number[], index: number, order: WordOrder = 'ABCD'): Uint8Array {
  const r1 = registerAt(registers, index);
  const r2 = registerAt(registers, index + 1);
  const wire = [r1 >>> 8, r1 & 0xff, r2 >>> 8, r2 & 0xff];
  const pos = WIRE_POSITION[order];
  return Uint8Array.from(pos, (p) => wire[p] as number);
}

/** Two registers carrying the big-endian bytes A B C D in the given order. */
export function registersFromBigEndianBytes(bytes: Uint8Array, order: WordOrder = 'ABCD'): [number, number] {
  const wire = [0, 0, 0, 0];
  WIRE_POSITION[order].forEach((p, i) => {
    wire[p] = bytes[i] as number;
  });
  return [((wire[0] as number) << 8) | (wire[1] as number), ((wire[2] as number) << 8) | (wire[3] as number)];
}

export function readU16(registers: readonly number[], index: number): number {
  return registerAt(registers, index) & 0xffff;
}

export function readS16(registers: readonly number[], index: number): number {
  const u = readU16(registers, index);
  return u >= 0x8000 ? u - 0x10000 : u;
}

function view(registers: readonly number[], index: number, order: WordOrder): DataView {
  const b = bigEndianBytes(registers, index, order);
  return new DataView(b.buffer, b.byteOffset, 4);
}

export function readU32(registers: readonly number[], index: number, order: WordOrder = 'ABCD'): number {
  return view(registers, index, order).getUint32(0, false);
}

export function readS32(registers: readonly number[], index: number, order: WordOrder = 'ABCD'): number {
  return view(registers, index, order).getInt32(0, false);
}

/** The exact float32 value (123.45f reads as 123.44999694824219); see shortestFloat32 for display. */
export function readF32(registers: readonly number[], index: number, order: WordOrder = 'ABCD'): number {
  return view(registers, index, order).getFloat32(0, false);
}

/** BCD register: four decimal digits, 0x1234 = 1234. A nibble above 9 is refused. */
export function readBcd16(registers: readonly number[], index: number): number {
  const r = readU16(registers, index);
  let value = 0;
  for (let shift = 12; shift >= 0; shift -= 4) {
    const digit = (r >>> shift) & 0xf;
    if (digit > 9)
      throw new DecodeError(
        'bad-field',
        `register ${index} = 0x${r.toString(16).padStart(4, '0')} is not BCD (digit ${digit.toString(16).toUpperCase()})`,
        '',
        index,
      );
    value = value * 10 + digit;
  }
  return value;
}

/**
 * The shortest decimal that is the same float32 (0.5449999570846558 -> 0.545): what the device
 * meant, without the noise of widening a float32 to a double. NaN and infinities pass through.
 */
export function shortestFloat32(x: number): number {
  if (!Number.isFinite(x)) return x;
  const f = Math.fround(x);
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = Number(f.toPrecision(digits));
    if (Math.fround(candidate) === f) return candidate;
  }
  return f;
}

/** raw × scale + offset, with the float noise of the multiplication rounded off at 12 significant digits. */
export function applyScale(raw: number, scale = 1, offset = 0): number {
  if (scale === 1 && offset === 0) return raw;
  return Number((raw * scale + offset).toPrecision(12));
}

/** Reads one point at `index` and applies its scale and offset. float32 comes as shortestFloat32. */
export function readPoint(registers: readonly number[], index: number, spec: PointSpec): number {
  const order = spec.order ?? 'ABCD';
  let raw: number;
  switch (spec.type) {
    case 'u16':
      raw = readU16(registers, index);
      break;
    case 's16':
      raw = readS16(registers, index);
      break;
    case 'bcd16':
      raw = readBcd16(registers, index);
      break;
    case 'u32':
      raw = readU32(registers, index, order);
      break;
    case 's32':
      raw = readS32(registers, index, order);
      break;
    case 'f32':
      raw = shortestFloat32(readF32(registers, index, order));
      break;
  }
  return applyScale(raw, spec.scale, spec.offset);
}

/** Registers that carry `value` as `type` in `order` (for FC16 writes and the simulator). Throws RangeError when it does not fit. */
export function encodePoint(value: number, type: ValueType, order: WordOrder = 'ABCD'): number[] {
  const fits = (lo: number, hi: number) => {
    if (!Number.isInteger(value) || value < lo || value > hi)
      throw new RangeError(`${value} does not fit ${type} (${lo}..${hi})`);
  };
  switch (type) {
    case 'u16':
      fits(0, 0xffff);
      return [value];
    case 's16':
      fits(-0x8000, 0x7fff);
      return [value & 0xffff];
    case 'bcd16':
      fits(0, 9999);
      return [Number.parseInt(String(value), 16)];
    default: {
      const bytes = new Uint8Array(4);
      const dv = new DataView(bytes.buffer);
      if (type === 'u32') {
        fits(0, 0xffffffff);
        dv.setUint32(0, value, false);
      } else if (type === 's32') {
        fits(-0x80000000, 0x7fffffff);
        dv.setInt32(0, value, false);
      } else dv.setFloat32(0, value, false);
      return registersFromBigEndianBytes(bytes, order);
    }
  }
}
