/**
 * Modbus RTU codec: `[unit][function][data…][CRC lo][CRC hi]` <-> typed requests and responses
 * for functions 03, 04 (read holding / input registers), 06 (write single register) and 16
 * (write multiple registers), plus exception responses.
 * Pure: no I/O, no clock, no logging. Refusals are DecodeErrors, nothing else is thrown.
 * Facts and worked frames: ../shared/domain/2-modbus.md.
 *
 * Direction: an RTU frame carries no length field and no request/response flag, and the same
 * bytes can be both (an 06 request and its echo are identical; `01 03 00 00 00 0A` is a valid
 * 03 request and, as a response, a byte count disagreeing with the length). So the caller says
 * which one it expects: the bus poller decodes what it reads with `decodeResponse` (it knows the
 * request it sent), a sniffer or the simulator uses `decodeRequest`, and `decodeEither` gives
 * both interpretations for `citygrid decode`.
 */
import { DecodeError } from '../sdk/errors.js';

export const FC_READ_HOLDING = 0x03;
export const FC_READ_INPUT = 0x04;
export const FC_WRITE_SINGLE = 0x06;
export const FC_WRITE_MULTIPLE = 0x10;
export const EXCEPTION_FLAG = 0x80;

/** [2-modbus.md §2.2] register counts the spec allows per request. */
export const MAX_READ_QUANTITY = 125;
export const MAX_WRITE_QUANTITY = 123;
/** [Modbus over Serial Line §2.5.1] an RTU frame is at most 256 bytes. */
export const MAX_RTU_FRAME = 256;

export type ReadFunction = typeof FC_READ_HOLDING | typeof FC_READ_INPUT;
export type RtuFunction = ReadFunction | typeof FC_WRITE_SINGLE | typeof FC_WRITE_MULTIPLE;

export type RtuRequest =
  | { kind: 'read'; unit: number; function: ReadFunction; address: number; quantity: number }
  | { kind: 'write-single'; unit: number; function: typeof FC_WRITE_SINGLE; address: number; value: number }
  | { kind: 'write-multiple'; unit: number; function: typeof FC_WRITE_MULTIPLE; address: number; values: number[] };

export type RtuResponse =
  | { kind: 'read'; unit: number; function: ReadFunction; registers: number[] }
  | { kind: 'write-single'; unit: number; function: typeof FC_WRITE_SINGLE; address: number; value: number }
  | { kind: 'write-multiple'; unit: number; function: typeof FC_WRITE_MULTIPLE; address: number; quantity: number }
  | RtuException;

/** A device refusing a request: function | 0x80 and an exception code. */
export interface RtuException {
  kind: 'exception';
  unit: number;
  /** The function that was refused (without the 0x80 flag); any function, not only the four decoded. */
  function: number;
  exceptionCode: number;
  exceptionName: string;
}

/** [Modbus Application Protocol V1.1b3 §7] exception codes. */
export const EXCEPTION_NAMES: Readonly<Record<number, string>> = {
  1: 'illegal function',
  2: 'illegal data address',
  3: 'illegal data value',
  4: 'slave device failure',
  5: 'acknowledge',
  6: 'slave device busy',
  8: 'memory parity error',
  10: 'gateway path unavailable',
  11: 'gateway target device failed to respond',
};

export interface DecodeResponseOptions {
  /** The function of the request this answers; anything else (but its exception) is refused. */
  expectFunction?: number;
  /** The unit the request went to; an answer from another unit is refused. */
  expectUnit?: number;
  /** Registers requested (03/04): a read response with another count is refused. */
  expectQuantity?: number;
}

/** CRC-16/MODBUS: poly 0x8005 reflected (0xA001), init 0xFFFF, no final XOR. Sent low byte first. */
export function crc16Modbus(bytes: Uint8Array, end: number = bytes.length): number {
  let crc = 0xffff;
  for (let i = 0; i < end; i++) {
    crc ^= bytes[i] as number;
    for (let b = 0; b < 8; b++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

const hex4 = (n: number) => `0x${n.toString(16).toUpperCase().padStart(4, '0')}`;
const hex2 = (n: number) => n.toString(16).toUpperCase().padStart(2, '0');

function withCrc(body: number[]): Buffer {
  const out = Buffer.alloc(body.length + 2);
  out.set(body);
  out.writeUInt16LE(crc16Modbus(out, body.length), body.length);
  return out;
}

function checkWord(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff)
    throw new RangeError(`${what} must be an integer 0..65535, got ${value}`);
}

function checkUnit(unit: number, allowBroadcast: boolean): void {
  if (!Number.isInteger(unit) || unit < (allowBroadcast ? 0 : 1) || unit > 247)
    throw new RangeError(`unit must be ${allowBroadcast ? 0 : 1}..247, got ${unit}`);
}

const word = (n: number) => [(n >>> 8) & 0xff, n & 0xff];

/** Builds a request frame with its CRC. Throws RangeError for values the protocol cannot carry (a caller bug). */
export function encodeRequest(req: RtuRequest): Buffer {
  checkUnit(req.unit, req.kind !== 'read');
  checkWord(req.address, 'address');
  if (req.kind === 'read') {
    if (!Number.isInteger(req.quantity) || req.quantity < 1 || req.quantity > MAX_READ_QUANTITY)
      throw new RangeError(`quantity must be 1..${MAX_READ_QUANTITY}, got ${req.quantity}`);
    return withCrc([req.unit, req.function, ...word(req.address), ...word(req.quantity)]);
  }
  if (req.kind === 'write-single') {
    checkWord(req.value, 'value');
    return withCrc([req.unit, FC_WRITE_SINGLE, ...word(req.address), ...word(req.value)]);
  }
  const n = req.values.length;
  if (n < 1 || n > MAX_WRITE_QUANTITY) throw new RangeError(`1..${MAX_WRITE_QUANTITY} values, got ${n}`);
  for (const v of req.values) checkWord(v, 'register value');
  return withCrc([req.unit, FC_WRITE_MULTIPLE, ...word(req.address), ...word(n), n * 2, ...req.values.flatMap(word)]);
}

/** Builds a response frame (the simulator's side, and round-trip tests). */
export function encodeResponse(resp: RtuResponse): Buffer {
  checkUnit(resp.unit, false);
  if (resp.kind === 'exception') return withCrc([resp.unit, resp.function | EXCEPTION_FLAG, resp.exceptionCode]);
  if (resp.kind === 'read') {
    const n = resp.registers.length;
    if (n < 1 || n > MAX_READ_QUANTITY) throw new RangeError(`1..${MAX_READ_QUANTITY} registers, got ${n}`);
    for (const v of resp.registers) checkWord(v, 'register value');
    return withCrc([resp.unit, resp.function, n * 2, ...resp.registers.flatMap(word)]);
  }
  checkWord(resp.address, 'address');
  const last = resp.kind === 'write-single' ? resp.value : resp.quantity;
  checkWord(last, resp.kind === 'write-single' ? 'value' : 'quantity');
  return withCrc([resp.unit, resp.function, ...word(resp.address), ...word(last)]);
}

/** Reads fields of one frame; every refusal names the byte offset. */
class Frame {
  constructor(
    readonly bytes: Buffer,
    readonly direction: 'request' | 'response',
  ) {}

  u16(at: number): number {
    return this.bytes.readUInt16BE(at);
  }

  fail(reason: ConstructorParameters<typeof DecodeError>[0], message: string, offset: number): never {
    throw new DecodeError(reason, `${this.direction}: ${message}`, this.bytes, offset);
  }

  crcMatches(): boolean {
    const n = this.bytes.length;
    return crc16Modbus(this.bytes, n - 2) === this.bytes.readUInt16LE(n - 2);
  }

  /**
   * Refuses a frame whose length is not `expected`, then one with a bad CRC. A frame whose CRC is
   * right over its whole length but whose own length field disagrees is a byte-count mismatch
   * (a device bug, or the wrong direction); otherwise it was cut short or run into the next frame.
   */
  checkLengthAndCrc(expected: number, what: string, lengthFieldAt?: number): void {
    const n = this.bytes.length;
    if (n !== expected) {
      if (lengthFieldAt !== undefined && n >= 4 && this.crcMatches())
        this.fail(
          'bad-field',
          `byte count mismatch: ${what} says ${this.bytes[lengthFieldAt]} data bytes, so ${expected} bytes in all, but the frame (CRC valid) has ${n}`,
          lengthFieldAt,
        );
      if (n < expected) this.fail('short-frame', `truncated: ${what} needs ${expected} bytes, got ${n}`, n);
      this.fail('too-long', `${what} is ${expected} bytes, got ${n} (another frame run in?)`, expected);
    }
    this.checkCrc();
  }

  checkCrc(): void {
    const n = this.bytes.length;
    const expected = crc16Modbus(this.bytes, n - 2);
    const got = this.bytes.readUInt16LE(n - 2);
    if (expected !== got)
      this.fail(
        'bad-checksum',
        `CRC mismatch: expected ${hex4(expected)} (on the wire ${hex2(expected & 0xff)} ${hex2(expected >>> 8)}), got ${hex4(got)} (${hex2(got & 0xff)} ${hex2(got >>> 8)})`,
        n - 2,
      );
  }

  checkUnit(allowBroadcast: boolean): number {
    const unit = this.bytes[0] as number;
    if (unit > 247 || (unit === 0 && !allowBroadcast))
      this.fail(
        'out-of-range',
        `unit ${unit} is not a ${allowBroadcast ? 'valid' : 'replying'} address (${allowBroadcast ? 0 : 1}..247)`,
        0,
      );
    return unit;
  }

  checkQuantity(at: number, max: number): number {
    const q = this.u16(at);
    if (q < 1 || q > max) this.fail('out-of-range', `quantity ${q} outside 1..${max}`, at);
    return q;
  }

  unknownFunction(fc: number): never {
    if (this.bytes.length >= 4 && !this.crcMatches()) this.checkCrc();
    this.fail('unknown-type', `function 0x${hex2(fc)} is not decoded (03, 04, 06, 16 are)`, 1);
  }
}

function describeFn(fc: number, direction: string): string {
  return `function ${hex2(fc)} ${direction}`;
}

function checkMinimum(f: Frame): number {
  const n = f.bytes.length;
  if (n < 4) f.fail('short-frame', `truncated: ${n} byte(s), an RTU frame has at least 4 (unit, function, CRC)`, n);
  if (n > MAX_RTU_FRAME) f.fail('too-long', `${n} bytes, an RTU frame has at most ${MAX_RTU_FRAME}`, MAX_RTU_FRAME);
  return f.bytes[1] as number;
}

/** Decodes a frame sent by a master. Throws DecodeError only. */
export function decodeRequest(frame: Buffer): RtuRequest {
  const f = new Frame(frame, 'request');
  const fc = checkMinimum(f);
  if (fc === FC_READ_HOLDING || fc === FC_READ_INPUT) {
    f.checkLengthAndCrc(8, describeFn(fc, 'request'));
    const unit = f.checkUnit(false);
    return { kind: 'read', unit, function: fc, address: f.u16(2), quantity: f.checkQuantity(4, MAX_READ_QUANTITY) };
  }
  if (fc === FC_WRITE_SINGLE) {
    f.checkLengthAndCrc(8, describeFn(fc, 'request'));
    return { kind: 'write-single', unit: f.checkUnit(true), function: fc, address: f.u16(2), value: f.u16(4) };
  }
  if (fc === FC_WRITE_MULTIPLE) {
    if (frame.length < 7)
      f.fail(
        'short-frame',
        `truncated: ${describeFn(fc, 'request')} needs at least 9 bytes, got ${frame.length}`,
        frame.length,
      );
    const byteCount = frame[6] as number;
    f.checkLengthAndCrc(9 + byteCount, `${describeFn(fc, 'request')} with byte count ${byteCount}`, 6);
    const unit = f.checkUnit(true);
    const quantity = f.checkQuantity(4, MAX_WRITE_QUANTITY);
    if (byteCount !== quantity * 2)
      f.fail(
        'bad-field',
        `byte count mismatch: quantity ${quantity} needs byte count ${quantity * 2}, got ${byteCount}`,
        6,
      );
    const values: number[] = [];
    for (let i = 0; i < quantity; i++) values.push(f.u16(7 + i * 2));
    return { kind: 'write-multiple', unit, function: fc, address: f.u16(2), values };
  }
  return f.unknownFunction(fc);
}

/** Decodes a frame sent by a slave, optionally checked against the request it answers. Throws DecodeError only. */
export function decodeResponse(frame: Buffer, options: DecodeResponseOptions = {}): RtuResponse {
  const f = new Frame(frame, 'response');
  const fc = checkMinimum(f);
  const resp = decodeResponseFields(f, fc);
  if (options.expectUnit !== undefined && resp.unit !== options.expectUnit)
    f.fail('bad-frame', `answer from unit ${resp.unit}, expected unit ${options.expectUnit}`, 0);
  if (options.expectFunction !== undefined && resp.function !== options.expectFunction)
    f.fail('bad-frame', `function ${hex2(resp.function)}, expected ${hex2(options.expectFunction)}`, 1);
  if (options.expectQuantity !== undefined && resp.kind === 'read' && resp.registers.length !== options.expectQuantity)
    f.fail(
      'bad-field',
      `byte count mismatch: ${resp.registers.length} registers, expected ${options.expectQuantity}`,
      2,
    );
  return resp;
}

function decodeResponseFields(f: Frame, fc: number): RtuResponse {
  const frame = f.bytes;
  if (fc & EXCEPTION_FLAG) {
    f.checkLengthAndCrc(5, `exception response to function ${hex2(fc & 0x7f)}`);
    const code = frame[2] as number;
    return {
      kind: 'exception',
      unit: f.checkUnit(false),
      function: fc & 0x7f,
      exceptionCode: code,
      exceptionName: EXCEPTION_NAMES[code] ?? `unknown exception code ${code}`,
    };
  }
  if (fc === FC_READ_HOLDING || fc === FC_READ_INPUT) {
    const byteCount = frame[2] as number;
    try {
      f.checkLengthAndCrc(5 + byteCount, `${describeFn(fc, 'response')} with byte count ${byteCount}`, 2);
    } catch (err) {
      if (err instanceof DecodeError && err.reason === 'bad-field' && looksLikeRequest(frame))
        f.fail(
          'bad-field',
          `${err.message.replace(/^response: /, '')}; it is a valid ${hex2(fc)} request: an echo of the request?`,
          2,
        );
      throw err;
    }
    const unit = f.checkUnit(false);
    if (byteCount === 0 || byteCount % 2 !== 0 || byteCount > MAX_READ_QUANTITY * 2)
      f.fail('bad-field', `byte count ${byteCount} is not 2 × 1..${MAX_READ_QUANTITY} registers`, 2);
    const registers: number[] = [];
    for (let i = 0; i < byteCount / 2; i++) registers.push(f.u16(3 + i * 2));
    return { kind: 'read', unit, function: fc, registers };
  }
  if (fc === FC_WRITE_SINGLE) {
    f.checkLengthAndCrc(8, describeFn(fc, 'response'));
    return { kind: 'write-single', unit: f.checkUnit(false), function: fc, address: f.u16(2), value: f.u16(4) };
  }
  if (fc === FC_WRITE_MULTIPLE) {
    f.checkLengthAndCrc(8, describeFn(fc, 'response'));
    const unit = f.checkUnit(false);
    return {
      kind: 'write-multiple',
      unit,
      function: fc,
      address: f.u16(2),
      quantity: f.checkQuantity(4, MAX_WRITE_QUANTITY),
    };
  }
  return f.unknownFunction(fc);
}

function looksLikeRequest(frame: Buffer): boolean {
  try {
    decodeRequest(frame);
    return true;
  } catch {
    return false;
  }
}
