/**
 * A simulated RS-485 meter bus: meters listening on one serial line (a socat pty end in tests and
 * the demo), each answering the master's requests addressed to it after a turnaround delay plus
 * the time its answer takes on the wire at the configured baud rate.
 */
import { seededRandom } from '../common/random.js';
import { openSerialLine, type SerialLine } from '../common/serial-line.js';
import { type BusRequest, LineFramer } from './line-framer.js';
import { type MeterSpec, SimMeter } from './meter.js';

/** The bus's side of the line when not a tty path (tests). */
export type BusLine = SerialLine;

export interface MeterBusOptions {
  /** A tty path (opened with serialport) or a line. */
  out: string | BusLine;
  meters: MeterSpec[];
  /** Default 2400 when any meter speaks CJ/T 188, else 9600. */
  baudRate?: number;
  /** Default 'even' (8E1) when any meter speaks CJ/T 188, else 'none' (8N1). */
  parity?: 'none' | 'even' | 'odd';
  /**
   * Line noise, 0..1. Default 0. With the `burst` model (default) it is the chance that an answer is
   * preceded by a burst of junk bytes, and, apart, the chance that a burst hits the answer itself
   * (1 to 3 bytes flipped): RS-485 noise comes in bursts (pumps, VFDs switching), and a frame is
   * either clean or refused. With the `byte` model every byte is flipped with this probability
   * (5 % of bytes leaves 17 % of 35-byte CJ/T 188 answers intact: a line no poller can read).
   */
  noise?: number;
  noiseModel?: 'burst' | 'byte';
  /** Meter reaction time before the answer starts, ms. Default 30 (±30 % jitter). */
  turnaroundMs?: number;
  /** Delay answers by the transmission time of the request and the answer at baudRate (11 bits a byte). Default true. */
  wireTime?: boolean;
  /** A silence this long drops a half-received request, ms. Default 50. */
  silenceMs?: number;
  /** The meters' clock, ms since the epoch. Default Date.now. */
  now?: () => number;
  /** Local time of the meters (daily curve, time fields), minutes east of UTC. Default 480. */
  utcOffsetMinutes?: number;
  seed?: number;
  /** Called for each answer before noise is applied (what the meter meant to say). */
  onAnswer?: (meter: SimMeter, request: BusRequest, answer: Buffer) => void;
}

export interface MeterBusStats {
  requests: number;
  answers: number;
  bytesWritten: number;
  /** Bytes of answers flipped by noise. */
  corruptedBytes: number;
  /** Junk bytes written between answers (burst model). */
  junkBytes: number;
  /** Bytes of the master's stream that were no request (noise, broken frames). */
  discardedBytes: number;
}

export interface MeterBus {
  readonly meters: SimMeter[];
  readonly stats: MeterBusStats;
  readonly baudRate: number;
  readonly parity: 'none' | 'even' | 'odd';
  stop(): Promise<void>;
}

/** Junk a burst leaves between frames: 1..6 random bytes, never 68 or FE (a burst does not fake a frame start). */
export function junkBurst(random: () => number): Buffer {
  const n = 1 + Math.floor(random() * 6);
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) {
    let b = Math.floor(random() * 256);
    if (b === 0x68 || b === 0xfe) b = 0x55;
    out[i] = b;
  }
  return out;
}

/** Flips 1..3 bytes of a frame at random places (XOR with a non-zero value). */
export function hitByBurst(data: Buffer, random: () => number): { data: Buffer; corrupted: number } {
  const out = Buffer.from(data);
  const hits = 1 + Math.floor(random() * 3);
  const at = Math.floor(random() * out.length);
  let corrupted = 0;
  for (let i = at; i < Math.min(out.length, at + hits); i++) {
    out[i] = (out[i] as number) ^ (1 + Math.floor(random() * 255));
    corrupted++;
  }
  return { data: out, corrupted };
}

/** Flips each byte with probability `fraction` (XOR with a non-zero value, so it really changes). */
export function corrupt(data: Buffer, fraction: number, random: () => number): { data: Buffer; corrupted: number } {
  if (fraction <= 0) return { data, corrupted: 0 };
  const out = Buffer.from(data);
  let corrupted = 0;
  for (let i = 0; i < out.length; i++) {
    if (random() >= fraction) continue;
    out[i] = (out[i] as number) ^ (1 + Math.floor(random() * 255));
    corrupted++;
  }
  return { data: out, corrupted };
}

/**
 * The daily use and the starting counter of the `index`-th meter of a bus seeded with `seed`, and
 * the meter's own random source after drawing them. Deterministic, so a test can tell which meter
 * a reading came from.
 */
export function meterDefaults(
  seed: number,
  index: number,
): { dailyM3: number; initialM3: number; random: () => number } {
  const random = seededRandom(seed * 7919 + index + 1);
  const dailyM3 = 0.3 + 0.5 * random();
  const initialM3 = 50 + Math.round(1950 * random());
  return { dailyM3, initialM3, random };
}

export async function startMeterBus(opts: MeterBusOptions): Promise<MeterBus> {
  const anyCjt188 = opts.meters.some((m) => m.protocol === 'cjt188');
  const baudRate = opts.baudRate ?? (anyCjt188 ? 2400 : 9600);
  const parity = opts.parity ?? (anyCjt188 ? 'even' : 'none');
  const noise = opts.noise ?? 0;
  const noiseModel = opts.noiseModel ?? 'burst';
  if (!(noise >= 0 && noise <= 1)) throw new Error('noise must be a fraction in [0, 1]');
  const ids = new Set<string>();
  const now = opts.now ?? Date.now;
  const seed = opts.seed ?? 1;
  const random = seededRandom(seed);
  const utcOffsetMinutes = opts.utcOffsetMinutes ?? 480;
  const startMs = now();
  const meters = opts.meters.map((spec, i) => {
    const { random: meterRandom, dailyM3, initialM3 } = meterDefaults(seed, i);
    const meter = new SimMeter(
      { ...spec, dailyM3: spec.dailyM3 ?? dailyM3, initialM3: spec.initialM3 ?? initialM3 },
      { utcOffsetMinutes, random: meterRandom, startMs },
    );
    if (ids.has(meter.id)) throw new Error(`meter ${meter.id} is on the bus twice`);
    ids.add(meter.id);
    return meter;
  });
  // ptys ignore line settings; a real RS-485 adapter gets 8E1 / 8N1 from here
  const line = typeof opts.out === 'string' ? await openSerialLine(opts.out, { baudRate, parity }) : opts.out;
  const turnaroundMs = opts.turnaroundMs ?? 30;
  const wireTime = opts.wireTime ?? true;
  const silenceMs = opts.silenceMs ?? 50;
  const stats: MeterBusStats = {
    requests: 0,
    answers: 0,
    bytesWritten: 0,
    corruptedBytes: 0,
    junkBytes: 0,
    discardedBytes: 0,
  };
  const framer = new LineFramer();
  let lastChunkAt = 0;
  let lineBytes = 0;
  let stopped = false;

  // One talker at a time, in request order: answers wait in a queue behind the one on the line.
  const queue: { answer: Buffer; queuedAt: number; readyAt: number }[] = [];
  let timer: NodeJS.Timeout | undefined;
  const pump = () => {
    timer = undefined;
    const head = queue[0];
    if (stopped || !head) return;
    const wait = head.readyAt - Date.now();
    if (wait > 0) {
      timer = setTimeout(pump, wait);
      return;
    }
    queue.shift();
    let { data, corrupted } = { data: head.answer, corrupted: 0 };
    if (noiseModel === 'byte') ({ data, corrupted } = corrupt(head.answer, noise, random));
    else if (noise > 0) {
      if (random() < noise) {
        const junk = junkBurst(random);
        line.write(junk);
        stats.bytesWritten += junk.length;
        stats.junkBytes += junk.length;
      }
      if (random() < noise) ({ data, corrupted } = hitByBurst(head.answer, random));
    }
    stats.corruptedBytes += corrupted;
    stats.bytesWritten += data.length;
    stats.answers++;
    line.write(data);
    const next = queue[0];
    // the next meter starts its turnaround once this answer has left the line
    if (next) next.readyAt = Math.max(next.readyAt, Date.now() + next.readyAt - next.queuedAt);
    pump();
  };
  // a pty delivers the request at once; on a real line its last byte arrives after its wire time
  const send = (answer: Buffer, requestBytes: number) => {
    const onWire = wireTime ? ((requestBytes + answer.length) * 11 * 1000) / baudRate : 0;
    const delay = turnaroundMs * (0.7 + 0.6 * random()) + onWire;
    const queuedAt = Date.now();
    queue.push({ answer, queuedAt, readyAt: queuedAt + delay });
    if (!timer) pump();
  };

  line.onData((chunk) => {
    if (stopped) return;
    const t = Date.now();
    if (framer.pending > 0 && t - lastChunkAt > silenceMs) framer.reset();
    lastChunkAt = t;
    // every byte the master put on the line (wake-up FE and noise included) took its wire time
    lineBytes += chunk.length;
    const requests = framer.push(chunk);
    stats.discardedBytes = framer.discarded;
    for (const request of requests) {
      stats.requests++;
      const clock = now();
      const requestBytes = lineBytes;
      lineBytes = 0;
      for (const meter of meters) {
        const answer = meter.answer(request, clock);
        if (!answer) continue;
        opts.onAnswer?.(meter, request, answer);
        send(answer, requestBytes);
      }
    }
  });

  return {
    meters,
    stats,
    baudRate,
    parity,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (timer) clearTimeout(timer);
      queue.length = 0;
      await line.close();
    },
  };
}
