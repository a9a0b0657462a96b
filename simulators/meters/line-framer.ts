/**
 * Cuts the master's byte stream into requests, for a bus that may carry both CJ/T 188 and Modbus
 * RTU: FE wake-up bytes and noise are skipped; a frame is taken only when its checksum or CRC is
 * right. The bus also drops a half-frame after a silence (see MeterBus), as meters do.
 */
import { cjt188Sum, crc16Modbus } from './encoding.js';

export interface Cjt188Request {
  protocol: 'cjt188';
  type: number;
  /** A0..A6 as on the wire. */
  address: number[];
  control: number;
  data: number[];
  frame: Buffer;
}

export interface ModbusRequest {
  protocol: 'modbus';
  unit: number;
  fc: number;
  start: number;
  /** Register count for 03/04. */
  quantity: number;
  /** Value written by 06. */
  value: number;
  frame: Buffer;
}

export type BusRequest = Cjt188Request | ModbusRequest;

type Attempt = { kind: 'frame'; request: BusRequest; length: number } | { kind: 'more' } | { kind: 'no' };

const MAX_CJT188_DATA = 100;
const MAX_BUFFER = 1024;

function tryCjt188(buf: Buffer, at: number): Attempt {
  if (buf[at] !== 0x68) return { kind: 'no' };
  if (buf.length - at < 11) return { kind: 'more' };
  const l = buf[at + 10] as number;
  if (l > MAX_CJT188_DATA) return { kind: 'no' };
  const length = 13 + l;
  if (buf.length - at < length) return { kind: 'more' };
  const frame = buf.subarray(at, at + length);
  const control = frame[9] as number;
  if (frame[length - 1] !== 0x16 || cjt188Sum(frame.subarray(0, 11 + l)) !== frame[11 + l]) return { kind: 'no' };
  if (control & 0x80) return { kind: 'no' }; // another meter's answer, not a request
  return {
    kind: 'frame',
    length,
    request: {
      protocol: 'cjt188',
      type: frame[1] as number,
      address: [...frame.subarray(2, 9)],
      control,
      data: [...frame.subarray(11, 11 + l)],
      frame: Buffer.from(frame),
    },
  };
}

function tryModbus(buf: Buffer, at: number): Attempt {
  const unit = buf[at] as number;
  if (unit > 247) return { kind: 'no' };
  if (buf.length - at < 2) return { kind: 'more' };
  const fc = buf[at + 1] as number;
  if (fc !== 0x03 && fc !== 0x04 && fc !== 0x06) return { kind: 'no' };
  if (buf.length - at < 8) return { kind: 'more' };
  const frame = buf.subarray(at, at + 8);
  const crc = crc16Modbus(frame.subarray(0, 6));
  if (frame[6] !== (crc & 0xff) || frame[7] !== crc >>> 8) return { kind: 'no' };
  const word = frame.readUInt16BE(4);
  return {
    kind: 'frame',
    length: 8,
    request: {
      protocol: 'modbus',
      unit,
      fc,
      start: frame.readUInt16BE(2),
      quantity: fc === 0x06 ? 1 : word,
      value: word,
      frame: Buffer.from(frame),
    },
  };
}

export class LineFramer {
  private buf = Buffer.alloc(0);
  /** Bytes skipped as noise or broken frames. */
  discarded = 0;

  push(chunk: Buffer): BusRequest[] {
    this.buf = this.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buf, chunk]);
    const out: BusRequest[] = [];
    for (;;) {
      let firstPending = -1;
      let found: { at: number; attempt: Extract<Attempt, { kind: 'frame' }> } | undefined;
      for (let at = 0; at < this.buf.length && !found; at++) {
        if (this.buf[at] === 0xfe) continue;
        for (const attempt of [tryCjt188(this.buf, at), tryModbus(this.buf, at)]) {
          if (attempt.kind === 'frame') {
            found = { at, attempt };
            break;
          }
          if (attempt.kind === 'more' && firstPending < 0) firstPending = at;
        }
      }
      if (found) {
        this.discarded += this.countNoise(found.at);
        out.push(found.attempt.request);
        this.buf = this.buf.subarray(found.at + found.attempt.length);
        continue;
      }
      const keepFrom = firstPending < 0 ? this.buf.length : firstPending;
      this.discarded += this.countNoise(keepFrom);
      this.buf = this.buf.subarray(keepFrom);
      if (this.buf.length > MAX_BUFFER) this.reset();
      return out;
    }
  }

  /** Drops a half-received frame (after a silence on the line). */
  reset(): void {
    this.discarded += this.buf.length;
    this.buf = Buffer.alloc(0);
  }

  get pending(): number {
    return this.buf.length;
  }

  private countNoise(upTo: number): number {
    let n = 0;
    for (let i = 0; i < upTo; i++) if (this.buf[i] !== 0xfe) n++;
    return n;
  }
}
