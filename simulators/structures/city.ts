/**
 * The structure simulators of a city: N bridges, tunnels, underpasses and road-weather stations
 * in one scene (one weather, one traffic), each logger a Modbus TCP server on loopback and,
 * optionally, all of them RTU slaves on one serial line. Scenario hooks (rain, air temperature
 * trend, load spike, overrides, channel faults) are methods here and, over HTTP, in control.ts.
 */

import type { LineSettings, SerialLine } from '../common/serial-line.js';
import { createSimClock } from '../common/sim-clock.js';
import { SimLogger } from './logger.js';
import { type RtuSlaves, startRtuSlaves } from './rtu-slaves.js';
import type { BridgeSignals } from './signals/bridge.js';
import type { EnvironmentOptions } from './signals/environment.js';
import { Scene, STRUCTURE_KINDS, type StructureKind } from './signals/scene.js';
import { type ModbusTcpServer, startModbusTcpServer } from './tcp-server.js';

export interface StructureSimOptions {
  bridges?: number;
  tunnels?: number;
  underpasses?: number;
  roadWeather?: number;
  /** Logger n (0-based) listens on basePort + n. Default: each on a free port. */
  tcpBasePort?: number;
  /** Every logger also as an RTU slave (unit 1, 2, … in the order above) on this line. */
  rtu?: { out: string | SerialLine; line?: Partial<LineSettings> };
  /** Sim time runs this many times faster than real time. Default 1. */
  speedup?: number;
  seed?: number;
  /** Real clock, ms (tests). Default Date.now. */
  realNow?: () => number;
  /** Sim time at the start, ms. Default: the real clock. */
  startMs?: number;
  environment?: Omit<EnvironmentOptions, 'startMs' | 'seed'>;
  /** Mean TCP answer latency, ms. Default 2. */
  latencyMs?: number;
  /** Ids of the loggers of a kind, in order (the demo uses its device ids). Default `<kind>-<n>`. */
  names?: Partial<Record<StructureKind, readonly string[]>>;
}

export interface StructureLogger {
  readonly logger: SimLogger;
  readonly tcp: ModbusTcpServer;
}

export interface StructureSim {
  readonly scene: Scene;
  readonly loggers: readonly StructureLogger[];
  readonly rtu?: RtuSlaves & { path: string };
  readonly speedup: number;
  /** Sim time now, ms. */
  now(): number;
  logger(id: string): SimLogger;
  setRain(mmh: number): void;
  setAirTemperatureTrend(cPerHour: number, targetC?: number): void;
  /** An overload on one bridge (default: the first), starting now. */
  triggerLoadSpike(opts?: { bridge?: string; factor?: number; durationS?: number }): string;
  stop(): Promise<void>;
}

/** The most loggers one sim serves: RTU unit ids are 1..247. */
export const MAX_LOGGERS = 247;

export async function startStructureSim(opts: StructureSimOptions): Promise<StructureSim> {
  const counts: Record<StructureKind, number> = {
    bridge: opts.bridges ?? 0,
    tunnel: opts.tunnels ?? 0,
    underpass: opts.underpasses ?? 0,
    'road-weather': opts.roadWeather ?? 0,
  };
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  for (const [kind, n] of Object.entries(counts))
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`${kind} count must be a whole number ≥ 0, got ${n}`);
  if (total === 0)
    throw new RangeError('no loggers: give at least one bridge, tunnel, underpass or road-weather station');
  if (total > MAX_LOGGERS) throw new RangeError(`at most ${MAX_LOGGERS} loggers (RTU unit ids), got ${total}`);
  if (opts.tcpBasePort !== undefined && !(opts.tcpBasePort >= 1 && opts.tcpBasePort + total - 1 <= 65535))
    throw new RangeError(`TCP base port ${opts.tcpBasePort} leaves no room for ${total} loggers`);

  const clock = createSimClock({ speedup: opts.speedup, startMs: opts.startMs, realNow: opts.realNow });
  const scene = new Scene({ startMs: clock.now(), seed: opts.seed, environment: opts.environment });
  const baudRate = opts.rtu?.line?.baudRate ?? 9600;
  const loggers: SimLogger[] = [];
  for (const kind of STRUCTURE_KINDS)
    for (let i = 1; i <= counts[kind]; i++)
      loggers.push(
        new SimLogger({
          id: opts.names?.[kind]?.[i - 1] ?? `${kind}-${i}`,
          kind,
          unit: loggers.length + 1,
          signals: scene.add(kind, i),
          scene,
          clock,
          baudRate,
        }),
      );

  const started: StructureLogger[] = [];
  let rtu: (RtuSlaves & { path: string }) | undefined;
  const stopAll = async () => {
    await Promise.all(started.map((s) => s.tcp.close()));
    await rtu?.stop();
  };
  try {
    for (const [n, logger] of loggers.entries()) {
      const tcp = await startModbusTcpServer({
        slaves: new Map([[logger.unit, logger]]),
        port: opts.tcpBasePort === undefined ? 0 : opts.tcpBasePort + n,
        latencyMs: opts.latencyMs,
      });
      started.push({ logger, tcp });
    }
    if (opts.rtu) {
      const slaves = await startRtuSlaves({
        out: opts.rtu.out,
        slaves: new Map(loggers.map((l) => [l.unit, l])),
        line: opts.rtu.line,
      });
      rtu = Object.assign(slaves, { path: typeof opts.rtu.out === 'string' ? opts.rtu.out : '(line)' });
    }
  } catch (err) {
    await stopAll();
    throw err;
  }

  const byId = new Map(loggers.map((l) => [l.id, l]));
  if (byId.size !== loggers.length) {
    await stopAll();
    throw new RangeError('two loggers have the same id');
  }
  const logger = (id: string) => {
    const l = byId.get(id);
    if (!l) throw new RangeError(`no logger "${id}"; loggers: ${[...byId.keys()].join(', ')}`);
    return l;
  };
  const catchUp = () => scene.advance(clock.now());
  return {
    scene,
    loggers: started,
    rtu,
    speedup: clock.speedup,
    now: clock.now,
    logger,
    setRain(mmh) {
      catchUp();
      scene.env.setRain(mmh);
    },
    setAirTemperatureTrend(cPerHour, targetC) {
      catchUp();
      scene.env.setAirTemperatureTrend(cPerHour, targetC);
    },
    triggerLoadSpike(spike = {}) {
      const id = spike.bridge ?? loggers.find((l) => l.kind === 'bridge')?.id;
      if (!id) throw new RangeError('no bridge to load');
      const target = logger(id);
      if (target.kind !== 'bridge') throw new RangeError(`${id} is not a bridge`);
      catchUp();
      (target.signals as BridgeSignals).triggerLoadSpike({
        startMs: scene.now,
        durationS: spike.durationS ?? 20,
        factor: spike.factor ?? 1,
      });
      return id;
    },
    stop: stopAll,
  };
}
