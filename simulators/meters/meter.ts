/**
 * One simulated water meter on the bus: its counters (MeterFlow), its modes, and its answer to a
 * request it has been sent. CJ/T 188 meters answer read-data 901F (either DI order) and
 * read-address 810A; Modbus meters answer 03/04 reads of the Xintai-style register map and 06
 * writes of the valve register.
 */
import { MeterFlow } from './consumption.js';
import {
  bcdByte,
  cjt188AddressBytes,
  cjt188Frame,
  cjt188Status,
  f32Dcba,
  meterTimeOf,
  modbusException,
  modbusReadResponse,
  readDataPayload,
  withCrc,
} from './encoding.js';
import type { BusRequest, Cjt188Request, ModbusRequest } from './line-framer.js';

export type MeterProtocol = 'cjt188' | 'modbus';

export interface MeterSpec {
  protocol: MeterProtocol;
  /** CJ/T 188: the 14-digit meter number (A6..A0). Modbus: the unit id 1..247 as a string. */
  address: string;
  /** CJ/T 188 meter type byte. Default 0x10 (cold water). */
  type?: number;
  dailyM3?: number;
  initialM3?: number;
  /** CJ/T 188 settlement-day reading, m³. Default: the current reading rounded down to whole m³. */
  settlementM3?: number;
  /** Constant leak flow, m³/h (e.g. 0.02 = 20 L/h). */
  leakM3h?: number;
  reverse?: boolean;
  deadBattery?: boolean;
  valveClosed?: boolean;
  /** Never answers anything. */
  silent?: boolean;
}

export interface MeterContext {
  utcOffsetMinutes: number;
  random: () => number;
  startMs: number;
}

/** Modbus register map: first and one-past-last readable register. */
export const MODBUS_FIRST_REGISTER = 0x0001;
export const MODBUS_END_REGISTER = 0x001d;
export const VALVE_REGISTER = 0x001c;

export class SimMeter {
  readonly flow: MeterFlow;
  private readonly addressBytes: number[] = [];
  private readonly unit: number = 0;
  private valveClosed: boolean;
  /** Requests this meter answered. */
  answered = 0;

  constructor(
    readonly spec: MeterSpec,
    private readonly ctx: MeterContext,
  ) {
    if (spec.protocol === 'cjt188') this.addressBytes = cjt188AddressBytes(spec.address);
    else {
      this.unit = Number(spec.address);
      if (!Number.isInteger(this.unit) || this.unit < 1 || this.unit > 247)
        throw new Error(`Modbus unit id must be 1..247, got "${spec.address}"`);
    }
    this.valveClosed = spec.valveClosed ?? false;
    this.flow = new MeterFlow({
      dailyM3: spec.dailyM3,
      initialM3: spec.initialM3,
      leakM3h: spec.leakM3h,
      reverse: spec.reverse,
      utcOffsetMinutes: ctx.utcOffsetMinutes,
      random: ctx.random,
      startMs: ctx.startMs,
    });
  }

  get id(): string {
    return `${this.spec.protocol}:${this.spec.address}`;
  }

  /** The answer to `req` at clock time `nowMs`, or undefined when this meter stays quiet. */
  answer(req: BusRequest, nowMs: number): Buffer | undefined {
    if (this.spec.silent || req.protocol !== this.spec.protocol) return undefined;
    this.flow.advance(nowMs);
    const out = req.protocol === 'cjt188' ? this.answerCjt188(req, nowMs) : this.answerModbus(req, nowMs);
    if (out) this.answered++;
    return out;
  }

  private addressedBy(req: Cjt188Request): boolean {
    if (req.address.every((b) => b === 0x99)) return false; // broadcast: obeyed, never answered
    if (req.type !== 0xaa && req.type !== (this.spec.type ?? 0x10)) return false;
    return req.address.every((b, i) => b === 0xaa || b === this.addressBytes[i]);
  }

  private answerCjt188(req: Cjt188Request, nowMs: number): Buffer | undefined {
    if (!this.addressedBy(req)) return undefined;
    const type = this.spec.type ?? 0x10;
    const [d0, d1, ser = 0] = req.data;
    const di = d0 === undefined || d1 === undefined ? -1 : (d0 << 8) | d1;
    const status = cjt188Status(this.valveClosed, this.spec.deadBattery ?? false);
    if (req.control === 0x01 && (di === 0x901f || di === 0x1f90)) {
      const net = this.flow.netM3;
      const data = readDataPayload({
        di: [d0 as number, d1 as number],
        ser,
        currentM3: net,
        // the reading on settlement day is not tracked; whole m³ below now is a plausible one
        settlementM3: this.spec.settlementM3 ?? Math.floor(net),
        time: meterTimeOf(nowMs, this.ctx.utcOffsetMinutes),
        status,
      });
      return cjt188Frame(type, this.addressBytes, 0x81, data, 2);
    }
    if (req.control === 0x03 && (di === 0x810a || di === 0x0a81))
      return cjt188Frame(type, this.addressBytes, 0x83, [d0 as number, d1 as number, ser], 2);
    // anything else this meter does not do: error response SER ST1 ST2
    return cjt188Frame(type, this.addressBytes, 0xc0 | (req.control & 0x1f), [ser, ...status], 2);
  }

  /** The register map's values now (index 0 = register 0x0001). */
  registers(nowMs: number): number[] {
    const f = this.flow;
    const t = meterTimeOf(nowMs, this.ctx.utcOffsetMinutes);
    const battery = this.spec.deadBattery ?? false;
    const number = this.spec.address.padStart(16, '0');
    const bcdWord = (digits: string) => Number.parseInt(digits, 16);
    return [
      ...f32Dcba(f.forwardM3), // 0x0001
      ...f32Dcba(f.reverseM3), // 0x0003
      ...f32Dcba(f.flowM3h), // 0x0005
      0x00aa, // 0x0007 pipe full
      ...f32Dcba(0), // 0x0008 remaining prepaid volume: not a prepaid meter
      ...f32Dcba(0.32), // 0x000A pressure, MPa
      ...f32Dcba(14.5), // 0x000C water temperature, °C
      this.unit, // 0x000E
      96, // 0x000F comm parameters: baud / 100, parity (0 none), stop bits
      0,
      1,
      bcdWord(number.slice(0, 4)), // 0x0012 meter number, 16 BCD digits
      bcdWord(number.slice(4, 8)),
      bcdWord(number.slice(8, 12)),
      bcdWord(number.slice(12, 16)),
      (bcdByte(Math.trunc(t.year / 100)) << 8) | bcdByte(t.year % 100), // 0x0016 time, BCD CC YY MM DD hh mm ss 00
      (bcdByte(t.month) << 8) | bcdByte(t.day),
      (bcdByte(t.hour) << 8) | bcdByte(t.minute),
      bcdByte(t.second) << 8,
      ...f32Dcba(battery ? 2.9 : 3.6), // 0x001A battery, V
      (this.valveClosed ? 0x2 : 0x1) | (battery ? 0x8 : 0), // 0x001C valve status
    ];
  }

  private answerModbus(req: ModbusRequest, nowMs: number): Buffer | undefined {
    if (req.unit !== this.unit) return undefined; // unit 0 (broadcast) is never answered
    if (req.fc === 0x06) {
      if (req.start !== VALVE_REGISTER) return modbusException(this.unit, req.fc, 0x02);
      if (req.value !== 1 && req.value !== 2) return modbusException(this.unit, req.fc, 0x03);
      this.valveClosed = req.value === 2;
      return withCrc([...req.frame.subarray(0, 6)]);
    }
    if (req.fc !== 0x03 && req.fc !== 0x04) return modbusException(this.unit, req.fc, 0x01);
    if (req.quantity < 1 || req.quantity > 125) return modbusException(this.unit, req.fc, 0x03);
    const end = req.start + req.quantity;
    if (req.start < MODBUS_FIRST_REGISTER || end > MODBUS_END_REGISTER) return modbusException(this.unit, req.fc, 0x02);
    const regs = this.registers(nowMs).slice(req.start - MODBUS_FIRST_REGISTER, end - MODBUS_FIRST_REGISTER);
    return modbusReadResponse(this.unit, req.fc, regs);
  }
}
