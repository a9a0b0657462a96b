/**
 * `citygrid sim meters ...`: a simulated RS-485 water-meter bus (CJ/T 188 and/or Modbus RTU) on a
 * serial line until SIGINT/SIGTERM. Registered in sim.ts.
 */
import { parseArgs } from 'node:util';
import type { MeterBusOptions } from '../../simulators/meters/bus.js';
import type { MeterProtocol } from '../../simulators/meters/meter.js';
import { applyMode, generateMeters, type MeterMode, parseMeterList } from '../../simulators/meters/spec.js';

export const METERS_USAGE = `usage: citygrid sim meters --out <tty> (--meters "cjt188:<addr>,modbus:<unit>,..." | --count N [--protocol cjt188|modbus|mix])
                 [--leak <m>]... [--leak-rate <m³/h>] [--reverse <m>]... [--dead-battery <m>]... [--silent <m>]...
                 [--noise <fraction>] [--noise-model burst|byte] [--baud <bps>] [--parity even|none|odd] [--turnaround <ms>] [--speedup <x>] [--seed <n>]
  --out           serial device or pty end the meters listen and answer on
  --meters        the meters: CJ/T 188 addresses (up to 14 digits, zero-padded) and Modbus unit ids (1..247)
  --count         N meters numbered from 1 instead; --protocol picks cjt188 (default), modbus or mix (alternating)
  --leak          a meter <m> ("cjt188:1", "modbus:3" or a bare address) with a constant leak (default 0.02 m³/h)
  --reverse       water runs backwards through meter <m>
  --dead-battery  meter <m> reports a low battery
  --silent        meter <m> never answers
  --noise         line noise, e.g. 0.05: with the burst model (default) the chance of junk bytes before an
                  answer and, apart, of a burst flipping 1-3 bytes of it; with --noise-model byte the
                  fraction of all bytes the meters write that are flipped
  --baud          default 2400 on a bus with CJ/T 188 meters, else 9600
  --parity        default even (8E1) on a bus with CJ/T 188 meters, else none (8N1)
  --turnaround    meter reaction time before answering, ms (default 30, ±30 %)
  --speedup       the meters' clock runs this many times faster than real time (default 1)`;

function fraction(name: string, text: string | undefined, max = Number.POSITIVE_INFINITY): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0 || n > max)
    throw new Error(`--${name} must be a number in [0, ${max}], got "${text}"`);
  return n;
}

function parseOptions(args: string[]): MeterBusOptions | 'help' {
  const { values } = parseArgs({
    args,
    options: {
      out: { type: 'string' },
      meters: { type: 'string' },
      count: { type: 'string' },
      protocol: { type: 'string' },
      leak: { type: 'string', multiple: true },
      'leak-rate': { type: 'string' },
      reverse: { type: 'string', multiple: true },
      'dead-battery': { type: 'string', multiple: true },
      silent: { type: 'string', multiple: true },
      noise: { type: 'string' },
      'noise-model': { type: 'string' },
      baud: { type: 'string' },
      parity: { type: 'string' },
      turnaround: { type: 'string' },
      speedup: { type: 'string' },
      seed: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return 'help';
  if (!values.out) throw new Error('--out <tty> is required');
  if (values.meters && values.count) throw new Error('give --meters or --count, not both');
  const protocol = values.protocol ?? 'cjt188';
  if (!['cjt188', 'modbus', 'mix'].includes(protocol)) throw new Error('--protocol must be cjt188, modbus or mix');
  const meters = values.meters
    ? parseMeterList(values.meters)
    : values.count
      ? generateMeters(Number(values.count), protocol as MeterProtocol | 'mix')
      : undefined;
  if (!meters || meters.length === 0) throw new Error('give --meters "..." or --count N');
  const leakRate = fraction('leak-rate', values['leak-rate']);
  const modes: [string[] | undefined, MeterMode][] = [
    [values.leak, 'leak'],
    [values.reverse, 'reverse'],
    [values['dead-battery'], 'deadBattery'],
    [values.silent, 'silent'],
  ];
  for (const [selectors, mode] of modes) for (const s of selectors ?? []) applyMode(meters, s, mode, leakRate);
  const parity = values.parity;
  if (parity !== undefined && parity !== 'even' && parity !== 'none' && parity !== 'odd')
    throw new Error('--parity must be even, none or odd');
  const noiseModel = values['noise-model'];
  if (noiseModel !== undefined && noiseModel !== 'burst' && noiseModel !== 'byte')
    throw new Error('--noise-model must be burst or byte');
  const speedup = fraction('speedup', values.speedup) ?? 1;
  const started = Date.now();
  return {
    out: values.out,
    meters,
    noise: fraction('noise', values.noise, 1),
    ...(noiseModel ? { noiseModel } : {}),
    baudRate: fraction('baud', values.baud),
    parity,
    turnaroundMs: fraction('turnaround', values.turnaround),
    seed: fraction('seed', values.seed),
    now: speedup === 1 ? undefined : () => started + (Date.now() - started) * speedup,
  };
}

export async function runMeters(args: string[]): Promise<number> {
  let options: MeterBusOptions;
  try {
    const parsed = parseOptions(args);
    if (parsed === 'help') {
      console.log(METERS_USAGE);
      return 0;
    }
    options = parsed;
  } catch (err) {
    console.error(`citygrid sim meters: ${err instanceof Error ? err.message : String(err)}\n\n${METERS_USAGE}`);
    return 2;
  }
  const { startMeterBus } = await import('../../simulators/meters/bus.js');
  let bus: Awaited<ReturnType<typeof startMeterBus>>;
  try {
    bus = await startMeterBus(options);
  } catch (err) {
    console.error(`citygrid sim meters: cannot start: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  const list = bus.meters.map((m) => m.id + (m.spec.silent ? ' (silent)' : '')).join(', ');
  console.error(
    `sim meters: ${bus.meters.length} meters on ${String(options.out)} at ${bus.baudRate} 8${bus.parity[0]?.toUpperCase()}1: ${list}; Ctrl-C to stop`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await bus.stop();
  const s = bus.stats;
  console.error(
    `sim meters: stopped; ${s.requests} requests, ${s.answers} answers, ${s.corruptedBytes}/${s.bytesWritten} bytes corrupted, ${s.junkBytes} junk bytes, ${s.discardedBytes} bytes of noise ignored`,
  );
  return 0;
}
