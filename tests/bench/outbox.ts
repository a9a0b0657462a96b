/**
 * `npm run bench -- outbox [--readings 100000] [--devices 10] [--max-readings 500] [--max-in-flight 200]
 * [--backlog-in-flight 8] [--sink embedded|influx] [--seconds 2]`
 *
 * Phase `append`: durable appends/s of the edge outbox (libsql, WAL, synchronous=FULL) with one
 * commit per append, with group commits of 10 / 100 / 1000, and with the agent's own 5 ms
 * group-commit timer under a producer that never waits.
 * Phase `replay`: a backlog of --readings GPS readings (--devices trucks at 1 Hz, i.e. hours of
 * outage) taken while the link was down, then the real uplink connects to the real hub
 * (`citygrid hub`, embedded broker, embedded store or a private influxd) and drains it; meanwhile
 * a live device keeps reading at 10 Hz, and a read-only MQTT subscriber measures how late its
 * readings arrive. Reported: readings/s and messages/s until the hub acknowledged everything,
 * times faster than real time, live latency, RSS of the edge (this process) and of the hub.
 * JSON lines on stdout, progress on stderr.
 */
import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connectAsync } from 'mqtt';
import { findFreePort } from '../../bin/lib/ports.js';
import { systemClock } from '../../drivers/sdk/clock.js';
import { silentLogger } from '../../drivers/sdk/log.js';
import { MetricsRegistry } from '../../drivers/sdk/metrics.js';
import type { Reading } from '../../drivers/sdk/reading.js';
import { DiskOutbox, type DiskOutboxOptions, OUTBOX_FILE } from '../../edge/src/disk-outbox.js';
import { newBootId } from '../../edge/src/outbox.js';
import { Uplink } from '../../edge/src/uplink.js';
import { startCli } from '../helpers/cli-process.js';
import { type RunningInfluxd, startInfluxd } from '../helpers/influxd.js';
import { copyExampleCaseConfigs } from '../helpers/system-configs.js';
import { log, percentile, ROOT, sampleRss } from './lib/proc.js';

interface Options {
  readings: number;
  devices: number;
  maxReadings: number;
  maxInFlight: number;
  backlogInFlight: number;
  sink: 'embedded' | 'influx';
  seconds: number;
}

const USAGE =
  'usage: npm run bench -- outbox [--readings 100000] [--devices 10] [--max-readings 500] [--max-in-flight 200] [--backlog-in-flight 8] [--sink embedded|influx] [--seconds 2]';

function parseOptions(args: string[]): Options | undefined {
  const o: Options = {
    readings: 100_000,
    devices: 10,
    maxReadings: 500,
    maxInFlight: 200,
    backlogInFlight: 8,
    sink: 'embedded',
    seconds: 2,
  };
  const numeric: Record<string, keyof Options> = {
    '--readings': 'readings',
    '--devices': 'devices',
    '--max-readings': 'maxReadings',
    '--max-in-flight': 'maxInFlight',
    '--backlog-in-flight': 'backlogInFlight',
    '--seconds': 'seconds',
  };
  for (let i = 0; i < args.length; i++) {
    const [name, inline] = (args[i] as string).split('=', 2) as [string, string | undefined];
    const value = inline ?? args[++i];
    if (name === '--sink' && (value === 'embedded' || value === 'influx')) o.sink = value;
    else if (numeric[name] && Number(value) > 0)
      (o as unknown as Record<string, number>)[numeric[name]] = Number(value);
    else return undefined;
  }
  return o;
}

const out = (line: Record<string, unknown>) =>
  process.stdout.write(`${JSON.stringify({ bench: 'outbox', ...line })}\n`);
const rssMb = () => Math.round(process.memoryUsage().rss / 1024 / 102.4) / 10;
const round = (x: number, digits = 0) => Math.round(x * 10 ** digits) / 10 ** digits;

/** A GPS reading as the nmea-gps driver emits it (same fields, similar size). */
function gps(device: string, ts: number, i: number): Reading {
  return {
    device,
    kind: 'vehicle',
    ts,
    fields: {
      lat: 30.25 + (i % 1000) * 1e-5,
      lon: 120.12 + (i % 777) * 1e-5,
      speed_kmh: 20 + (i % 13),
      heading_deg: (i * 7) % 360,
      altitude_m: 12.5,
      satellites: 9,
      hdop: 0.9,
      fix_quality: 1,
    },
    quality: 'good',
    asset: `TRUCK-${device}`,
  };
}

function outboxOptions(dir: string, o: Options): DiskOutboxOptions {
  return {
    file: path.join(dir, OUTBOX_FILE),
    bootId: newBootId(systemClock),
    clock: systemClock,
    log: silentLogger(),
    metrics: new MetricsRegistry(),
    maxReadings: o.maxReadings,
    maxDelay: 200,
    quota: 512_000_000,
    compactWindows: [60_000, 900_000, 3_600_000],
    commitInterval: 5,
  };
}

async function appendPhase(o: Options): Promise<void> {
  const modes: { mode: string; group: number }[] = [
    { mode: 'per-append', group: 1 },
    { mode: 'group', group: 10 },
    { mode: 'group', group: 100 },
    { mode: 'group', group: 1000 },
  ];
  for (const { mode, group } of modes) {
    const dir = await mkdtemp(path.join(tmpdir(), 'cg-bench-outbox-'));
    const box = DiskOutbox.open(outboxOptions(dir, o));
    let appends = 0;
    let commits = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < o.seconds * 1000) {
      for (let k = 0; k < group; k++) box.addReading(gps('XH-GP001', Date.now(), appends++));
      box.commit();
      commits++;
    }
    const seconds = (performance.now() - t0) / 1000;
    await box.close();
    await rm(dir, { recursive: true, force: true });
    out({
      phase: 'append',
      mode,
      group,
      appends,
      seconds: round(seconds, 2),
      appendsPerS: Math.round(appends / seconds),
      commitsPerS: Math.round(commits / seconds),
      rssMb: rssMb(),
    });
  }
  // The agent's own path: readings arrive one by one, the 5 ms timer commits whatever came.
  const dir = await mkdtemp(path.join(tmpdir(), 'cg-bench-outbox-'));
  const metrics = new MetricsRegistry();
  const box = DiskOutbox.open({ ...outboxOptions(dir, o), metrics });
  let appends = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < o.seconds * 1000) {
    for (let k = 0; k < 50; k++) box.addReading(gps('XH-GP001', Date.now(), appends++));
    await new Promise((r) => setImmediate(r));
  }
  box.commit();
  const seconds = (performance.now() - t0) / 1000;
  const commits = metrics.counter('citygrid_edge_outbox_commits_total', '').get({});
  await box.close();
  await rm(dir, { recursive: true, force: true });
  out({
    phase: 'append',
    mode: 'timer-5ms',
    appends,
    seconds: round(seconds, 2),
    appendsPerS: Math.round(appends / seconds),
    commitsPerS: Math.round(commits / seconds),
    meanGroup: Math.round(appends / commits),
    rssMb: rssMb(),
  });
}

async function writeHubConfig(dir: string, mqttPort: number, influxUrl: string | undefined): Promise<string> {
  await copyFile(path.join(ROOT, 'config/examples/city.yaml'), path.join(dir, 'city.yaml'));
  copyExampleCaseConfigs(dir);
  const hub = {
    hubId: 'hub-bench-outbox',
    city: './city.yaml',
    dataDir: './hub-data',
    logLevel: 'info',
    mqtt: { mode: 'embedded', host: '127.0.0.1', port: mqttPort },
    http: { host: '127.0.0.1', port: 0 },
    accounts: {
      gateways: [{ id: 'gw-xh-01', password: '${BENCH_GW_PW}' }],
      readers: [{ username: 'bench', password: '${BENCH_READER_PW}' }],
    },
    telemetry: influxUrl ? { influx: { url: influxUrl, database: 'citygrid_bench_outbox' } } : {},
  };
  const file = path.join(dir, 'hub.yaml');
  await writeFile(file, JSON.stringify(hub, null, 2));
  return file;
}

async function replayPhase(o: Options): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'cg-bench-replay-'));
  const cleanups: (() => Promise<unknown>)[] = [() => rm(dir, { recursive: true, force: true })];
  try {
    let influxd: RunningInfluxd | undefined;
    if (o.sink === 'influx') {
      influxd = await startInfluxd();
      cleanups.unshift(influxd.stop);
    }
    const mqttPort = await findFreePort();
    const env = { BENCH_GW_PW: randomBytes(12).toString('base64url'), BENCH_READER_PW: randomBytes(9).toString('hex') };
    const hubFile = await writeHubConfig(dir, mqttPort, influxd?.url);
    const hub = startCli(['hub', '--config', hubFile], { env, logFile: path.join(dir, 'hub.log') });
    cleanups.unshift(() => hub.stop());
    await hub.waitFor(/"msg":"Listening"/, 30_000);

    // The backlog: --devices trucks at 1 Hz, taken while the link was down.
    const metrics = new MetricsRegistry();
    const outbox = DiskOutbox.open({ ...outboxOptions(dir, o), metrics });
    const perDevice = Math.ceil(o.readings / o.devices);
    const start = Date.now() - perDevice * 1000;
    const tFill = performance.now();
    let n = 0;
    for (let s = 0; s < perDevice && n < o.readings; s++) {
      for (let d = 0; d < o.devices && n < o.readings; d++)
        outbox.addReading(gps(`XH-GP${100 + d}`, start + s * 1000, n++));
    }
    outbox.commit();
    log(
      `backlog of ${n} readings (${round(perDevice / 3600, 1)} h at 1 Hz per device) taken in ${round((performance.now() - tFill) / 1000, 1)} s`,
    );

    // A read-only subscriber: when do the live readings reach the broker's subscribers?
    const liveLatency: number[] = [];
    const observer = await connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
      username: 'bench',
      password: env.BENCH_READER_PW,
      reconnectPeriod: 0,
    });
    cleanups.unshift(() => observer.endAsync(true));
    observer.on('message', (_t, payload) => {
      const now = Date.now();
      for (const r of (JSON.parse(payload.toString('utf8')) as { readings: Reading[] }).readings) {
        if (r.device === 'XH-LIVE1') liveLatency.push(now - r.ts);
      }
    });
    await observer.subscribeAsync({ 'cg/v1/xihu/gw-xh-01/telemetry': { qos: 0 } });

    const uplink = new Uplink({
      url: `mqtt://127.0.0.1:${mqttPort}`,
      address: { district: 'xihu', gateway: 'gw-xh-01' },
      password: env.BENCH_GW_PW,
      keepalive: 30,
      reconnectPeriod: 500,
      resendAfter: 30_000,
      maxInFlight: o.maxInFlight,
      backlogInFlight: o.backlogInFlight,
      version: 'bench',
      outbox,
      inventory: () => [],
      clock: systemClock,
      log: silentLogger(),
      metrics,
    });
    outbox.onChange(() => uplink.notify());
    const edgeRss = sampleRss(process.pid);
    const hubRss = sampleRss(hub.pid);
    const t0 = performance.now();
    uplink.start();
    let live = 0;
    const liveTimer = setInterval(() => outbox.addReading(gps('XH-LIVE1', Date.now(), live++)), 100);
    // Done when the hub acknowledged the whole backlog (live readings keep coming meanwhile).
    const backlogHeld = () =>
      !uplink.connected || outbox.stats().backlog > 0 || outbox.unacked().some((m) => m.lane === 'backlog');
    while (backlogHeld()) await new Promise((r) => setTimeout(r, 20));
    const seconds = (performance.now() - t0) / 1000;
    clearInterval(liveTimer);
    const sent = metrics.counter('citygrid_edge_messages_sent_total', '').get({ channel: 'telemetry' });
    const edge = edgeRss.stop();
    const hubMem = hubRss.stop();
    await uplink.stop();
    await outbox.close();
    const normalRate = o.devices; // readings/s the trucks produce
    out({
      phase: 'replay',
      sink: o.sink,
      readings: n,
      devices: o.devices,
      maxReadings: o.maxReadings,
      maxInFlight: o.maxInFlight,
      backlogInFlight: o.backlogInFlight,
      seconds: round(seconds, 2),
      readingsPerS: Math.round(n / seconds),
      messages: sent,
      messagesPerS: Math.round(sent / seconds),
      timesRealTime: Math.round(n / seconds / normalRate),
      liveReadings: liveLatency.length,
      liveLatencyMs: {
        p50: percentile(liveLatency, 50),
        p99: percentile(liveLatency, 99),
        max: Math.max(0, ...liveLatency),
      },
      edgeRssPeakMb: edge.rssPeakMb,
      hubRssPeakMb: hubMem.rssPeakMb,
    });
  } finally {
    for (const cleanup of cleanups) await cleanup().catch((err: unknown) => log(`cleanup: ${String(err)}`));
  }
}

export async function main(args: string[]): Promise<number> {
  const o = parseOptions(args);
  if (!o) {
    console.error(USAGE);
    return 2;
  }
  log(
    `outbox bench: append for ${o.seconds} s per mode, then replay of ${o.readings} readings to the real hub (${o.sink})`,
  );
  await appendPhase(o);
  await replayPhase(o);
  return 0;
}
