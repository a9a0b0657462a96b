/**
 * LoggerSession, the part of both logger drivers that is not transport: a reading per sample with
 * quality, failed reads counted by cause, limits raising events at once, the acceleration buffer
 * stitched by its sample counter (no sample twice, a gap restarts the window), sample-interval.
 */
import { describe, expect, it } from 'vitest';
import { ModbusExceptionError, ModbusRequestError } from '../../../drivers/modbus/errors.js';
import { registerMapSchema } from '../../../drivers/modbus/register-map.js';
import { brgDl1, upsWl1 } from '../../../drivers/modbus-logger/models/index.js';
import { type LoggerCommonOptions, resolveLoggerMap } from '../../../drivers/modbus-logger/options.js';
import { LoggerSession } from '../../../drivers/modbus-logger/session.js';
import { DecodeError } from '../../../drivers/sdk/errors.js';
import type { DeviceKind } from '../../../drivers/sdk/reading.js';
import { createMemoryTransport } from '../../helpers/memory-transport.js';
import { recordingContext } from '../recording-context.js';

function session(o: Partial<LoggerCommonOptions> & { kind: DeviceKind }) {
  const options: LoggerCommonOptions = { interval: 1000, waveform: true, ...o };
  let now = 1_700_000_000_000;
  const base = recordingContext({ options, transport: createMemoryTransport(), clock: { now: () => now } });
  const errors: string[] = [];
  const ctx = { ...base, device: { id: 'T-1', kind: o.kind }, countError: (code: string) => errors.push(code) };
  const { map, limits } = resolveLoggerMap(options);
  return { s: new LoggerSession(ctx, map, limits), ctx: base, errors, tick: (ms: number) => (now += ms) };
}

/** A waveform read: counter (u32 ABCD) then 100 samples, sample n = n counts (scale 0.0001 g). */
function waveRead(counter: number): number[] {
  const samples = Array.from({ length: 100 }, (_, i) => (counter - 100 + i) & 0xffff);
  return [(counter >>> 16) & 0xffff, counter & 0xffff, ...samples];
}

describe('LoggerSession', () => {
  it('emits one reading per sample, marked bad with the value kept when out of range, and counts it', () => {
    const { s, ctx } = session({ model: 'UPS-WL-1', kind: 'flood' });
    s.points([[120, 55, 1234, 0, 0]]);
    s.points([[3500, 55, 1234, 0, 0]]);
    expect(ctx.readings.map((r) => [r.fields.water_level_cm, r.quality])).toEqual([
      [12, 'good'],
      [350, 'bad'],
    ]);
    expect(ctx.decodeErrors).toEqual(['out-of-range']);
  });

  it('raises threshold events at once with the reading, levels 1 ms apart, and clears with hysteresis', () => {
    const { s, ctx } = session({ model: 'UPS-WL-1', kind: 'flood' });
    s.points([[300, 0, 0, 0, 0]]);
    expect(
      ctx.events.map((e) => `${e.type}/${(e.data as { level: string }).level}@${e.ts - (ctx.readings[0]?.ts ?? 0)}`),
    ).toEqual(['threshold.high/notice@0', 'threshold.high/yellow@1', 'threshold.high/closure@2']);
    s.points([[210, 0, 0, 0, 0]]); // 21 cm: above 25 − 5, closure stays
    expect(ctx.events).toHaveLength(3);
    s.points([[190, 0, 0, 0, 0]]);
    expect(ctx.events.at(-1)).toMatchObject({ type: 'threshold.clear', severity: 'info', data: { level: 'closure' } });
  });

  it('device limits replace the model limits of that field', () => {
    const { s, ctx } = session({ model: 'UPS-WL-1', kind: 'flood', limits: { water_level_cm: [] } });
    s.points([[300, 0, 0, 0, 0]]);
    expect(ctx.events).toEqual([]);
  });

  it('counts failed reads by cause and keeps going', () => {
    const { s, ctx, errors } = session({ model: 'UPS-WL-1', kind: 'flood' });
    s.failed('points', new DecodeError('bad-checksum', 'crc'));
    s.failed('points', new ModbusExceptionError(2, 'illegal data address', 4));
    s.failed('points', new ModbusRequestError('timeout', 'no answer'));
    s.points([[10]]); // a short block
    expect(ctx.decodeErrors).toEqual(['bad-checksum', 'short-frame']);
    expect(errors).toEqual(['modbus-exception', 'timeout']);
    s.points([[10, 0, 0, 0, 0]]);
    expect(ctx.readings).toHaveLength(1);
  });

  it('stitches the acceleration buffer by its counter and reduces each window', () => {
    const map = registerMapSchema.parse({ ...brgDl1, waveform: { ...brgDl1.waveform, windowS: 3 } });
    const { s, ctx, errors } = session({ map, kind: 'bridge' });
    expect(s.wavePeriodMs).toBe(500);
    s.waveform(waveRead(1000)); // first read: all 100 samples (n = 900..999)
    s.waveform(waveRead(1050)); // 50 new (1000..1049)
    s.waveform(waveRead(1050)); // nothing new
    s.waveform(waveRead(1150)); // 100 new: 250 samples so far
    expect(ctx.readings).toEqual([]);
    s.waveform(waveRead(1200)); // 300 = one 3 s window: samples 900..1199, a ramp
    expect(ctx.readings).toHaveLength(1);
    const w = ctx.readings[0]?.fields as Record<string, number>;
    // a ramp of 300 samples 0.0001 g apart: peak 149.5 counts from the mean, RMS 300/√12 counts
    expect(w.accel_peak_g).toBeCloseTo(0.01495, 5);
    expect(w.accel_rms_g).toBeCloseTo((300 / Math.sqrt(12)) * 0.0001, 4);
    s.waveform(waveRead(1500)); // 300 new > 100 in the buffer: a gap, the window restarts
    expect(errors).toEqual(['waveform-gap']);
    expect(ctx.readings).toHaveLength(1);
  });

  it('takes sample-interval, restores "default", and refuses a bad value', async () => {
    const { s } = session({ model: 'UPS-WL-1', kind: 'flood', interval: 10_000 });
    const changed: number[] = [];
    s.onIntervalChange = (ms) => changed.push(ms);
    expect(await s.command({ name: 'sample-interval', args: { interval: '5s' } })).toEqual({
      interval: 5000,
      previous: 10_000,
      default: 10_000,
    });
    expect(s.intervalMs).toBe(5000);
    expect(await s.command({ name: 'sample-interval', args: { interval: 'default' } })).toMatchObject({
      interval: 10_000,
    });
    await expect(s.command({ name: 'sample-interval', args: { interval: 'soon' } })).rejects.toThrow(/at least 10ms/);
    await expect(s.command({ name: 'capture', args: {} })).rejects.toThrow(/no "capture" command/);
    expect(changed).toEqual([5000, 10_000]);
  });

  it('refuses a map of another kind than the device', () => {
    expect(() => session({ model: 'UPS-WL-1', kind: 'bridge' })).toThrow(/UPS-WL-1 is for kind flood/);
    expect(upsWl1.kind).toBe('flood');
  });
});
