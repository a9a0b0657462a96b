/**
 * The `modbus-water-meter` driver: a Modbus RTU water meter on a shared RS-485 bus, read with one
 * block read per poll and decoded by its model's register map (models.ts). Reports net volume
 * (forward - reverse), the interval consumption, flow, pressure, temperature, valve and battery.
 */
import { z } from 'zod';
import { modbusReadDevice } from '../bus-poller/adapters.js';
import type { RtuResponse } from '../modbus/codec-rtu.js';
import { readBcd16, readPoint, readU16 } from '../modbus/values.js';
import type { PolledDevice, PolledDriverContext, PolledDriverDefinition } from '../sdk/driver.js';
import { DecodeError } from '../sdk/errors.js';
import type { FieldName } from '../sdk/fields.js';
import { meterReads } from '../water-meter/meter-reads.js';
import { meterCommonOptions, timeoutOverride, withSampleInterval } from '../water-meter/options.js';
import { WATER_METER_MODELS, type WaterMeterModel, type WaterMeterPoint } from './models.js';

const MODEL_IDS = Object.keys(WATER_METER_MODELS) as [string, ...string[]];

/** A float32 total has no rollover of its own; this only bounds the wrap test. */
const FLOAT_ROLLOVER_M3 = Number.MAX_SAFE_INTEGER;

export const modbusWaterMeterOptionsSchema = z
  .object({
    unit: z.number().int().min(1).max(247).describe('Modbus slave address of the meter, 1..247.'),
    model: z
      .enum(MODEL_IDS)
      .default('xintai-dcba')
      .describe(`Register map of the meter model: ${MODEL_IDS.join(', ')}. Default "xintai-dcba".`),
    ...meterCommonOptions,
  })
  .strict();

export type ModbusWaterMeterOptions = z.output<typeof modbusWaterMeterOptionsSchema>;

const FIELDS: readonly FieldName[] = [
  'volume_m3',
  'volume_interval_m3',
  'volume_reverse_m3',
  'flow_m3h',
  'pressure_mpa',
  'temperature_c',
  'valve_open',
  'battery_low',
  'battery_v',
];

/** The registers of one answer, decoded by the model. Pure; throws DecodeError for an impossible value. */
export function decodeWaterMeter(model: WaterMeterModel, registers: readonly number[]) {
  const at = (p: WaterMeterPoint) => {
    const v = readPoint(registers, p.address - model.read.start, p);
    if (!Number.isFinite(v))
      throw new DecodeError(
        'out-of-range',
        `register 0x${p.address.toString(16)} is not a finite number`,
        '',
        p.address,
      );
    return v;
  };
  const forward = at(model.forwardM3);
  const reverse = model.reverseM3 ? at(model.reverseM3) : undefined;
  const s = model.status;
  const bits = s ? readU16(registers, s.address - model.read.start) : 0;
  const bit = (n: number | undefined) => n !== undefined && (bits & (1 << n)) !== 0;
  const open = bit(s?.valveOpenBit);
  const closed = bit(s?.valveClosedBit);
  let serial: string | undefined;
  if (model.serial) {
    const parts: string[] = [];
    for (let i = 0; i < model.serial.registers; i++)
      parts.push(String(readBcd16(registers, model.serial.address - model.read.start + i)).padStart(4, '0'));
    serial = parts.join('');
  }
  return {
    volumeM3: Number((forward - (reverse ?? 0)).toPrecision(12)),
    ...(reverse !== undefined ? { reverseM3: reverse } : {}),
    ...(model.flowM3h ? { flowM3h: at(model.flowM3h) } : {}),
    ...(model.pressureMpa ? { pressureMpa: at(model.pressureMpa) } : {}),
    ...(model.temperatureC ? { temperatureC: at(model.temperatureC) } : {}),
    ...(model.batteryV ? { batteryV: at(model.batteryV) } : {}),
    ...(s?.valveOpenBit !== undefined && open !== closed ? { valveOpen: open } : {}),
    ...(s ? { valveAbnormal: open === closed } : {}),
    ...(s?.batteryLowBit !== undefined ? { batteryLow: bit(s.batteryLowBit) } : {}),
    ...(serial !== undefined ? { serial } : {}),
  };
}

function createModbusWaterMeter(ctx: PolledDriverContext<ModbusWaterMeterOptions>): PolledDevice {
  const o = ctx.options;
  const log = ctx.log.child({ driver: 'modbus-water-meter' });
  const model = WATER_METER_MODELS[o.model] as WaterMeterModel;
  const read = meterReads(ctx, { rolloverM3: FLOAT_ROLLOVER_M3, maxFlowM3h: o.maxFlow });

  const onAnswer = (response: RtuResponse) => {
    if (response.kind === 'exception') {
      log.warn(
        { exception: response.exceptionCode, name: response.exceptionName },
        'Meter answered with a Modbus exception',
      );
      ctx.emitEvent({
        type: 'meter.error_response',
        severity: 'warning',
        ts: ctx.clock.now(),
        data: { exception: response.exceptionCode, name: response.exceptionName },
      });
      return;
    }
    if (response.kind !== 'read') return;
    try {
      read(decodeWaterMeter(model, response.registers));
    } catch (err) {
      const reason = err instanceof DecodeError ? err.reason : 'bad-field';
      log.warn({ reason, err: String(err) }, 'Meter registers refused');
      ctx.countDecodeError(reason);
    }
  };

  const device = modbusReadDevice({
    id: ctx.device.id,
    unit: o.unit,
    function: model.read.function,
    address: model.read.start,
    quantity: model.read.count,
    ...timeoutOverride(o),
    onAnswer,
  });
  return withSampleInterval(device, o, log);
}

export const modbusWaterMeter: PolledDriverDefinition<ModbusWaterMeterOptions> = {
  id: 'modbus-water-meter',
  title: 'Modbus RTU water meter on a shared RS-485 line (register map per model)',
  access: 'polled',
  protocol: 'modbus-rtu',
  kinds: ['water_meter'],
  optionsSchema: modbusWaterMeterOptionsSchema,
  fields: FIELDS,
  createPolled: createModbusWaterMeter,
};
