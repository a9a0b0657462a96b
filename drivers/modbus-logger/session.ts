/**
 * What a Modbus logger does with its registers, whatever carries them (an RTU bus poller or a TCP
 * client): decode the blocks into one Reading (out-of-range values kept, the reading marked bad),
 * check the edge-local limits and raise threshold Events at once, stitch the acceleration sample
 * buffer into windows reduced to RMS/peak/frequency, count failed reads by cause, and take the
 * `sample-interval` command.
 */
import { decodeRegisters, type RegisterMap } from '../modbus/register-map.js';
import { readU32 } from '../modbus/values.js';
import type { DeviceCommand, DeviceCommandResult, PolledDriverContext } from '../sdk/driver.js';
import { CitygridError, DecodeError, DeviceError, describeError } from '../sdk/errors.js';
import type { Logger } from '../sdk/log.js';
import { requestedSampleInterval } from '../sdk/sample-interval.js';
import { evaluateThresholds, type Limits, type ThresholdState } from '../sdk/thresholds.js';
import type { LoggerCommonOptions } from './options.js';
import { summarizeVibration } from './vibration.js';

const THRESHOLD_KEY = 'thresholds';

export class LoggerSession {
  readonly log: Logger;
  readonly defaultIntervalMs: number;
  private interval: number;
  /** How often the sample buffer must be read to miss nothing: half the time it holds, ms. */
  readonly wavePeriodMs: number | undefined;
  /** Called when cmd/sample-interval changed the interval (the TCP loop reschedules). */
  onIntervalChange: ((ms: number) => void) | undefined;
  private window: number[] = [];
  private lastCounter: number | undefined;
  private lastBad = '';

  constructor(
    private readonly ctx: PolledDriverContext<LoggerCommonOptions>,
    readonly map: RegisterMap,
    private readonly limits: Limits,
  ) {
    this.log = ctx.log.child({ driver: 'modbus-logger', model: map.model });
    this.defaultIntervalMs = ctx.options.interval;
    this.interval = this.defaultIntervalMs;
    const w = map.waveform;
    this.wavePeriodMs = w ? Math.max(10, Math.floor(((w.count / w.rateHz) * 1000) / 2)) : undefined;
    if (map.kind !== ctx.device.kind)
      throw new CitygridError(
        'CONFIG_INVALID',
        `map ${map.model} is for kind ${map.kind}, the device is a ${ctx.device.kind}`,
      );
  }

  get intervalMs(): number {
    return this.interval;
  }

  /** The registers of every block of the map, in map order -> one Reading, then the limits. */
  points(blocks: readonly (readonly number[])[]): void {
    let decoded: ReturnType<typeof decodeRegisters>;
    try {
      decoded = decodeRegisters(this.map, blocks);
    } catch (err) {
      this.failed('points', err);
      return;
    }
    const { fields, bad } = decoded;
    const ts = this.ctx.clock.now();
    this.ctx.emitReading({ ts, fields, gatewayClock: true, quality: bad.length > 0 ? 'bad' : 'good' });
    for (const b of bad) {
      if (b.reason === 'channel-fault') this.ctx.countError?.('channel-fault');
      else this.ctx.countDecodeError(b.reason === 'out-of-range' ? 'out-of-range' : 'bad-field');
    }
    const badKey = bad.map((b) => `${b.field}:${b.reason}`).join(',');
    if (badKey !== this.lastBad) {
      if (bad.length > 0)
        this.log.warn({ bad }, 'Reading marked bad: values outside the physical range or faulty channels');
      else this.log.info('Readings good again');
      this.lastBad = badKey;
    }
    this.checkLimits(ts, fields, new Set(bad.map((b) => b.field)));
  }

  /** One read of the waveform block: the u32 sample counter, then the buffer (oldest first). */
  waveform(registers: readonly number[]): void {
    const w = this.map.waveform;
    if (!w) return;
    if (registers.length < w.count + 2) {
      this.failed('waveform', new DecodeError('short-frame', `waveform read of ${registers.length} registers`));
      return;
    }
    const counter = readU32(registers, 0, 'ABCD');
    const fresh = this.lastCounter === undefined ? w.count : (counter - this.lastCounter) >>> 0;
    if (this.lastCounter !== undefined && fresh > w.count) {
      // read too late (or the device restarted): the samples in between are gone, the window restarts
      this.log.debug({ lost: fresh - w.count }, 'Acceleration samples lost between reads; window restarted');
      this.ctx.countError?.('waveform-gap');
      this.window = [];
    }
    this.lastCounter = counter;
    const take = Math.min(fresh, w.count);
    for (let i = w.count - take; i < w.count; i++) {
      const raw = registers[2 + i] as number;
      const v = w.type === 's16' && raw >= 0x8000 ? raw - 0x10000 : raw;
      this.window.push(v * w.scale + w.offset);
    }
    const perWindow = Math.round(w.windowS * w.rateHz);
    while (this.window.length >= perWindow) {
      const samples = this.window.splice(0, perWindow);
      const fields = summarizeVibration(samples, w.rateHz);
      const ts = this.ctx.clock.now();
      this.ctx.emitReading({ ts, fields: { ...fields }, gatewayClock: true, quality: 'good' });
      this.checkLimits(ts, { ...fields }, new Set());
    }
  }

  /** A read that brought no registers: counted by cause, logged, and the device keeps being polled. */
  failed(what: 'points' | 'waveform', err: unknown): void {
    if (err instanceof DecodeError) this.ctx.countDecodeError(err.reason);
    else if (err instanceof DeviceError) this.ctx.countError?.('modbus-exception');
    else if (err instanceof CitygridError && 'reason' in err) this.ctx.countError?.(String(err.reason));
    else this.ctx.countError?.('read-failed');
    this.log.warn({ read: what, err: describeError(err) }, 'Logger read failed');
  }

  async command(cmd: DeviceCommand): Promise<DeviceCommandResult> {
    const asked = requestedSampleInterval(cmd);
    const ms = asked === 'default' ? this.defaultIntervalMs : asked;
    const previous = this.interval;
    this.interval = ms;
    this.log.info({ interval: ms, previous, commandId: cmd.id }, 'Sample interval changed');
    this.onIntervalChange?.(ms);
    return { interval: ms, previous, default: this.defaultIntervalMs };
  }

  private checkLimits(ts: number, fields: Record<string, unknown>, skip: ReadonlySet<string>): void {
    const state = this.ctx.store.get<ThresholdState>(THRESHOLD_KEY) ?? [];
    const r = evaluateThresholds(this.limits, fields, state, skip);
    if (r.events.length === 0) return;
    this.ctx.store.set(THRESHOLD_KEY, r.state);
    // levels crossed by one reading get 1 ms apart: the hub stores an event per (device, type,
    // severity, ts), so two critical levels at the same instant would otherwise overwrite each other
    r.events.forEach((e, i) => {
      this.log.info({ type: e.type, ...e.data }, 'Threshold event');
      this.ctx.emitEvent({ type: e.type, severity: e.severity, ts: ts + i, data: { ...e.data } });
    });
  }
}
