/**
 * CJ/T 188 codec (2004 and 2018): `FE… 68 T A0..A6 C L DI SER data CS 16` <-> typed frames.
 * Pure: no I/O, no clock, no logging. Refusals are DecodeErrors, nothing else is thrown.
 * Facts and worked frames: ../shared/domain/1-cjt188.md.
 */
import type { FrameCodec, SplitResult } from '../sdk/driver.js';
import { DecodeError } from '../sdk/errors.js';
import {
  type FieldReader,
  FUNCTIONS,
  hexByte,
  isKnownDi,
  type MeterCategory,
  type MeterStatus,
  meterCategory,
  meterTypeName,
  type Quantity,
  readMeterTime,
  readQuantity,
  readStatus,
} from './codec-fields.js';

export type { MeterCategory, MeterStatus, Quantity, StatusBitMap } from './codec-fields.js';
export { statusFromRaw } from './codec-fields.js';

const START = 0x68;
const END = 0x16;
const PREAMBLE = 0xfe;
/** 68 T A0..A6 C L */
export const HEADER_BYTES = 11;
/** L is one byte; a frame is 13 + L bytes, so no frame is longer than this. */
export const MAX_FRAME_BYTES = 13 + 255;
/** [1-cjt188.md §1.7] 901F response of a water (or gas) meter: DI SER + 19 bytes. */
const WATER_METERING_LENGTH = 0x16;

/** `2004`: DI high byte first (`90 1F`); `2018`: low byte first (`1F 90`) [1-cjt188.md §1.6]. */
export type DiOrder = '2004' | '2018';
export type AddressKind = 'unicast' | 'wildcard' | 'broadcast';

interface FrameCommon {
  /** Meter type T, two hex digits (`10` cold water). */
  meterType: string;
  meterCategory: MeterCategory;
  meterTypeName: string;
  /** 14 characters, A6 first as people write it; a wildcard byte shows as `AA`. */
  address: string;
  addressKind: AddressKind;
  /** Control code C, two hex digits. */
  control: string;
  direction: 'request' | 'response';
  /** C bit D5: a follow-up frame is present. */
  followUp: boolean;
  /** From C bits D4..D0 (`read-data`, `read-address`, ...), or `function-XX`. */
  function: string;
}

/** Master -> meter. */
export interface RequestFrame extends FrameCommon {
  kind: 'request';
  di: string;
  diOrder: DiOrder;
  ser: number;
  /** Data after SER (write payloads), hex. */
  payload: string;
}

/** Meter -> master, read data 901F: the metering data of a water or gas meter. */
export interface MeteringDataFrame extends FrameCommon {
  kind: 'metering-data';
  di: '901F';
  diOrder: DiOrder;
  ser: number;
  /** 当前累积流量, XXXXXX.XX. */
  cumulativeFlow: Quantity;
  /** 结算日累积流量, XXXXXX.XX. */
  settlementFlow: Quantity;
  /** Meter clock `YYYY-MM-DDTHH:mm:ss` (local time of the meter); null when never set. */
  meterTime: string | null;
  status: MeterStatus;
}

/** Meter -> master with C bit D6 set: kept raw, never refused [1-cjt188.md §1.7]. */
export interface ErrorResponseFrame extends FrameCommon {
  kind: 'error-response';
  ser?: number;
  /** The status bytes after SER, hex (one or two bytes depending on the vendor). */
  st?: string;
  status?: MeterStatus;
}

/** Any other normal response (read address, write acknowledgements, ...), payload kept raw. */
export interface OtherResponseFrame extends FrameCommon {
  kind: 'response';
  di: string;
  diOrder: DiOrder;
  ser: number;
  payload: string;
}

export type Cjt188Frame = RequestFrame | MeteringDataFrame | ErrorResponseFrame | OtherResponseFrame;

/** CS: arithmetic sum mod 256 of every byte from `68` through the last data byte. */
export function cjt188Checksum(bytes: Uint8Array, from = 0, to = bytes.length): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum = (sum + (bytes[i] as number)) & 0xff;
  return sum;
}

/** True when a complete frame with the right end byte and checksum starts at `at`. */
function validFrameAt(buf: Buffer, at: number): boolean {
  if (buf.length - at < HEADER_BYTES + 2 || buf[at] !== START) return false;
  const total = 13 + (buf[at + 10] as number);
  if (buf.length - at < total || buf[at + total - 1] !== END) return false;
  return cjt188Checksum(buf, at, at + total - 2) === buf[at + total - 2];
}

/** Start of the first complete valid frame beginning in [from, to), or -1. */
function validFrameBetween(buf: Buffer, from: number, to: number): number {
  let at = buf.indexOf(START, from);
  while (at !== -1 && at < to) {
    if (validFrameAt(buf, at)) return at;
    at = buf.indexOf(START, at + 1);
  }
  return -1;
}

/**
 * Frames start at `68` and are 13 + L bytes long. FE preambles are skipped (not counted as
 * discarded); other bytes before a `68` are discarded and counted. A candidate whose byte at
 * 12 + L is not `16` was a stray `68`: it is dropped and the scan resumes one byte later
 * [1-cjt188.md §1.8 negative tests]. A frame with the right end byte is handed on whole, so
 * decode refuses a wrong checksum with its reason, unless a valid frame starts inside it (then
 * the candidate was a stray 68 and is dropped up to that frame). While a candidate is incomplete, a complete
 * valid frame starting later in the buffer wins (a truncated reply followed by the next one),
 * so `rest` never exceeds MAX_FRAME_BYTES - 1.
 */
export function splitCjt188(buf: Buffer): SplitResult {
  const frames: Buffer[] = [];
  let discarded = 0;
  let i = 0;
  const drop = (from: number, to: number) => {
    for (let k = from; k < to; k++) if (buf[k] !== PREAMBLE) discarded++;
  };
  while (i < buf.length) {
    const start = buf.indexOf(START, i);
    if (start === -1) {
      drop(i, buf.length);
      return { frames, rest: Buffer.alloc(0), discarded };
    }
    drop(i, start);
    const total = buf.length - start >= HEADER_BYTES ? 13 + (buf[start + 10] as number) : MAX_FRAME_BYTES;
    if (buf.length - start < total) {
      const later = validFrameBetween(buf, start + 1, buf.length);
      if (later === -1) return { frames, rest: Buffer.from(buf.subarray(start)), discarded };
      drop(start, later);
      i = later;
      continue;
    }
    if (buf[start + total - 1] !== END) {
      discarded++;
      i = start + 1;
      continue;
    }
    if (cjt188Checksum(buf, start, start + total - 2) !== buf[start + total - 2]) {
      // a stray 68 whose L happens to land on a 16 must not swallow a good frame inside it
      const inner = validFrameBetween(buf, start + 1, start + total);
      if (inner !== -1) {
        drop(start, inner);
        i = inner;
        continue;
      }
    }
    frames.push(Buffer.from(buf.subarray(start, start + total)));
    i = start + total;
  }
  return { frames, rest: Buffer.alloc(0), discarded };
}

function fail(reason: ConstructorParameters<typeof DecodeError>[0], message: string, frame: Buffer, offset: number) {
  return new DecodeError(reason, message, frame, offset);
}

function readAddress(r: FieldReader): { address: string; addressKind: AddressKind } {
  let address = '';
  let wildcard = false;
  let broadcast = true;
  for (let i = 8; i >= 2; i--) {
    const b = r.frame[r.base + i] as number;
    if (b === 0xaa) wildcard = true;
    else if (b >> 4 > 9 || (b & 0x0f) > 9)
      throw fail(
        'bad-field',
        `address byte A${i - 2} = ${hexByte(b)} at offset ${r.base + i} is neither BCD nor the wildcard AA`,
        r.frame,
        r.base + i,
      );
    if (b !== 0x99) broadcast = false;
    address += hexByte(b);
  }
  return { address, addressKind: wildcard ? 'wildcard' : broadcast ? 'broadcast' : 'unicast' };
}

function readDi(r: FieldReader, at: number): { di: string; diOrder: DiOrder } {
  const b0 = r.frame[r.base + at] as number;
  const b1 = r.frame[r.base + at + 1] as number;
  const bigEndian = (b0 << 8) | b1;
  const littleEndian = (b1 << 8) | b0;
  const name = (v: number) => v.toString(16).toUpperCase().padStart(4, '0');
  if (isKnownDi(bigEndian)) return { di: name(bigEndian), diOrder: '2004' };
  if (isKnownDi(littleEndian)) return { di: name(littleEndian), diOrder: '2018' };
  throw fail(
    'unknown-type',
    `unknown data identifier ${hexByte(b0)} ${hexByte(b1)} at offset ${r.base + at} (known: 901F, D120-D12B, 8102-8106, 810A, A010-A019, A101-A107, in either byte order)`,
    r.frame,
    r.base + at,
  );
}

/** Decodes one frame; leading FE bytes are skipped. Throws DecodeError only. */
export function decodeCjt188(frame: Buffer): Cjt188Frame {
  let base = 0;
  while (frame[base] === PREAMBLE) base++;
  if (base >= frame.length)
    throw fail('short-frame', `truncated: no start byte 68 after ${base} byte(s)`, frame, frame.length);
  if (frame[base] !== START)
    throw fail('bad-frame', `start byte: expected 68, got ${hexByte(frame[base] as number)}`, frame, base);
  const avail = frame.length - base;
  if (avail < HEADER_BYTES + 2)
    throw fail(
      'short-frame',
      `truncated: ${avail} byte(s) from 68, a frame has at least 13 (68 T A0..A6 C L CS 16)`,
      frame,
      frame.length,
    );
  const length = frame[base + 10] as number;
  const total = 13 + length;
  if (avail < total)
    throw fail(
      'short-frame',
      `truncated: L = ${hexByte(length)} announces ${total} bytes from 68, got ${avail}`,
      frame,
      frame.length,
    );
  if (avail > total)
    throw fail(
      'too-long',
      `${avail - total} byte(s) after the end of the frame (L = ${hexByte(length)} gives ${total} bytes)`,
      frame,
      base + total,
    );
  const csAt = base + total - 2;
  const endAt = base + total - 1;
  if (frame[endAt] !== END)
    throw fail('bad-frame', `end byte: expected 16, got ${hexByte(frame[endAt] as number)}`, frame, endAt);
  const computed = cjt188Checksum(frame, base, csAt);
  if (computed !== frame[csAt])
    throw fail(
      'bad-checksum',
      `checksum mismatch: expected ${hexByte(computed)}, got ${hexByte(frame[csAt] as number)}`,
      frame,
      csAt,
    );

  const r: FieldReader = { frame, base };
  const t = frame[base + 1] as number;
  const c = frame[base + 9] as number;
  const fn = c & 0x1f;
  const common: FrameCommon = {
    meterType: hexByte(t),
    meterCategory: meterCategory(t),
    meterTypeName: meterTypeName(t),
    ...readAddress(r),
    control: hexByte(c),
    direction: c & 0x80 ? 'response' : 'request',
    followUp: (c & 0x20) !== 0,
    function: FUNCTIONS[fn] ?? `function-${hexByte(fn)}`,
  };
  const data = 11;
  const dataHex = (from: number) =>
    frame
      .subarray(base + from, base + data + length)
      .toString('hex')
      .toUpperCase();

  // [1-cjt188.md §1.7] error response: SER(1) + ST(1 or 2), vendors disagree; keep it raw.
  if (common.direction === 'response' && c & 0x40) {
    const out: ErrorResponseFrame = { kind: 'error-response', ...common };
    if (length >= 1) out.ser = frame[base + data] as number;
    if (length >= 2) out.st = dataHex(data + 1);
    if (length >= 3) out.status = readStatus(frame[base + data + 1] as number, frame[base + data + 2] as number);
    return out;
  }
  if (length < 3)
    throw fail('short-frame', `L = ${hexByte(length)}: the data field needs at least DI(2) SER(1)`, frame, base + 10);
  const { di, diOrder } = readDi(r, data);
  const ser = frame[base + data + 2] as number;
  if (common.direction === 'request') return { kind: 'request', ...common, di, diOrder, ser, payload: dataHex(14) };

  const category = common.meterCategory;
  if (fn === 0x01 && di === '901F' && (category === 'water' || category === 'gas')) {
    if (length < WATER_METERING_LENGTH)
      throw fail(
        'short-frame',
        `metering data 901F of a ${category} meter needs L = 16 (22 bytes), got L = ${hexByte(length)}`,
        frame,
        base + 10,
      );
    return {
      kind: 'metering-data',
      ...common,
      di,
      diOrder,
      ser,
      cumulativeFlow: readQuantity(r, data + 3, 2, 'current cumulative flow'),
      settlementFlow: readQuantity(r, data + 8, 2, 'settlement-day cumulative flow'),
      meterTime: readMeterTime(r, data + 13),
      status: readStatus(frame[base + data + 20] as number, frame[base + data + 21] as number),
    };
  }
  return { kind: 'response', ...common, di, diOrder, ser, payload: dataHex(14) };
}

export interface FrameFields {
  /** Meter type T (0x10 cold water, 0xAA wildcard). */
  meterType: number;
  /** 14 digits A6..A0 as people write it (`00000012345678`), `AA` pairs allowed; or 7 wire bytes A0..A6. */
  address: string | Uint8Array;
  control: number;
  /** DATA field, DI first. */
  data: Uint8Array;
  /** FE wake-up bytes in front; default 0. */
  preamble?: number;
}

/** Wire bytes A0..A6 from the human A6..A0 string [1-cjt188.md §1.5]. */
export function addressBytes(address: string | Uint8Array): Buffer {
  if (typeof address !== 'string') {
    if (address.length !== 7) throw new RangeError(`address must be 7 bytes, got ${address.length}`);
    return Buffer.from(address);
  }
  if (!/^([0-9]{2}|AA|aa)*$/.test(address) || address.length !== 14)
    throw new RangeError(`address "${address}" must be 14 digits (A6..A0), "AA" pairs allowed`);
  return Buffer.from(address, 'hex').reverse();
}

/** Builds `FE… 68 T A0..A6 C L DATA CS 16`. */
export function encodeFrame(f: FrameFields): Buffer {
  if (f.data.length > 255) throw new RangeError(`data field of ${f.data.length} bytes, at most 255`);
  const body = Buffer.concat([
    Buffer.from([START, f.meterType & 0xff]),
    addressBytes(f.address),
    Buffer.from([f.control & 0xff, f.data.length]),
    f.data,
  ]);
  return Buffer.concat([Buffer.alloc(f.preamble ?? 0, PREAMBLE), body, Buffer.from([cjt188Checksum(body), END])]);
}

export interface ReadRequest {
  meterType: number;
  address: string | Uint8Array;
  /** Data identifier as written, e.g. `901F` (default) or `810A` (read address, control 03). */
  di?: string;
  /** Sequence number echoed by the meter, 0..255; default 0. */
  ser?: number;
  /** Default `2004` (`90 1F` on the wire). */
  diOrder?: DiOrder;
  /** FE wake-up bytes; default 3. */
  preamble?: number;
}

/** A read request: control 01 (read data), or 03 for DI 810A (read address). */
export function encodeReadRequest(req: ReadRequest): Buffer {
  const diText = req.di ?? '901F';
  if (!/^[0-9A-Fa-f]{4}$/.test(diText)) throw new RangeError(`DI "${diText}" must be four hex digits`);
  const di = Number.parseInt(diText, 16);
  const ser = req.ser ?? 0;
  if (!Number.isInteger(ser) || ser < 0 || ser > 255) throw new RangeError(`SER ${ser} must be 0..255`);
  const diBytes = req.diOrder === '2018' ? [di & 0xff, di >> 8] : [di >> 8, di & 0xff];
  return encodeFrame({
    meterType: req.meterType,
    address: req.address,
    control: di === 0x810a ? 0x03 : 0x01,
    data: Uint8Array.from([...diBytes, ser]),
    preamble: req.preamble ?? 3,
  });
}

export const cjt188Codec: FrameCodec<Cjt188Frame, ReadRequest> = {
  id: 'cjt188/v1',
  split: splitCjt188,
  decode: decodeCjt188,
  encode: encodeReadRequest,
};
