import { describe, expect, it } from 'vitest';
import {
  applyScale,
  bigEndianBytes,
  encodePoint,
  readBcd16,
  readF32,
  readPoint,
  readS16,
  readS32,
  readU16,
  readU32,
  registerCount,
  shortestFloat32,
  VALUE_TYPES,
  WORD_ORDERS,
  type WordOrder,
} from '../../../drivers/modbus/values.js';
import { DecodeError } from '../../../drivers/sdk/errors.js';

/** [2-modbus.md §2.4] 123456.0 = 47 F1 20 00 in each order. */
const DOC_123456: Record<WordOrder, [number, number]> = {
  ABCD: [0x47f1, 0x2000],
  CDAB: [0x2000, 0x47f1],
  BADC: [0xf147, 0x0020],
  DCBA: [0x0020, 0xf147],
};

/** 123.456f = 42 F6 E9 79, worked by hand from the table above. */
const F32_123_456: Record<WordOrder, [number, number]> = {
  ABCD: [0x42f6, 0xe979],
  CDAB: [0xe979, 0x42f6],
  BADC: [0xf642, 0x79e9],
  DCBA: [0x79e9, 0xf642],
};

describe('16-bit values', () => {
  it('reads u16 and s16', () => {
    const regs = [0x0000, 0x7fff, 0x8000, 0xffff, 0xffce];
    expect(regs.map((_, i) => readU16(regs, i))).toEqual([0, 32767, 32768, 65535, 65486]);
    expect(regs.map((_, i) => readS16(regs, i))).toEqual([0, 32767, -32768, -1, -50]);
  });

  it('reads BCD and refuses a nibble above 9 with the register index', () => {
    expect(readBcd16([0x1234, 0x9999], 0)).toBe(1234);
    expect(readBcd16([0x1234, 0x9999], 1)).toBe(9999);
    let err: unknown;
    try {
      readBcd16([0, 0x12a4], 1);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DecodeError);
    expect((err as DecodeError).reason).toBe('bad-field');
    expect((err as DecodeError).offset).toBe(1);
    expect((err as DecodeError).message).toContain('digit A');
  });

  it('refuses a register past the block read', () => {
    expect(() => readU32([1], 0)).toThrow(DecodeError);
    expect(() => readU16([], 0)).toThrow(/past the 0 registers/);
  });
});

describe('32-bit values in every word order', () => {
  for (const order of WORD_ORDERS) {
    it(`${order}: 123456.0 from the domain table`, () => {
      expect(Array.from(bigEndianBytes(DOC_123456[order], 0, order))).toEqual([0x47, 0xf1, 0x20, 0x00]);
      expect(readF32(DOC_123456[order], 0, order)).toBe(123456);
      expect(encodePoint(123456, 'f32', order)).toEqual(DOC_123456[order]);
    });

    it(`${order}: 123.456f`, () => {
      const regs = [0xdead, ...F32_123_456[order]];
      expect(readF32(regs, 1, order)).toBe(Math.fround(123.456));
      expect(readPoint(regs, 1, { type: 'f32', order })).toBe(123.456);
      expect(encodePoint(123.456, 'f32', order)).toEqual(F32_123_456[order]);
    });

    it(`${order}: u32 and s32 round trip at their limits`, () => {
      for (const v of [0, 1, 0x12345678, 0xffffffff]) expect(readU32(encodePoint(v, 'u32', order), 0, order)).toBe(v);
      for (const v of [-2147483648, -123456789, -1, 0, 2147483647])
        expect(readS32(encodePoint(v, 's32', order), 0, order)).toBe(v);
    });
  }

  it('tells the orders apart (one value, four different register pairs)', () => {
    const pairs = WORD_ORDERS.map((o) => encodePoint(0x11223344, 'u32', o).join(','));
    expect(new Set(pairs).size).toBe(4);
    expect(encodePoint(0x11223344, 'u32', 'CDAB')).toEqual([0x3344, 0x1122]);
    expect(encodePoint(0x11223344, 'u32', 'BADC')).toEqual([0x2211, 0x4433]);
    expect(encodePoint(0x11223344, 'u32', 'DCBA')).toEqual([0x4433, 0x2211]);
  });

  it('reads the Xintai little-endian floats of the domain doc', () => {
    // the doc's worked response frame: 1F 85 0B 3F is float32(0.545)
    expect(readF32([0x1f85, 0x0b3f], 0, 'DCBA')).toBe(Math.fround(0.545));
    expect(readPoint([0x1f85, 0x0b3f], 0, { type: 'f32', order: 'DCBA' })).toBe(0.545);
    // the doc's prose bytes 1E 85 0B 3F are the float32 just below it: "0.545" only when rounded
    expect(readF32([0x1e85, 0x0b3f], 0, 'DCBA')).toBe(0.5449999570846558);
    expect(readPoint([0x1e85, 0x0b3f], 0, { type: 'f32', order: 'DCBA' })).toBe(0.54499996);
  });

  it('passes NaN and infinities through', () => {
    expect(readPoint([0x7fc0, 0], 0, { type: 'f32' })).toBeNaN();
    expect(readPoint([0xff80, 0], 0, { type: 'f32' })).toBe(Number.NEGATIVE_INFINITY);
  });
});

describe('scale, offset and points', () => {
  it('scales without float noise', () => {
    expect(applyScale(35, 0.0001)).toBe(0.0035);
    expect(applyScale(185, 0.1)).toBe(18.5);
    expect(applyScale(-50, 0.1, 2)).toBe(-3);
    expect(applyScale(7)).toBe(7);
  });

  it('reads every type through readPoint with scale and offset', () => {
    const regs = [0xffce, 0x0025, ...encodePoint(-70000, 's32', 'CDAB'), ...encodePoint(4000000000, 'u32', 'BADC')];
    expect(readPoint(regs, 0, { type: 's16', scale: 0.1 })).toBe(-5);
    expect(readPoint(regs, 0, { type: 'u16' })).toBe(65486);
    expect(readPoint(regs, 1, { type: 'bcd16', offset: -5 })).toBe(20);
    expect(readPoint(regs, 2, { type: 's32', order: 'CDAB', scale: 0.01 })).toBe(-700);
    expect(readPoint(regs, 4, { type: 'u32', order: 'BADC', scale: 0.001 })).toBe(4000000);
  });

  it('knows how many registers each type takes', () => {
    expect(VALUE_TYPES.map(registerCount)).toEqual([1, 1, 2, 2, 2, 1]);
  });

  it('refuses to encode what does not fit', () => {
    expect(() => encodePoint(65536, 'u16')).toThrow(RangeError);
    expect(() => encodePoint(-32769, 's16')).toThrow(RangeError);
    expect(() => encodePoint(1.5, 'u32')).toThrow(RangeError);
    expect(() => encodePoint(10000, 'bcd16')).toThrow(RangeError);
    expect(encodePoint(-1, 's16')).toEqual([0xffff]);
    expect(encodePoint(1234, 'bcd16')).toEqual([0x1234]);
  });

  it('shortestFloat32 gives the decimal the device meant', () => {
    expect(shortestFloat32(Math.fround(123.45))).toBe(123.45);
    expect(shortestFloat32(Math.fround(0.1))).toBe(0.1);
    expect(shortestFloat32(Math.fround(16777217))).toBe(16777216);
  });
});
