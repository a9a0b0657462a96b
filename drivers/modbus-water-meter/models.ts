/**
 * Register maps of Modbus RTU water meters, one entry per model (plain data: the meter-bus
 * simulator and the docs read them too). Addresses are wire addresses (0-based PDU addresses).
 */
import type { PointSpec } from '../modbus/values.js';

export interface WaterMeterPoint extends PointSpec {
  /** Register address of the point. */
  address: number;
}

export interface WaterMeterModel {
  id: string;
  title: string;
  /** One block read with function `function` from `start`, `count` registers, covering every point. */
  read: { function: 0x03 | 0x04; start: number; count: number };
  forwardM3: WaterMeterPoint;
  reverseM3?: WaterMeterPoint;
  flowM3h?: WaterMeterPoint;
  pressureMpa?: WaterMeterPoint;
  temperatureC?: WaterMeterPoint;
  batteryV?: WaterMeterPoint;
  /** Status register: which bits mean valve open, valve closed, battery low. */
  status?: { address: number; valveOpenBit?: number; valveClosedBit?: number; batteryLowBit?: number };
  /** The meter number as BCD registers (replacement detection). */
  serial?: { address: number; registers: number };
}

/**
 * Xintai-style ultrasonic / electromagnetic meter: float32 values in DCBA order ("little-endian
 * floats"), totals from register 0x0001, meter number as 16 BCD digits at 0x0012, valve status at
 * 0x001C (bit 0 open, bit 1 closed, bit 3 battery low).
 */
export const XINTAI_DCBA: WaterMeterModel = {
  id: 'xintai-dcba',
  title: 'Xintai-style meter, float32 DCBA from 0x0001, valve status at 0x001C',
  read: { function: 0x03, start: 0x0001, count: 28 },
  forwardM3: { address: 0x0001, type: 'f32', order: 'DCBA' },
  reverseM3: { address: 0x0003, type: 'f32', order: 'DCBA' },
  flowM3h: { address: 0x0005, type: 'f32', order: 'DCBA' },
  pressureMpa: { address: 0x000a, type: 'f32', order: 'DCBA' },
  temperatureC: { address: 0x000c, type: 'f32', order: 'DCBA' },
  batteryV: { address: 0x001a, type: 'f32', order: 'DCBA' },
  status: { address: 0x001c, valveOpenBit: 0, valveClosedBit: 1, batteryLowBit: 3 },
  serial: { address: 0x0012, registers: 4 },
};

export const WATER_METER_MODELS: Readonly<Record<string, WaterMeterModel>> = {
  [XINTAI_DCBA.id]: XINTAI_DCBA,
};
