/**
 * The GPS simulator: a truck on a route, a receiver writing RMC + GGA at `rateHz` to a serial
 * line (one end of a socat pty pair in tests and the demo) or to any sink.
 */
import { SerialPort } from 'serialport';
import { type EncodeOptions, encodeGga, encodeRmc, type SimFix } from './nmea-encoder.js';
import type { LonLat } from './route.js';
import { Truck } from './truck.js';

/** Where sentences go when not to a tty path. */
export interface SentenceSink {
  write(data: Buffer): void;
}

export interface GpsSimulatorOptions {
  /** Polyline of [lon, lat] points (WGS-84). */
  route: readonly LonLat[];
  /** A tty path (opened with serialport) or a sink. */
  out: string | SentenceSink;
  /** Epochs per second. Default 1. */
  rateHz?: number;
  /** Mean speed, km/h. Default 22. */
  speedKmh?: number;
  /** Drive the route back and forth instead of parking at its end. Default false. */
  loop?: boolean;
  /** Every Nth epoch has no fix (RMC V, GGA quality 0). 0 = never. Default 0. */
  noFixEvery?: number;
  /** Inject line noise: stray bytes between sentences and now and then a sentence with a wrong checksum. */
  garbage?: boolean;
  /** Talker id. Default GN. */
  talker?: string;
  /** Baud rate when `out` is a tty path. Default 9600. */
  baudRate?: number;
  seed?: number;
  /** UTC "now" in ms. Default Date.now. */
  now?: () => number;
  /** Called with each epoch's fix (the truth the sentences encode). */
  onFix?: (fix: SimFix) => void;
}

export interface GpsSimulator {
  /** Epochs written so far. */
  readonly epochs: number;
  stop(): Promise<void>;
}

/** The bytes of one epoch: RMC + GGA, plus noise when asked. Exported for tests. */
export function epochBytes(
  fix: SimFix,
  index: number,
  opts: { encode: EncodeOptions; garbage: boolean; random: () => number },
): Buffer {
  const rmc = encodeRmc(fix, opts.encode);
  const gga = encodeGga(fix, opts.encode);
  if (!opts.garbage) return Buffer.from(rmc + gga, 'latin1');
  const noise = Buffer.from(
    Array.from({ length: 1 + Math.floor(opts.random() * 12) }, () => Math.floor(opts.random() * 256)),
  );
  // every 7th epoch: flip one checksum digit, as a noisy line would
  const damaged = index % 7 === 6 ? `${rmc.slice(0, -4)}${rmc.at(-4) === '0' ? '1' : '0'}${rmc.slice(-3)}` : rmc;
  return Buffer.concat([noise.filter((b) => b !== 0x24), Buffer.from(damaged + gga, 'latin1')]);
}

async function openTty(path: string, baudRate: number): Promise<{ sink: SentenceSink; close(): Promise<void> }> {
  const port = new SerialPort({ path, baudRate, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  port.on('error', () => undefined);
  return {
    sink: { write: (data) => void port.write(data) },
    close: () => new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve())),
  };
}

/** Starts writing; resolves once the output is open. */
export async function startGpsSimulator(opts: GpsSimulatorOptions): Promise<GpsSimulator> {
  const rateHz = opts.rateHz ?? 1;
  if (!(rateHz > 0 && rateHz <= 20)) throw new Error('rateHz must be in (0, 20]');
  const now = opts.now ?? Date.now;
  const truck = new Truck({ route: opts.route, speedKmh: opts.speedKmh, loop: opts.loop, seed: opts.seed });
  const output =
    typeof opts.out === 'string'
      ? await openTty(opts.out, opts.baudRate ?? 9600)
      : { sink: opts.out, close: async () => {} };
  const encode: EncodeOptions = { talker: opts.talker ?? 'GN' };
  const periodMs = 1000 / rateHz;
  let epochs = 0;
  let stopped = false;
  let lastTime = Number.NEGATIVE_INFINITY;

  const tick = () => {
    if (stopped) return;
    // Receivers stamp epochs on whole multiples of the period, and never twice with one time: a
    // late timer tick must not repeat the previous epoch's time (found by the chaos test).
    const time = Math.max(Math.floor(now() / periodMs) * periodMs, lastTime + periodMs);
    lastTime = time;
    const fix = truck.step(1 / rateHz, Math.round(time));
    const noFix = (opts.noFixEvery ?? 0) > 0 && (epochs + 1) % (opts.noFixEvery as number) === 0;
    const sent = noFix ? { ...fix, valid: false } : fix;
    opts.onFix?.(sent);
    output.sink.write(epochBytes(sent, epochs, { encode, garbage: opts.garbage ?? false, random: truck.random }));
    epochs++;
  };

  tick();
  const timer = setInterval(tick, periodMs);
  return {
    get epochs() {
      return epochs;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      await output.close();
    },
  };
}
