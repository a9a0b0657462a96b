/**
 * The two water-meter drivers against the meter simulator's own encoders (simulators/meters: written
 * apart from the driver codecs, so a shared misreading cannot cancel out): request -> simulated
 * meter -> match -> Reading, with interval consumption, events and the device store.
 */
import { describe, expect, it } from 'vitest';
import { cjt188WaterMeter } from '../../../drivers/cjt188-water-meter/definition.js';
import { modbusWaterMeter } from '../../../drivers/modbus-water-meter/definition.js';
import type { PolledDevice } from '../../../drivers/sdk/driver.js';
import { modbusException } from '../../../simulators/meters/encoding.js';
import { LineFramer } from '../../../simulators/meters/line-framer.js';
import { type MeterSpec, SimMeter } from '../../../simulators/meters/meter.js';
import { polledContext, type RecordingPolledContext } from './polled-context.js';

const H = 3_600_000;

function simMeter(spec: MeterSpec, startMs: number): SimMeter {
  return new SimMeter(spec, { utcOffsetMinutes: 480, random: () => 0.5, startMs });
}

/** One poll: the device's request through the simulated meter, the answer through the device's matcher. */
function poll(device: PolledDevice, meter: SimMeter, now: number, answer?: Buffer): void {
  const request = device.request();
  const [parsed] = new LineFramer().push(request);
  expect(parsed, 'the simulator understands the request').toBeDefined();
  const reply = answer ?? meter.answer(parsed as NonNullable<typeof parsed>, now);
  expect(reply, 'the simulated meter answers').toBeDefined();
  const verdict = device.match(reply as Buffer, request);
  expect(verdict.verdict).toBe('mine');
  if (verdict.verdict === 'mine') device.onAnswer(verdict.value, { attempt: 1, elapsedMs: 40 });
}

function cjt188(ctx: RecordingPolledContext<unknown>, address: string) {
  const options = cjt188WaterMeter.optionsSchema.parse({ address, maxFlow: 5 });
  return cjt188WaterMeter.createPolled({ ...ctx, options } as never);
}

describe('cjt188-water-meter', () => {
  it('reads volume, valve and battery, and the consumption between two reads', () => {
    const ctx = polledContext<unknown>({});
    const meter = simMeter({ protocol: 'cjt188', address: '00000000000007', initialM3: 1234.5 }, ctx.now);
    const device = cjt188(ctx, '7');
    poll(device, meter, ctx.now);
    const first = ctx.readings[0];
    expect(first?.fields).toEqual({ volume_m3: 1234.5, valve_open: true, battery_low: false });
    expect(first?.gatewayClock).toBe(true);
    ctx.now += 3 * H;
    poll(device, meter, ctx.now);
    const second = ctx.readings[1];
    const expected = Math.round(meter.flow.netM3 * 100) / 100;
    expect(second?.fields.volume_m3).toBe(expected);
    expect(second?.fields.volume_interval_m3).toBeCloseTo(expected - 1234.5, 6);
    expect(second?.fields.volume_interval_m3).toBeGreaterThan(0);
    expect(ctx.events).toEqual([]);
  });

  it('raises a low battery found on the first read, once', () => {
    const ctx = polledContext<unknown>({});
    const meter = simMeter({ protocol: 'cjt188', address: '00000000000003', deadBattery: true }, ctx.now);
    const device = cjt188(ctx, '3');
    poll(device, meter, ctx.now);
    ctx.now += H;
    poll(device, meter, ctx.now);
    expect(ctx.readings.map((r) => r.fields.battery_low)).toEqual([true, true]);
    expect(ctx.events.map((e) => e.type)).toEqual(['meter.battery_low']);
  });

  it('reports reverse flow as a negative interval and one reverse_flow event', () => {
    const ctx = polledContext<unknown>({});
    const meter = simMeter({ protocol: 'cjt188', address: '00000000000004', initialM3: 80, reverse: true }, ctx.now);
    const device = cjt188(ctx, '4');
    for (let i = 0; i < 3; i++) {
      poll(device, meter, ctx.now);
      ctx.now += 4 * H;
    }
    const intervals = ctx.readings.slice(1).map((r) => r.fields.volume_interval_m3 as number);
    expect(intervals.every((m3) => m3 < 0)).toBe(true);
    expect(ctx.events.map((e) => e.type)).toEqual(['meter.reverse_flow']);
  });

  it('keeps the previous read across a restart and sees a replaced meter', () => {
    const stored = new Map<string, unknown>();
    const ctx1 = polledContext<unknown>({}, stored);
    const old = simMeter({ protocol: 'cjt188', address: '00000000000005', initialM3: 4321 }, ctx1.now);
    poll(cjt188(ctx1, '5'), old, ctx1.now);

    // the gateway restarts: a new driver instance, the same store
    const ctx2 = polledContext<unknown>({}, stored);
    ctx2.now = ctx1.now + H;
    poll(cjt188(ctx2, '5'), old, ctx2.now);
    expect(ctx2.readings[0]?.fields.volume_interval_m3).toBeGreaterThanOrEqual(0);

    // the meter is swapped for a new one with the same address, starting near zero
    const fresh = simMeter({ protocol: 'cjt188', address: '00000000000005', initialM3: 0.05 }, ctx2.now);
    ctx2.now += H;
    const device = cjt188(ctx2, '5');
    poll(device, fresh, ctx2.now);
    expect(ctx2.readings[1]?.fields.volume_interval_m3).toBeUndefined();
    expect(ctx2.events.map((e) => e.type)).toEqual(['meter.replaced']);
    ctx2.now += H;
    poll(device, fresh, ctx2.now);
    expect(ctx2.readings[2]?.fields.volume_interval_m3).toBeGreaterThanOrEqual(0);
  });

  it('raises valve closed and opened on changes, not for the state found on the first read', () => {
    const ctx = polledContext<unknown>({});
    const device = cjt188(ctx, '8');
    const at = (valveClosed: boolean) =>
      simMeter({ protocol: 'cjt188', address: '00000000000008', initialM3: 300, valveClosed }, ctx.now);
    poll(device, at(true), ctx.now);
    ctx.now += H;
    poll(device, at(true), ctx.now);
    expect(ctx.events).toEqual([]);
    ctx.now += H;
    poll(device, at(false), ctx.now);
    ctx.now += H;
    poll(device, at(true), ctx.now);
    expect(ctx.readings.map((r) => r.fields.valve_open)).toEqual([false, false, true, false]);
    expect(ctx.events.map((e) => [e.type, e.severity])).toEqual([
      ['meter.valve_opened', 'info'],
      ['meter.valve_closed', 'warning'],
    ]);
  });

  it('validates options with the path of the mistake', () => {
    const r = cjt188WaterMeter.optionsSchema.safeParse({ address: '12AB' });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(['address']);
  });
});

describe('modbus-water-meter', () => {
  const options = modbusWaterMeter.optionsSchema.parse({ unit: 9 });

  it('reads net volume, reverse total, flow, pressure, temperature, battery and valve from the register map', () => {
    const ctx = polledContext(options);
    const meter = simMeter({ protocol: 'modbus', address: '9', initialM3: 500 }, ctx.now);
    const device = modbusWaterMeter.createPolled(ctx);
    poll(device, meter, ctx.now);
    const f = ctx.readings[0]?.fields ?? {};
    expect(f.volume_m3).toBeCloseTo(500, 3);
    expect(f.volume_reverse_m3).toBe(0);
    expect(f.pressure_mpa).toBe(0.32);
    expect(f.temperature_c).toBe(14.5);
    expect(f.battery_v).toBe(3.6);
    expect(f.valve_open).toBe(true);
    expect(f.battery_low).toBe(false);
    expect(typeof f.flow_m3h).toBe('number');
    ctx.now += 2 * H;
    poll(device, meter, ctx.now);
    expect(ctx.readings[1]?.fields.volume_interval_m3).toBeGreaterThan(0);
  });

  it('turns an exception answer into an event and keeps the meter', () => {
    const ctx = polledContext(options);
    const meter = simMeter({ protocol: 'modbus', address: '9' }, ctx.now);
    const device = modbusWaterMeter.createPolled(ctx);
    poll(device, meter, ctx.now, modbusException(9, 0x03, 0x02));
    expect(ctx.readings).toEqual([]);
    expect(ctx.events).toMatchObject([{ type: 'meter.error_response', data: { exception: 2 } }]);
  });

  it('sees a replacement by the meter number even when the totals look continuous', () => {
    const stored = new Map<string, unknown>();
    const ctx = polledContext(options, stored);
    poll(
      modbusWaterMeter.createPolled(ctx),
      simMeter({ protocol: 'modbus', address: '9', initialM3: 100 }, ctx.now),
      ctx.now,
    );
    // same unit id, another meter number: the simulator derives the number from the address, so give the
    // store a different serial for the previous read
    const last = stored.get('last-read') as { serial: string };
    stored.set('last-read', { ...last, serial: '9999999999999999' });
    ctx.now += H;
    poll(
      modbusWaterMeter.createPolled(ctx),
      simMeter({ protocol: 'modbus', address: '9', initialM3: 100.2 }, ctx.now),
      ctx.now,
    );
    expect(ctx.events.map((e) => e.type)).toEqual(['meter.replaced']);
  });
});

describe('sample-interval command on a meter', () => {
  it('changes the poll interval at run time, polls soon when it shrinks, and goes back on "default"', async () => {
    const ctx = polledContext<unknown>({});
    const options = cjt188WaterMeter.optionsSchema.parse({ address: '1', pollInterval: '15m' });
    const device = cjt188WaterMeter.createPolled({ ...ctx, options } as never);
    let soon = 0;
    device.bindPollSoon?.(() => soon++);
    expect(device.pollIntervalMs).toBe(900_000);
    const faster = await device.command?.({ name: 'sample-interval', id: 'c1', args: { interval: '5s' } });
    expect(faster).toEqual({ interval: 5000, previous: 900_000, default: 900_000 });
    expect(device.pollIntervalMs).toBe(5000);
    expect(soon).toBe(1);
    await device.command?.({ name: 'sample-interval', args: { interval: 'default' } });
    expect(device.pollIntervalMs).toBe(900_000);
    expect(soon).toBe(1);
  });

  it('falls back to the bus interval when the meter has none, and refuses what a meter cannot do', async () => {
    const ctx = polledContext(modbusWaterMeter.optionsSchema.parse({ unit: 3 }));
    const device = modbusWaterMeter.createPolled(ctx);
    expect(device.pollIntervalMs).toBeUndefined();
    await device.command?.({ name: 'sample-interval', args: { interval: 2000 } });
    expect(device.pollIntervalMs).toBe(2000);
    await device.command?.({ name: 'sample-interval', args: { interval: 'default' } });
    expect(device.pollIntervalMs).toBeUndefined();
    await expect(device.command?.({ name: 'sample-interval', args: { interval: '10ms' } })).rejects.toMatchObject({
      code: 'BAD_COMMAND',
    });
    await expect(device.command?.({ name: 'capture', args: {} })).rejects.toMatchObject({
      code: 'COMMAND_UNSUPPORTED',
    });
  });
});
