/**
 * The `cjt188-water-meter` driver: a CJ/T 188 water meter on an RS-485 (or M-Bus) bus, read with
 * 901F (current data). One Reading per answer: cumulative volume in m³ whatever unit the meter
 * counts in, the interval consumption since the previous read, valve state and battery flag from
 * ST1; events on valve, battery, alarm, reverse-flow, rollover and replacement changes.
 */
import { z } from 'zod';
import type { Cjt188Answer } from '../bus-poller/adapters.js';
import { cjt188Device } from '../bus-poller/adapters.js';
import { type StatusBitMap, statusFromRaw } from '../cjt188/codec.js';
import type { PolledDevice, PolledDriverContext, PolledDriverDefinition } from '../sdk/driver.js';
import type { FieldName } from '../sdk/fields.js';
import { meterReads } from '../water-meter/meter-reads.js';
import { meterCommonOptions, timeoutOverride, withSampleInterval } from '../water-meter/options.js';

/** CJ/T 188 counts XXXXXX.XX: 1 000 000 m³ is where the counter rolls over to 0. */
export const CJT188_ROLLOVER_M3 = 1_000_000;

/** m³ per unit of a volume unit code [1-cjt188.md §1.7]. */
const VOLUME_UNIT_M3: Readonly<Record<string, number>> = {
  '29': 0.001, // L
  '2A': 0.01, // L×10
  '2B': 0.1, // L×100
  '2C': 1, // m³
  '2D': 10, // m³×10
  '2E': 100, // m³×100
};

export const cjt188WaterMeterOptionsSchema = z
  .object({
    address: z
      .string()
      .regex(/^\d{1,14}$/, 'the meter number: up to 14 digits as printed on the meter')
      .transform((s) => s.padStart(14, '0'))
      .describe(
        'Meter address: the 14-digit meter number (A6..A0) as printed on the meter; shorter numbers are zero-padded.',
      ),
    meterType: z
      .string()
      .regex(/^[0-9A-Fa-f]{2}$/, 'two hex digits, e.g. "10" (cold water)')
      .default('10')
      .describe(
        'Meter type byte T in hex: 10 cold water, 11 domestic hot water, 12 drinking water, 13 reclaimed water. Default "10".',
      ),
    diOrder: z
      .enum(['2004', '2018'])
      .default('2004')
      .describe('Byte order of the data identifier: "2004" sends 90 1F, "2018" sends 1F 90. Default "2004".'),
    preamble: z.number().int().min(0).max(8).default(2).describe('FE wake-up bytes before each request. Default 2.'),
    statusBits: z
      .enum(['standard', 'msb-first'])
      .default('standard')
      .describe(
        'Where the model puts valve and battery in ST1: "standard" D1D0/D2, "msb-first" D7D6/D5 (S-XJZ). Default "standard".',
      ),
    matchSer: z
      .boolean()
      .default(false)
      .describe("Only accept an answer that returns the request's SER (most meters do). Default false."),
    ...meterCommonOptions,
  })
  .strict();

export type Cjt188WaterMeterOptions = z.output<typeof cjt188WaterMeterOptionsSchema>;

const FIELDS: readonly FieldName[] = ['volume_m3', 'volume_interval_m3', 'valve_open', 'battery_low'];

function createCjt188WaterMeter(ctx: PolledDriverContext<Cjt188WaterMeterOptions>): PolledDevice {
  const o = ctx.options;
  const log = ctx.log.child({ driver: 'cjt188-water-meter' });
  const read = meterReads(ctx, { rolloverM3: CJT188_ROLLOVER_M3, maxFlowM3h: o.maxFlow });
  const bitMap: StatusBitMap = o.statusBits;

  const onAnswer = (frame: Cjt188Answer) => {
    if (frame.kind === 'error-response') {
      // the meter is there but refuses 901F: say so once per answer, it stays online
      log.warn({ status: frame.st }, 'Meter answered with an error response');
      ctx.emitEvent({
        type: 'meter.error_response',
        severity: 'warning',
        ts: ctx.clock.now(),
        data: { status: frame.st },
      });
      return;
    }
    if (frame.kind !== 'metering-data') {
      log.warn({ di: frame.di, kind: frame.kind }, 'Meter answered 901F with data that is not water metering data');
      ctx.countDecodeError('unknown-type');
      return;
    }
    const q = frame.cumulativeFlow;
    const factor = VOLUME_UNIT_M3[q.unitCode.toUpperCase()];
    if (q.value === null || factor === undefined) {
      log.warn({ unitCode: q.unitCode, value: q.value }, 'Meter reported no volume or a unit that is not a volume');
      ctx.countDecodeError('bad-field');
      return;
    }
    const status = bitMap === 'standard' ? frame.status : statusFromRaw(frame.status.raw, bitMap);
    read({
      volumeM3: Number((q.value * factor).toPrecision(12)),
      ...(status.valve === 'open' || status.valve === 'closed' ? { valveOpen: status.valve === 'open' } : {}),
      valveAbnormal: status.valve === 'abnormal',
      batteryLow: status.batteryLow,
      vendorAlarm: status.vendorAlarm,
      statusRaw: status.raw,
    });
  };

  const device = cjt188Device({
    id: ctx.device.id,
    meterType: Number.parseInt(o.meterType, 16),
    address: o.address,
    diOrder: o.diOrder,
    preamble: o.preamble,
    matchSer: o.matchSer,
    ...timeoutOverride(o),
    onAnswer,
  });
  return withSampleInterval(device, o, log);
}

export const cjt188WaterMeter: PolledDriverDefinition<Cjt188WaterMeterOptions> = {
  id: 'cjt188-water-meter',
  title: 'CJ/T 188 water meter on a shared RS-485 / M-Bus line (901F current data)',
  access: 'polled',
  protocol: 'cjt188',
  kinds: ['water_meter'],
  optionsSchema: cjt188WaterMeterOptionsSchema,
  fields: FIELDS,
  createPolled: createCjt188WaterMeter,
};
