/**
 * The `modbus-tcp-logger` driver: the same loggers as `modbus-logger`, reached over Modbus TCP
 * (a logger with an Ethernet port, or an RTU logger behind a Modbus gateway). The client keeps
 * the connection up with backoff; a sample is every block of the map read at once (up to
 * `maxInFlight` on the wire), the acceleration buffer is read every half buffer.
 */
import { z } from 'zod';
import { ModbusTcpClient } from '../modbus/tcp-client.js';
import { LOGGER_FIELDS } from '../modbus-logger/definition.js';
import {
  EXACTLY_ONE_MAP,
  exactlyOneMap,
  type LoggerCommonOptions,
  loggerCommonOptions,
  resolveLoggerMap,
} from '../modbus-logger/options.js';
import { LoggerSession } from '../modbus-logger/session.js';
import type {
  DriverInstance,
  NetworkDriverContext,
  NetworkDriverDefinition,
  PolledDriverContext,
} from '../sdk/driver.js';
import { durationOption } from '../sdk/options.js';

export const modbusTcpLoggerOptionsSchema = z
  .strictObject({
    host: z.string().min(1).describe('Address of the logger (or of its Modbus TCP gateway).'),
    port: z.number().int().min(1).max(65535).default(502).describe('TCP port (default 502).'),
    unit: z.number().int().min(0).max(255).default(1).describe('MBAP unit id (default 1; some devices want 0 or 255).'),
    maxInFlight: z
      .number()
      .int()
      .min(1)
      .max(16)
      .default(1)
      .describe('Requests on the wire at once, when the device allows several (default 1).'),
    responseTimeout: durationOption().default(1000).describe('Wait this long for an answer (default 1s).'),
    reconnectMin: durationOption()
      .default(500)
      .describe('First wait before reconnecting (default 500ms); doubles per failure.'),
    reconnectMax: durationOption().default(30_000).describe('Longest wait between reconnect attempts (default 30s).'),
    ...loggerCommonOptions,
  })
  .refine(exactlyOneMap, EXACTLY_ONE_MAP);
export type ModbusTcpLoggerOptions = z.output<typeof modbusTcpLoggerOptionsSchema>;

function createModbusTcpLogger(ctx: NetworkDriverContext<ModbusTcpLoggerOptions>): DriverInstance {
  const o = ctx.options;
  const { map, limits } = resolveLoggerMap(o);
  const session = new LoggerSession(ctx as unknown as PolledDriverContext<LoggerCommonOptions>, map, limits);
  const client = new ModbusTcpClient({
    host: o.host,
    port: o.port,
    unit: o.unit,
    maxInFlight: o.maxInFlight,
    responseTimeoutMs: o.responseTimeout,
    reconnectMinMs: o.reconnectMin,
    reconnectMaxMs: o.reconnectMax,
    log: session.log,
    onConnection: (up, reason) => ctx.setAvailability(up, reason),
    onDiscard: (reason) => ctx.countError?.(`tcp-${reason}`),
  });
  let running = false;
  let sampleTimer: NodeJS.Timeout | undefined;
  let waveTimer: NodeJS.Timeout | undefined;
  let sampleBusy = false;
  let waveBusy = false;
  let lastSampleAt = 0;

  const sample = async () => {
    if (!client.isConnected || sampleBusy) return;
    sampleBusy = true;
    try {
      const blocks = await Promise.all(map.blocks.map((b) => client.read(b.function, b.start, b.count)));
      if (running) session.points(blocks);
    } catch (err) {
      if (running) session.failed('points', err);
    } finally {
      sampleBusy = false;
    }
  };

  const readWave = async () => {
    const w = map.waveform;
    if (!w || !client.isConnected || waveBusy) return;
    waveBusy = true;
    try {
      const regs = await client.read(w.function, w.counterAddress, w.count + 2);
      if (running) session.waveform(regs);
    } catch (err) {
      if (running) session.failed('waveform', err);
    } finally {
      waveBusy = false;
    }
  };

  /** Samples on the interval from the last sample's start; a changed interval applies at once. */
  const scheduleSample = () => {
    clearTimeout(sampleTimer);
    if (!running) return;
    const wait = Math.max(0, lastSampleAt + session.intervalMs - Date.now());
    sampleTimer = setTimeout(() => {
      lastSampleAt = Date.now();
      void sample();
      scheduleSample();
    }, wait);
  };
  session.onIntervalChange = scheduleSample;

  return {
    async start() {
      running = true;
      client.start();
      scheduleSample();
      if (map.waveform && session.wavePeriodMs) waveTimer = setInterval(() => void readWave(), session.wavePeriodMs);
    },
    async stop() {
      running = false;
      clearTimeout(sampleTimer);
      clearInterval(waveTimer);
      await client.stop();
    },
    command: (cmd) => session.command(cmd),
  };
}

export const modbusTcpLogger: NetworkDriverDefinition<ModbusTcpLoggerOptions> = {
  id: 'modbus-tcp-logger',
  title: 'Modbus TCP structural / environmental logger (register map as data)',
  access: 'network',
  kinds: ['bridge', 'tunnel', 'flood', 'road_weather'],
  optionsSchema: modbusTcpLoggerOptionsSchema,
  fields: LOGGER_FIELDS,
  create: createModbusTcpLogger,
};
