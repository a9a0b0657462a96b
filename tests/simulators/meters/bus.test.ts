/** startMeterBus on an in-memory line: answer order, wire-time delay, silence reset, stats. */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../simulators/common/random.js';
import { type BusLine, hitByBurst, junkBurst, startMeterBus } from '../../../simulators/meters/bus.js';

const bytes = (h: string) => Buffer.from(h.replace(/\s+/g, ''), 'hex');

function memoryLine() {
  const written: { at: number; data: Buffer }[] = [];
  let listener: (chunk: Buffer) => void = () => undefined;
  const line: BusLine = {
    write: (data) => void written.push({ at: Date.now(), data }),
    onData: (l) => {
      listener = l;
    },
    close: async () => undefined,
  };
  return { line, written, send: (h: string) => listener(bytes(h)) };
}

const until = async (cond: () => boolean, ms = 2000) => {
  const deadline = Date.now() + ms;
  while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
};

describe('meter bus', () => {
  it('answers in request order, each after its turnaround and wire time', async () => {
    const { line, written, send } = memoryLine();
    const bus = await startMeterBus({
      out: line,
      meters: [
        { protocol: 'modbus', address: '1' },
        { protocol: 'modbus', address: '3' },
      ],
      turnaroundMs: 0,
      baudRate: 1100, // 10 ms a byte
    });
    const t0 = Date.now();
    send('03 03 00 01 00 06 95 EA 01 04 00 00 00 02 71 CB 01 03 00 01 00 02 95 CB');
    await until(() => written.length === 3);
    await bus.stop();
    expect(written.map((w) => w.data.subarray(0, 2).toString('hex'))).toEqual(['0303', '0184', '0103']);
    // 17 bytes then 5 then 9: each waits its own wire time after the previous one
    expect((written[0]?.at ?? 0) - t0).toBeGreaterThanOrEqual(165);
    expect((written[2]?.at ?? 0) - t0).toBeGreaterThanOrEqual(300);
    expect(bus.stats).toMatchObject({ requests: 3, answers: 3, bytesWritten: 31, corruptedBytes: 0 });
  });

  it('drops a half-received request after a silence', async () => {
    const { line, written, send } = memoryLine();
    const bus = await startMeterBus({
      out: line,
      meters: [{ protocol: 'modbus', address: '3' }],
      turnaroundMs: 0,
      wireTime: false,
      silenceMs: 20,
    });
    send('03 03 00 01');
    await new Promise((r) => setTimeout(r, 60));
    send('00 06 95 EA'); // the rest of the frame after the gap: not a request any more
    send('03 03 00 01 00 06 95 EA');
    await until(() => written.length === 1);
    await new Promise((r) => setTimeout(r, 30));
    await bus.stop();
    expect(bus.stats.requests).toBe(1);
    expect(bus.stats.discardedBytes).toBeGreaterThanOrEqual(4);
  });

  it('refuses two meters with one address and a noise outside [0, 1]', async () => {
    const { line } = memoryLine();
    await expect(
      startMeterBus({
        out: line,
        meters: [
          { protocol: 'modbus', address: '1' },
          { protocol: 'modbus', address: '1' },
        ],
      }),
    ).rejects.toThrow(/twice/);
    await expect(startMeterBus({ out: line, meters: [], noise: 2 })).rejects.toThrow(/noise/);
  });
});

describe('burst noise', () => {
  it('writes junk that never fakes a frame start', () => {
    const random = seededRandom(3);
    for (let i = 0; i < 2000; i++) {
      const junk = junkBurst(random);
      expect(junk.length).toBeGreaterThanOrEqual(1);
      expect(junk.length).toBeLessThanOrEqual(6);
      expect(junk.includes(0x68) || junk.includes(0xfe)).toBe(false);
    }
  });

  it('flips one to three neighbouring bytes of a frame', () => {
    const random = seededRandom(4);
    const frame = Buffer.alloc(40, 0x11);
    for (let i = 0; i < 500; i++) {
      const { data, corrupted } = hitByBurst(frame, random);
      const changed = [...data].flatMap((b, k) => (b !== 0x11 ? [k] : []));
      expect(changed.length).toBe(corrupted);
      expect(corrupted).toBeGreaterThanOrEqual(1);
      expect(corrupted).toBeLessThanOrEqual(3);
      expect((changed.at(-1) ?? 0) - (changed[0] ?? 0)).toBeLessThan(3);
    }
  });
});
