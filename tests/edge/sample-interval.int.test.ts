/**
 * cmd/sample-interval on a real `citygrid edge` process with two Modbus TCP loggers (a flood gauge
 * and a road-weather station, served by a real responder process): addressed by kind, it changes
 * the flood gauge's rate and not the other's, and `default` restores it. Rates are counted from
 * the readings the test hub stored (deduplicated by seq), over windows of a few intervals.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { topics } from '../../drivers/sdk/wire.js';
import { type CliProcess, startCli } from '../helpers/cli-process.js';
import { type ResponderProcess, startModbusTcpResponder } from '../helpers/modbus-tcp-responder.js';
import { sleep, startTestBroker, type TestBroker, TestHub, waitFor } from './mqtt-harness.js';

const address = { district: 'testd', gateway: 'gw-si' };
let dir: string;
let broker: TestBroker;
let hub: TestHub;
let responder: ResponderProcess;
let edge: CliProcess;

/** Readings of `device` the hub stored so far. */
function stored(device: string): number {
  let n = 0;
  for (const seqs of hub.stored.values())
    for (const env of seqs.values()) n += (env.readings ?? []).filter((r) => r.device === device).length;
  return n;
}

/** Readings of each device stored during the next `ms`. */
async function countDuring(ms: number): Promise<{ flood: number; road: number }> {
  const f0 = stored('SI-UP01');
  const r0 = stored('SI-RW01');
  await sleep(ms);
  return { flood: stored('SI-UP01') - f0, road: stored('SI-RW01') - r0 };
}

async function command(id: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  await hub.client.publishAsync(topics.cmd(address, 'sample-interval'), JSON.stringify({ id, ...body }), { qos: 1 });
  const result = await waitFor(
    `cmd-result ${id}`,
    () => hub.uplink('gw-si', 'cmd-result').find((m) => m.body.id === id),
    10_000,
  );
  return result.body;
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'cg-sample-interval-'));
  broker = await startTestBroker({ hub: 'hub-pw', 'gw-si': 'gw-pw' });
  hub = await TestHub.connect(broker.url, 'hub-pw');
  hub.autoAck = true;
  responder = await startModbusTcpResponder({ count: 1 });
  const port = responder.ports[0];
  writeFileSync(
    path.join(dir, 'gw.yaml'),
    stringify({
      gateway: { id: 'gw-si', district: 'testd' },
      hub: { url: broker.url, password: 'gw-pw', reconnectPeriod: '100ms' },
      dataDir: './edge-data',
      batch: { maxReadings: 10, maxDelay: '50ms' },
      devices: [
        {
          id: 'SI-UP01',
          kind: 'flood',
          driver: 'modbus-tcp-logger',
          options: { host: '127.0.0.1', port, model: 'UPS-WL-1', interval: '1s' },
        },
        {
          id: 'SI-RW01',
          kind: 'road_weather',
          driver: 'modbus-tcp-logger',
          options: { host: '127.0.0.1', port, model: 'RWS-1', interval: '1s' },
        },
      ],
    }),
  );
  edge = startCli(['edge', '--config', path.join(dir, 'gw.yaml')], { logFile: path.join(dir, 'edge.log') });
  await waitFor('first readings of both', () => stored('SI-UP01') > 0 && stored('SI-RW01') > 0, 20_000);
}, 60_000);

afterAll(async () => {
  await edge?.stop();
  await responder?.stop();
  await hub?.close();
  await broker?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('cmd/sample-interval', () => {
  it('addressed by kind, speeds up the flood gauge only; "default" restores it', async () => {
    const before = await countDuring(3000);
    expect(before.flood).toBeLessThanOrEqual(4);

    const fast = await command('em-1', { kinds: ['flood'], interval: '200ms' });
    expect(fast).toMatchObject({
      ok: true,
      devices: [{ device: 'SI-UP01', ok: true, interval: 200, previous: 1000, default: 1000 }],
    });
    const during = await countDuring(3000);
    expect(during.flood).toBeGreaterThanOrEqual(10);
    expect(during.road).toBeLessThanOrEqual(4);

    const back = await command('em-2', { kinds: ['flood'], interval: 'default' });
    expect(back).toMatchObject({ ok: true, devices: [{ device: 'SI-UP01', ok: true, interval: 1000, previous: 200 }] });
    await sleep(500);
    const after = await countDuring(3000);
    expect(after.flood).toBeLessThanOrEqual(4);
    expect(after.flood).toBeGreaterThanOrEqual(2);
  }, 40_000);

  it('addressed to one device, and a bad interval is refused with the reason', async () => {
    expect(await command('one', { device: 'SI-RW01', interval: '2s' })).toMatchObject({
      ok: true,
      device: 'SI-RW01',
      interval: 2000,
    });
    const bad = await command('bad', { device: 'SI-RW01', interval: 'fast' });
    expect(bad).toMatchObject({ ok: false });
    expect(String(bad.error)).toMatch(/"interval" must be a duration/);
  });
});
