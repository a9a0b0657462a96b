import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cjt188Device, modbusReadDevice } from '../../../drivers/bus-poller/adapters.js';
import { createBusPoller } from '../../../drivers/bus-poller/poller.js';
import { backoffDelayMs, modbusSilenceMs, silenceMs, wireTimeMs } from '../../../drivers/bus-poller/timing.js';
import { encodeReadRequest } from '../../../drivers/cjt188/codec.js';
import { encodeRequest, encodeResponse, type RtuResponse } from '../../../drivers/modbus/codec-rtu.js';
import { silentLogger } from '../../../drivers/sdk/log.js';
import { cjt188Answer, createScriptedBus } from './scripted-bus.js';

const read = (unit: number, quantity = 2) => encodeRequest({ kind: 'read', unit, function: 3, address: 0, quantity });
const answer = (unit: number, registers: number[], fn: 3 | 4 = 3) =>
  encodeResponse({ kind: 'read', unit, function: fn, registers });

describe('modbus read adapter', () => {
  const device = modbusReadDevice({ id: 'u1', unit: 1, function: 3, address: 0, quantity: 2, onAnswer: () => {} });
  const sent = device.request();

  it('claims only the answer of its unit, function and register count', () => {
    expect(device.match(answer(1, [1, 2]), sent)).toEqual({
      verdict: 'mine',
      value: { kind: 'read', unit: 1, function: 3, registers: [1, 2] },
    });
    expect(device.match(answer(2, [1, 2]), sent).verdict).toBe('not-mine');
    expect(device.match(answer(1, [1, 2], 4), sent).verdict).toBe('not-mine');
    expect(device.match(answer(1, [1, 2, 3]), sent).verdict).toBe('not-mine');
  });

  it('takes an exception of its unit as its answer, its own request as an echo, another request as not mine', () => {
    const exception = encodeResponse({
      kind: 'exception',
      unit: 1,
      function: 3,
      exceptionCode: 2,
      exceptionName: 'illegal data address',
    });
    expect(device.match(exception, sent).verdict).toBe('mine');
    expect(device.match(sent, sent).verdict).toBe('echo');
    expect(device.match(read(7), sent).verdict).toBe('not-mine');
    const bad = Buffer.from(answer(1, [1, 2]));
    bad[3] = 0xff;
    expect(device.match(bad, sent)).toMatchObject({ verdict: 'refused', error: { reason: 'bad-checksum' } });
  });
});

describe('cjt188 adapter', () => {
  const device = cjt188Device({ id: 'm', meterType: 0x10, address: '00000012345678', onAnswer: () => {} });
  const sent = device.request();

  it('claims the 901F answer of its address, calls its own request an echo, refuses a bad checksum', () => {
    expect(device.match(cjt188Answer('00000012345678', 5), sent)).toMatchObject({
      verdict: 'mine',
      value: { kind: 'metering-data', address: '00000012345678', cumulativeFlow: { value: 5, unit: 'm³' } },
    });
    expect(device.match(cjt188Answer('00000012345679', 5), sent).verdict).toBe('not-mine');
    expect(device.match(sent.subarray(3), sent).verdict).toBe('echo');
    const bad = cjt188Answer('00000012345678', 5);
    bad[12] = 0x99;
    expect(device.match(bad, sent)).toMatchObject({ verdict: 'refused', error: { reason: 'bad-checksum' } });
  });

  it('numbers its requests (SER) and with matchSer refuses an answer to an earlier one', () => {
    const strict = cjt188Device({
      id: 's',
      meterType: 0x10,
      address: '00000012345678',
      matchSer: true,
      onAnswer: () => {},
    });
    expect(strict.request()).toEqual(encodeReadRequest({ meterType: 0x10, address: '00000012345678', ser: 0 }));
    const second = strict.request();
    expect(second).toEqual(encodeReadRequest({ meterType: 0x10, address: '00000012345678', ser: 1 }));
    expect(strict.match(cjt188Answer('00000012345678', 5, 0), second).verdict).toBe('not-mine');
    expect(strict.match(cjt188Answer('00000012345678', 5, 1), second).verdict).toBe('mine');
  });
});

describe('timing', () => {
  it('computes character times, Modbus t3.5 and backoff', () => {
    expect(wireTimeMs(8, 2400)).toBeCloseTo((8 * 11 * 1000) / 2400, 9);
    expect(modbusSilenceMs(9600)).toBeCloseTo((3.5 * 11 * 1000) / 9600, 9);
    expect(modbusSilenceMs(115200)).toBe(1.75);
    expect(silenceMs({ charTimes: 3.5, baud: 9600, bitsPerChar: 10 })).toBeCloseTo((3.5 * 10 * 1000) / 9600, 9);
    const policy = { intervalMs: 1000, factor: 2, capMs: 5000 };
    expect([0, 1, 2, 3, 4].map((n) => backoffDelayMs(policy, n))).toEqual([1000, 2000, 4000, 5000, 5000]);
  });
});

describe('bus poller with Modbus units', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a late answer of unit 1 arriving while unit 2 is asked is not credited to unit 2', async () => {
    const bus = createScriptedBus((req) => {
      if (req[0] === 1) return [{ bytes: answer(1, [11, 11]), delayMs: 120 }];
      return [
        { bytes: req, delayMs: 2 }, // the RS-485 adapter echoes what we sent
        { bytes: answer(2, [22, 22]), delayMs: 60 },
      ];
    });
    const got: { id: string; response: RtuResponse }[] = [];
    const devices = [1, 2].map((unit) =>
      modbusReadDevice({
        id: `u${unit}`,
        unit,
        function: 3,
        address: 0,
        quantity: 2,
        onAnswer: (response) => got.push({ id: `u${unit}`, response }),
      }),
    );
    const poller = createBusPoller({
      transport: bus.transport,
      devices,
      log: silentLogger(),
      clock: { now: () => Date.now() },
      pollIntervalMs: 1_000,
      responseTimeoutMs: 100,
      silence: { charTimes: 3.5, baud: 9600 },
      line: { baud: 9600 },
      retries: 0,
    });
    await poller.start();
    await vi.advanceTimersByTimeAsync(500);
    await poller.stop();
    expect(got.map((g) => [g.id, g.response.kind === 'read' ? g.response.registers : []])).toEqual([['u2', [22, 22]]]);
    const c = poller.counters();
    expect(c.discarded.late).toBe(1);
    expect(c.discarded.echo).toBe(1);
    expect(c.failedPolls).toBe(1);
  });
});
