/**
 * The chaos run: hub + 3 edges + GPS simulators + a real InfluxDB, faults applied on a schedule,
 * then a drain and the books per device (accounting.ts). Used by tests/chaos/chaos.int.test.ts
 * (short schedule) and `npm run chaos` (tests/chaos/main.ts, long schedule).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'libsql';
import { readTakenLedger } from '../../edge/src/outbox-store.js';
import type { CliProcess } from '../helpers/cli-process.js';
import { eventually } from '../helpers/cli-process.js';
import type { RunningInfluxd } from '../helpers/influxd.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { balanced, type DeviceBooks, deviceBooks, rmcTimes } from './accounting.js';
import {
  type DumpedPty,
  edgeHealth,
  edgeReady,
  GATEWAYS,
  type GatewaySpec,
  hubReady,
  influxQuery,
  openDumpedPty,
  pickPorts,
  pointsWrittenOK,
  startChaosInfluxd,
  startEdge,
  startHub,
  startSim,
  writeEdgeConfig,
  writeHubConfig,
} from './processes.js';
import { type ScheduledFault, scheduleLength } from './schedule.js';

export interface ChaosOptions {
  schedule: (edges: readonly string[], proxied: string) => ScheduledFault[];
  /** Simulator epochs per second. */
  rateHz: number;
  /** Keep the temp dir (logs, data, NMEA dumps) even when the books balance. */
  keep: boolean;
  /** Longest wait for the edges' outboxes to empty after the simulators stopped. */
  drainTimeoutMs: number;
  progress: (line: string) => void;
}

export interface AppliedFault {
  /** Seconds after the warm-up. */
  t: number;
  what: string;
  target?: string;
  /** Seconds until recovered (restart done, link back). */
  downS: number;
}

export interface ChaosSummary {
  produced: number;
  /** Repeated epoch times from the simulator (one InfluxDB point each pair; accounting.ts). */
  sameTs: number;
  stored: number;
  lost: number;
  duplicated: number;
  holesOutsideDead: number;
  /** Points influxd accepted minus distinct points stored (readings and events): idempotent re-writes. */
  rewrites: number;
  eventsProduced: number;
  eventsStored: number;
  chaosS: number;
  rateHz: number;
  ok: boolean;
  dir?: string;
  events: AppliedFault[];
}

export interface ChaosResult {
  devices: DeviceBooks[];
  summary: ChaosSummary;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Reading-time slack around an edge's dead window: frames in the pipe or uncommitted at the kill. */
const DEAD_SLACK_MS = 1500;

export async function runChaos(o: ChaosOptions): Promise<ChaosResult> {
  const dir = mkdtempSync(path.join(tmpdir(), 'cg-chaos-'));
  const password = randomBytes(12).toString('base64url');
  const ports = await pickPorts();
  const proxiedSpec = GATEWAYS.find((g) => g.proxied) as GatewaySpec;
  const faults = o.schedule(
    GATEWAYS.map((g) => g.id),
    proxiedSpec.id,
  );
  const ptys = new Map<string, DumpedPty>();
  const sims = new Map<string, CliProcess>();
  const edges = new Map<string, CliProcess>();
  const dead = new Map<string, [number, number][]>(GATEWAYS.map((g) => [g.id, []]));
  let hub: CliProcess | undefined;
  let influxd: RunningInfluxd | undefined;
  let proxy: TcpProxy | undefined;
  /** pointsWrittenOK of influxd lifetimes that ended. */
  let writtenBefore = 0;
  let ok = false;
  const log = (msg: string) => o.progress(`[chaos ${new Date().toISOString().slice(11, 23)}] ${msg}`);

  try {
    log(`dir ${dir}`);
    influxd = await startChaosInfluxd(dir, ports);
    writeHubConfig(dir, ports);
    hub = startHub(dir, password);
    await hubReady(hub, ports.hubHttp);
    proxy = await startTcpProxy({ port: ports.mqtt });
    for (const g of GATEWAYS) {
      const pty = await openDumpedPty(dir, g.id);
      ptys.set(g.id, pty);
      writeEdgeConfig(dir, g, {
        mqttPort: g.proxied ? proxy.port : ports.mqtt,
        httpPort: ports.edgeHttp[g.id] as number,
        tty: pty.dev,
      });
      const edge = startEdge(dir, g, password);
      edges.set(g.id, edge);
      await edge.waitFor(/Edge agent started/, 60_000);
    }
    for (const g of GATEWAYS) sims.set(g.id, startSim(dir, g, (ptys.get(g.id) as DumpedPty).sim, o.rateHz));
    await eventually(
      async () => {
        for (const g of GATEWAYS) {
          const s = await influxQuery(ports.influxHttp, `SELECT count(lat) FROM vehicle WHERE device = '${g.device}'`);
          if (Number(s?.values[0]?.[1] ?? 0) < o.rateHz) return undefined;
        }
        return true;
      },
      60_000,
      'first readings of every device in InfluxDB',
    );

    const t0 = Date.now();
    const events: AppliedFault[] = [];
    log(`warm, applying ${faults.length} faults over ${(scheduleLength(faults) / 1000).toFixed(0)} s`);

    const apply = async (f: ScheduledFault): Promise<void> => {
      const startedAt = Date.now();
      const record = (what: string, target?: string) => {
        const e: AppliedFault = { t: Math.round((startedAt - t0) / 100) / 10, what, downS: 0 };
        if (target) e.target = target;
        events.push(e);
        log(`${what}${target ? ` ${target}` : ''} for ${f.forMs} ms`);
        return e;
      };
      if (f.kind === 'kill-edge') {
        const e = record('SIGKILL edge', f.gateway);
        const spec = GATEWAYS.find((g) => g.id === f.gateway) as GatewaySpec;
        const killedAt = Date.now();
        await edges.get(f.gateway)?.stop('SIGKILL');
        await sleep(f.forMs);
        const edge = startEdge(dir, spec, password);
        edges.set(f.gateway, edge);
        await edgeReady(edge, ports.edgeHttp[f.gateway] as number);
        dead.get(f.gateway)?.push([killedAt, Date.now()]);
        e.downS = Math.round((Date.now() - startedAt) / 100) / 10;
      } else if (f.kind === 'kill-hub') {
        const e = record('SIGKILL hub');
        await hub?.stop('SIGKILL');
        await sleep(f.forMs);
        hub = startHub(dir, password);
        await hubReady(hub, ports.hubHttp);
        e.downS = Math.round((Date.now() - startedAt) / 100) / 10;
      } else if (f.kind === 'stop-influx') {
        const e = record('SIGTERM influxd');
        writtenBefore += await pointsWrittenOK(ports.influxHttp).catch(() => 0);
        await influxd?.stop();
        await sleep(f.forMs);
        influxd = await startChaosInfluxd(dir, ports);
        e.downS = Math.round((Date.now() - startedAt) / 100) / 10;
      } else if (f.kind === 'hang-influx') {
        const e = record('SIGSTOP influxd');
        influxd?.signal('SIGSTOP');
        await sleep(f.forMs);
        influxd?.signal('SIGCONT');
        e.downS = Math.round((Date.now() - startedAt) / 100) / 10;
      } else {
        const e = record(`cut uplink (${f.mode})`, f.gateway);
        proxy?.cut(f.mode);
        await sleep(f.forMs);
        proxy?.restore();
        e.downS = Math.round((Date.now() - startedAt) / 100) / 10;
      }
    };

    const running: Promise<void>[] = [];
    for (const f of [...faults].sort((a, b) => a.at - b.at)) {
      await sleep(Math.max(0, t0 + f.at - Date.now()));
      running.push(apply(f));
    }
    await Promise.all(running);
    await sleep(Math.max(0, t0 + scheduleLength(faults) - Date.now()));
    const chaosS = Math.round((Date.now() - t0) / 1000);

    log('stopping the simulators, draining');
    await Promise.all([...sims.values()].map((s) => s.stop()));
    await drain(ports.edgeHttp, o.drainTimeoutMs);
    log('drained; stopping the edges and counting');
    await Promise.all([...edges.values()].map((e) => e.stop()));

    const devices: DeviceBooks[] = [];
    for (const g of GATEWAYS) devices.push(await books(dir, g, ports.influxHttp, dead.get(g.id) ?? []));
    const written = writtenBefore + (await pointsWrittenOK(ports.influxHttp));
    const sum = (f: (d: DeviceBooks) => number) => devices.reduce((n, d) => n + f(d), 0);
    ok = devices.every(balanced);
    const summary: ChaosSummary = {
      produced: sum((d) => d.produced),
      sameTs: sum((d) => d.sameTs),
      stored: sum((d) => d.stored),
      lost: sum((d) => d.lost),
      duplicated: sum((d) => d.duplicated),
      holesOutsideDead: sum((d) => d.holesOutsideDead.length),
      rewrites: written - sum((d) => d.stored + d.eventsStored),
      eventsProduced: sum((d) => d.eventsProduced),
      eventsStored: sum((d) => d.eventsStored),
      chaosS,
      rateHz: o.rateHz,
      ok,
      events: events.sort((a, b) => a.t - b.t),
    };
    if (!ok || o.keep) summary.dir = dir;
    return { devices, summary };
  } finally {
    await Promise.all([...sims.values()].map((s) => s.stop()));
    await Promise.all([...edges.values()].map((e) => e.stop()));
    await hub?.stop();
    await influxd?.stop();
    await proxy?.close();
    await Promise.all([...ptys.values()].map((p) => p.stop()));
    if (ok && !o.keep) rmSync(dir, { recursive: true, force: true });
    else log(`kept ${dir}`);
  }
}

/** Waits until every edge's outbox is empty twice in a row, one second apart. */
async function drain(edgePorts: Record<string, number>, timeoutMs: number): Promise<void> {
  let emptyBefore = false;
  await eventually(
    async () => {
      const states = await Promise.all(Object.values(edgePorts).map((p) => edgeHealth(p)));
      const empty = states.every((s) => s.outboxDepth === 0 && s.outboxMessages === 0);
      if (empty && emptyBefore) return true;
      emptyBefore = empty;
      await sleep(1000);
      return undefined;
    },
    timeoutMs,
    'every edge outbox empty',
  );
}

async function books(
  dir: string,
  g: GatewaySpec,
  influxPort: number,
  deadWindows: [number, number][],
): Promise<DeviceBooks> {
  const file = path.join(dir, `edge-${g.id}`, 'outbox.db');
  const ledger = existsSync(file) ? readLedger(file) : [];
  const readings = ledger.find((t) => t.device === g.device && t.kind === 0);
  const events = ledger.filter((t) => t.kind === 1).reduce((n, t) => n + t.n, 0);
  const stored = await influxQuery(
    influxPort,
    `SELECT lat FROM vehicle WHERE device = '${g.device}' ORDER BY time ASC`,
  );
  const storedEvents = await influxQuery(influxPort, `SELECT count("count") FROM event WHERE gateway = '${g.id}'`);
  const dump = readFileSync(path.join(dir, `${g.id}.nmea`), 'latin1');
  return deviceBooks({
    gateway: g.id,
    device: g.device,
    emitted: rmcTimes(dump),
    taken: readings,
    stored: (stored?.values ?? []).map((v) => v[0] as number),
    deadWindows: deadWindows.map(([a, b]) => [a - DEAD_SLACK_MS, b + DEAD_SLACK_MS] as const),
    eventsProduced: events,
    eventsStored: Number(storedEvents?.values[0]?.[1] ?? 0),
  });
}

function readLedger(file: string) {
  const db = new Database(file, { readonly: true });
  try {
    return readTakenLedger(db);
  } finally {
    db.close();
  }
}
