/**
 * The fleet simulator: one FleetTruck + one Terminal per vehicle. Every report interval (sim
 * seconds; real period = interval / speedup) each truck drives on and its terminal reports where
 * it is, stamped with the sim clock; under a tunnel the terminal has no signal and keeps the
 * positions for a blind-area batch. Trucks start staggered over one interval so a big fleet does
 * not report in one burst. Optional connection drops every N real seconds per terminal.
 */
import type { Logger } from '../../drivers/sdk/log.js';
import { seededRandom } from '../common/random.js';
import { createSimClock, type SimClock } from '../common/sim-clock.js';
import type { LonLat } from '../gps/route.js';
import { ALARM, type LocationReport, STATUS } from './jt808-bodies.js';
import type { Jt808Version } from './jt808-frames.js';
import { Terminal, type TerminalStats, zeroStats } from './terminal.js';
import { FleetTruck, HOP_SPEED_KMH, type TruckState } from './truck.js';
import type { SimVehicle } from './vehicles.js';

export interface FleetOptions {
  vehicles: SimVehicle[];
  host: string;
  port: number;
  version?: Jt808Version;
  seed?: number;
  /** Sim time runs this much faster. Default 1. */
  speedup?: number;
  /** Sim seconds between location reports. Default 10. */
  reportIntervalS?: number;
  /** Heartbeat after this many idle real seconds. Default 30. */
  heartbeatS?: number;
  /** T of the retransmission rule, real ms. Default 10 000. */
  ackTimeoutMs?: number;
  /** Each terminal drops its connection every this many real seconds. Default never. */
  dropEveryS?: number;
  /** Wait before reconnecting, real ms. Default 2 000. */
  reconnectMs?: number;
  tunnels?: readonly LonLat[];
  /** GPS noise, metres (σ). Default 3. */
  gpsNoiseM?: number;
  /** Sim start, UTC ms. Default now. */
  startMs?: number;
  log: Logger;
  /** Each report as sent or kept (tests, the demo's banner). */
  onReport?: (vehicle: SimVehicle, state: TruckState, report: LocationReport) => void;
}

export interface FleetSummary {
  vehicles: number;
  online: number;
  inTunnel: number;
  stats: TerminalStats;
}

export interface Fleet {
  readonly clock: SimClock;
  readonly terminals: ReadonlyMap<string, Terminal>;
  summary(): FleetSummary;
  stop(): Promise<void>;
}

/** The report a truck's state makes: located, ACC on, GPS + BeiDou; overspeed when above the hop band. */
export function reportOf(state: TruckState, time: number): LocationReport {
  return {
    alarm: state.speedKmh > HOP_SPEED_KMH[1] + 10 ? ALARM.overspeed : 0,
    status: STATUS.acc | STATUS.located | STATUS.gps | STATUS.beidou,
    lat: state.lat,
    lon: state.lon,
    altitudeM: state.altitudeM,
    speedKmh: state.speedKmh,
    headingDeg: state.headingDeg,
    time,
    mileageKm: state.mileageKm,
    working: state.working,
    csq: state.inTunnel ? 0 : 24,
    satellites: state.satellites,
  };
}

export function startFleet(opts: FleetOptions): Fleet {
  const realStart0 = Date.now();
  const simStart0 = opts.startMs ?? realStart0;
  const clock = createSimClock({ speedup: opts.speedup ?? 1, startMs: simStart0 });
  const intervalS = opts.reportIntervalS ?? 10;
  const periodMs = (intervalS * 1000) / clock.speedup;
  const random = seededRandom(opts.seed ?? 1);
  const terminals = new Map<string, Terminal>();
  const timers = new Map<string, NodeJS.Timeout>();
  const drops: NodeJS.Timeout[] = [];
  let stopped = false;
  let inTunnel = new Set<string>();

  opts.vehicles.forEach((v, i) => {
    const truck = new FleetTruck({
      legs: v.legs,
      role: v.role,
      seed: ((opts.seed ?? 1) * 7919 + i) >>> 0,
      tunnels: opts.tunnels,
      gpsNoiseM: opts.gpsNoiseM,
    });
    const terminal = new Terminal({
      host: opts.host,
      port: opts.port,
      phone: v.phone,
      version: opts.version ?? 2013,
      register: v.register,
      heartbeatMs: (opts.heartbeatS ?? 30) * 1000,
      ackTimeoutMs: opts.ackTimeoutMs,
      reconnectMs: opts.reconnectMs,
      log: opts.log.child({ device: v.id, phone: v.phone }),
    });
    terminals.set(v.id, terminal);
    // stagger: terminal i starts somewhere inside the first period
    const offsetMs = Math.floor(random() * Math.min(periodMs, 5000));
    const dropMs = opts.dropEveryS ? opts.dropEveryS * 1000 + Math.floor(random() * 1000) : 0;
    // Report k (from 1) is due at real time start + offset + k × period and stamped with sim time
    // startMs + (offset + k × period) × speedup: the track and its timestamps follow the seed and
    // the start time only, and a late timer catches up instead of stretching the interval.
    const realStart = realStart0 + offsetMs;
    const simStart = simStart0 + offsetMs * clock.speedup;
    let k = 1;
    const tick = () => {
      if (stopped) return;
      const state = truck.step(intervalS);
      terminal.setSignal(!state.inTunnel);
      if (state.inTunnel) inTunnel.add(v.id);
      else inTunnel.delete(v.id);
      const report = reportOf(state, Math.round(simStart + k * intervalS * 1000));
      terminal.report(report);
      opts.onReport?.(v, state, report);
      k++;
      timers.set(v.id, setTimeout(tick, Math.max(0, realStart + k * periodMs - Date.now())));
    };
    timers.set(
      v.id,
      setTimeout(() => {
        terminal.start();
        if (dropMs) drops.push(setInterval(() => terminal.drop(), dropMs));
        // the first report one interval after dialling: it has driven that far, and is online by then
        timers.set(v.id, setTimeout(tick, periodMs));
      }, offsetMs),
    );
  });

  const summary = (): FleetSummary => {
    const stats = zeroStats();
    let online = 0;
    for (const t of terminals.values()) {
      if (t.online) online++;
      for (const k of Object.keys(stats) as (keyof TerminalStats)[]) stats[k] += t.stats[k];
    }
    return { vehicles: terminals.size, online, inTunnel: inTunnel.size, stats };
  };

  return {
    clock,
    terminals,
    summary,
    async stop() {
      stopped = true;
      for (const t of timers.values()) clearTimeout(t);
      for (const t of drops) clearInterval(t);
      await Promise.all([...terminals.values()].map((t) => t.stop()));
      inTunnel = new Set();
    },
  };
}

/** One line for the CLI's per-minute summary. */
export function formatSummary(s: FleetSummary): string {
  const t = s.stats;
  return `sim fleet: ${s.online}/${s.vehicles} online, ${s.inTunnel} in tunnels; ${t.reports} reports, ${t.batchedPositions} positions in ${t.batches} blind-area batches, ${t.heartbeats} heartbeats, ${t.acked} answered, ${t.retransmits} retransmits, ${t.connects} connects, ${t.refusals} refusals, ${t.buffered} kept`;
}
