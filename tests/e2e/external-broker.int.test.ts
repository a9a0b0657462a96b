/**
 * External-broker mode with a broker we did not write: gateway (real `citygrid edge`) ->
 * Debian Mosquitto -> hub (real `citygrid hub`, MQTT client of Mosquitto) -> InfluxDB, and the
 * hub's end-to-end ack travelling back through Mosquitto so the edge empties its outbox.
 * Also: the hub down while the edge publishes; its persistent session keeps the backlog.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { findFreePort } from '../../bin/lib/ports.js';
import { openPtyPair, type PtyPair } from '../../simulators/common/pty.js';
import { type CliProcess, eventually, startCli } from '../helpers/cli-process.js';
import { type RunningMosquitto, startMosquitto } from '../helpers/mosquitto.js';
import { writeHubConfig, writeTruckGatewayConfig } from '../helpers/system-configs.js';

const influxUrl = inject('influxUrl');
const database = `ext_${randomBytes(4).toString('hex')}`;
const dir = mkdtempSync(path.join(tmpdir(), 'cg-ext-'));
const password = randomBytes(9).toString('base64url');

let mosquitto: RunningMosquitto;
let pty: PtyPair;
let sim: CliProcess;
let hub: CliProcess;
let edge: CliProcess;
let edgeHealth: string;

async function count(): Promise<number> {
  const q = encodeURIComponent(`SELECT count(lat) FROM vehicle WHERE device = 'XH-GP001'`);
  const body = (await (await fetch(`${influxUrl}/query?db=${database}&q=${q}`)).json()) as {
    results: { series?: { values: [string, number][] }[] }[];
  };
  return body.results[0]?.series?.[0]?.values[0]?.[1] ?? 0;
}

async function edgeMetric(name: string): Promise<number> {
  const text = await (await fetch(`${edgeHealth}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(' ').at(-1)) : Number.NaN;
}

const startHub = () =>
  startCli(['hub', '--config', path.join(dir, 'hub.yaml')], { logFile: path.join(dir, 'hub.log') });

beforeAll(async () => {
  const mqttPort = await findFreePort();
  const httpPort = await findFreePort();
  const edgePort = await findFreePort();
  edgeHealth = `http://127.0.0.1:${edgePort}`;
  mosquitto = await startMosquitto(dir, mqttPort);
  writeHubConfig(dir, {
    mqtt: { mode: 'external', url: mosquitto.url, clientId: 'citygrid-hub-ext' },
    httpPort,
    influx: { url: influxUrl, database, flushInterval: '50ms' },
  });
  pty = await openPtyPair(dir, { a: 'gps.sim', b: 'gps.dev' });
  writeTruckGatewayConfig(dir, {
    file: 'gw.yaml',
    hubUrl: mosquitto.url,
    password,
    tty: pty.b,
    batch: { maxReadings: 5, maxDelay: '100ms' },
    http: { host: '127.0.0.1', port: edgePort },
  });
  sim = startCli(
    ['sim', 'gps', '--city', path.join(dir, 'city.yaml'), '--route', 'route-xh-beishan', '--out', pty.a, '--loop'],
    {
      logFile: path.join(dir, 'sim.log'),
    },
  );
  hub = startHub();
  await hub.waitFor(/Listening/);
  edge = startCli(['edge', '--config', path.join(dir, 'gw.yaml')], { logFile: path.join(dir, 'edge.log') });
}, 60_000);

afterAll(async () => {
  await Promise.all([edge?.stop(), sim?.stop(), hub?.stop()]);
  await Promise.all([pty?.stop(), mosquitto?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('hub as a client of an external broker (Debian Mosquitto)', () => {
  it('stores the readings and acknowledges them end to end through the broker', async () => {
    await eventually(async () => ((await count()) >= 3 ? true : undefined), 30_000, 'three points in InfluxDB');
    // The edge only counts a message acked when the hub's cmd/ack came back through Mosquitto.
    const acked = await eventually(
      async () => {
        const n = await edgeMetric('citygrid_edge_messages_acked_total');
        return n >= 2 ? n : undefined;
      },
      20_000,
      'hub acks at the edge',
    );
    expect(acked).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it('keeps the backlog in the broker while the hub is down and stores it when the hub is back', async () => {
    expect(await hub.stop()).toBe(0);
    const before = await count();
    await new Promise((r) => setTimeout(r, 3000));
    // Nothing stored while the hub is away, and the edge is holding unacknowledged messages.
    expect(await count()).toBe(before);
    expect(await edgeMetric('citygrid_edge_outbox_depth')).toBeGreaterThan(0);
    hub = startHub();
    await hub.waitFor(/Listening/);
    await eventually(async () => ((await count()) >= before + 4 ? true : undefined), 30_000, 'the backlog to land');
    await eventually(
      async () => ((await edgeMetric('citygrid_edge_outbox_depth')) <= 1 ? true : undefined),
      20_000,
      'the edge outbox to drain',
    );
  }, 90_000);
});
