/**
 * Interop: Debian's mbpoll (libmodbus; a Modbus master we did not write) reads every shipped
 * logger model from the structure simulators, over Modbus TCP and as RTU slaves on a socat pty,
 * and gets the values the simulator says it serves. Registers are read as hex and decoded here
 * with each point's word order written out; for the float blocks mbpoll's own float decoding
 * (-B = ABCD, default = CDAB) must agree as well. The sim clock is frozen so the values hold
 * still between the read and the comparison.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerMapSchema } from '../../../drivers/modbus/register-map.js';
import { openPtyPair, type PtyPair } from '../../../simulators/common/pty.js';
import { type StructureSim, startStructureSim } from '../../../simulators/structures/city.js';
import type { SimLogger } from '../../../simulators/structures/logger.js';

const FROZEN = Date.UTC(2026, 0, 15, 1, 30, 0); // 09:30 in Hangzhou
const run = promisify(execFile);

/** mbpoll's `[ref]: value` lines; "64936 (-600)" keeps the raw value. */
async function mbpoll(args: string[]): Promise<Map<number, string>> {
  const { stdout } = await run('mbpoll', [...args, '-0', '-1', '-o', '2'], { timeout: 10_000 });
  const out = new Map<number, string>();
  for (const m of stdout.matchAll(/^\[(\d+)\]:\s+(\S+)/gm)) out.set(Number(m[1]), m[2] as string);
  return out;
}

/** One 32-bit value's bytes A B C D from two registers in the named wire order. */
function abcd(r1: number, r2: number, order: string): Buffer {
  const wire = [r1 >> 8, r1 & 0xff, r2 >> 8, r2 & 0xff];
  // position on the wire of A, B, C, D (../shared/domain/2-modbus.md §2.4)
  const pos: Record<string, number[]> = {
    ABCD: [0, 1, 2, 3],
    CDAB: [2, 3, 0, 1],
    BADC: [1, 0, 3, 2],
    DCBA: [3, 2, 1, 0],
  };
  return Buffer.from((pos[order] as number[]).map((p) => wire[p] as number));
}

/** Reads each block of the logger's map with mbpoll (hex) and decodes every point by hand. */
async function readAndCheck(logger: SimLogger, target: string[]): Promise<number> {
  const map = registerMapSchema.parse(logger.map);
  const served = logger.values();
  const regs = new Map<number, number>();
  for (const b of map.blocks) {
    const got = await mbpoll([
      ...target,
      '-a',
      String(logger.unit),
      '-t',
      '3:hex',
      '-r',
      String(b.start),
      '-c',
      String(b.count),
    ]);
    expect(got.size, `${logger.id} block ${b.start}`).toBe(b.count);
    for (const [ref, text] of got) regs.set(ref, Number.parseInt(text, 16));
  }
  let checked = 0;
  for (const p of map.points) {
    const r1 = regs.get(p.address) as number;
    const r2 = regs.get(p.address + 1) as number;
    let raw: number;
    if (p.type === 'f32') raw = abcd(r1, r2, p.order).readFloatBE(0);
    else if (p.type === 'u32') raw = abcd(r1, r2, p.order).readUInt32BE(0);
    else if (p.type === 's16') raw = r1 >= 0x8000 ? r1 - 0x10000 : r1;
    else raw = r1;
    const want = served[p.field] as number;
    if (p.enum) expect(raw, `${logger.id} ${p.field}`).toBe(want);
    else if (p.type === 'f32') expect(raw * p.scale + p.offset, `${logger.id} ${p.field}`).toBeCloseTo(want, 4);
    else
      expect(Math.abs(raw * p.scale + p.offset - want), `${logger.id} ${p.field}`).toBeLessThanOrEqual(
        p.scale / 2 + 1e-9,
      );
    if (p.qualityRegister !== undefined) expect(regs.get(p.qualityRegister), `${logger.id} ${p.field} quality`).toBe(0);
    checked++;
  }
  // mbpoll's own float decoding of the float points agrees (it names ABCD "big endian" and CDAB its default)
  for (const p of map.points.filter((x) => x.type === 'f32')) {
    const flags = p.order === 'ABCD' ? ['-B'] : [];
    const got = await mbpoll([
      ...target,
      '-a',
      String(logger.unit),
      '-t',
      '3:float',
      ...flags,
      '-r',
      String(p.address),
      '-c',
      '1',
    ]);
    const value = Number(got.get(p.address)) * p.scale + p.offset;
    expect(value, `${logger.id} ${p.field} (mbpoll float)`).toBeCloseTo(served[p.field] as number, 3);
  }
  return checked;
}

describe('mbpoll reads the structure simulators', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cg-mbpoll-'));
  let pty: PtyPair;
  let sim: StructureSim;

  beforeAll(async () => {
    pty = await openPtyPair(dir);
    sim = await startStructureSim({
      bridges: 1,
      tunnels: 1,
      underpasses: 1,
      roadWeather: 1,
      seed: 11,
      realNow: () => FROZEN,
      rtu: { out: pty.a, line: { baudRate: 9600, parity: 'none' } },
    });
    // some rain so the underpass has depth, the gauge an intensity and the road a state other than dry
    sim.setRain(12.5);
    sim.scene.advance(FROZEN);
  });

  afterAll(async () => {
    await sim?.stop();
    await pty?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('over Modbus TCP: every point of every model', async () => {
    let points = 0;
    for (const { logger, tcp } of sim.loggers)
      points += await readAndCheck(logger, ['-m', 'tcp', '-p', String(tcp.port), '127.0.0.1']);
    expect(points).toBe(7 + 6 + 3 + 3);
  });

  it('over Modbus RTU at 9600 8N1 on a pty: every point of every model, one bus, units 1..4', async () => {
    let points = 0;
    for (const { logger } of sim.loggers)
      points += await readAndCheck(logger, ['-m', 'rtu', '-b', '9600', '-P', 'none', '-d', '8', '-s', '1', pty.b]);
    expect(points).toBe(19);
    expect(sim.rtu?.stats.answers).toBeGreaterThanOrEqual(4);
  });

  it('over RTU: an address the logger lacks is an exception mbpoll reports', async () => {
    await expect(
      mbpoll(['-m', 'rtu', '-b', '9600', '-P', 'none', '-a', '2', '-t', '3', '-r', '0', '-c', '11', pty.b]),
    ).rejects.toMatchObject({ stderr: expect.stringMatching(/Illegal data address/) });
  });
});
