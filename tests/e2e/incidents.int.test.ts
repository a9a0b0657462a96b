/**
 * Flood incidents across real processes (issue 10 items 1–3):
 *
 *   citygrid sim structures (3 UPS-WL-1 underpass loggers, Modbus TCP, values pinned through its
 *   control endpoint) -> citygrid edge gw-xh-01 (two gauges, xihu) and gw-gs-01 (one, gongshu)
 *   -> MQTT -> citygrid hub (incidents, case core) -> /api/incidents, /api/situation, /api/stream
 *
 * Checked: opening a flood incident for xihu sends cmd/sample-interval to the xihu gateway only
 * and its gauges' reading rate goes up, closing sends `default` and the rate comes back; rain at
 * two gauges makes the trigger propose, confirm opens it; the closure recommendation follows the
 * water depth (raised at 25 cm, lifted after the hold below 20 cm).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { findFreePort } from '../../bin/lib/ports.js';
import { type CliProcess, eventually, startCli } from '../helpers/cli-process.js';
import { consoleLogin } from '../helpers/console-session.js';
import { jsonApi } from '../helpers/json-api.js';
import { type FollowedStream, followStream } from '../helpers/sse-follow.js';
import { writeHubConfig } from '../helpers/system-configs.js';

const dir = mkdtempSync(path.join(tmpdir(), 'cg-incidents-'));
const env = {
  CG_INC_PW_XH: randomBytes(12).toString('base64url'),
  CG_INC_PW_GS: randomBytes(12).toString('base64url'),
};
const NORMAL = '2s';
const FAST_MS = 250;
let sim: CliProcess;
let hub: CliProcess;
const edges: CliProcess[] = [];
let controlUrl: string;
let httpUrl: string;
let stream: FollowedStream;
const api = jsonApi(() => httpUrl);

type Incident = {
  id: string;
  state: string;
  commands: { gateway: string; interval: number | string; state: string }[];
};

/** Pins a served value of a simulated logger (null: back to its signal). */
async function pin(logger: string, field: string, value: number | null): Promise<void> {
  const res = await fetch(`${controlUrl}/override`, { method: 'POST', body: JSON.stringify({ logger, field, value }) });
  expect(res.status).toBe(200);
}

/** Readings of a device that arrive on the stream during the next `ms`. */
async function readingsDuring(device: string, ms: number): Promise<number> {
  const from = Date.now();
  await new Promise((r) => setTimeout(r, ms));
  return stream.events.filter((e) => e.event === 'reading' && e.data.device === device && e.at >= from).length;
}

/** A gateway config with flood gauges: [device, asset, logger TCP port, Modbus unit] each. */
function gatewayConfig(
  id: string,
  district: string,
  pw: string,
  mqttPort: number,
  gauges: [string, string, number, number][],
) {
  const file = path.join(dir, `${id}.yaml`);
  writeFileSync(
    file,
    stringify({
      gateway: { id, district },
      hub: { url: `mqtt://127.0.0.1:${mqttPort}`, password: `\${${pw}}`, reconnectPeriod: '250ms' },
      dataDir: `./${id}-data`,
      batch: { maxReadings: 20, maxDelay: '50ms' },
      devices: gauges.map(([device, asset, port, unit]) => ({
        id: device,
        kind: 'flood',
        driver: 'modbus-tcp-logger',
        asset,
        options: { host: '127.0.0.1', port, unit, model: 'UPS-WL-1', interval: NORMAL },
      })),
    }),
  );
  return file;
}

beforeAll(async () => {
  const [mqttPort, httpPort, controlPort] = [await findFreePort(), await findFreePort(), await findFreePort()];
  sim = startCli(['sim', 'structures', '--underpasses', '3', '--control-port', String(controlPort)], {
    logFile: path.join(dir, 'sim.log'),
  });
  await sim.waitFor(/control http/);
  controlUrl = `http://127.0.0.1:${controlPort}`;
  const ports = ['underpass-1', 'underpass-2', 'underpass-3'].map((id) => {
    const m = new RegExp(`${id}\\s+UPS-WL-1\\s+modbus-tcp 127\\.0\\.0\\.1:(\\d+)`).exec(sim.output());
    return Number(m?.[1]);
  });
  for (const logger of ['underpass-1', 'underpass-2', 'underpass-3']) {
    await pin(logger, 'water_level_cm', 2);
    await pin(logger, 'rain_intensity_mmh', 0);
  }

  const hubFile = writeHubConfig(dir, {
    mqtt: { mode: 'embedded', host: '127.0.0.1', port: mqttPort },
    httpPort,
    gateways: { 'gw-xh-01': '${CG_INC_PW_XH}', 'gw-gs-01': '${CG_INC_PW_GS}' },
  });
  const hubYaml = parse(readFileSync(hubFile, 'utf8'));
  const fast = `${FAST_MS}ms`;
  hubYaml.incidents = {
    triggers: [
      {
        id: 'rain-at-gauges',
        type: 'flood',
        deviceKinds: ['flood'],
        when: [{ field: 'rain_intensity_mmh', above: 30 }],
        k: 2,
        window: '20s',
      },
    ],
    flood: { sampleInterval: { IV: fast, III: fast, II: fast, I: fast }, hotspotAssetKinds: [] },
    closures: { liftHold: '3s' },
    tick: '500ms',
  };
  writeFileSync(hubFile, stringify(hubYaml));
  hub = startCli(['hub', '--config', hubFile], { env, logFile: path.join(dir, 'hub.log') });
  await hub.waitFor(/Listening/);
  httpUrl = `http://127.0.0.1:${httpPort}`;
  stream = await followStream(`${httpUrl}/api/stream`, { headers: { cookie: await consoleLogin(httpUrl) } });
  const xh = gatewayConfig('gw-xh-01', 'xihu', 'CG_INC_PW_XH', mqttPort, [
    ['XH-UP001', 'UP-XH-001', ports[0] as number, 1],
    ['XH-UP002', 'UP-XH-002', ports[1] as number, 2],
  ]);
  const gs = gatewayConfig('gw-gs-01', 'gongshu', 'CG_INC_PW_GS', mqttPort, [
    ['GS-UP001', 'UP-GS-001', ports[2] as number, 3],
  ]);
  for (const [name, file] of [
    ['xh', xh],
    ['gs', gs],
  ] as const)
    edges.push(startCli(['edge', '--config', file], { env, logFile: path.join(dir, `edge-${name}.log`) }));
  await eventually(
    async () => {
      const { body } = await api<{ device: string }[]>('GET', '/api/readings/latest?kind=flood');
      return body.length === 3 ? body : undefined;
    },
    60_000,
    'readings of all three gauges',
  );
}, 90_000);

afterAll(async () => {
  stream?.stop();
  await Promise.all(edges.map((e) => e.stop()));
  await hub?.stop();
  await sim?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('flood incidents against a real hub and edges', () => {
  it('opening sends cmd/sample-interval to the edge in scope only and its gauges speed up; closing sends default', async () => {
    const before = await readingsDuring('XH-UP001', 4000);
    expect(before).toBeLessThanOrEqual(3);

    const { status, body: opened } = await api<Incident>('POST', '/api/incidents', {
      type: 'flood',
      scope: { districts: ['xihu'] },
      level: 'IV',
      reason: '暴雨蓝色预警',
    });
    expect(status).toBe(201);
    const acked = await eventually(
      async () => {
        const { body } = await api<Incident>('GET', `/api/incidents/${opened.id}`);
        return body.commands.some((c) => c.state === 'ok') ? body : undefined;
      },
      15_000,
      'the edge answering the sample-interval command',
    );
    expect(acked.commands).toMatchObject([{ gateway: 'gw-xh-01', interval: FAST_MS, state: 'ok' }]);
    expect(stream.events.some((e) => e.event === 'incident' && e.data.id === opened.id)).toBe(true);

    const [xhFast, gsMeanwhile] = await Promise.all([
      readingsDuring('XH-UP001', 4000),
      readingsDuring('GS-UP001', 4000),
    ]);
    expect(xhFast).toBeGreaterThanOrEqual(8);
    expect(gsMeanwhile).toBeLessThanOrEqual(3);

    const closed = await api<Incident>('POST', `/api/incidents/${opened.id}/close`, { reason: '雨停' });
    expect(closed.body.state).toBe('closed');
    await eventually(
      async () => {
        const { body } = await api<Incident>('GET', `/api/incidents/${opened.id}`);
        return body.commands.some((c) => c.interval === 'default' && c.state === 'ok') ? body : undefined;
      },
      15_000,
      'the edge answering "default"',
    );
    await new Promise((r) => setTimeout(r, 500));
    expect(await readingsDuring('XH-UP001', 4000)).toBeLessThanOrEqual(3);
  }, 60_000);

  it('rain at two gauges of a district makes the trigger propose; confirm opens it', async () => {
    await pin('underpass-1', 'rain_intensity_mmh', 45);
    await pin('underpass-2', 'rain_intensity_mmh', 38);
    const proposed = await eventually(
      async () => {
        const { body } = await api<{ items: (Incident & { trigger?: { rule: string } })[] }>('GET', '/api/incidents');
        return body.items.find((i) => i.state === 'proposed');
      },
      20_000,
      'a proposed incident',
    );
    expect(proposed).toMatchObject({ scope: { districts: ['xihu'] }, trigger: { rule: 'rain-at-gauges' } });
    const confirmed = await api<Incident>('POST', `/api/incidents/${proposed.id}/confirm`, { reason: '值班长确认' });
    expect(confirmed).toMatchObject({ status: 200, body: { state: 'open' } });
    expect(confirmed.body.commands[0]).toMatchObject({ gateway: 'gw-xh-01', interval: FAST_MS });
    await pin('underpass-1', 'rain_intensity_mmh', 0);
    await pin('underpass-2', 'rain_intensity_mmh', 0);
    expect((await api('POST', `/api/incidents/${proposed.id}/close`, { reason: '雨停' })).status).toBe(200);
  }, 40_000);

  it('recommends closing an underpass at 25 cm and lifts it once the water stays below 20 cm', async () => {
    await pin('underpass-1', 'water_level_cm', 31);
    const raised = await eventually(
      async () => stream.events.find((e) => e.event === 'closure' && e.data.action === 'raised'),
      15_000,
      'event: closure raised',
    );
    expect(raised.data).toMatchObject({ asset: 'UP-XH-001', inForce: true, closeAtCm: 25 });
    const during = await api<{ closures: { asset: string }[]; underpasses: { asset: string; closed: boolean }[] }>(
      'GET',
      '/api/situation?district=xihu',
    );
    expect(during.body.closures.map((c) => c.asset)).toEqual(['UP-XH-001']);
    expect(during.body.underpasses[0]).toMatchObject({ asset: 'UP-XH-001', closed: true });

    // Between the lift depth and the closure depth: still in force.
    await pin('underpass-1', 'water_level_cm', 22);
    await new Promise((r) => setTimeout(r, 5000));
    expect(stream.events.some((e) => e.event === 'closure' && e.data.action === 'lifted')).toBe(false);

    await pin('underpass-1', 'water_level_cm', 8);
    const lifted = await eventually(
      async () => stream.events.find((e) => e.event === 'closure' && e.data.action === 'lifted'),
      20_000,
      'event: closure lifted',
    );
    expect(lifted.data).toMatchObject({ asset: 'UP-XH-001', inForce: false, maxDepthCm: 31 });
    const after = await api<{ closures: unknown[] }>('GET', '/api/situation?district=xihu');
    expect(after.body.closures).toEqual([]);
  }, 60_000);
});
