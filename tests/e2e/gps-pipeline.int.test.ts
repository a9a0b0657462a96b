/**
 * The spine, end to end, across real processes (issue 2):
 *
 *   citygrid sim gps -> socat pty pair -> citygrid edge (nmea-gps over serialport)
 *     -> MQTT -> citygrid hub (embedded aedes) -> real InfluxDB
 *
 * plus Debian's mosquitto_sub as an integrator on the hub's broker, and a hub restart while the
 * edge keeps running. Every process is ours and stopped by PID.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { findFreePort } from '../../bin/lib/ports.js';
import { openPtyPair, type PtyPair } from '../../simulators/common/pty.js';
import { type CliProcess, eventually, startCli } from '../helpers/cli-process.js';
import { supervisorFetch } from '../helpers/console-session.js';
import { influxSeries } from '../helpers/influx-query.js';
import { writeHubConfig, writeTruckGatewayConfig } from '../helpers/system-configs.js';

const influxUrl = inject('influxUrl');
const database = `e2e_${randomBytes(4).toString('hex')}`;
const dir = mkdtempSync(path.join(tmpdir(), 'cg-e2e-'));
const gatewayPassword = randomBytes(12).toString('base64url');
const readerPassword = randomBytes(12).toString('base64url');

let pty: PtyPair;
let sim: CliProcess;
let hub: CliProcess;
let edge: CliProcess;
let mqttPort: number;
let httpPort: number;
/** influxd's accepted-points counter before our hub wrote anything (this file runs alone). */
let writtenAtStart: number;

const influxQuery = async (q: string) => (await influxSeries(influxUrl, database, q))[0];

/** influxd's own count of points accepted over HTTP, over every write (overwrites included). */
async function pointsWrittenOK(): Promise<number> {
  const url = `${influxUrl}/query?q=${encodeURIComponent("SHOW STATS FOR 'httpd'")}`;
  const body = (await (await fetch(url)).json()) as {
    results: { series?: { columns: string[]; values: number[][] }[] }[];
  };
  const s = body.results[0]?.series?.[0];
  if (!s) return 0;
  return Number(s.values[0]?.[s.columns.indexOf('pointsWrittenOK')] ?? 0);
}

async function vehiclePoints(): Promise<{ time: number; lat: number; lon: number }[]> {
  const s = await influxQuery(`SELECT lat, lon FROM vehicle WHERE device = 'XH-GP001' ORDER BY time ASC`);
  return (s?.values ?? []).map((v) => ({ time: v[0] as number, lat: v[1] as number, lon: v[2] as number }));
}

function startHub(): CliProcess {
  return startCli(['hub', '--config', path.join(dir, 'hub.yaml')], {
    env: { CG_E2E_GW_PW: gatewayPassword, CG_E2E_READER_PW: readerPassword },
    logFile: path.join(dir, 'hub.log'),
  });
}

beforeAll(async () => {
  mqttPort = await findFreePort();
  httpPort = await findFreePort();
  writeHubConfig(dir, {
    hubId: 'hub-e2e',
    mqtt: { mode: 'embedded', host: '127.0.0.1', port: mqttPort },
    httpPort,
    gateways: { 'gw-xh-01': '${CG_E2E_GW_PW}' },
    readers: { integrator: '${CG_E2E_READER_PW}' },
    influx: { url: influxUrl, database, flushInterval: '50ms' },
  });
  pty = await openPtyPair(dir, { a: 'gps.sim', b: 'gps.dev' });
  writeTruckGatewayConfig(dir, {
    file: 'gw-xh-01.yaml',
    hubUrl: `mqtt://127.0.0.1:${mqttPort}`,
    password: '${CG_E2E_GW_PW}',
    tty: pty.b,
    batch: { maxReadings: 5, maxDelay: '100ms' },
    delivery: { resendAfter: '3s' },
    options: { minInterval: '1s' },
  });
  sim = startCli(
    ['sim', 'gps', '--city', path.join(dir, 'city.yaml'), '--route', 'route-xh-beishan', '--out', pty.a, '--loop'],
    {
      logFile: path.join(dir, 'sim.log'),
    },
  );
  writtenAtStart = await pointsWrittenOK();
  hub = startHub();
  await hub.waitFor(/Listening/);
  edge = startCli(['edge', '--config', path.join(dir, 'gw-xh-01.yaml')], {
    env: { CG_E2E_GW_PW: gatewayPassword },
    logFile: path.join(dir, 'edge.log'),
  });
}, 60_000);

afterAll(async () => {
  await Promise.all([edge?.stop(), sim?.stop(), hub?.stop()]);
  await pty?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('simulator -> pty -> edge -> hub -> InfluxDB', () => {
  it('lands the truck positions in InfluxDB with the tags and the GPS timestamps', async () => {
    const points = await eventually(
      async () => {
        const p = await vehiclePoints();
        return p.length >= 4 ? p : undefined;
      },
      30_000,
      'four vehicle points in InfluxDB',
    );

    const tags = await influxQuery(
      `SHOW TAG VALUES FROM vehicle WITH KEY IN ("district", "gateway", "device", "asset", "grid")`,
    );
    const tagMap = Object.fromEntries((tags?.values ?? []).map((v) => [v[0], v[1]]));
    expect(tagMap).toMatchObject({ district: 'xihu', gateway: 'gw-xh-01', device: 'XH-GP001', asset: 'TRUCK-XH-01' });
    // The route starts in cell 330106001001 (北山街 1); the grid tag comes from point-in-polygon of the position.
    expect(tagMap.grid).toMatch(/^330106/);

    // GPS time: whole RMC seconds (the simulator writes hhmmss.ss at 1 Hz), close to now, strictly increasing.
    for (const p of points) {
      expect(p.time % 10).toBe(0);
      expect(Math.abs(Date.now() - p.time)).toBeLessThan(120_000);
    }
    for (let i = 1; i < points.length; i++) expect(points[i]!.time).toBeGreaterThan(points[i - 1]!.time);
    // On the route's first leg, inside the Xihu district box.
    for (const p of points) {
      expect(p.lat).toBeGreaterThan(30.22);
      expect(p.lat).toBeLessThan(30.3);
      expect(p.lon).toBeGreaterThan(120.08);
      expect(p.lon).toBeLessThan(120.16);
    }
    // The truck moves.
    expect(new Set(points.map((p) => `${p.lat},${p.lon}`)).size).toBeGreaterThan(1);
  }, 40_000);

  it('serves the same reading in /api/readings/latest', async () => {
    const latest = await eventually(
      async () => {
        const res = await supervisorFetch(`http://127.0.0.1:${httpPort}/api/readings/latest?device=XH-GP001`);
        const body = (await res.json()) as {
          device: string;
          ts: number;
          fields: Record<string, number>;
          gateway: string;
          district: string;
        }[];
        return body.find((r) => r.device === 'XH-GP001');
      },
      20_000,
      'latest reading of XH-GP001',
    );
    expect(latest).toMatchObject({ gateway: 'gw-xh-01', district: 'xihu', kind: 'vehicle' });
    // What the hub says is latest must be a point InfluxDB has, with the same time and position.
    const inInflux = await eventually(
      async () => {
        const s = await influxQuery(`SELECT lat, lon FROM vehicle WHERE device = 'XH-GP001' AND time = ${latest.ts}ms`);
        return s?.values[0];
      },
      10_000,
      'the latest point in InfluxDB',
    );
    expect(inInflux[1]).toBeCloseTo(latest.fields.lat as number, 7);
    expect(inInflux[2]).toBeCloseTo(latest.fields.lon as number, 7);
  }, 40_000);

  it('lets an integrator watch the telemetry with mosquitto_sub (a client we did not write)', async () => {
    const sub = spawn(
      'mosquitto_sub',
      [
        '-h',
        '127.0.0.1',
        '-p',
        String(mqttPort),
        '-u',
        'integrator',
        '-P',
        readerPassword,
        '-t',
        'cg/v1/#',
        '-v',
        '-C',
        '3',
        '-W',
        '20',
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    sub.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    sub.stderr.on('data', (c: Buffer) => {
      out += c.toString();
    });
    const code = await new Promise<number | null>((resolve) => sub.once('exit', resolve));
    expect(code, out).toBe(0);
    const telemetry = out.split('\n').find((l) => l.startsWith('cg/v1/xihu/gw-xh-01/telemetry '));
    expect(telemetry, out).toBeDefined();
    const payload = JSON.parse(telemetry!.slice(telemetry!.indexOf(' ') + 1)) as {
      readings: { device: string }[];
      bootId: string;
      seq: number;
    };
    expect(payload.readings[0]?.device).toBe('XH-GP001');
    expect(typeof payload.seq).toBe('number');
  }, 30_000);

  it('resumes delivery after a hub restart, with nothing lost and nothing written twice', async () => {
    const countBefore = (await vehiclePoints()).length;
    expect(await hub.stop()).toBe(0);
    // The truck keeps driving and the edge keeps reading while the hub is down.
    await new Promise((r) => setTimeout(r, 4000));
    hub = startHub();
    await hub.waitFor(/Listening/);
    const resumeFrom = Date.now();
    const after = await eventually(
      async () => {
        const p = await vehiclePoints();
        // readings of the outage (~4) plus fresh ones; live readings go before the backlog, so the
        // outage's hole closes a moment after fresh points arrive: wait for both
        const fresh = p.length >= countBefore + 8 && p.at(-1)!.time > resumeFrom - 1000;
        const whole = p.every((x, i) => i === 0 || x.time - p[i - 1]!.time <= 1500);
        return fresh && whole ? p : undefined;
      },
      40_000,
      'delivery to resume after the hub restart, the outage backlog included',
    );

    // Nothing lost: one point per GPS second from the first to the last, no holes across the outage.
    for (let i = 1; i < after.length; i++) {
      expect(
        after[i]!.time - after[i - 1]!.time,
        `hole after ${new Date(after[i - 1]!.time).toISOString()}`,
      ).toBeLessThanOrEqual(1500);
    }
    expect(edge.child.exitCode).toBeNull();

    // Nothing twice: with the truck stopped and the pipeline drained, every point influxd accepted
    // over this whole file is a distinct point of the series (a re-written point would count twice).
    await sim.stop();
    const settled = await eventually(
      async () => {
        const a = (await vehiclePoints()).length;
        await new Promise((r) => setTimeout(r, 1500));
        const b = (await vehiclePoints()).length;
        return a === b ? b : undefined;
      },
      20_000,
      'the pipeline to drain',
    );
    expect((await pointsWrittenOK()) - writtenAtStart).toBe(settled);
  }, 90_000);
});
