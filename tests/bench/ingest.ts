/**
 * `npm run bench -- ingest [--gateways 20] [--readings 200000] [--batch 50] [--window 100]
 * [--sink influx|embedded] [--publishers 2]`
 *
 * Phase `citygrid`: a private influxd (unless --sink embedded), a temp city of N gateways in two
 * districts, the real hub as a child process (embedded broker on a free loopback port), and N
 * simulated gateways in forked publisher processes sending edge-shaped telemetry envelopes with
 * at most --window messages per gateway not yet acknowledged by the hub's end-to-end `cmd/ack`.
 * Phase `mosquitto`: the same publishers and load against Debian's Mosquitto with a plain QoS 1
 * subscriber (window bounded by PUBACK). Then a ratio line. JSON lines on stdout, progress on stderr.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'libsql';
import { findFreePort } from '../../bin/lib/ports.js';
import { startCli } from '../helpers/cli-process.js';
import { type RunningInfluxd, startInfluxd } from '../helpers/influxd.js';
import { cpuSeconds, forkTs, log, percentile, ROOT, sampleRss, startMosquitto } from './lib/proc.js';
import type { PublisherInit, PublisherResult } from './lib/publisher.js';
import { BENCH_DISTRICTS, type BenchGateway, benchGateways, expectedPerKind } from './lib/workload.js';

interface Options {
  gateways: number;
  readings: number;
  batch: number;
  window: number;
  sink: 'influx' | 'embedded';
  publishers: number;
  /** Longest a phase may run before it is cut off and its shortfall reported as lost. */
  timeoutS: number;
}

const USAGE =
  'usage: npm run bench -- ingest [--gateways 20] [--readings 200000] [--batch 50] [--window 100] [--sink influx|embedded] [--publishers 2] [--timeout 120]';

function parseOptions(args: string[]): Options | undefined {
  const o: Options = {
    gateways: 20,
    readings: 200_000,
    batch: 50,
    window: 100,
    sink: 'influx',
    publishers: 2,
    timeoutS: 120,
  };
  const numeric: Record<string, keyof Options> = {
    '--gateways': 'gateways',
    '--readings': 'readings',
    '--batch': 'batch',
    '--window': 'window',
    '--publishers': 'publishers',
    '--timeout': 'timeoutS',
  };
  for (let i = 0; i < args.length; i++) {
    const [name, inline] = (args[i] as string).split('=', 2) as [string, string | undefined];
    const value = inline ?? args[++i];
    if (name === '--sink' && (value === 'influx' || value === 'embedded')) o.sink = value;
    else if (numeric[name] && Number.isInteger(Number(value)) && Number(value) > 0)
      (o as unknown as Record<string, number>)[numeric[name]] = Number(value);
    else return undefined;
  }
  o.publishers = Math.min(o.publishers, o.gateways);
  return o;
}

const BOUNDARIES: Record<string, number[][]> = {
  xihu: [
    [120.08, 30.22],
    [120.16, 30.22],
    [120.16, 30.3],
    [120.08, 30.3],
  ],
  gongshu: [
    [120.16, 30.28],
    [120.22, 30.28],
    [120.22, 30.34],
    [120.16, 30.34],
  ],
};

const ADMIN_CODES: Record<string, string> = { xihu: '330106', gongshu: '330105' };

const envName = (id: string) => `BENCH_PW_${id.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}`;

/** city.yaml + hub.yaml in `dir` (JSON is YAML); passwords only in the returned environment. */
async function writeCityAndHub(
  dir: string,
  gateways: BenchGateway[],
  mqttPort: number,
  influxUrl: string | undefined,
): Promise<{ hubFile: string; env: NodeJS.ProcessEnv }> {
  const city = {
    city: { id: 'bench', name: 'bench city', timezone: 'Asia/Shanghai' },
    districts: BENCH_DISTRICTS.map((id) => ({ id, name: id, adminCode: ADMIN_CODES[id], boundary: BOUNDARIES[id] })),
    gridCells: BENCH_DISTRICTS.map((id, i) => ({ id: `33010${i}001001`, district: id, boundary: BOUNDARIES[id] })),
    gateways: gateways.map((g) => ({ id: g.id, district: g.district })),
  };
  const hub = {
    hubId: 'hub-bench',
    city: './city.yaml',
    dataDir: './hub-data',
    logLevel: 'info',
    mqtt: { mode: 'embedded', host: '127.0.0.1', port: mqttPort },
    http: { host: '127.0.0.1', port: 0 },
    accounts: { gateways: gateways.map((g) => ({ id: g.id, password: `\${${envName(g.id)}}` })) },
    telemetry: influxUrl ? { influx: { url: influxUrl, database: 'citygrid_bench' } } : {},
  };
  await writeFile(path.join(dir, 'city.yaml'), JSON.stringify(city, null, 2));
  const hubFile = path.join(dir, 'hub.yaml');
  await writeFile(hubFile, JSON.stringify(hub, null, 2));
  return { hubFile, env: Object.fromEntries(gateways.map((g) => [envName(g.id), g.password])) };
}

/** Readings stored per measurement: in InfluxDB a point counts when all its fields did. */
async function countInflux(url: string, kinds: string[]): Promise<Record<string, number>> {
  const q = kinds.map((k) => `SELECT count(*) FROM "${k}"`).join(';');
  const res = await fetch(`${url}/query?${new URLSearchParams({ db: 'citygrid_bench', q })}`);
  const body = (await res.json()) as { results: { series?: { values: number[][] }[] }[] };
  return Object.fromEntries(
    kinds.map((k, i) => {
      const row = body.results[i]?.series?.[0]?.values[0];
      return [k, row ? Math.min(...row.slice(1)) : 0];
    }),
  );
}

function countEmbedded(dataDir: string): Record<string, number> {
  const db = new Database(path.join(dataDir, 'telemetry.db'), { readonly: true });
  try {
    const rows = db.prepare('SELECT measurement, count(*) AS n FROM telemetry GROUP BY measurement').all() as {
      measurement: string;
      n: number;
    }[];
    return Object.fromEntries(rows.map((r) => [r.measurement, Number(r.n)]));
  } finally {
    db.close();
  }
}

/** Forks the publishers, gives each its share of gateways, and waits until all are connected. */
async function startPublishers(o: Options, gateways: BenchGateway[], base: Omit<PublisherInit, 'gateways'>) {
  const pubs = Array.from({ length: o.publishers }, () => forkTs('tests/bench/lib/publisher.ts'));
  await Promise.all(
    pubs.map((p, n) =>
      p.request(
        {
          cmd: 'init',
          ...base,
          gateways: gateways.map((gw, index) => ({ gw, index })).filter(({ index }) => index % o.publishers === n),
        },
        'ready',
        120_000,
      ),
    ),
  );
  return pubs;
}

function merge(results: PublisherResult[]) {
  return {
    tFirst: Math.min(...results.map((r) => r.tFirst)),
    tLast: Math.max(...results.map((r) => r.tLast)),
    messages: results.reduce((n, r) => n + r.messages, 0),
    readings: results.reduce((n, r) => n + r.readings, 0),
    latencies: results.flatMap((r) => r.latencies),
    errors: results.reduce((n, r) => n + r.errors, 0),
  };
}

const round = (x: number, digits = 0) => Math.round(x * 10 ** digits) / 10 ** digits;

async function citygridPhase(o: Options, runId: string, t0: number) {
  const dir = await mkdtemp(path.join(tmpdir(), 'citygrid-bench-'));
  let influxd: RunningInfluxd | undefined;
  const cleanups: (() => Promise<unknown>)[] = [() => rm(dir, { recursive: true, force: true })];
  try {
    if (o.sink === 'influx') {
      influxd = await startInfluxd();
      cleanups.unshift((influxd as RunningInfluxd).stop);
      log(`influxd on ${influxd.url}`);
    }
    const gateways = benchGateways(o.gateways, () => randomBytes(12).toString('base64url'));
    const mqttPort = await findFreePort();
    const { hubFile, env } = await writeCityAndHub(dir, gateways, mqttPort, influxd?.url);
    const hub = startCli(['hub', '--config', hubFile], { env, logFile: path.join(dir, 'hub.log') });
    cleanups.unshift(() => hub.stop());
    await hub.waitFor(/"msg":"Listening"/, 30_000);
    log(`hub pid ${hub.pid} (sink ${o.sink}), broker mqtt://127.0.0.1:${mqttPort}`);
    const pubs = await startPublishers(o, gateways, {
      url: `mqtt://127.0.0.1:${mqttPort}`,
      mode: 'hub',
      totalGateways: o.gateways,
      readings: o.readings,
      batch: o.batch,
      window: o.window,
      t0,
      runId,
    });
    cleanups.unshift(() => Promise.all(pubs.map((p) => p.stop())));
    const rss = sampleRss(hub.pid);
    const cpu0 = cpuSeconds(hub.pid);
    log(`citygrid: ${o.readings} readings from ${o.gateways} gateways in messages of ${o.batch}`);
    let timedOut = false;
    const results = await Promise.all(
      pubs.map((p) =>
        p.request<PublisherResult>({ cmd: 'go' }, 'done', o.timeoutS * 1000).catch((err: Error) => {
          timedOut = true;
          log(`citygrid phase cut off: ${err.message}`);
          return undefined;
        }),
      ),
    );
    const cpu = cpuSeconds(hub.pid) - cpu0;
    const mem = rss.stop();
    const run = merge(results.filter((r): r is PublisherResult => r !== undefined));
    let stored: Record<string, number>;
    if (influxd) stored = await countInflux(influxd.url, Object.keys(expectedPerKind(1, 1, 1)));
    else {
      await hub.stop();
      stored = countEmbedded(path.join(dir, 'hub-data'));
    }
    const landed = Object.values(stored).reduce((a, b) => a + b, 0);
    const seconds = (run.tLast - run.tFirst) / 1000;
    return {
      phase: 'citygrid',
      measures: `publish -> durable in ${o.sink === 'influx' ? 'InfluxDB' : 'the embedded store'} -> hub cmd/ack (end-to-end)`,
      sink: o.sink,
      gateways: o.gateways,
      readings: o.readings,
      batch: o.batch,
      window_per_gateway: o.window,
      messages: Math.ceil(o.readings / o.batch),
      readings_per_s: timedOut ? null : round(o.readings / seconds),
      seconds: round(seconds, 2),
      latency_ms_p50: percentile(run.latencies, 50),
      latency_ms_p99: percentile(run.latencies, 99),
      rss_mb_peak: mem.rssPeakMb,
      rss_mb_hwm: mem.vmHwmMb,
      rss_mb_end: mem.rssEndMb,
      cpu_s: round(cpu, 2),
      stored: landed,
      stored_per_kind: stored,
      lost: o.readings - landed,
      publish_errors: run.errors,
      timed_out: timedOut,
    };
  } finally {
    for (const fn of cleanups) await fn().catch((err: Error) => log(`cleanup: ${err.message}`));
  }
}

async function mosquittoPhase(o: Options, runId: string, t0: number) {
  const dir = await mkdtemp(path.join(tmpdir(), 'citygrid-bench-mosq-'));
  const cleanups: (() => Promise<unknown>)[] = [() => rm(dir, { recursive: true, force: true })];
  try {
    const broker = await startMosquitto(dir, await findFreePort());
    cleanups.unshift(broker.stop);
    log(`mosquitto pid ${broker.pid} on ${broker.url}`);
    const sub = forkTs('tests/bench/lib/subscriber.ts');
    cleanups.unshift(sub.stop);
    await sub.request({ cmd: 'init', url: broker.url, expectedReadings: o.readings }, 'ready', 30_000);
    const gateways = benchGateways(o.gateways, () => '');
    const pubs = await startPublishers(o, gateways, {
      url: broker.url,
      mode: 'broker',
      totalGateways: o.gateways,
      readings: o.readings,
      batch: o.batch,
      window: o.window,
      t0,
      runId,
    });
    cleanups.unshift(() => Promise.all(pubs.map((p) => p.stop())));
    const rss = sampleRss(broker.pid);
    const cpu0 = cpuSeconds(broker.pid);
    log(`mosquitto: ${o.readings} readings from ${o.gateways} gateways in messages of ${o.batch}`);
    const received = sub.next<{ tLast: number; readings: number; latencies: number[] }>('done', o.timeoutS * 1000);
    const results = await Promise.all(
      pubs.map((p) => p.request<PublisherResult>({ cmd: 'go' }, 'done', o.timeoutS * 1000)),
    );
    let timedOut = false;
    const got = await received.catch(async (err: Error) => {
      timedOut = true;
      log(`mosquitto phase cut off: ${err.message}`);
      const s = await sub.request<{ readings: number }>({ cmd: 'status' }, 'status', 5000);
      return { tLast: Number.NaN, readings: s.readings, latencies: [] as number[] };
    });
    const cpu = cpuSeconds(broker.pid) - cpu0;
    const mem = rss.stop();
    const run = merge(results);
    const seconds = (got.tLast - run.tFirst) / 1000;
    return {
      phase: 'mosquitto',
      measures: 'publish -> delivered to a QoS 1 subscriber (nothing stored; window bounded by PUBACK)',
      gateways: o.gateways,
      readings: o.readings,
      batch: o.batch,
      window_per_gateway: o.window,
      messages: Math.ceil(o.readings / o.batch),
      readings_per_s: timedOut ? null : round(o.readings / seconds),
      seconds: round(seconds, 2),
      latency_ms_p50: percentile(got.latencies, 50),
      latency_ms_p99: percentile(got.latencies, 99),
      latency_resolution_ms: 1,
      rss_mb_peak: mem.rssPeakMb,
      rss_mb_hwm: mem.vmHwmMb,
      rss_mb_end: mem.rssEndMb,
      cpu_s: round(cpu, 2),
      received: got.readings,
      lost: o.readings - got.readings,
      publish_errors: run.errors,
      timed_out: timedOut,
    };
  } finally {
    for (const fn of cleanups) await fn().catch((err: Error) => log(`cleanup: ${err.message}`));
  }
}

export async function main(args: string[]): Promise<number> {
  const o = parseOptions(args);
  if (!o) {
    console.error(USAGE);
    return 2;
  }
  process.chdir(ROOT);
  const runId = `b${Date.now().toString(36)}`;
  // Device time starts an hour ago: one shard, within any retention.
  const t0 = Date.now() - 3600_000;
  const ours = await citygridPhase(o, runId, t0);
  console.log(JSON.stringify(ours));
  const theirs = await mosquittoPhase(o, runId, t0);
  console.log(JSON.stringify(theirs));
  const ratio = (a: number | null, b: number | null) => (a && b ? round(a / b, 3) : null);
  console.log(
    JSON.stringify({
      ratio: 'citygrid/mosquitto',
      readings_per_s: ratio(ours.readings_per_s, theirs.readings_per_s),
      p99: ratio(ours.latency_ms_p99, theirs.latency_ms_p99),
      rss: ratio(ours.rss_mb_peak, theirs.rss_mb_peak),
      measures:
        'citygrid: durable in the sink and acknowledged end to end; mosquitto: delivered to a subscriber, nothing stored',
    }),
  );
  return ours.lost === 0 ? 0 : 1;
}
