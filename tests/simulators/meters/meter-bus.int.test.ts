/**
 * The meter bus on a real socat pty pair: requests written by hand (the domain doc's worked
 * frames, as hex) to the other end with serialport, answers checked byte by byte.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SerialPort } from 'serialport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPtyPair, type PtyPair } from '../../../simulators/common/pty.js';
import { type MeterBus, startMeterBus } from '../../../simulators/meters/bus.js';

const bytes = (h: string) => Buffer.from(h.replace(/\s+/g, ''), 'hex');
const sum = (b: Buffer) => b.reduce((a, x) => (a + x) & 0xff, 0);

function crc16(b: Buffer): number {
  let crc = 0xffff;
  for (const x of b) {
    crc ^= x;
    for (let i = 0; i < 8; i++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

/** The master's end of the line: everything received, in order. */
class Master {
  received = Buffer.alloc(0);
  constructor(readonly port: SerialPort) {
    port.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
    });
  }
  static async open(p: string): Promise<Master> {
    const port = new SerialPort({ path: p, baudRate: 2400, parity: 'even', autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    return new Master(port);
  }
  /** Writes `request` and collects what arrives until `want` bytes came or `ms` passed. */
  async ask(request: Buffer, want: number, ms = 3000): Promise<Buffer> {
    this.received = Buffer.alloc(0);
    this.port.write(request);
    const deadline = Date.now() + ms;
    while (this.received.length < want && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    return this.received;
  }
  close(): Promise<void> {
    return new Promise((resolve) => this.port.close(() => resolve()));
  }
}

describe('meter bus on a real pty', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cg-meterbus-'));
  let pty: PtyPair;
  let bus: MeterBus;
  let master: Master;

  beforeAll(async () => {
    pty = await openPtyPair(dir);
    bus = await startMeterBus({
      out: pty.a,
      meters: [
        { protocol: 'cjt188', address: '00000012345678', initialM3: 1234.56, settlementM3: 1200 },
        { protocol: 'modbus', address: '3', initialM3: 1234.5 },
        { protocol: 'cjt188', address: '00000000000012', silent: true },
      ],
    });
    master = await Master.open(pty.b);
  });

  afterAll(async () => {
    await master?.close();
    await bus?.stop();
    await pty?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('opens the line 2400 8E1 for a CJ/T 188 bus', () => {
    expect([bus.baudRate, bus.parity]).toEqual([2400, 'even']);
  });

  it('answers a CJ/T 188 read-data request (Ex 1) with a valid 901F frame', async () => {
    const started = Date.now();
    const answer = await master.ask(bytes('FE FE FE 68 10 78 56 34 12 00 00 00 01 03 90 1F 01 40 16'), 37);
    // turnaround plus 37 bytes at 2400 baud, 11 bits each (~170 ms)
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(answer.length).toBe(37);
    const frame = answer.subarray(2);
    expect(answer.subarray(0, 2).toString('hex')).toBe('fefe');
    expect(frame.subarray(0, 14).toString('hex')).toBe('6810785634120000008116901f01');
    expect(frame[33]).toBe(sum(frame.subarray(0, 33)));
    expect(frame[34]).toBe(0x16);
    const current = Number(Buffer.from(frame.subarray(14, 18)).reverse().toString('hex')) / 100;
    expect(current).toBeGreaterThanOrEqual(1234.56);
    expect(current).toBeLessThan(1235);
    expect(frame[18]).toBe(0x2c);
    expect(frame.subarray(19, 24).toString('hex')).toBe('000012002c');
    expect(frame[31]).toBe(0x00); // valve open, battery fine
  });

  it('answers a Modbus 03 read (the Xintai worked request) with a valid CRC', async () => {
    const answer = await master.ask(bytes('03 03 00 01 00 06 95 EA'), 17);
    expect(answer.length).toBe(17);
    expect(answer.subarray(0, 3).toString('hex')).toBe('03030c');
    expect(answer.readUInt16LE(15)).toBe(crc16(answer.subarray(0, 15)));
    const forward = Buffer.from(answer.subarray(3, 7)).readFloatLE(0);
    expect(forward).toBeGreaterThanOrEqual(1234.5);
    expect(forward).toBeLessThan(1235);
    const exception = await master.ask(bytes('03 03 00 00 00 02 C5 E9'), 5);
    expect(exception.toString('hex')).toBe(Buffer.from([3, 0x83, 2, ...crc16le([3, 0x83, 2])]).toString('hex'));
  });

  it('a silent meter gives nothing', async () => {
    const answer = await master.ask(bytes('FE FE 68 10 12 00 00 00 00 00 00 01 03 90 1F 00 3D 16'), 1, 800);
    expect(answer.length).toBe(0);
  });
});

function crc16le(body: number[]): number[] {
  const crc = crc16(Buffer.from(body));
  return [crc & 0xff, crc >>> 8];
}

describe('meter bus noise on a real pty', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cg-meternoise-'));
  let pty: PtyPair;
  let bus: MeterBus;
  let master: Master;
  const meant: Buffer[] = [];

  beforeAll(async () => {
    pty = await openPtyPair(dir);
    bus = await startMeterBus({
      out: pty.a,
      meters: [{ protocol: 'modbus', address: '1' }],
      noise: 0.05,
      noiseModel: 'byte',
      baudRate: 115200,
      turnaroundMs: 1,
      seed: 42,
      onAnswer: (_m, _r, answer) => meant.push(answer),
    });
    master = await Master.open(pty.b);
  });

  afterAll(async () => {
    await master?.close();
    await bus?.stop();
    await pty?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('corrupts about the requested fraction of the bytes it writes', async () => {
    const requests = 400;
    // whole map, 61-byte answers: 400 x 61 = 24 400 bytes on the line
    const read = Buffer.from([1, 3, 0, 1, 0, 0x1c, ...crc16le([1, 3, 0, 1, 0, 0x1c])]);
    const received = await master.ask(Buffer.concat(Array(requests).fill(read)), requests * 61, 20_000);
    expect(received.length).toBe(requests * 61);
    const clean = Buffer.concat(meant);
    let differing = 0;
    for (let i = 0; i < clean.length; i++) if (clean[i] !== received[i]) differing++;
    const fraction = differing / clean.length;
    expect(fraction).toBeGreaterThan(0.04);
    expect(fraction).toBeLessThan(0.06);
    expect(differing).toBe(bus.stats.corruptedBytes);
  });
});
