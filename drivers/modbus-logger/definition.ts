/**
 * The `modbus-logger` driver: a structural or environmental logger (bridge, tunnel, underpass,
 * road weather) on a shared RS-485 bus, read by its register map (a shipped model or an inline
 * map). One poll of the bus poller is one block read; a sample is the map's blocks read back to
 * back, and the acceleration buffer (when the map has one) is read between samples, every half
 * buffer, so no sample is missed.
 *
 * The bus poller asks for the device again `pollIntervalMs` after the start of the last poll; the
 * getter below tells it when the next read is due, given what is being read now.
 */
import { z } from 'zod';
import { modbusReadDevice } from '../bus-poller/adapters.js';
import type { RtuResponse } from '../modbus/codec-rtu.js';
import { ModbusExceptionError } from '../modbus/errors.js';
import type { BusDevice } from '../sdk/bus-device.js';
import type { PolledDevice, PolledDriverContext, PolledDriverDefinition } from '../sdk/driver.js';
import { FIELDS, type FieldName } from '../sdk/fields.js';
import { durationOption } from '../sdk/options.js';
import {
  EXACTLY_ONE_MAP,
  exactlyOneMap,
  type LoggerCommonOptions,
  loggerCommonOptions,
  resolveLoggerMap,
} from './options.js';
import { LoggerSession } from './session.js';

export const modbusLoggerOptionsSchema = z
  .strictObject({
    unit: z.number().int().min(1).max(247).describe('Modbus slave address of the logger, 1..247.'),
    ...loggerCommonOptions,
    responseTimeout: durationOption()
      .optional()
      .describe('Wait this long for this logger instead of the bus `responseTimeout`.'),
  })
  .refine(exactlyOneMap, EXACTLY_ONE_MAP);
export type ModbusLoggerOptions = z.output<typeof modbusLoggerOptionsSchema>;

/** Any field: an inline map may produce any field of the table (each map names its own). */
export const LOGGER_FIELDS = Object.keys(FIELDS) as FieldName[];

type Step =
  | { kind: 'block'; index: number; device: BusDevice<RtuResponse> }
  | { kind: 'wave'; device: BusDevice<RtuResponse> };

function createModbusLogger(ctx: PolledDriverContext<ModbusLoggerOptions>): PolledDevice {
  const o = ctx.options;
  const { map, limits } = resolveLoggerMap(o);
  const session = new LoggerSession(ctx as PolledDriverContext<LoggerCommonOptions>, map, limits);
  const clock = ctx.clock;
  const adapter = (fn: 3 | 4, address: number, quantity: number) =>
    modbusReadDevice({ id: ctx.device.id, unit: o.unit, function: fn, address, quantity, onAnswer: () => undefined });
  const blocks: Step[] = map.blocks.map((b, index) => ({
    kind: 'block',
    index,
    device: adapter(b.function, b.start, b.count),
  }));
  const w = map.waveform;
  const wave: Step | undefined = w && { kind: 'wave', device: adapter(w.function, w.counterAddress, w.count + 2) };

  const collected: number[][] = [];
  let next = 0; // next block of the sample being read
  let sampleStartedAt = 0;
  let sampleDueAt = 0;
  let waveDueAt = 0;
  let current: Step | undefined;
  let answered = true;
  let stepStartedAt = 0;

  const choose = (now: number): Step => {
    if (!answered && current) {
      // a retry, or the poll after a failed one: the same read, unless the sample it belongs to is
      // older than an interval (blocks read before the failure would be stale): start it again
      if (current.kind === 'block' && next > 0 && now - sampleStartedAt > session.intervalMs) next = 0;
      else return current;
    }
    if (next > 0) return blocks[next] as Step; // finish the sample first
    if (wave && now >= waveDueAt && waveDueAt <= sampleDueAt) return wave;
    if (now >= sampleDueAt || !wave) return blocks[0] as Step;
    return wave;
  };

  const dueAfterCurrent = (): number => {
    const now = clock.now();
    if (!current) return now;
    if (current.kind === 'block' && current.index < blocks.length - 1) return now;
    const sampleDue = current.kind === 'block' ? sampleStartedAt + session.intervalMs : next > 0 ? now : sampleDueAt;
    const waveDue = current.kind === 'wave' ? stepStartedAt + (session.wavePeriodMs ?? 0) : waveDueAt;
    return wave ? Math.min(sampleDue, waveDue) : sampleDue;
  };

  const onAnswer = (response: RtuResponse) => {
    answered = true;
    const step = current as Step;
    if (response.kind === 'exception') {
      session.failed(
        step.kind === 'wave' ? 'waveform' : 'points',
        new ModbusExceptionError(response.exceptionCode, response.exceptionName, response.function),
      );
      if (step.kind === 'wave') waveDueAt = stepStartedAt + (session.wavePeriodMs ?? 0);
      else {
        next = 0;
        sampleDueAt = sampleStartedAt + session.intervalMs;
      }
      return;
    }
    if (response.kind !== 'read') return;
    if (step.kind === 'wave') {
      waveDueAt = stepStartedAt + (session.wavePeriodMs ?? 0);
      session.waveform(response.registers);
      return;
    }
    collected[step.index] = response.registers;
    next = step.index + 1;
    if (next === blocks.length) {
      next = 0;
      sampleDueAt = sampleStartedAt + session.intervalMs;
      session.points(collected);
    }
  };

  let pollSoon: (() => void) | undefined;
  session.onIntervalChange = () => {
    sampleDueAt = Math.min(sampleDueAt, sampleStartedAt + session.intervalMs);
    if (sampleDueAt <= clock.now()) pollSoon?.();
  };

  return {
    id: ctx.device.id,
    ...(o.responseTimeout !== undefined ? { responseTimeoutMs: o.responseTimeout } : {}),
    get pollIntervalMs() {
      return Math.max(0, dueAfterCurrent() - stepStartedAt);
    },
    request() {
      const now = clock.now();
      const step = choose(now);
      if (answered || step !== current) {
        stepStartedAt = now;
        if (step.kind === 'block' && step.index === 0) sampleStartedAt = now;
      }
      current = step;
      answered = false;
      return step.device.request();
    },
    split: (buf) => (current ?? (blocks[0] as Step)).device.split(buf),
    match: (frame, sent) => (current ?? (blocks[0] as Step)).device.match(frame, sent),
    onAnswer: (value) => onAnswer(value as RtuResponse),
    command: (cmd) => session.command(cmd),
    bindPollSoon: (fn) => {
      pollSoon = fn;
    },
  };
}

export const modbusLogger: PolledDriverDefinition<ModbusLoggerOptions> = {
  id: 'modbus-logger',
  title: 'Modbus RTU structural / environmental logger on a shared RS-485 line (register map as data)',
  access: 'polled',
  protocol: 'modbus-rtu',
  kinds: ['bridge', 'tunnel', 'flood', 'road_weather'],
  optionsSchema: modbusLoggerOptionsSchema,
  fields: LOGGER_FIELDS,
  createPolled: createModbusLogger,
};
