/**
 * The simulator's own encoder from an engineering value to the registers a logger serves: the
 * inverse of "engineering = raw × scale + offset", then the raw number as 1 or 2 registers in the
 * named byte order. Independent of drivers/modbus/values.ts on purpose (its decoder is what the
 * tests check against). Facts: ../shared/domain/2-modbus.md §2.4: name the bytes of the big-endian
 * value A B C D; the order lists them as they appear on the wire (register 1 high byte first).
 */

export type ValueKind = 'u16' | 's16' | 'u32' | 's32' | 'f32' | 'bcd16';
export type ByteOrder = 'ABCD' | 'CDAB' | 'BADC' | 'DCBA';

export interface EncodeSpec {
  type: ValueKind;
  /** For 32-bit types. Default ABCD. */
  order?: ByteOrder;
  /** Engineering value = raw × scale + offset. Defaults 1 and 0. */
  scale?: number;
  offset?: number;
}

export function registersOf(type: ValueKind): 1 | 2 {
  return type === 'u32' || type === 's32' || type === 'f32' ? 2 : 1;
}

const clamp = (n: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, n));

/** Big-endian bytes A B C D of the raw value. */
function bigEndian32(type: 'u32' | 's32' | 'f32', raw: number): number[] {
  const b = Buffer.alloc(4);
  if (type === 'f32') b.writeFloatBE(raw);
  else if (type === 'u32') b.writeUInt32BE(clamp(Math.round(raw), 0, 0xffffffff));
  else b.writeInt32BE(clamp(Math.round(raw), -0x80000000, 0x7fffffff));
  return [...b];
}

/** Places A B C D on the wire in `order` and cuts the 4 wire bytes into 2 registers. */
export function orderWords(abcd: readonly number[], order: ByteOrder): [number, number] {
  const [a, b, c, d] = abcd as [number, number, number, number];
  const wire: Record<ByteOrder, number[]> = {
    ABCD: [a, b, c, d],
    CDAB: [c, d, a, b],
    BADC: [b, a, d, c],
    DCBA: [d, c, b, a],
  };
  const w = wire[order];
  return [((w[0] as number) << 8) | (w[1] as number), ((w[2] as number) << 8) | (w[3] as number)];
}

/**
 * The registers for `value`. Integers are rounded and clamped to their type's range: a real
 * logger saturates rather than wrapping around.
 */
export function encodeValue(spec: EncodeSpec, value: number): number[] {
  const raw = (value - (spec.offset ?? 0)) / (spec.scale ?? 1);
  switch (spec.type) {
    case 'u16':
      return [clamp(Math.round(raw), 0, 0xffff)];
    case 's16':
      return [clamp(Math.round(raw), -0x8000, 0x7fff) & 0xffff];
    case 'bcd16': {
      const n = clamp(Math.round(raw), 0, 9999);
      return [Number.parseInt(String(n), 16)];
    }
    default:
      return orderWords(bigEndian32(spec.type, raw), spec.order ?? 'ABCD');
  }
}
