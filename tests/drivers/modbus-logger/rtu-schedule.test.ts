/**
 * The modbus-logger driver on the real bus poller (scripted RS-485 bus, fake timers): a sample is
 * the map's blocks read back to back, the acceleration buffer is read every half buffer between
 * samples, an exception is counted and polling goes on, and a shorter interval applies at the next
 * poll.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createBusPoller } from '../../../drivers/bus-poller/poller.js';
import { decodeRequest, encodeResponse } from '../../../drivers/modbus/codec-rtu.js';
import { modbusLogger } from '../../../drivers/modbus-logger/definition.js';
import { brgDl1 } from '../../../drivers/modbus-logger/models/index.js';
import { silentLogger } from '../../../drivers/sdk/log.js';
import { createMemoryTransport } from '../../helpers/memory-transport.js';
import { createScriptedBus } from '../bus-poller/scripted-bus.js';
import { recordingContext } from '../recording-context.js';

const T0 = 1_000_000;
let failWaveAt: number | undefined;

function answer(request: Buffer) {
  const req = decodeRequest(request);
  if (req.kind !== 'read' || req.unit !== 3) return [];
  if (req.address === 0x200 && failWaveAt !== undefined && Date.now() >= failWaveAt) {
    failWaveAt = undefined;
    return [
      {
        bytes: encodeResponse({ kind: 'exception', unit: 3, function: 4, exceptionCode: 4, exceptionName: '' }),
        delayMs: 30,
      },
    ];
  }
  let registers: number[];
  if (req.address === 0x200) {
    const counter = Math.floor((Date.now() - T0) / 10) + 100;
    const samples = Array.from(
      { length: 100 },
      (_, i) => Math.round(400 * Math.sin((2 * Math.PI * 5 * (counter - 100 + i)) / 100)) & 0xffff,
    );
    registers = [counter >>> 16, counter & 0xffff, ...samples];
  } else registers = Array.from({ length: req.quantity }, (_, i) => (req.address === 0x40 ? 0 : i % 2 ? 0 : 0x4120)); // 10.0 f32
  return [{ bytes: encodeResponse({ kind: 'read', unit: 3, function: 4, registers }), delayMs: 30 }];
}

function setup(opts: { interval?: string; waveform?: boolean } = {}) {
  const bus = createScriptedBus(answer);
  const options = modbusLogger.optionsSchema.parse({
    unit: 3,
    interval: opts.interval ?? '1s',
    waveform: opts.waveform ?? true,
    map: { ...brgDl1, waveform: { ...brgDl1.waveform, windowS: 1 } },
  });
  const base = recordingContext({ options, transport: createMemoryTransport() });
  const errors: string[] = [];
  const ctx = { ...base, device: { id: 'BR-1', kind: 'bridge' as const }, countError: (c: string) => errors.push(c) };
  const device = modbusLogger.createPolled(ctx);
  const poller = createBusPoller({
    transport: bus.transport,
    devices: [device],
    log: silentLogger(),
    clock: { now: () => Date.now() },
    pollIntervalMs: 60_000,
    responseTimeoutMs: 200,
    silence: { ms: 20 },
  });
  const addresses = () => bus.requests.map((r) => (decodeRequest(r.bytes) as { address: number }).address);
  return { poller, ctx: base, errors, device, addresses };
}

describe('modbus-logger on the bus poller', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
    failWaveAt = undefined;
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reads a sample as its blocks back to back and the buffer every 500 ms in between', async () => {
    const { poller, ctx, addresses } = setup();
    await poller.start();
    await vi.advanceTimersByTimeAsync(3_200);
    await poller.stop();
    const seq = addresses();
    // every block 0x0010 is followed at once by 0x0040
    seq.forEach((a, i) => {
      if (a === 0x10) expect(seq[i + 1] ?? 0x40).toBe(0x40);
    });
    expect(seq.filter((a) => a === 0x10).length).toBe(4); // t = 0, 1, 2, 3 s
    expect(seq.filter((a) => a === 0x200).length).toBeGreaterThanOrEqual(6);
    const points = ctx.readings.filter((r) => 'strain_ue' in r.fields);
    expect(points).toHaveLength(4);
    expect(points[0]?.fields).toMatchObject({ strain_ue: 10, crack_width_mm: 10, temperature_c: 10 });
    const windows = ctx.readings.filter((r) => 'accel_rms_g' in r.fields);
    expect(windows.length).toBeGreaterThanOrEqual(2);
    for (const w of windows) expect(w.fields.accel_freq_hz as number).toBeCloseTo(5, 0);
  });

  it('counts an exception on the buffer read and keeps polling', async () => {
    const { poller, ctx, errors } = setup();
    failWaveAt = T0 + 1_200;
    await poller.start();
    await vi.advanceTimersByTimeAsync(3_200);
    await poller.stop();
    expect(errors).toContain('modbus-exception');
    expect(ctx.readings.filter((r) => 'strain_ue' in r.fields)).toHaveLength(4);
  });

  it('applies a shorter interval from the next poll, and default restores it', async () => {
    const { poller, ctx, device } = setup();
    await poller.start();
    await vi.advanceTimersByTimeAsync(1_100);
    await device.command?.({ name: 'sample-interval', args: { interval: '250ms' } });
    await vi.advanceTimersByTimeAsync(2_000);
    const fast = ctx.readings.filter((r) => 'strain_ue' in r.fields).length;
    await device.command?.({ name: 'sample-interval', args: { interval: 'default' } });
    await vi.advanceTimersByTimeAsync(2_000);
    await poller.stop();
    const all = ctx.readings.filter((r) => 'strain_ue' in r.fields).length;
    expect(fast).toBeGreaterThanOrEqual(8); // 2 before, then about 4 per second
    expect(all - fast).toBeLessThanOrEqual(3);
  });

  it('without a sample buffer, a shorter interval brings the next poll forward at once', async () => {
    const { poller, ctx, device } = setup({ interval: '10m', waveform: false });
    await poller.start();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(ctx.readings).toHaveLength(1); // the first sample; the next is 10 minutes away
    await device.command?.({ name: 'sample-interval', args: { interval: '1s' } });
    await vi.advanceTimersByTimeAsync(3_100);
    expect(ctx.readings.length).toBeGreaterThanOrEqual(4); // one at once, then every second
    await device.command?.({ name: 'sample-interval', args: { interval: 'default' } });
    const n = ctx.readings.length;
    await vi.advanceTimersByTimeAsync(60_000);
    await poller.stop();
    expect(ctx.readings.length - n).toBeLessThanOrEqual(1);
  });
});
