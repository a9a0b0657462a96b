/**
 * Runs a flood or snow drill (issue 10): its own hub (a child process, so its CPU and memory are
 * its own), one edge agent per district in this process, the structure simulators in this
 * process (one weather for the city, sim time compressed by the speedup), and a TCP proxy on the
 * uplink of the gateway the scenario cuts. The scenario's steps are played on the compressed
 * clock; an operator (a console user the drill creates) confirms the incidents the hub's triggers
 * propose and closes them at the end, files a hotline report, and the drill reads everything back
 * through the hub's API and live stream to build the report. A drill does not attach to a running
 * demo: "readings lost" needs every reading the edges took and every one the hub stored, and a
 * fresh hub and fresh edges are the only place both counts start at zero.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { loadGatewayConfig } from '../../config/load.js';
import { createTransport, driverOptionsValidator, registry } from '../../drivers/index.js';
import { createLogger } from '../../drivers/sdk/log.js';
import { type EdgeHandle, startEdge } from '../../edge/src/main.js';
import { startTcpProxy, type TcpProxy } from '../../simulators/common/tcp-proxy.js';
import { drillGatewayConfig } from '../../simulators/drills/city.js';
import { HubObserver, metricSum } from '../../simulators/drills/observer.js';
import type { DrillReport } from '../../simulators/drills/report.js';
import { type DrillKind, type Scenario, scenarioFor } from '../../simulators/drills/scenario.js';
import { type StructureSim, startStructureSim } from '../../simulators/structures/city.js';
import { type ControlServer, startControlServer } from '../../simulators/structures/control.js';
import { MODEL_OF } from '../../simulators/structures/logger.js';
import type { StructureKind } from '../../simulators/structures/signals/scene.js';
import { findFreePort } from '../lib/ports.js';
import { buildReport, type DrillRecord } from './drill-report.js';
import { CLI, hubHasLogins, writeDrillFiles } from './drill-setup.js';

export interface DrillOptions {
  kind: DrillKind;
  seed?: number;
  /** Sim time runs this many times faster. Default: the scenario in `durationS`, else 60. */
  speedup?: number;
  /** Real seconds the scenario takes (sets the speedup). */
  durationS?: number;
  /** Districts of the example city scaled (default 2: the example city as it is). */
  districts?: number;
  /** Normal sample interval of every logger, ms. Default 2500 (the example's 10 s at 4×). */
  intervalMs?: number;
  /** Sample interval an open incident asks for, ms. Default a fifth of the normal one. */
  incidentIntervalMs?: number;
  /** Keep the drill's directory (configs, logs, data). */
  keepDir?: string;
  /** Progress lines (stderr in the CLI). */
  progress?: (line: string) => void;
}

const KIND_OF_MODEL = new Map(Object.entries(MODEL_OF).map(([kind, map]) => [map.model, kind as StructureKind]));
const envName = (id: string) => `CG_DRILL_PW_${id.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Hub CPU (percent of one core) and RSS from /proc, sampled once a second. */
function sampleProcess(pid: number) {
  const ticks = () => {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  };
  const rssMb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  const cpu: number[] = [];
  let rssPeak = 0;
  let last = { t: Date.now(), ticks: ticks() };
  const timer = setInterval(() => {
    try {
      const now = { t: Date.now(), ticks: ticks() };
      cpu.push(((now.ticks - last.ticks) / 100 / ((now.t - last.t) / 1000)) * 100);
      last = now;
      rssPeak = Math.max(rssPeak, rssMb());
    } catch {
      clearInterval(timer);
    }
  }, 1000);
  return {
    stop() {
      clearInterval(timer);
      const avg = cpu.length ? cpu.reduce((a, b) => a + b, 0) / cpu.length : 0;
      return { cpuPercentAvg: avg, cpuPercentPeak: Math.max(0, ...cpu), rssMbPeak: rssPeak };
    },
  };
}

function startHubProcess(hubFile: string, env: NodeJS.ProcessEnv, logFile: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [CLI, 'hub', '--config', hubFile], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(logFile, { flags: 'a' });
  let text = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the hub did not start in 30 s; see ${logFile}`)), 30_000);
    const onData = (chunk: Buffer) => {
      log.write(chunk);
      if (text.length < 100_000) {
        text += chunk.toString('utf8');
        if (/"msg":"Listening"/.test(text)) {
          clearTimeout(timer);
          text = 'x'.repeat(100_000);
          resolve(child);
        }
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      log.end();
      clearTimeout(timer);
      reject(new Error(`the hub exited (${code}) before listening; see ${logFile}`));
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
  const exited = new Promise((r) => child.once('exit', r));
  process.kill(child.pid, 'SIGTERM');
  const timer = setTimeout(() => child.pid && child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

export async function runDrill(o: DrillOptions): Promise<DrillReport> {
  const seed = o.seed ?? 1;
  const districts = o.districts ?? 2;
  const intervalMs = o.intervalMs ?? 2500;
  const incidentIntervalMs = o.incidentIntervalMs ?? Math.max(100, Math.round(intervalMs / 5));
  const say = o.progress ?? (() => undefined);
  const dir = o.keepDir ? path.resolve(o.keepDir) : mkdtempSync(path.join(tmpdir(), `citygrid-${o.kind}-drill-`));
  mkdirSync(dir, { recursive: true });
  const cleanups: (() => Promise<void> | void)[] = [];
  const { pino } = await import('pino');
  const logger = createLogger({
    name: 'citygrid-drill',
    level: 'info',
    destination: pino.destination({ dest: path.join(dir, 'edges.log'), sync: false, mkdir: true }),
  });
  try {
    // A scenario needs the city's gateways and assets; its length sets the speedup.
    const passwords: Record<string, string> = {};
    const operator = { id: 'drill-operator', password: randomBytes(12).toString('base64url') };
    const users = hubHasLogins()
      ? [
          {
            id: operator.id,
            name: '演练值班员',
            role: 'city_supervisor',
            passwordHash: await (await import('../../hub/src/broker/passwords.js')).hashPassword(operator.password),
          },
        ]
      : undefined;
    const mqttPort = await findFreePort();
    const httpPort = await findFreePort();
    // first pass to learn the city (ids only), then the scenario fixes the speedup the files need
    const probe = writeDrillFiles(dir, {
      districts,
      speedup: 1,
      normalIntervalMs: intervalMs,
      incidentIntervalMs,
      mqttPort,
      httpPort,
      passwordEnv: envName,
    });
    const scenario: Scenario = scenarioFor(
      o.kind,
      {
        gateways: probe.city.gateways.map((g) => g.id),
        underpasses: probe.city.underpasses,
        roads: probe.city.roads,
      },
      seed,
    );
    const speedup = o.speedup ?? (o.durationS ? (scenario.lengthMin * 60) / o.durationS : 60);
    const files = writeDrillFiles(dir, {
      districts,
      speedup,
      normalIntervalMs: intervalMs,
      incidentIntervalMs,
      mqttPort,
      httpPort,
      passwordEnv: envName,
      users,
    });
    const { city } = files;
    for (const g of city.gateways) passwords[envName(g.id)] = randomBytes(12).toString('base64url');

    say(`${o.kind} drill: ${city.gateways.length} gateways, speedup ×${speedup.toFixed(0)}, files in ${dir}`);
    const hub = await startHubProcess(files.hubFile, passwords, path.join(dir, 'hub.log'));
    cleanups.push(() => stopChild(hub));
    const hubUrl = `http://127.0.0.1:${httpPort}`;
    const usage = sampleProcess(hub.pid as number);

    // the structure loggers, named by their device ids, on a fixed sim date: the same storm every run
    const devices = city.gateways.flatMap((g) => g.devices);
    const byKind = (k: StructureKind) => devices.filter((d) => KIND_OF_MODEL.get(d.model) === k).map((d) => d.id);
    const [y, mo, d] = scenario.kind === 'flood' ? [2026, 6, 1] : [2026, 0, 10];
    const sim: StructureSim = await startStructureSim({
      bridges: byKind('bridge').length,
      tunnels: byKind('tunnel').length,
      underpasses: byKind('underpass').length,
      roadWeather: byKind('road-weather').length,
      speedup,
      seed,
      startMs: Date.UTC(y, mo, d, scenario.start.localHour - 8),
      environment: { meanAirC: scenario.start.meanAirC, dailySwingC: scenario.start.dailySwingC },
      names: {
        bridge: byKind('bridge'),
        tunnel: byKind('tunnel'),
        underpass: byKind('underpass'),
        'road-weather': byKind('road-weather'),
      },
    });
    cleanups.push(() => sim.stop());
    const control: ControlServer = await startControlServer(sim);
    cleanups.push(() => control.close());

    const observer = new HubObserver(hubUrl, new Set(['flood', 'road_weather']));
    const loggedIn = users ? await observer.login(operator.id, operator.password) : false;
    await observer.follow();
    cleanups.push(() => observer.stop());

    // edges: the gateway the scenario cuts talks to the hub through a proxy
    const cut = scenario.steps.find((s) => s.step.kind === 'cut-uplink')?.step as { gateway: string } | undefined;
    let proxy: TcpProxy | undefined;
    if (cut) {
      proxy = await startTcpProxy({ port: mqttPort });
      cleanups.push(() => proxy?.close());
    }
    const edges: EdgeHandle[] = [];
    const endpoint = (id: string) => {
      const l = sim.loggers.find((x) => x.logger.id === id);
      if (!l) throw new Error(`no simulated logger for ${id}`);
      return { port: l.tcp.port, unit: l.logger.unit };
    };
    for (const g of city.gateways) {
      const file = path.join(dir, `${g.id}.yaml`);
      const port = cut?.gateway === g.id && proxy ? proxy.port : mqttPort;
      writeFileSync(
        file,
        stringify(
          drillGatewayConfig(g, {
            hubUrl: `mqtt://127.0.0.1:${port}`,
            passwordRef: `\${${envName(g.id)}}`,
            dataDir: `./edge-${g.id}`,
            intervalMs,
            endpoint,
          }),
        ),
      );
      const loaded = loadGatewayConfig(file, driverOptionsValidator, { env: { ...process.env, ...passwords } });
      const edge = await startEdge(loaded, { registry, createTransport, logger: logger.child({ gateway: g.id }) });
      edges.push(edge);
    }
    const stopEdges = async () => {
      await Promise.all(edges.splice(0).map((e) => e.stop()));
    };
    cleanups.push(stopEdges);

    // normal operation first, long enough to see the normal sample interval at every logger
    await sleep(Math.max(3000, 5 * intervalMs));
    // play the scenario
    const record: DrillRecord = {
      scenario,
      speedup,
      startedAt: Date.now(),
      intervalMs,
      districts,
      city,
      rules: files.rules,
      timeline: [],
      incidentsAvailable: false,
      operatorActions: [],
    };
    const probeIncidents = await observer.api('GET', '/api/incidents');
    record.incidentsAvailable = probeIncidents.status === 200;
    record.incidentsNote = record.incidentsAvailable
      ? undefined
      : `GET /api/incidents answered ${probeIncidents.status}${loggedIn ? '' : ' (no operator login on this hub)'}`;
    const handled = new Set<string>();
    /** After the close step the storm is over: the operator dismisses what the triggers still propose. */
    let standDown = false;
    // a case transition as the operator: from the session (console logins), else named in the body
    const transition = async (id: string, action: string) => {
      const note = '演练: filed by the duty officer';
      const r = await observer.api('POST', `/api/cases/${id}/transitions`, { action, note });
      if (r.status !== 400) return r.status;
      return (
        await observer.api('POST', `/api/cases/${id}/transitions`, {
          action,
          note,
          actor: operator.id,
          role: 'city_supervisor',
        })
      ).status;
    };
    const operatorTick = async () => {
      // the supervision centre files what the hotline and the rules report during the storm
      const reported = await observer.api<{ items?: Record<string, unknown>[] }>('GET', '/api/cases?state=reported');
      for (const c of reported.body?.items ?? []) {
        const id = String(c.id);
        if (handled.has(id)) continue;
        handled.add(id);
        const accepted = await transition(id, 'accept');
        const filed = accepted === 200 ? await transition(id, 'file') : accepted;
        record.operatorActions.push({ at: Date.now(), action: 'file', target: id, status: filed });
        say(`  operator files ${id}: HTTP ${filed}`);
      }
      if (!record.incidentsAvailable) return;
      const r = await observer.api<{ items?: Record<string, unknown>[] } | Record<string, unknown>[]>(
        'GET',
        '/api/incidents',
      );
      const items = Array.isArray(r.body) ? r.body : (r.body?.items ?? []);
      for (const i of items) {
        const id = String(i.id);
        if (i.state === 'proposed' && !handled.has(id)) {
          handled.add(id);
          const verb = standDown ? 'dismiss' : 'confirm';
          const c = await observer.api('POST', `/api/incidents/${id}/${verb}`, {
            reason: standDown
              ? '演练: storm over, no new incident'
              : `演练: ${scenario.kind} trigger confirmed by the duty officer`,
          });
          record.operatorActions.push({ at: Date.now(), action: verb, target: id, status: c.status });
          say(`  operator ${verb}s ${id}: HTTP ${c.status}`);
        }
      }
    };
    const closeIncidents = async () => {
      standDown = true;
      if (!record.incidentsAvailable) return;
      const r = await observer.api<{ items?: Record<string, unknown>[] } | Record<string, unknown>[]>(
        'GET',
        '/api/incidents',
      );
      const items = Array.isArray(r.body) ? r.body : (r.body?.items ?? []);
      for (const i of items.filter((x) => x.state === 'open' || x.state === 'proposed')) {
        const verb = i.state === 'open' ? 'close' : 'dismiss';
        const c = await observer.api('POST', `/api/incidents/${String(i.id)}/${verb}`, {
          reason: '演练: storm over, water down',
        });
        record.operatorActions.push({ at: Date.now(), action: verb, target: String(i.id), status: c.status });
        say(`  operator ${verb}s ${String(i.id)}: HTTP ${c.status}`);
      }
    };
    const realMs = (min: number) => (min * 60_000) / speedup;
    let ticking = true;
    const ticker = (async () => {
      while (ticking) {
        try {
          await operatorTick();
        } catch (err) {
          say(`  operator: ${(err as Error).message}`);
        }
        await sleep(300);
      }
    })();
    for (const s of scenario.steps) {
      const wait = record.startedAt + realMs(s.atMin) - Date.now();
      if (wait > 0) await sleep(wait);
      const at = Date.now();
      record.timeline.push({ atMin: s.atMin, at, label: s.label });
      say(`  +${((at - record.startedAt) / 1000).toFixed(1)} s (sim +${s.atMin} min) ${s.label}`);
      const st = s.step;
      if (st.kind === 'rain') sim.setRain(st.mmh);
      else if (st.kind === 'air-trend') sim.setAirTemperatureTrend(st.cPerHour, st.targetC);
      else if (st.kind === 'cut-uplink') {
        proxy?.cut('refuse');
        record.uplink = { gateway: st.gateway, cutAt: at };
      } else if (st.kind === 'restore-uplink') {
        proxy?.restore();
        if (record.uplink) record.uplink.restoredAt = at;
      } else if (st.kind === 'hotline') {
        const r = await observer.api<Record<string, unknown>>('POST', '/api/reports', {
          text: st.text,
          category: st.category,
          asset: st.asset,
          reporter: '12319 演练来电',
        });
        record.hotline = { asset: st.asset, at, status: r.status, effect: String(r.body?.effect ?? '') };
        say(`  hotline report on ${st.asset}: HTTP ${r.status} ${record.hotline.effect}`);
      } else if (st.kind === 'close-incidents') {
        await closeIncidents();
      }
    }
    const end = record.startedAt + realMs(scenario.lengthMin);
    if (end > Date.now()) await sleep(end - Date.now());
    ticking = false;
    await ticker;

    // nothing lost: wait for the edges' outboxes to empty, stop them, then count both ends
    const running = [...edges];
    const sum = (name: string) => running.reduce((n, e) => n + metricSum(e.metrics.render(), name), 0);
    for (let i = 0; i < 50 && sum('citygrid_edge_outbox_depth') > 0; i++) await sleep(200);
    await stopEdges(); // takes no more readings, waits for the hub's acks of what is queued
    record.edgeBacklogAtEnd = sum('citygrid_edge_outbox_depth');
    record.producedAtEdges = sum('citygrid_edge_readings_total');
    await sleep(300);
    const metrics = (await observer.api<string>('GET', '/metrics')).body;
    record.storedAtHub = metricSum(String(metrics), 'citygrid_ingest_readings_total');
    record.duplicatesAtHub = metricSum(String(metrics), 'citygrid_ingest_duplicates_total');
    record.endedAt = Date.now();
    const cases = await observer.api<{ items: Record<string, unknown>[] }>('GET', '/api/cases?limit=500');
    record.cases = cases.body?.items ?? [];
    // the reading that raised each sensor case: its first signal
    for (const c of record.cases.filter((x) => x.source === 'sensor')) {
      const detail = await observer.api<{ signals?: { at?: number }[] }>('GET', `/api/cases/${String(c.id)}`);
      const first = detail.body?.signals?.[0]?.at;
      if (typeof first === 'number') c.raisedByReadingAt = first;
    }
    if (record.incidentsAvailable) {
      const r = await observer.api<{ items?: Record<string, unknown>[] } | Record<string, unknown>[]>(
        'GET',
        '/api/incidents',
      );
      record.incidents = Array.isArray(r.body) ? r.body : (r.body?.items ?? []);
    }
    record.readings = observer.readings;
    record.events = observer.events;
    record.hubUsage = usage.stop();
    if (o.keepDir)
      writeFileSync(
        path.join(dir, 'seen.json'),
        JSON.stringify({ readings: Object.fromEntries(observer.readings), events: observer.events }),
      );
    return buildReport(record);
  } finally {
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch {
        // keep stopping the rest
      }
    }
    logger.flush();
    if (!o.keepDir) rmSync(dir, { recursive: true, force: true });
  }
}
