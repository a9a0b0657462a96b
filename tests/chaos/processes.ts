/**
 * The chaos test's cast, all real processes on loopback, each started and stopped by its PID:
 * a private influxd (restartable on its own dir and ports), the `citygrid hub`, and per gateway a
 * socat pty pair with a raw dump of what the simulated receiver wrote, a `citygrid sim gps` and a
 * `citygrid edge`. One gateway reaches the hub through a TCP proxy that can cut its uplink.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { findFreePort } from '../../bin/lib/ports.js';
import { type CliProcess, eventually, ROOT, startCli } from '../helpers/cli-process.js';
import { type RunningInfluxd, startInfluxd } from '../helpers/influxd.js';
import { copyExampleCaseConfigs } from '../helpers/system-configs.js';

export const DATABASE = 'chaos';
const PASSWORD_ENV = 'CG_CHAOS_GW_PW';

export interface GatewaySpec {
  id: string;
  district: string;
  device: string;
  route: string;
  /** Reaches the hub through the link-cutting proxy. */
  proxied: boolean;
}

export const GATEWAYS: readonly GatewaySpec[] = [
  { id: 'gw-xh-01', district: 'xihu', device: 'CH-GP001', route: 'route-xh-beishan', proxied: false },
  { id: 'gw-xh-02', district: 'xihu', device: 'CH-GP002', route: 'route-xh-beishan', proxied: false },
  { id: 'gw-gs-01', district: 'gongshu', device: 'CH-GP003', route: 'route-gs-canal', proxied: true },
];

/** A socat pty pair whose simulator -> gateway bytes are also written raw to `dumpFile`. */
export interface DumpedPty {
  sim: string;
  dev: string;
  dumpFile: string;
  pid: number;
  stop(): Promise<void>;
}

export function openDumpedPty(dir: string, name: string): Promise<DumpedPty> {
  const sim = path.join(dir, `${name}.sim`);
  const dev = path.join(dir, `${name}.dev`);
  const dumpFile = path.join(dir, `${name}.nmea`);
  const child = spawn(
    'socat',
    ['-d', '-d', '-r', dumpFile, `pty,raw,echo=0,link=${sim}`, `pty,raw,echo=0,link=${dev}`],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let stderr = '';
    const timer = setTimeout(() => reject(new Error(`socat not ready after 10 s: ${stderr}`)), 10_000);
    child.once('error', (err) => reject(new Error(`cannot start socat: ${err.message}`)));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      if (stderr.length < 10_000) stderr += text;
      if (!stderr.includes('starting data transfer loop') || !child.pid) return;
      clearTimeout(timer);
      const pid = child.pid;
      resolve({
        sim,
        dev,
        dumpFile,
        pid,
        async stop() {
          if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGTERM');
          await exited;
        },
      });
    });
  });
}

export interface Ports {
  mqtt: number;
  hubHttp: number;
  influxHttp: number;
  influxRpc: number;
  edgeHttp: Record<string, number>;
}

export async function pickPorts(): Promise<Ports> {
  const edgeHttp: Record<string, number> = {};
  for (const g of GATEWAYS) edgeHttp[g.id] = await findFreePort();
  return {
    mqtt: await findFreePort(),
    hubHttp: await findFreePort(),
    influxHttp: await findFreePort(),
    influxRpc: await findFreePort(),
    edgeHttp,
  };
}

/** Writes city.yaml (the example city plus a second Xihu gateway) and hub.yaml into `dir`. */
export function writeHubConfig(dir: string, ports: Ports): void {
  const city = YAML.parse(readFileSync(path.join(ROOT, 'config/examples/city.yaml'), 'utf8')) as {
    gateways: { id: string; district: string }[];
  };
  for (const g of GATEWAYS)
    if (!city.gateways.some((c) => c.id === g.id)) city.gateways.push({ id: g.id, district: g.district });
  writeFileSync(path.join(dir, 'city.yaml'), YAML.stringify(city));
  copyExampleCaseConfigs(dir);
  writeFileSync(
    path.join(dir, 'hub.yaml'),
    [
      'hubId: hub-chaos',
      'city: ./city.yaml',
      'dataDir: ./hub-data',
      `mqtt: { mode: embedded, host: 127.0.0.1, port: ${ports.mqtt} }`,
      `http: { host: 127.0.0.1, port: ${ports.hubHttp} }`,
      'accounts:',
      `  gateways: [${GATEWAYS.map((g) => `{ id: ${g.id}, password: "\${${PASSWORD_ENV}}" }`).join(', ')}]`,
      'telemetry:',
      `  influx: { url: "http://127.0.0.1:${ports.influxHttp}", database: ${DATABASE}, flushInterval: 50ms }`,
      '',
    ].join('\n'),
  );
}

export function writeEdgeConfig(
  dir: string,
  g: GatewaySpec,
  opts: { mqttPort: number; httpPort: number; tty: string },
) {
  const file = path.join(dir, `${g.id}.yaml`);
  writeFileSync(
    file,
    [
      `gateway: { id: ${g.id}, district: ${g.district} }`,
      `hub: { url: "mqtt://127.0.0.1:${opts.mqttPort}", password: "\${${PASSWORD_ENV}}", keepalive: 5, reconnectPeriod: 250ms }`,
      `dataDir: ./edge-${g.id}`,
      'batch: { maxReadings: 50, maxDelay: 100ms }',
      'delivery: { resendAfter: 3s }',
      `http: { host: 127.0.0.1, port: ${opts.httpPort} }`,
      'devices:',
      `  - id: ${g.device}`,
      '    kind: vehicle',
      '    driver: nmea-gps',
      `    transport: { type: serial, path: "${opts.tty}", baudRate: 115200 }`,
      '    options: { minInterval: 0 }',
      '',
    ].join('\n'),
  );
  return file;
}

export function startHub(dir: string, password: string): CliProcess {
  return startCli(['hub', '--config', path.join(dir, 'hub.yaml')], {
    env: { [PASSWORD_ENV]: password },
    logFile: path.join(dir, 'hub.log'),
  });
}

/** Waits until the hub logged "Listening" and its /healthz answers 200. */
export async function hubReady(hub: CliProcess, httpPort: number): Promise<void> {
  await hub.waitFor(/"msg":"Listening"/, 60_000);
  await eventually(
    async () => ((await fetch(`http://127.0.0.1:${httpPort}/healthz`)).status === 200 ? true : undefined),
    60_000,
    'hub /healthz 200',
  );
}

export function startEdge(dir: string, g: GatewaySpec, password: string): CliProcess {
  return startCli(['edge', '--config', path.join(dir, `${g.id}.yaml`)], {
    env: { [PASSWORD_ENV]: password },
    logFile: path.join(dir, `edge-${g.id}.log`),
  });
}

export interface EdgeHealth {
  connected: boolean;
  devicesOnline: number;
  outboxDepth: number;
  outboxMessages: number;
}

export async function edgeHealth(port: number): Promise<EdgeHealth> {
  return (await (
    await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(5000) })
  ).json()) as EdgeHealth;
}

/** Waits until the edge started and its device is online (reading its serial line). */
export async function edgeReady(edge: CliProcess, port: number): Promise<void> {
  await edge.waitFor(/Edge agent started/, 60_000);
  await eventually(
    async () => ((await edgeHealth(port)).devicesOnline >= 1 ? true : undefined),
    60_000,
    'edge device online',
  );
}

export function startSim(dir: string, g: GatewaySpec, tty: string, rateHz: number): CliProcess {
  return startCli(
    [
      'sim',
      'gps',
      '--city',
      path.join(dir, 'city.yaml'),
      '--route',
      g.route,
      '--out',
      tty,
      '--loop',
      '--rate',
      String(rateHz),
    ],
    { logFile: path.join(dir, `sim-${g.id}.log`) },
  );
}

export function startChaosInfluxd(dir: string, ports: Ports): Promise<RunningInfluxd> {
  return startInfluxd({
    dir: path.join(dir, 'influxd'),
    httpPort: ports.influxHttp,
    rpcPort: ports.influxRpc,
    readyTimeoutMs: 60_000,
  });
}

export interface InfluxSeries {
  columns: string[];
  values: unknown[][];
}

export async function influxQuery(port: number, q: string, db = DATABASE): Promise<InfluxSeries | undefined> {
  const url = `http://127.0.0.1:${port}/query?db=${db}&epoch=ms&q=${encodeURIComponent(q)}`;
  const body = (await (await fetch(url, { signal: AbortSignal.timeout(30_000) })).json()) as {
    results: { series?: InfluxSeries[]; error?: string }[];
  };
  if (body.results[0]?.error) throw new Error(`InfluxDB: ${body.results[0].error}`);
  return body.results[0]?.series?.[0];
}

/** influxd's count of points accepted over HTTP since it started (overwrites included). */
export async function pointsWrittenOK(port: number): Promise<number> {
  const s = await influxQuery(port, "SHOW STATS FOR 'httpd'", '');
  if (!s) return 0;
  return Number(s.values[0]?.[s.columns.indexOf('pointsWrittenOK')] ?? 0);
}
