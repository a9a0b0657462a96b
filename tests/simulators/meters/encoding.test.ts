/** The simulator's own encoders against the worked frames of the domain doc, byte for byte. */
import { describe, expect, it } from 'vitest';
import {
  bcdLe,
  cjt188AddressBytes,
  cjt188Frame,
  cjt188Status,
  crc16Modbus,
  f32Dcba,
  modbusException,
  modbusReadResponse,
  readDataPayload,
  withCrc,
} from '../../../simulators/meters/encoding.js';

const hex = (b: Buffer) => b.toString('hex').toUpperCase().match(/../g)?.join(' ');
const ADDR = cjt188AddressBytes('00000012345678');
const TIME = { year: 2024, month: 3, day: 15, hour: 8, minute: 30, second: 45 };

describe('CJ/T 188 encoding (1-cjt188.md §1.8)', () => {
  it('puts the address on the wire A0 first', () => {
    expect(ADDR).toEqual([0x78, 0x56, 0x34, 0x12, 0, 0, 0]);
    expect(() => cjt188AddressBytes('1234')).toThrow(/14 digits/);
  });

  it('encodes BCD least significant pair first', () => {
    expect(bcdLe(123456, 4)).toEqual([0x56, 0x34, 0x12, 0x00]);
    expect(bcdLe(100010, 4)).toEqual([0x10, 0x00, 0x10, 0x00]);
  });

  it('Ex 1: read request in both DI orders, CS 40', () => {
    expect(hex(cjt188Frame(0x10, ADDR, 0x01, [0x90, 0x1f, 0x01], 3))).toBe(
      'FE FE FE 68 10 78 56 34 12 00 00 00 01 03 90 1F 01 40 16',
    );
    expect(hex(cjt188Frame(0x10, ADDR, 0x01, [0x1f, 0x90, 0x01], 3))).toBe(
      'FE FE FE 68 10 78 56 34 12 00 00 00 01 03 1F 90 01 40 16',
    );
  });

  it('Ex 2: normal 901F response, CS B2', () => {
    const data = readDataPayload({
      di: [0x90, 0x1f],
      ser: 1,
      currentM3: 1234.56,
      settlementM3: 1200,
      time: TIME,
      status: cjt188Status(false, false),
    });
    expect(hex(cjt188Frame(0x10, ADDR, 0x81, data))).toBe(
      '68 10 78 56 34 12 00 00 00 81 16 90 1F 01 56 34 12 00 2C 00 00 12 00 2C 45 30 08 15 03 24 20 00 00 B2 16',
    );
  });

  it('Ex 3: valve closed and battery low set ST1 = 05, CS B7', () => {
    const data = readDataPayload({
      di: [0x90, 0x1f],
      ser: 1,
      currentM3: 1234.56,
      settlementM3: 1200,
      time: TIME,
      status: cjt188Status(true, true),
    });
    expect(hex(cjt188Frame(0x10, ADDR, 0x81, data))).toBe(
      '68 10 78 56 34 12 00 00 00 81 16 90 1F 01 56 34 12 00 2C 00 00 12 00 2C 45 30 08 15 03 24 20 05 00 B7 16',
    );
  });

  it('Ex 4 and the S-AIXI vectors', () => {
    expect(hex(cjt188Frame(0xaa, Array(7).fill(0xaa), 0x03, [0x81, 0x0a, 0x00], 3))).toBe(
      'FE FE FE 68 AA AA AA AA AA AA AA AA 03 03 81 0A 00 49 16',
    );
    const meter12 = cjt188AddressBytes('00000000000012');
    expect(hex(cjt188Frame(0x10, meter12, 0x01, [0x90, 0x1f, 0x00]))).toBe(
      '68 10 12 00 00 00 00 00 00 01 03 90 1F 00 3D 16',
    );
    expect(hex(cjt188Frame(0x10, meter12, 0x83, [0x81, 0x0a, 0x00]))).toBe(
      '68 10 12 00 00 00 00 00 00 83 03 81 0A 00 9B 16',
    );
    const zeroTime = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
    const data = readDataPayload({
      di: [0x90, 0x1f],
      ser: 0,
      currentM3: 1000.1,
      settlementM3: 1000.1,
      time: zeroTime,
      status: [0x00, 0xff],
    });
    expect(hex(cjt188Frame(0x10, meter12, 0x81, data))).toBe(
      '68 10 12 00 00 00 00 00 00 81 16 90 1F 00 10 00 10 00 2C 10 00 10 00 2C 00 00 00 00 00 00 00 00 FF 67 16',
    );
  });
});

describe('Modbus RTU encoding (2-modbus.md §2.3, §2.5c)', () => {
  it('CRC-16/MODBUS check value of "123456789" is 0x4B37', () => {
    expect(crc16Modbus(Buffer.from('123456789', 'ascii'))).toBe(0x4b37);
  });

  it('appends the CRC low byte first to the worked frames', () => {
    expect(hex(withCrc([1, 3, 0, 0, 0, 0x0a]))).toBe('01 03 00 00 00 0A C5 CD');
    expect(hex(withCrc([1, 4, 0, 0, 0, 2]))).toBe('01 04 00 00 00 02 71 CB');
    expect(hex(withCrc([1, 6, 0, 0x1c, 0, 2]))).toBe('01 06 00 1C 00 02 C9 CD');
    expect(hex(withCrc([3, 3, 0, 1, 0, 6]))).toBe('03 03 00 01 00 06 95 EA');
  });

  it('exception: FC03 illegal data address', () => {
    expect(hex(modbusException(1, 3, 2))).toBe('01 83 02 C0 F1');
  });

  it('Xintai read of 0x0001..0x0006: floats in DCBA', () => {
    expect(f32Dcba(1234.5)).toEqual([0x0050, 0x9a44]);
    const regs = [...f32Dcba(1234.5), ...f32Dcba(0), ...f32Dcba(0.545)];
    expect(hex(modbusReadResponse(3, 3, regs))).toBe('03 03 0C 00 50 9A 44 00 00 00 00 1F 85 0B 3F 64 33');
  });
});
