/**
 * `npm run bench -- modbus [--loggers 50] [--intervals 1000,200,100,50,20] [--seconds 5] [--max-in-flight 1]`
 *
 * How many polls per second one edge sustains against many Modbus TCP loggers: `citygrid sim
 * structures --bridges N` (H4's simulator, N BRG-DL-1 loggers on loopback TCP), and one real
 * `citygrid edge` process with a `modbus-tcp-logger` per logger. Each poll reads 40 registers in 3
 * block reads (the 8 f32 channels, the 8 channel qualities and the 8 f32 window peaks, an inline
 * map of the profile) and makes one reading. The interval of every logger is stepped down with
 * `cmd/sample-interval` addressed by kind; per step we report the polls/s the edge made (its
 * citygrid_edge_readings_total), the readings/s the test hub received, the edge's CPU (share of one
 * core) and RSS, and the simulator's CPU (when it is at 100 % of a core, the simulator is the limit). JSON lines on stdout, progress on stderr.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { findFreePort } from '../../bin/lib/ports.js';
import { ModbusTcpClient } from '../../drivers/modbus/tcp-client.js';
import { brgDl1 } from '../../drivers/modbus-logger/models/index.js';
import { silentLogger } from '../../drivers/sdk/log.js';
import { topics } from '../../drivers/sdk/wire.js';
import { startTestBroker, TestHub } from '../edge/mqtt-harness.js';
import { startCli } from '../helpers/cli-process.js';
import { cpuSeconds, log, sampleRss } from './lib/proc.js';

const ADDRESS = { district: 'bench', gateway: 'gw-bench' };

/** BRG-DL-1 as the bench reads it: 16 + 8 + 16 = 40 registers in 3 blocks, no acceleration buffer. */
const MAP_40 = {
  ...brgDl1,
  model: 'BRG-DL-1-40',
  blocks: [...brgDl1.blocks, { function: 4, start: 0x0050, count: 16 } as const],
  points: [
    ...brgDl1.points,
    // ch6 window peak (m/s² -> g) lands in the reading as accel_peak_g
    { field: 'accel_peak_g', function: 4, address: 0x005a, type: 'f32', order: 'ABCD', scale: 1 / 9.80665 },
  ],
  waveform: undefined,
  limits: {},
};

function emit(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ bench: 'modbus', ...line })}\n`);
}

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n'))
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.split(' ').pop());
  return sum;
}

/** Closed-loop polls/s of the bare client against the simulators (no edge), with poll latency. */
async function baseline(ports: { port: number; unit: number }[], seconds: number, maxInFlight: number) {
  const clients = ports.map(
    (p) => new ModbusTcpClient({ host: '127.0.0.1', port: p.port, unit: p.unit, maxInFlight, log: silentLogger() }),
  );
  for (const c of clients) c.start();
  await new Promise((r) => setTimeout(r, 1000));
  const latencies: number[] = [];
  const end = Date.now() + seconds * 1000;
  await Promise.all(
    clients.map(async (c) => {
      while (Date.now() < end) {
        const t = performance.now();
        await Promise.all(MAP_40.blocks.map((b) => c.read(b.function, b.start, b.count).catch(() => undefined)));
        latencies.push(performance.now() - t);
      }
    }),
  );
  await Promise.all(clients.map((c) => c.stop()));
  latencies.sort((a, b) => a - b);
  const at = (q: number) => Math.round((latencies[Math.floor(latencies.length * q)] ?? 0) * 10) / 10;
  return {
    loggers: ports.length,
    maxInFlight,
    pollsPerS: Math.round(latencies.length / seconds),
    pollMsP50: at(0.5),
    pollMsP99: at(0.99),
  };
}

export async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      loggers: { type: 'string', default: '50' },
      intervals: { type: 'string', default: '1000,200,100,50,20' },
      seconds: { type: 'string', default: '5' },
      'max-in-flight': { type: 'string', default: '1' },
    },
  });
  const loggers = Number(values.loggers);
  const intervals = String(values.intervals).split(',').map(Number);
  const seconds = Number(values.seconds);
  const maxInFlight = Number(values['max-in-flight']);
  const dir = mkdtempSync(path.join(tmpdir(), 'cg-bench-modbus-'));
  const broker = await startTestBroker({ hub: 'hub-pw', 'gw-bench': 'gw-pw' });
  const hub = await TestHub.connect(broker.url, 'hub-pw');
  hub.autoAck = true;
  let received = 0;
  hub.client.on('message', (topic, payload) => {
    if (topic.endsWith('/telemetry'))
      received += (JSON.parse(payload.toString()) as { readings?: unknown[] }).readings?.length ?? 0;
  });
  const sim = startCli(['sim', 'structures', '--bridges', String(loggers)], { logFile: path.join(dir, 'sim.log') });
  try {
    await sim.waitFor(/sim structures: \d+ loggers/, 60_000);
    const ports = [...sim.output().matchAll(/modbus-tcp 127\.0\.0\.1:(\d+) unit (\d+)/g)].map((m) => ({
      port: Number(m[1]),
      unit: Number(m[2]),
    }));
    log(`${ports.length} simulated loggers up`);
    emit({ phase: 'baseline', ...(await baseline(ports, seconds, maxInFlight)) });
    const httpPort = await findFreePort();
    writeFileSync(
      path.join(dir, 'gw.yaml'),
      stringify({
        gateway: { id: ADDRESS.gateway, district: ADDRESS.district },
        hub: { url: broker.url, password: 'gw-pw', reconnectPeriod: '200ms' },
        dataDir: './edge-data',
        logLevel: 'warn',
        http: { port: httpPort },
        batch: { maxReadings: 200, maxDelay: '50ms' },
        devices: ports.map((p, i) => ({
          id: `BN-BR${String(i).padStart(3, '0')}`,
          kind: 'bridge',
          driver: 'modbus-tcp-logger',
          options: {
            host: '127.0.0.1',
            port: p.port,
            unit: p.unit,
            map: MAP_40,
            interval: `${intervals[0]}ms`,
            maxInFlight,
          },
        })),
      }),
    );
    const edge = startCli(['edge', '--config', path.join(dir, 'gw.yaml')], { logFile: path.join(dir, 'edge.log') });
    try {
      await new Promise((r) => setTimeout(r, 3000));
      const rss = sampleRss(edge.pid);
      for (const [step, intervalMs] of intervals.entries()) {
        if (step > 0)
          await hub.client.publishAsync(
            topics.cmd(ADDRESS, 'sample-interval'),
            JSON.stringify({ id: `bench-${step}`, kinds: ['bridge'], interval: `${intervalMs}ms` }),
            { qos: 1 },
          );
        await new Promise((r) => setTimeout(r, 1500));
        const t0 = Date.now();
        const cpu0 = cpuSeconds(edge.pid);
        const simCpu0 = cpuSeconds(sim.pid);
        const polls0 = await metric(httpPort, 'citygrid_edge_readings_total');
        const recv0 = received;
        await new Promise((r) => setTimeout(r, seconds * 1000));
        const dt = (Date.now() - t0) / 1000;
        const polls = ((await metric(httpPort, 'citygrid_edge_readings_total')) - polls0) / dt;
        const line = {
          loggers: ports.length,
          intervalMs,
          maxInFlight,
          targetPollsPerS: Math.round((ports.length * 1000) / intervalMs),
          pollsPerS: Math.round(polls),
          registersPerS: Math.round(polls * 40),
          requestsPerS: Math.round(polls * 3),
          hubReadingsPerS: Math.round((received - recv0) / dt),
          edgeCpuPct: Math.round(((cpuSeconds(edge.pid) - cpu0) / dt) * 1000) / 10,
          simCpuPct: Math.round(((cpuSeconds(sim.pid) - simCpu0) / dt) * 1000) / 10,
        };
        emit(line);
        log(
          `interval ${intervalMs} ms: ${line.pollsPerS} polls/s of ${line.targetPollsPerS}, edge CPU ${line.edgeCpuPct}%, simulator CPU ${line.simCpuPct}%`,
        );
      }
      // other processes on the machine take CPU from both sides: say how loaded it was
      emit({
        summary: true,
        loggers: ports.length,
        edge: rss.stop(),
        loadAvg1m: Math.round((loadavg()[0] ?? 0) * 10) / 10,
      });
    } finally {
      await edge.stop();
    }
  } finally {
    await sim.stop();
    await hub.close();
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return 0;
}
