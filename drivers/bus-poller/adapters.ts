/**
 * Protocol adapters: a CJ/T 188 meter or a Modbus RTU unit as a BusDevice. They build requests
 * with the codecs' encoders and judge frames with their decoders; a frame is `mine` only when
 * it answers exactly what this device was asked (address/DI for CJ/T 188; unit, function and
 * register count for Modbus).
 */
import { type Cjt188Frame, type DiOrder, decodeCjt188, encodeReadRequest, splitCjt188 } from '../cjt188/codec.js';
import {
  decodeRequest,
  decodeResponse,
  encodeRequest,
  type ReadFunction,
  type RtuResponse,
} from '../modbus/codec-rtu.js';
import { splitRtu } from '../modbus/codec-rtu-stream.js';
import { DecodeError } from '../sdk/errors.js';
import type { AnswerInfo, BusDevice, MatchVerdict } from './types.js';

/** Anything but a DecodeError thrown by a codec is a codec bug; it is still only a refused frame here. */
function refusal(err: unknown, frame: Buffer): MatchVerdict<never> {
  const error = err instanceof DecodeError ? err : new DecodeError('bad-frame', String(err), frame);
  return { verdict: 'refused', error };
}

/** A CJ/T 188 answer: metering data, an error response, or another response to the DI asked. */
export type Cjt188Answer = Exclude<Cjt188Frame, { kind: 'request' }>;

export interface Cjt188DeviceOptions {
  id: string;
  /** Meter type T, e.g. 0x10 cold water. */
  meterType: number;
  /** 14 digits A6..A0 as printed on the meter. */
  address: string;
  /** Data identifier to read; default 901F. */
  di?: string;
  diOrder?: DiOrder;
  /** FE wake-up bytes; default 3 (the codec's default). */
  preamble?: number;
  /** Also require the meter to return the SER of the request (most do); default false. */
  matchSer?: boolean;
  pollIntervalMs?: number;
  responseTimeoutMs?: number;
  onAnswer(frame: Cjt188Answer, info: AnswerInfo): void;
}

export function cjt188Device(opts: Cjt188DeviceOptions): BusDevice<Cjt188Answer> {
  const address = opts.address.toUpperCase();
  const di = (opts.di ?? '901F').toUpperCase();
  let ser = 0;
  let lastSer = 0;
  return {
    id: opts.id,
    ...(opts.pollIntervalMs !== undefined ? { pollIntervalMs: opts.pollIntervalMs } : {}),
    ...(opts.responseTimeoutMs !== undefined ? { responseTimeoutMs: opts.responseTimeoutMs } : {}),
    request() {
      lastSer = ser;
      ser = (ser + 1) & 0xff;
      return encodeReadRequest({
        meterType: opts.meterType,
        address,
        di,
        ser: lastSer,
        ...(opts.diOrder ? { diOrder: opts.diOrder } : {}),
        ...(opts.preamble !== undefined ? { preamble: opts.preamble } : {}),
      });
    },
    split: splitCjt188,
    match(frame) {
      let decoded: Cjt188Frame;
      try {
        decoded = decodeCjt188(frame);
      } catch (err) {
        return refusal(err, frame);
      }
      if (decoded.address.toUpperCase() !== address) return { verdict: 'not-mine' };
      if (decoded.kind === 'request') return { verdict: 'echo' };
      if (decoded.kind !== 'error-response' && decoded.di !== di) return { verdict: 'not-mine' };
      if (opts.matchSer && decoded.ser !== undefined && decoded.ser !== lastSer) return { verdict: 'not-mine' };
      return { verdict: 'mine', value: decoded };
    },
    onAnswer: opts.onAnswer,
  };
}

export interface ModbusReadDeviceOptions {
  id: string;
  /** Slave address 1..247. */
  unit: number;
  /** 0x03 holding or 0x04 input registers. */
  function: ReadFunction;
  /** First register (0-based, as on the wire). */
  address: number;
  quantity: number;
  pollIntervalMs?: number;
  responseTimeoutMs?: number;
  /** A read response with the registers, or the unit's exception response. */
  onAnswer(response: RtuResponse, info: AnswerInfo): void;
}

export function modbusReadDevice(opts: ModbusReadDeviceOptions): BusDevice<RtuResponse> {
  const request = encodeRequest({
    kind: 'read',
    unit: opts.unit,
    function: opts.function,
    address: opts.address,
    quantity: opts.quantity,
  });
  return {
    id: opts.id,
    ...(opts.pollIntervalMs !== undefined ? { pollIntervalMs: opts.pollIntervalMs } : {}),
    ...(opts.responseTimeoutMs !== undefined ? { responseTimeoutMs: opts.responseTimeoutMs } : {}),
    request: () => Buffer.from(request),
    split: splitRtu,
    match(frame, sent) {
      if (frame.equals(sent)) return { verdict: 'echo' };
      let response: RtuResponse;
      try {
        response = decodeResponse(frame);
      } catch (err) {
        // another master's request, or the echo of one sent to another unit: a frame, not a refusal
        try {
          decodeRequest(frame);
          return { verdict: 'not-mine' };
        } catch {
          return refusal(err, frame);
        }
      }
      if (response.unit !== opts.unit || response.function !== opts.function) return { verdict: 'not-mine' };
      if (response.kind === 'read' && response.registers.length !== opts.quantity) return { verdict: 'not-mine' };
      return { verdict: 'mine', value: response };
    },
    onAnswer: opts.onAnswer,
  };
}
