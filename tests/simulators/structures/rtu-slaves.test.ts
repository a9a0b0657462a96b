/**
 * RTU slaves on an in-memory line: answers with a valid CRC for the addressed unit only, in
 * request order, after the time they take on the wire at the line's settings; broadcast writes
 * obeyed silently; an unknown function answered with exception 01 after the line goes quiet.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SerialLine } from '../../../simulators/common/serial-line.js';
import { crc16Modbus } from '../../../simulators/meters/encoding.js';
import type { ModbusSlave } from '../../../simulators/structures/modbus-pdu.js';
import { type RtuSlaves, startRtuSlaves } from '../../../simulators/structures/rtu-slaves.js';

function frame(body: number[]): Buffer {
  const crc = crc16Modbus(Uint8Array.from(body));
  return Buffer.from([...body, crc & 0xff, crc >>> 8]);
}

function memoryLine() {
  let listener: (chunk: Buffer) => void = () => undefined;
  const written: Buffer[] = [];
  const line: SerialLine = {
    write: (data) => void written.push(Buffer.from(data)),
    onData: (l) => {
      listener = l;
    },
    close: async () => undefined,
  };
  return { line, written, send: (b: Buffer) => listener(b) };
}

/** Holding register 0x10 writable; input registers 0..3 = unit * 100 + address. */
function slave(unit: number): ModbusSlave & { holding: number } {
  return {
    holding: 0,
    read(table, start, quantity) {
      if (table === 'holding') return start === 0x10 && quantity === 1 ? [this.holding] : undefined;
      if (start + quantity > 4) return undefined;
      return Array.from({ length: quantity }, (_, i) => unit * 100 + start + i);
    },
    write(start, values) {
      if (start !== 0x10 || values.length !== 1) return 0x02;
      this.holding = values[0] as number;
      return undefined;
    },
  };
}

describe('RTU slaves on a line', () => {
  let slaves: RtuSlaves | undefined;
  afterEach(async () => {
    await slaves?.stop();
    vi.useRealTimers();
  });

  it('only the addressed unit answers, after turnaround plus its wire time at 9600 8N1', async () => {
    vi.useFakeTimers();
    const { line, written, send } = memoryLine();
    const a = slave(1);
    const b = slave(2);
    slaves = await startRtuSlaves({
      out: line,
      slaves: new Map([
        [1, a],
        [2, b],
      ]),
      turnaroundMs: 5,
    });
    send(frame([2, 4, 0, 1, 0, 2]));
    // 9 bytes × 10 bits / 9600 bps = 9.4 ms on the wire, after 5 ms
    await vi.advanceTimersByTimeAsync(13);
    expect(written).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(2);
    expect(written.map((w) => w.toString('hex'))).toEqual([frame([2, 4, 4, 0, 201, 0, 202]).toString('hex')]);
    send(frame([9, 4, 0, 0, 0, 1]));
    await vi.advanceTimersByTimeAsync(100);
    expect(written).toHaveLength(1); // no unit 9 on this line
  });

  it('slows down with the baud rate and the parity bit', async () => {
    vi.useFakeTimers();
    const { line, written, send } = memoryLine();
    slaves = await startRtuSlaves({
      out: line,
      slaves: new Map([[1, slave(1)]]),
      line: { baudRate: 2400, parity: 'even' },
      turnaroundMs: 5,
    });
    send(frame([1, 4, 0, 0, 0, 1]));
    // 7 bytes × 11 bits / 2400 bps = 32.1 ms, after 5 ms
    await vi.advanceTimersByTimeAsync(36);
    expect(written).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(2);
    expect(written).toHaveLength(1);
  });

  it('answers back-to-back requests in order, one talker at a time', async () => {
    vi.useFakeTimers();
    const { line, written, send } = memoryLine();
    slaves = await startRtuSlaves({
      out: line,
      slaves: new Map([
        [1, slave(1)],
        [2, slave(2)],
      ]),
      wireTime: false,
    });
    send(Buffer.concat([frame([2, 4, 0, 0, 0, 1]), frame([1, 4, 0, 3, 0, 1])]));
    await vi.advanceTimersByTimeAsync(50);
    expect(written.map((w) => w.subarray(0, 5).toString('hex'))).toEqual(['02040200c8', '0104020067']);
  });

  it('obeys a broadcast write without answering', async () => {
    vi.useFakeTimers();
    const { line, written, send } = memoryLine();
    const a = slave(1);
    const b = slave(2);
    slaves = await startRtuSlaves({
      out: line,
      slaves: new Map([
        [1, a],
        [2, b],
      ]),
    });
    send(frame([0, 6, 0, 0x10, 0, 7]));
    await vi.advanceTimersByTimeAsync(100);
    expect([a.holding, b.holding]).toEqual([7, 7]);
    expect(written).toHaveLength(0);
    expect(slaves.stats.broadcasts).toBe(1);
  });

  it('answers a function it does not support with exception 01 once the line is quiet', async () => {
    vi.useFakeTimers();
    const { line, written, send } = memoryLine();
    slaves = await startRtuSlaves({ out: line, slaves: new Map([[1, slave(1)]]), wireTime: false, silenceMs: 20 });
    send(frame([1, 0x2b, 0x0e, 0x01, 0x00]));
    await vi.advanceTimersByTimeAsync(10);
    expect(written).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(30);
    expect(written.map((w) => w.toString('hex'))).toEqual([frame([1, 0xab, 0x01]).toString('hex')]);
  });

  it('refuses unit ids outside 1..247', async () => {
    const { line } = memoryLine();
    await expect(startRtuSlaves({ out: line, slaves: new Map([[0, slave(0)]]) })).rejects.toThrow(/1\.\.247/);
  });
});
