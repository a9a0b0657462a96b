/**
 * Modbus RTU framing for a byte stream (a sniffer capture, a shared RS-485 line): finds frames by
 * a matching CRC at the lengths their function code allows, and the FrameCodec objects built on
 * the frame codec in codec-rtu.ts. Pure: no I/O, no clock, no logging.
 */
import type { FrameCodec, SplitResult } from '../sdk/driver.js';
import { DecodeError } from '../sdk/errors.js';
import {
  crc16Modbus,
  decodeRequest,
  decodeResponse,
  EXCEPTION_FLAG,
  encodeRequest,
  FC_READ_HOLDING,
  FC_READ_INPUT,
  FC_WRITE_MULTIPLE,
  FC_WRITE_SINGLE,
  MAX_RTU_FRAME,
  type RtuRequest,
  type RtuResponse,
} from './codec-rtu.js';

/** Both readings of one frame, for a sniffer that does not know who sent it. */
export interface RtuInterpretations {
  request?: RtuRequest;
  response?: RtuResponse;
}

/**
 * Decodes a frame as a request and as a response and returns what succeeded. When neither does,
 * throws the refusal that got further into the frame (a CRC or field problem over a length one).
 */
export function decodeEither(frame: Buffer): RtuInterpretations {
  const out: RtuInterpretations = {};
  const errors: DecodeError[] = [];
  try {
    out.request = decodeRequest(frame);
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err;
    errors.push(err);
  }
  try {
    out.response = decodeResponse(frame);
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err;
    errors.push(err);
  }
  if (out.request || out.response) return out;
  const rank = (e: DecodeError) => (e.reason === 'short-frame' || e.reason === 'too-long' ? 0 : 1);
  const [a, b] = errors as [DecodeError, DecodeError];
  throw rank(b) > rank(a) ? b : a;
}

/** Length of the frame at `start` if it is a request or response whose CRC matches, else 0. */
function frameLengthAt(buf: Buffer, start: number): number | 'incomplete' {
  const fc = buf[start + 1];
  if (fc === undefined) return 'incomplete';
  const candidates: number[] = [];
  if (fc & EXCEPTION_FLAG) candidates.push(5);
  else if (fc === FC_READ_HOLDING || fc === FC_READ_INPUT) {
    candidates.push(8);
    const bc = buf[start + 2];
    if (bc !== undefined) candidates.push(5 + bc);
  } else if (fc === FC_WRITE_SINGLE || fc === FC_WRITE_MULTIPLE) {
    candidates.push(8);
    const bc = buf[start + 6];
    if (fc === FC_WRITE_MULTIPLE && bc !== undefined) candidates.push(9 + bc);
  } else return 0;
  let incomplete = false;
  for (const len of candidates) {
    if (start + len > buf.length) {
      incomplete = true;
      continue;
    }
    if (crc16Modbus(buf.subarray(start, start + len - 2)) === buf.readUInt16LE(start + len - 2)) return len;
  }
  return incomplete ? 'incomplete' : 0;
}

function isCompleteFrameAt(buf: Buffer, start: number): boolean {
  const len = frameLengthAt(buf, start);
  return typeof len === 'number' && len > 0;
}

/**
 * Splits a captured byte stream (a sniffer dump without timing) into frames by hunting for a
 * CRC that matches at one of the lengths the function code allows. Bytes where no frame starts
 * are discarded. Live polling frames by silence instead (the poller knows what it asked).
 */
export function splitRtu(buf: Buffer): SplitResult {
  const frames: Buffer[] = [];
  let discarded = 0;
  let i = 0;
  while (i < buf.length) {
    const len = frameLengthAt(buf, i);
    if (len === 'incomplete') {
      // A complete frame further on means these bytes were noise that only looked like a long frame.
      let next = i + 1;
      while (next < buf.length && !isCompleteFrameAt(buf, next)) next++;
      if (next < buf.length) {
        discarded += next - i;
        i = next;
        continue;
      }
      // keep at most one maximal frame; older bytes cannot start a frame any more
      const keepFrom = Math.max(i, buf.length - MAX_RTU_FRAME);
      return { frames, rest: Buffer.from(buf.subarray(keepFrom)), discarded: discarded + keepFrom - i };
    }
    if (len === 0) {
      discarded++;
      i++;
      continue;
    }
    frames.push(Buffer.from(buf.subarray(i, i + len)));
    i += len;
  }
  return { frames, rest: Buffer.alloc(0), discarded };
}

export const modbusRtuCodec: FrameCodec<RtuInterpretations, RtuRequest> = {
  id: 'modbus-rtu/v1',
  split: splitRtu,
  decode: decodeEither,
  encode: encodeRequest,
};

/** The codec of one direction, for a caller that knows who sent the frames (`citygrid decode --request`). */
export function modbusRtuCodecFor(
  direction: 'request' | 'response' | 'either',
): FrameCodec<RtuRequest | RtuResponse | RtuInterpretations, RtuRequest> {
  if (direction === 'either') return modbusRtuCodec;
  return {
    id: `modbus-rtu-${direction}/v1`,
    split: splitRtu,
    decode: direction === 'request' ? decodeRequest : (frame) => decodeResponse(frame),
    encode: encodeRequest,
  };
}
