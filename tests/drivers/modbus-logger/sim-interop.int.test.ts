/**
 * Our Modbus TCP client and register-map decoder against the structure simulator, which encodes
 * its registers with its own code (`citygrid sim structures`, a real process): every shipped model
 * decodes with quality good and values in range, requests pipelined 4 deep, and the bridge's sample
 * buffer counter advances.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeRegisters, registerMapSchema } from '../../../drivers/modbus/register-map.js';
import { ModbusTcpClient } from '../../../drivers/modbus/tcp-client.js';
import { readU32 } from '../../../drivers/modbus/values.js';
import { LOGGER_MODELS } from '../../../drivers/modbus-logger/models/index.js';
import { silentLogger } from '../../../drivers/sdk/log.js';
import { type CliProcess, eventually, startCli } from '../../helpers/cli-process.js';

const dir = mkdtempSync(path.join(tmpdir(), 'cg-sim-interop-'));
let sim: CliProcess;
let loggers: { model: string; port: number; unit: number }[];

beforeAll(async () => {
  sim = startCli(
    ['sim', 'structures', '--bridges', '1', '--tunnels', '1', '--underpasses', '1', '--road-weather', '1'],
    {
      logFile: path.join(dir, 'sim.log'),
    },
  );
  await sim.waitFor(/sim structures: \d+ loggers/, 30_000);
  loggers = [...sim.output().matchAll(/(\S+)\s+modbus-tcp 127\.0\.0\.1:(\d+) unit (\d+)/g)].map((m) => ({
    model: m[1] as string,
    port: Number(m[2]),
    unit: Number(m[3]),
  }));
}, 40_000);

afterAll(async () => {
  await sim?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function client(port: number, unit: number): Promise<ModbusTcpClient> {
  const c = new ModbusTcpClient({ host: '127.0.0.1', port, unit, maxInFlight: 4, log: silentLogger() });
  c.start();
  await eventually(async () => (c.isConnected ? true : undefined), 10_000, 'connection');
  return c;
}

describe('client + register maps against citygrid sim structures', () => {
  it('serves one logger of every shipped model', () => {
    expect(loggers.map((l) => l.model).sort()).toEqual(Object.keys(LOGGER_MODELS).sort());
  });

  it('every model decodes with quality good and every value in its physical range', async () => {
    for (const l of loggers) {
      const map = registerMapSchema.parse(LOGGER_MODELS[l.model]);
      const c = await client(l.port, l.unit);
      try {
        const blocks = await Promise.all(map.blocks.map((b) => c.read(b.function, b.start, b.count)));
        const { fields, bad } = decodeRegisters(map, blocks);
        expect(bad, l.model).toEqual([]);
        for (const p of map.points) {
          expect(fields[p.field], `${l.model} ${p.field}`).toBeDefined();
          if (p.range) {
            expect(fields[p.field] as number).toBeGreaterThanOrEqual(p.range.min);
            expect(fields[p.field] as number).toBeLessThanOrEqual(p.range.max);
          }
        }
        expect(c.counters).toMatchObject({ responses: map.blocks.length, unknownTransaction: 0, mismatched: 0 });
      } finally {
        await c.stop();
      }
    }
  });

  it("the bridge's sample counter advances between two buffer reads, and the buffer moves with it", async () => {
    const bridge = loggers.find((l) => l.model === 'BRG-DL-1');
    const w = registerMapSchema.parse(LOGGER_MODELS['BRG-DL-1']).waveform;
    if (!bridge || !w) throw new Error('no bridge logger or no waveform in its map');
    const c = await client(bridge.port, bridge.unit);
    try {
      const first = await c.read(w.function, w.counterAddress, w.count + 2);
      await new Promise((r) => setTimeout(r, 1000));
      const second = await c.read(w.function, w.counterAddress, w.count + 2);
      const advanced = readU32(second, 0) - readU32(first, 0);
      expect(advanced).toBeGreaterThan(0);
      // fewer new samples than the buffer holds: its start moved by exactly that many
      if (advanced < w.count) expect(second.slice(2, 2 + w.count - advanced)).toEqual(first.slice(2 + advanced));
      else expect(second.slice(2)).not.toEqual(first.slice(2));
    } finally {
      await c.stop();
    }
  });
});
