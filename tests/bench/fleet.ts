/**
 * `npm run bench -- fleet [--terminals 2000] [--interval-s 10] [--duration-s 60] [--batch-share 0.1] [--client own|sim]`
 *
 * One real `citygrid edge` with a JT/T 808 server holding N terminals, a real `citygrid hub`
 * (embedded broker and store), and the terminals in this process (tests/helpers/jt808-client.ts,
 * their own encoder): each registers and authenticates, then reports a location every
 * --interval-s (phases spread evenly); a --batch-share of them also uploads a 10-item blind-area
 * batch (0x0704) once a minute. Synthetic ids and phones follow `citygrid sim fleet --count`
 * (SIM-00001 / 013900000001 ...).
 *
 * Prints JSON lines: the login phase (time to authenticate all), the steady phase (edge CPU % of
 * one core, RSS, readings sent vs seen at the hub broker), and location-to-hub latency p50/p99/max:
 * from the terminal writing its 0x0200 to a reader on the hub's broker receiving the telemetry
 * message that carries it (same machine clock).
 *
 * `--client sim` drives the terminals with `citygrid sim fleet --count N` instead (trucks on the
 * city's roads, its own tunnels and blind-area batches): latency is then measured from the
 * terminal's timestamp, which JT/T 808 carries in whole seconds, so it reads up to 1 s high.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { connect } from 'mqtt';
import { stringify } from 'yaml';
import { findFreePort } from '../../bin/lib/ports.js';
import { startCli } from '../helpers/cli-process.js';
import { batchBody, locationBody, TestTerminal } from '../helpers/jt808-client.js';
import { writeHubConfig } from '../helpers/system-configs.js';
import { cpuSeconds, log, percentile, sampleRss } from './lib/proc.js';

const emit = (line: Record<string, unknown>) =>
  process.stdout.write(`${JSON.stringify({ bench: 'fleet', ...line })}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const id = (i: number) => `SIM-${String(i).padStart(5, '0')}`;
const phone = (i: number) => `0139${String(i).padStart(8, '0')}`;

export async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      terminals: { type: 'string', default: '2000' },
      'interval-s': { type: 'string', default: '10' },
      'duration-s': { type: 'string', default: '60' },
      'batch-share': { type: 'string', default: '0.1' },
      client: { type: 'string', default: 'own' },
    },
  });
  const useSim = values.client === 'sim';
  const n = Number(values.terminals);
  const intervalMs = Number(values['interval-s']) * 1000;
  const durationMs = Number(values['duration-s']) * 1000;
  const batchShare = Number(values['batch-share']);
  const dir = await mkdtemp(path.join(tmpdir(), 'cg-bench-fleet-'));
  const gwPw = randomBytes(12).toString('base64url');
  const readerPw = randomBytes(12).toString('base64url');
  const [mqttPort, httpPort, jtPort, edgeHttp] = [
    await findFreePort(),
    await findFreePort(),
    await findFreePort(),
    await findFreePort(),
  ];
  writeHubConfig(dir, {
    mqtt: { mode: 'embedded', host: '127.0.0.1', port: mqttPort },
    httpPort,
    gateways: { 'gw-xh-01': '${CG_BENCH_GW_PW}' },
    readers: { bench: '${CG_BENCH_READER_PW}' },
  });
  await writeFile(
    path.join(dir, 'gw.yaml'),
    stringify({
      gateway: { id: 'gw-xh-01', district: 'xihu' },
      hub: { url: `mqtt://127.0.0.1:${mqttPort}`, password: '${CG_BENCH_GW_PW}' },
      dataDir: './edge-data',
      logLevel: 'warn',
      http: { port: edgeHttp },
      servers: [
        {
          id: 'jt808',
          protocol: 'jt808',
          listen: { host: '127.0.0.1', port: jtPort },
          heartbeatIntervalS: Math.max(30, intervalMs / 1000),
          maxConnections: n + 100,
        },
      ],
      devices: Array.from({ length: n }, (_, k) => ({
        id: id(k + 1),
        kind: 'vehicle',
        driver: 'jt808-terminal',
        server: 'jt808',
        options: { phone: phone(k + 1) },
      })),
    }),
  );
  const env = { CG_BENCH_GW_PW: gwPw, CG_BENCH_READER_PW: readerPw };
  const hub = startCli(['hub', '--config', path.join(dir, 'hub.yaml')], { env, logFile: path.join(dir, 'hub.log') });
  const edge = startCli(['edge', '--config', path.join(dir, 'gw.yaml')], { env, logFile: path.join(dir, 'edge.log') });
  const terminals: TestTerminal[] = [];
  let sim: ReturnType<typeof startCli> | undefined;
  const timers: NodeJS.Timeout[] = [];
  const sub = connect(`mqtt://127.0.0.1:${mqttPort}`, {
    username: 'bench',
    password: readerPw,
    reconnectPeriod: 500,
  });
  try {
    await hub.waitFor(/Listening/, 60_000);
    // the edge logs at warn: wait for the listener by connecting
    const t0 = Date.now();
    for (;;) {
      try {
        (await TestTerminal.connect(jtPort, phone(1))).close();
        break;
      } catch {
        if (Date.now() - t0 > 60_000) throw new Error('edge JT/T 808 server not listening after 60 s');
        await sleep(200);
      }
    }
    // sent time of each location, by device and terminal timestamp; latency = broker receipt - sent
    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    let seen = 0;
    let measuring = false;
    sub.subscribe('cg/v1/+/+/telemetry', { qos: 1 });
    sub.on('message', (_t, payload) => {
      const now = Date.now();
      const body = JSON.parse(payload.toString('utf8')) as { readings: { device: string; ts: number }[] };
      for (const r of body.readings) {
        seen++;
        if (useSim) {
          if (measuring) latencies.push(now - r.ts);
          continue;
        }
        const key = `${r.device}@${r.ts}`;
        const at = sentAt.get(key);
        if (at !== undefined) {
          latencies.push(now - at);
          sentAt.delete(key);
        }
      }
    });

    if (useSim) {
      sim = startCli(
        ['sim', 'fleet', '--count', String(n), '--host', '127.0.0.1', '--port', String(jtPort)].concat([
          '--report-interval-s',
          String(intervalMs / 1000),
          '--summary-every-s',
          '10',
        ]),
        { logFile: path.join(dir, 'sim.log') },
      );
      const simStart = Date.now();
      while ((await edgeMetric(edgeHttp, 'citygrid_edge_jt808_sessions', 'state="authenticated"')) < n) {
        if (Date.now() - simStart > 120_000) throw new Error('sim fleet terminals not all authenticated in 120 s');
        await sleep(500);
      }
      emit({ phase: 'login', client: 'sim fleet', terminals: n, ms: Date.now() - simStart });
      const cpu0 = cpuSeconds(edge.pid);
      const rss = sampleRss(edge.pid, 500);
      const seen0 = seen;
      const start = Date.now();
      measuring = true;
      await sleep(durationMs);
      measuring = false;
      const cpu = cpuSeconds(edge.pid) - cpu0;
      const elapsedS = (Date.now() - start) / 1000;
      emit({
        phase: 'steady',
        client: 'sim fleet',
        terminals: n,
        intervalS: intervalMs / 1000,
        durationS: Math.round(elapsedS),
        readingsAtHub: seen - seen0,
        readingsPerS: Math.round((seen - seen0) / elapsedS),
        edgeCpuPct: Math.round((cpu / elapsedS) * 1000) / 10,
        ...rss.stop(),
        refusals: await refusalsByReason(edgeHttp),
      });
      emit({
        phase: 'latency',
        path: 'terminal timestamp (whole s) -> edge -> hub broker',
        n: latencies.length,
        p50Ms: percentile(latencies, 50),
        p99Ms: percentile(latencies, 99),
      });
      return 0;
    }

    log(`logging in ${n} terminals`);
    const loginStart = Date.now();
    for (let k = 0; k < n; k += 200) {
      const slice = await Promise.all(
        Array.from({ length: Math.min(200, n - k) }, (_, j) => TestTerminal.connect(jtPort, phone(k + j + 1))),
      );
      const auths = await Promise.all(slice.map((t) => t.login(`ZJ${k}`)));
      const failed = auths.filter((a) => a.result !== 0).length;
      if (failed) throw new Error(`${failed} terminal(s) refused at login`);
      terminals.push(...slice);
    }
    emit({ phase: 'login', terminals: n, ms: Date.now() - loginStart });

    const cpu0 = cpuSeconds(edge.pid);
    const rss = sampleRss(edge.pid, 500);
    const start = Date.now();
    const seen0 = seen;
    let sent = 0;
    let replyFailures = 0;
    terminals.forEach((t, k) => {
      const device = id(k + 1);
      let step = 0;
      const report = () => {
        // whole-second terminal clock, as a real terminal's BCD time; unique per device at a 10 s interval
        const ts = Math.floor(Date.now() / 1000) * 1000;
        const fix = { lat: 30.25 + (k % 100) * 1e-4, lon: 120.12 + step * 1e-5, speedKmh: 20, ts, mileageKm: step };
        step++;
        sentAt.set(`${device}@${ts}`, Date.now());
        sent++;
        t.send(0x0200, locationBody(fix), 30_000).catch(() => replyFailures++);
        if (k < n * batchShare && step % Math.max(1, Math.round(60_000 / intervalMs)) === 0) {
          const gap = Array.from({ length: 10 }, (_, g) => ({
            lat: 30.2,
            lon: 120.1,
            ts: ts - 60_000 + g * 1000 - 500,
          }));
          sent += gap.length;
          t.send(0x0704, batchBody(gap.map((f) => ({ ...f, ts: Math.floor(f.ts / 1000) * 1000 }))), 30_000).catch(
            () => replyFailures++,
          );
        }
      };
      const phase = setTimeout(
        () => {
          report();
          timers.push(setInterval(report, intervalMs));
        },
        Math.floor((k / n) * intervalMs),
      );
      timers.push(phase);
    });
    await sleep(durationMs);
    for (const t of timers) clearInterval(t);
    const cpu = cpuSeconds(edge.pid) - cpu0;
    const elapsedS = (Date.now() - start) / 1000;
    await sleep(3000); // let the last reports reach the hub
    const mem = rss.stop();
    emit({
      phase: 'steady',
      terminals: n,
      intervalS: intervalMs / 1000,
      durationS: Math.round(elapsedS),
      readingsSent: sent,
      readingsAtHub: seen - seen0,
      locationsPerS: Math.round(sent / elapsedS),
      edgeCpuPct: Math.round((cpu / elapsedS) * 1000) / 10,
      ...mem,
      replyFailures,
    });
    emit({
      phase: 'latency',
      path: 'terminal 0x0200 -> edge -> hub broker',
      n: latencies.length,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      maxMs: latencies.length ? Math.max(...latencies) : null,
      unmatched: sentAt.size,
    });
    return 0;
  } finally {
    await sim?.stop();
    for (const t of timers) clearInterval(t);
    for (const t of terminals) t.close();
    sub.end(true);
    await Promise.all([edge.stop(), hub.stop()]);
    await rm(dir, { recursive: true, force: true });
  }
}

/** Sum of a metric's samples on the edge's /metrics whose labels contain `label` (all when empty). */
async function edgeMetric(port: number, name: string, label: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n'))
    if (line.startsWith(`${name}{`) && line.includes(label)) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  return total;
}

async function refusalsByReason(port: number): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^citygrid_edge_jt808_refusals_total\{.*reason="([^"]+)".*\} (\d+)/.exec(line);
    if (m) out[m[1] as string] = Number(m[2]);
  }
  return out;
}
