/**
 * One simulated logger: a structure's signals served as Modbus registers, laid out by the same
 * register map the driver decodes with (drivers/modbus-logger/models/*.ts, plain data), so
 * addresses, types, word orders and scales cannot drift apart. The registers of the reference
 * profile that the map does not read (status words, the bridge's own RMS channel, the tunnel's
 * portal luminance, configuration) are served too, as ../shared/domain/2-modbus.md §2.5 lays
 * them out. Any other map whose fields the kind's model produces (an inline map of a model
 * citygrid does not ship) can be served too. Encoding is the simulator's own (register-encoding.ts).
 */
import type { RegisterMapInput } from '../../drivers/modbus/register-map.js';
import { brgDl1, rws1, tunEnv1, upsWl1 } from '../../drivers/modbus-logger/models/index.js';
import type { SimClock } from '../common/sim-clock.js';
import { EXCEPTION, type ModbusSlave, type RegisterTable } from './modbus-pdu.js';
import { type EncodeSpec, encodeValue } from './register-encoding.js';
import type { BridgeSignals } from './signals/bridge.js';
import type { Scene, StructureKind, StructureSignals } from './signals/scene.js';

export const MODEL_OF: Readonly<Record<StructureKind, RegisterMapInput>> = {
  bridge: brgDl1,
  tunnel: tunEnv1,
  underpass: upsWl1,
  'road-weather': rws1,
};

type Point = RegisterMapInput['points'][number];
const specOf = (p: Pick<Point, 'type' | 'order' | 'scale' | 'offset'>): EncodeSpec => ({
  type: p.type,
  order: p.order ?? 'ABCD',
  scale: p.scale ?? 1,
  offset: p.offset ?? 0,
});

/** Holding registers every simulated logger has (the BRG-DL-1 layout): slave id, baud code, interval. */
const CONFIG_BASE = 0x1000;
const BAUD_CODES = [2400, 4800, 9600, 19200, 38400, 115200];

export interface SimLoggerOptions {
  id: string;
  kind: StructureKind;
  unit: number;
  signals: StructureSignals;
  scene: Scene;
  /** Sim time (now) and real time (elapsedRealMs: the acceleration buffer samples in real time). */
  clock: SimClock;
  /** The line's baud rate, for the baud-code register. Default 9600. */
  baudRate?: number;
  /**
   * Another register map to serve the signals by (an inline map of a model citygrid does not
   * ship). Default: the shipped model of the kind. Its fields must be ones the kind's model produces.
   */
  map?: RegisterMapInput;
}

export class SimLogger implements ModbusSlave {
  readonly id: string;
  readonly kind: StructureKind;
  readonly unit: number;
  readonly map: RegisterMapInput;
  readonly signals: StructureSignals;
  private readonly scene: Scene;
  private readonly clock: SimClock;
  /** Registers whose values come from the signals, per table (a map may read either). */
  private readonly measured: Record<RegisterTable, Set<number>> = { input: new Set(), holding: new Set() };
  /** Writable configuration (holding) registers. */
  private readonly holding = new Map<number, number>();
  /** The reference profile's registers beyond the map, only with the shipped map. */
  private readonly extras: boolean;
  private readonly overrides = new Map<string, number>();
  private readonly faults = new Map<string, number>();

  constructor(opts: SimLoggerOptions) {
    this.id = opts.id;
    this.kind = opts.kind;
    this.unit = opts.unit;
    this.map = opts.map ?? MODEL_OF[opts.kind];
    this.extras = this.map === MODEL_OF[opts.kind];
    this.signals = opts.signals;
    this.scene = opts.scene;
    this.clock = opts.clock;
    const has = (start: number, count: number, fn: 3 | 4 = 4) => {
      for (let a = start; a < start + count; a++) this.measured[fn === 4 ? 'input' : 'holding'].add(a);
    };
    for (const b of this.map.blocks) has(b.start, b.count, b.function);
    const w = this.map.waveform;
    if (w) {
      has(w.counterAddress, 2, w.function);
      has(w.address, w.count, w.function);
    }
    if (this.extras && opts.kind === 'bridge') {
      has(0x0000, 4); // status, channel count, timestamp
      has(0x0040, 8); // channel quality
      has(0x0050, 16); // window peaks
    }
    const baudCode = BAUD_CODES.indexOf(opts.baudRate ?? 9600);
    this.holding.set(CONFIG_BASE, opts.unit);
    this.holding.set(CONFIG_BASE + 1, baudCode < 0 ? 2 : baudCode);
    this.holding.set(CONFIG_BASE + 2, 10); // sampling interval, s
    if (this.extras && opts.kind === 'bridge') for (let a = 0x1010; a < 0x1020; a++) this.holding.set(a, 0); // zero offsets
    // a point the map reads but the model does not produce is drift between the two: fail loudly
    const produced = this.signals.values(this.scene.env) as unknown as Record<string, unknown>;
    const missing = this.map.points.filter((p) => typeof produced[p.field] !== 'number').map((p) => p.field);
    if (missing.length > 0)
      throw new Error(`${this.map.model} reads ${missing.join(', ')}, which the ${opts.kind} model does not produce`);
    if (this.extras && opts.kind === 'tunnel') {
      // alarm set-points: CO ppm, VI 1e-4 m⁻¹, level mm
      this.holding.set(0x0100, 150);
      this.holding.set(0x0101, 120);
      this.holding.set(0x0102, 0);
    }
  }

  get model(): string {
    return this.map.model;
  }

  /** Engineering values by Reading field as served now (overrides applied), for tests and the control API. */
  values(): Record<string, number> {
    this.scene.advance(this.clock.now());
    const raw = this.signals.values(this.scene.env) as unknown as Record<string, number>;
    const out: Record<string, number> = {};
    for (const p of this.map.points) out[p.field] = this.overrides.get(p.field) ?? (raw[p.field] as number);
    return out;
  }

  /** Scenario hook: serve `value` for `field` instead of the signal (undefined: back to the signal). */
  setOverride(field: string, value: number | undefined): void {
    if (!this.map.points.some((p) => p.field === field)) throw new RangeError(`${this.id} has no field ${field}`);
    if (value === undefined) this.overrides.delete(field);
    else this.overrides.set(field, value);
  }

  /** Scenario hook: a channel fault code in the field's quality register (0 clears it). */
  setChannelFault(field: string, code: number): void {
    const p = this.map.points.find((x) => x.field === field);
    if (p?.qualityRegister === undefined) throw new RangeError(`${this.id} has no quality register for ${field}`);
    if (!(Number.isInteger(code) && code >= 0 && code <= 0xffff)) throw new RangeError('fault code must be a u16');
    this.faults.set(field, code);
  }

  /**
   * The measured registers of one table now (input: 04, holding: 03). The costly ones (the
   * acceleration buffer and window) only when `range` (a read) touches them.
   */
  image(table: RegisterTable, range?: { start: number; quantity: number }): Map<number, number> {
    const fn = table === 'input' ? 4 : 3;
    const values = this.values();
    const regs = new Map<number, number>();
    const put = (address: number, words: readonly number[]) => {
      words.forEach((w, i) => {
        regs.set(address + i, w & 0xffff);
      });
    };
    for (const a of this.measured[table]) regs.set(a, 0);
    for (const p of this.map.points) {
      if (p.function !== fn) continue;
      put(p.address, encodeValue(specOf(p), values[p.field] as number));
      if (p.qualityRegister !== undefined) put(p.qualityRegister, [this.faults.get(p.field) ?? 0]);
    }
    const wanted = (address: number, count: number) =>
      !range || (address < range.start + range.quantity && range.start < address + count);
    this.putExtras(fn, put, values, wanted);
    return regs;
  }

  /** The waveform buffer (function `fn` only), and with the shipped map the profile's other registers. */
  private putExtras(
    fn: 3 | 4,
    put: (address: number, words: readonly number[]) => void,
    v: Record<string, number>,
    wanted: (address: number, count: number) => boolean,
  ): void {
    const ms = this.scene.now;
    const env = this.scene.env;
    if (this.kind === 'bridge') {
      const bridge = this.signals as BridgeSignals;
      const w = this.map.waveform?.function === fn ? this.map.waveform : undefined;
      if (w && (wanted(w.counterAddress, 2) || wanted(w.address, w.count))) {
        const realS = this.clock.elapsedRealMs() / 1000;
        const taken = Math.floor(realS * w.rateHz);
        put(w.counterAddress, encodeValue({ type: 'u32', order: 'ABCD' }, taken));
        const samples: number[] = [];
        for (let i = taken - w.count; i < taken; i++) {
          // the logger samples in real time, whatever the sim speed, so a reader sees no gaps
          const t = i / w.rateHz;
          const g = bridge.accelerationG(env, this.scene.startMs + t * 1000 * this.clock.speedup, t);
          samples.push(...encodeValue({ type: w.type, scale: w.scale, offset: w.offset ?? 0 }, g));
        }
        put(w.address, samples);
      }
    }
    if (!this.extras || fn !== 4) return;
    if (this.kind === 'bridge') {
      const bridge = this.signals as BridgeSignals;
      const w = this.map.waveform;
      const window =
        wanted(0x001a, 2) || wanted(0x005a, 2)
          ? bridge.accelerationWindow(env, ms, {
              windowS: w?.windowS ?? 10,
              rateHz: w?.rateHz ?? 100,
              t: this.clock.elapsedRealMs() / 1000,
              speedup: this.clock.speedup,
            })
          : { rms: 0, peak: 0 };
      const anyFault = [...this.faults.values()].some((c) => c !== 0);
      put(0x0000, [0b1 | (anyFault ? 0b10 : 0)]); // sampling running, channel fault
      put(0x0001, [8]);
      put(0x0002, encodeValue({ type: 'u32', order: 'ABCD' }, Math.floor(ms / 1000)));
      put(0x001a, encodeValue({ type: 'f32', order: 'ABCD' }, window.rms)); // ch6 acceleration RMS, m/s²
      // window peaks, ch1..ch8 in the channels' own units: ch6 the acceleration peak; the slow
      // channels change little within a window, so their peak is their value
      for (const p of this.map.points) {
        const channel = (p.address - 0x0010) / 2;
        put(0x0050 + 2 * channel, encodeValue({ ...specOf(p), type: 'f32' }, v[p.field] as number));
      }
      put(0x005a, encodeValue({ type: 'f32', order: 'ABCD' }, window.peak));
    } else if (this.kind === 'tunnel') {
      const v = this.signals.values(env) as { wind_ms: number; portalLuminance: number };
      put(0x0003, [v.wind_ms < 0 ? 1 : 0]); // direction flag, redundant with the sign
      put(0x0004, encodeValue({ type: 'u16' }, v.portalLuminance));
    }
  }

  read(table: RegisterTable, start: number, quantity: number): number[] | undefined {
    const measured = this.measured[table];
    let image: Map<number, number> | undefined;
    const out: number[] = [];
    for (let a = start; a < start + quantity; a++) {
      if (measured.has(a)) {
        image ??= this.image(table, { start, quantity });
        out.push(image.get(a) ?? 0);
        continue;
      }
      const r = table === 'holding' ? this.holding.get(a) : undefined;
      if (r === undefined) return undefined;
      out.push(r);
    }
    return out;
  }

  /** Configuration registers only: the measured ones (even in the holding table) are read-only. */
  write(start: number, values: readonly number[]): number | undefined {
    for (let i = 0; i < values.length; i++) if (!this.holding.has(start + i)) return EXCEPTION.illegalDataAddress;
    const interval = start <= CONFIG_BASE + 2 && start + values.length > CONFIG_BASE + 2;
    const v = values[CONFIG_BASE + 2 - start];
    if (interval && (v === undefined || v < 1 || v > 3600)) return EXCEPTION.illegalDataValue;
    values.forEach((x, i) => {
      this.holding.set(start + i, x);
    });
    return undefined;
  }
}
