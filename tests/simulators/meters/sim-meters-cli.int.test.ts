/** `citygrid sim meters` as a real process on a socat pty: a mixed bus with a silent and a dead-battery meter. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SerialPort } from 'serialport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPtyPair, type PtyPair } from '../../../simulators/common/pty.js';
import { type CliProcess, startCli } from '../../helpers/cli-process.js';

const bytes = (h: string) => Buffer.from(h.replace(/\s+/g, ''), 'hex');

describe('citygrid sim meters', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cg-simmeters-'));
  let pty: PtyPair;
  let sim: CliProcess;
  let port: SerialPort;
  let received = Buffer.alloc(0);

  async function ask(request: string, want: number, ms = 3000): Promise<Buffer> {
    received = Buffer.alloc(0);
    port.write(bytes(request));
    const deadline = Date.now() + ms;
    while (received.length < want && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    return received;
  }

  beforeAll(async () => {
    pty = await openPtyPair(dir);
    sim = startCli(
      [
        'sim',
        'meters',
        '--out',
        pty.a,
        '--count',
        '4',
        '--protocol',
        'mix',
        '--silent',
        'cjt188:3',
        '--dead-battery',
        '1',
      ],
      { logFile: path.join(dir, 'sim.log') },
    );
    await sim.waitFor(/sim meters: 4 meters on .* at 2400 8E1/, 15_000);
    port = new SerialPort({ path: pty.b, baudRate: 2400, parity: 'even', autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    port.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
    });
  }, 20_000);

  afterAll(async () => {
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
    await sim?.stop();
    await pty?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('meter cjt188:1 answers 901F with the low-battery bit; the silent cjt188:3 does not', async () => {
    const answer = await ask('FE FE FE 68 10 01 00 00 00 00 00 00 01 03 90 1F 05 31 16', 37);
    expect(answer.subarray(2, 16).toString('hex')).toBe('6810010000000000008116901f05');
    expect(answer[33] ?? 0).toBe(0x04);
    expect(await ask('FE FE FE 68 10 03 00 00 00 00 00 00 01 03 90 1F 05 33 16', 1, 800)).toHaveLength(0);
  });

  it('Modbus unit 2 answers a read of the valve word', async () => {
    // 02 03 00 1C 00 01 + CRC
    const answer = await ask('02 03 00 1C 00 01 45 FF', 7);
    expect(answer.subarray(0, 5).toString('hex')).toBe('0203020001');
  });

  it('prints its counters when stopped', async () => {
    expect(await sim.stop()).toBe(0);
    expect(sim.output()).toMatch(/stopped; 3 requests, 2 answers/);
  });
});
