/**
 * Modbus TCP framing (MBAP): transaction id (2) + protocol id 00 00 (2) + length (2, = 1 + PDU
 * length) + unit id (1), then the PDU, no CRC (../shared/domain/2-modbus.md §2.1). Pure.
 *
 * The PDU is the RTU codec's: a TCP frame is decoded by rebuilding the RTU frame (unit, PDU, the
 * CRC computed here) and handing it to codec-rtu, so both transports refuse the same PDUs with the
 * same reasons. Offsets in errors are TCP frame offsets.
 */
import type { SplitResult } from '../sdk/driver.js';
import { DecodeError } from '../sdk/errors.js';
import {
  crc16Modbus,
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  type RtuRequest,
  type RtuResponse,
} from './codec-rtu.js';

export const MBAP_HEADER = 7;
/** Largest PDU (253) + unit id: the biggest `length` a valid frame carries. */
export const MAX_MBAP_LENGTH = 254;
/** The RTU codec insists on units 1..247; TCP devices also answer as 0 or 255 (gateways). */
const STAND_IN_UNIT = 1;

export interface TcpFrame<M> {
  transactionId: number;
  /** Unit id from the MBAP header, 0..255. */
  unit: number;
  message: M;
}

function checkByte(n: number, what: string, max: number): void {
  if (!Number.isInteger(n) || n < 0 || n > max) throw new RangeError(`${what} must be 0..${max}, got ${n}`);
}

/** MBAP header + the PDU of an RTU frame (its unit and CRC stripped). */
function fromRtu(rtu: Buffer, transactionId: number, unit: number): Buffer {
  checkByte(transactionId, 'transaction id', 0xffff);
  checkByte(unit, 'unit id', 0xff);
  const pdu = rtu.subarray(1, rtu.length - 2);
  const out = Buffer.alloc(MBAP_HEADER + pdu.length);
  out.writeUInt16BE(transactionId, 0);
  out.writeUInt16BE(0, 2);
  out.writeUInt16BE(pdu.length + 1, 4);
  out[6] = unit;
  pdu.copy(out, MBAP_HEADER);
  return out;
}

/** The request as a TCP frame. `message.unit` is ignored: the MBAP unit id is `unit`. */
export function encodeTcpRequest(frame: TcpFrame<RtuRequest>): Buffer {
  return fromRtu(encodeRequest({ ...frame.message, unit: STAND_IN_UNIT }), frame.transactionId, frame.unit);
}

/** The response as a TCP frame (the simulator's and the tests' side). */
export function encodeTcpResponse(frame: TcpFrame<RtuResponse>): Buffer {
  return fromRtu(encodeResponse({ ...frame.message, unit: STAND_IN_UNIT }), frame.transactionId, frame.unit);
}

/** Checks the MBAP header of one whole frame; returns the RTU frame the PDU makes. */
function toRtu(frame: Buffer): { transactionId: number; unit: number; rtu: Buffer } {
  const refuse = (reason: 'short-frame' | 'bad-frame' | 'too-long', message: string, offset: number): never => {
    throw new DecodeError(reason, message, frame, offset);
  };
  if (frame.length < MBAP_HEADER + 1)
    refuse('short-frame', `truncated: an MBAP frame needs at least 8 bytes, got ${frame.length}`, frame.length);
  const protocol = frame.readUInt16BE(2);
  if (protocol !== 0) refuse('bad-frame', `protocol id ${protocol}, expected 0 (Modbus)`, 2);
  const length = frame.readUInt16BE(4);
  if (length < 2 || length > MAX_MBAP_LENGTH)
    refuse('bad-frame', `MBAP length ${length} is not 2..${MAX_MBAP_LENGTH}`, 4);
  if (frame.length < 6 + length)
    refuse(
      'short-frame',
      `truncated: MBAP length ${length} needs ${6 + length} bytes, got ${frame.length}`,
      frame.length,
    );
  if (frame.length > 6 + length)
    refuse('too-long', `MBAP length ${length} says ${6 + length} bytes, got ${frame.length}`, 6 + length);
  const rtu = Buffer.alloc(length + 2);
  rtu[0] = STAND_IN_UNIT;
  frame.copy(rtu, 1, MBAP_HEADER);
  rtu.writeUInt16LE(crc16Modbus(rtu, rtu.length - 2), rtu.length - 2);
  return { transactionId: frame.readUInt16BE(0), unit: frame[6] as number, rtu };
}

/** Re-throws the RTU codec's refusal with the TCP frame and offset (RTU offset 1 = TCP offset 7). */
function asTcp<T>(frame: Buffer, decode: () => T): T {
  try {
    return decode();
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err;
    const offset = err.offset === undefined ? undefined : Math.min(frame.length, err.offset + 6);
    throw new DecodeError(err.reason, err.message, frame, offset);
  }
}

/** Decodes one whole TCP response frame. Throws DecodeError only. */
export function decodeTcpResponse(frame: Buffer): TcpFrame<RtuResponse> {
  const { transactionId, unit, rtu } = toRtu(frame);
  const message = asTcp(frame, () => decodeResponse(rtu));
  return { transactionId, unit, message: { ...message, unit } };
}

/** Decodes one whole TCP request frame (the server's side). Throws DecodeError only. */
export function decodeTcpRequest(frame: Buffer): TcpFrame<RtuRequest> {
  const { transactionId, unit, rtu } = toRtu(frame);
  const message = asTcp(frame, () => decodeRequest(rtu));
  return { transactionId, unit, message: { ...message, unit } };
}

/**
 * Splits a TCP byte stream into frames by the MBAP length. A header that cannot be Modbus (protocol
 * id not 0, impossible length) means the stream has lost its framing: everything buffered is
 * discarded, since no later byte can be trusted to start a frame (the caller should reconnect).
 */
export function splitTcp(buf: Buffer): SplitResult & { desynced: boolean } {
  const frames: Buffer[] = [];
  let at = 0;
  while (buf.length - at >= 6) {
    const protocol = buf.readUInt16BE(at + 2);
    const length = buf.readUInt16BE(at + 4);
    if (protocol !== 0 || length < 2 || length > MAX_MBAP_LENGTH)
      return { frames, rest: Buffer.alloc(0), discarded: buf.length - at, desynced: true };
    if (buf.length - at < 6 + length) break;
    frames.push(buf.subarray(at, at + 6 + length));
    at += 6 + length;
  }
  return { frames, rest: buf.subarray(at), discarded: 0, desynced: false };
}
