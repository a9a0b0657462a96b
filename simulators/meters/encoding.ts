/**
 * The meter simulator's own minimal encoders (CJ/T 188 and Modbus RTU answers). Deliberately
 * independent of drivers/cjt188 and drivers/modbus: a bug shared by both sides would cancel out.
 */

/** CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF). */
export function crc16Modbus(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const b of bytes) {
    crc ^= b;
    for (let i = 0; i < 8; i++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

/** The frame with its CRC appended, low byte first. */
export function withCrc(body: readonly number[]): Buffer {
  const crc = crc16Modbus(Uint8Array.from(body));
  return Buffer.from([...body, crc & 0xff, crc >>> 8]);
}

/** Arithmetic sum mod 256 of every byte given (from 68 through the last data byte). */
export function cjt188Sum(bytes: Uint8Array | readonly number[]): number {
  let sum = 0;
  for (const b of bytes) sum = (sum + b) & 0xff;
  return sum;
}

/** Two decimal digits as one BCD byte. */
export function bcdByte(n: number): number {
  const v = Math.trunc(n) % 100;
  return (Math.trunc(v / 10) << 4) | (v % 10);
}

/** A non-negative integer as `bytes` BCD bytes, least significant pair first (wraps modulo 100^bytes). */
export function bcdLe(value: number, bytes: number): number[] {
  let rest = Math.trunc(Math.max(0, value));
  const out: number[] = [];
  for (let i = 0; i < bytes; i++) {
    out.push(bcdByte(rest % 100));
    rest = Math.trunc(rest / 100);
  }
  return out;
}

/** The 14-digit meter number (A6..A0 as people write it) as wire bytes A0..A6. */
export function cjt188AddressBytes(address: string): number[] {
  if (!/^\d{14}$/.test(address)) throw new Error(`CJ/T 188 address must be 14 digits, got "${address}"`);
  const out: number[] = [];
  for (let i = 12; i >= 0; i -= 2) out.push(Number.parseInt(address.slice(i, i + 2), 16));
  return out;
}

/** `68 T A0..A6 C L DATA CS 16`, optionally after FE wake-up bytes. */
export function cjt188Frame(
  type: number,
  address: readonly number[],
  control: number,
  data: readonly number[],
  preamble = 0,
): Buffer {
  const body = [0x68, type, ...address, control, data.length, ...data];
  return Buffer.from([...Array<number>(preamble).fill(0xfe), ...body, cjt188Sum(body), 0x16]);
}

/** Broken-down local time for the 901F time field. */
export interface MeterTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

export function meterTimeOf(ms: number, utcOffsetMinutes: number): MeterTime {
  const d = new Date(ms + utcOffsetMinutes * 60_000);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
  };
}

export interface ReadDataAnswer {
  /** DI bytes exactly as the request sent them (either order). */
  di: readonly [number, number];
  ser: number;
  /** Cumulative volume, m³ (2 decimals on the wire). */
  currentM3: number;
  settlementM3: number;
  time: MeterTime;
  /** ST1 ST2 as on the wire. */
  status: readonly [number, number];
}

const UNIT_M3 = 0x2c;

/** The 22-byte data field of a water meter's 901F answer. */
export function readDataPayload(a: ReadDataAnswer): number[] {
  const t = a.time;
  return [
    a.di[0],
    a.di[1],
    a.ser,
    ...bcdLe(Math.round(a.currentM3 * 100), 4),
    UNIT_M3,
    ...bcdLe(Math.round(a.settlementM3 * 100), 4),
    UNIT_M3,
    bcdByte(t.second),
    bcdByte(t.minute),
    bcdByte(t.hour),
    bcdByte(t.day),
    bcdByte(t.month),
    bcdByte(t.year % 100),
    bcdByte(Math.trunc(t.year / 100)),
    a.status[0],
    a.status[1],
  ];
}

/** ST1: D1D0 valve (00 open, 01 closed), D2 battery low. */
export function cjt188Status(valveClosed: boolean, batteryLow: boolean): [number, number] {
  return [(valveClosed ? 0x01 : 0) | (batteryLow ? 0x04 : 0), 0x00];
}

/** A float32 as two registers in DCBA order (the Xintai meter's "little-endian floats"). */
export function f32Dcba(value: number): [number, number] {
  const b = Buffer.alloc(4);
  b.writeFloatLE(value);
  return [b.readUInt16BE(0), b.readUInt16BE(2)];
}

/** `unit fc bytecount regs… CRC` for 03/04. */
export function modbusReadResponse(unit: number, fc: number, registers: readonly number[]): Buffer {
  const data: number[] = [];
  for (const r of registers) data.push((r >>> 8) & 0xff, r & 0xff);
  return withCrc([unit, fc, data.length, ...data]);
}

export function modbusException(unit: number, fc: number, code: number): Buffer {
  return withCrc([unit, fc | 0x80, code]);
}
