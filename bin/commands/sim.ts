/**
 * `citygrid sim <simulator> ...`: runs a device simulator until SIGINT/SIGTERM. Simulators are
 * entries of SIMULATORS; `gps` drives a sanitation truck and writes NMEA to a serial line.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadCityConfig } from '../../config/load.js';
import { ConfigError } from '../../drivers/sdk/errors.js';
import { type LonLat, parsePath } from '../../simulators/gps/route.js';
import type { GpsSimulatorOptions } from '../../simulators/gps/simulator.js';

interface SimulatorEntry {
  summary: string;
  run(args: string[]): Promise<number>;
}

const DEFAULT_CITY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../config/examples/city.yaml');

const GPS_USAGE = `usage: citygrid sim gps --out <tty> (--route <id> [--city <city.yaml>] | --path "lon,lat;lon,lat;...")
                 [--rate <Hz>] [--speed <km/h>] [--loop] [--no-fix-every <N>] [--garbage] [--talker GN] [--seed <n>]
  --out           serial device or pty end to write NMEA to (e.g. one end of a socat pair)
  --route         route id from the city config's routes (default city: config/examples/city.yaml)
  --path          the route as "lon,lat;lon,lat;..." instead
  --rate          epochs (RMC + GGA) per second, default 1
  --speed         mean speed in km/h, default 22 (varies ±30%, slower at corners)
  --loop          drive the route back and forth instead of parking at its end
  --no-fix-every  every Nth epoch without a fix (RMC V, GGA quality 0)
  --garbage       inject line noise and now and then a wrong checksum`;

function resolveRoute(values: { route?: string; city?: string; path?: string }): LonLat[] {
  if (values.path) return parsePath(values.path);
  if (!values.route) throw new Error('give --route <id> or --path "lon,lat;..."');
  const city = loadCityConfig(values.city ?? DEFAULT_CITY);
  const route = city.routes.find((r) => r.id === values.route);
  if (!route)
    throw new Error(
      `no route "${values.route}" in the city config; routes: ${city.routes.map((r) => r.id).join(', ') || '(none)'}`,
    );
  return route.path.map(([lon, lat]) => [lon, lat] as const);
}

function positiveNumber(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number, got "${text}"`);
  return n;
}

async function runGps(args: string[]): Promise<number> {
  let options: GpsSimulatorOptions;
  try {
    const { values } = parseArgs({
      args,
      options: {
        out: { type: 'string' },
        route: { type: 'string' },
        city: { type: 'string' },
        path: { type: 'string' },
        rate: { type: 'string' },
        speed: { type: 'string' },
        loop: { type: 'boolean' },
        'no-fix-every': { type: 'string' },
        garbage: { type: 'boolean' },
        talker: { type: 'string' },
        seed: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    });
    if (values.help) {
      console.log(GPS_USAGE);
      return 0;
    }
    if (!values.out) throw new Error('--out <tty> is required');
    if (values.talker !== undefined && !/^[A-Z]{2}$/.test(values.talker))
      throw new Error('--talker must be two capital letters');
    options = {
      route: resolveRoute(values),
      out: values.out,
      rateHz: positiveNumber('rate', values.rate),
      speedKmh: positiveNumber('speed', values.speed),
      loop: values.loop ?? false,
      noFixEvery: positiveNumber('no-fix-every', values['no-fix-every']),
      garbage: values.garbage ?? false,
      talker: values.talker,
      seed: positiveNumber('seed', values.seed),
    };
  } catch (err) {
    if (err instanceof ConfigError) console.error(err.message);
    else console.error(`citygrid sim gps: ${err instanceof Error ? err.message : String(err)}\n\n${GPS_USAGE}`);
    return 2;
  }
  const { startGpsSimulator } = await import('../../simulators/gps/simulator.js');
  let sim: Awaited<ReturnType<typeof startGpsSimulator>>;
  try {
    sim = await startGpsSimulator(options);
  } catch (err) {
    console.error(`citygrid sim gps: cannot start: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  console.error(`sim gps: writing NMEA to ${options.out} at ${options.rateHz ?? 1} Hz; Ctrl-C to stop`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await sim.stop();
  console.error(`sim gps: stopped after ${sim.epochs} epochs`);
  return 0;
}

const SIMULATORS: Record<string, SimulatorEntry> = {
  gps: { summary: 'sanitation truck GNSS receiver: NMEA RMC + GGA on a serial line', run: runGps },
  meters: {
    summary: 'RS-485 water-meter bus: CJ/T 188 and Modbus RTU meters answering a poller',
    run: async (args) => (await import('./sim-meters.js')).runMeters(args),
  },
  cameras: {
    summary: 'ONVIF cameras: SOAP device/media/PTZ/events, Digest snapshots, RTSP, WS-Discovery',
    run: async (args) => (await import('./sim-cameras.js')).runCameras(args),
  },
  // issue 5 names it `citygrid sim camera`; the plural is the name the other simulators follow
  camera: {
    summary: 'the same as cameras',
    run: async (args) => (await import('./sim-cameras.js')).runCameras(args),
  },
  fleet: {
    summary: 'sanitation trucks with JT/T 808 terminals driving their assigned roads, dialling a jt808 server',
    run: async (args) => (await import('./sim-fleet.js')).runFleet(args),
  },
  structures: {
    summary: 'bridge, tunnel, underpass and road-weather loggers: Modbus TCP servers (and RTU slaves on a tty)',
    run: async (args) => (await import('./sim-structures.js')).runStructures(args),
  },
  flood: {
    summary: 'flood drill: a seeded rainstorm through hub, edges and simulators, then the drill report',
    run: async (args) => (await import('./sim-drill.js')).runDrillCommand('flood', args),
  },
  snow: {
    summary: 'snow drill: a seeded cold wave (wet roads freeze, then snow) through the system, then the report',
    run: async (args) => (await import('./sim-drill.js')).runDrillCommand('snow', args),
  },
};

export async function run(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  const entry = name ? SIMULATORS[name] : undefined;
  if (!entry) {
    if (name && name !== '--help' && name !== '-h') console.error(`citygrid sim: unknown simulator "${name}"`);
    console.error(
      [
        'usage: citygrid sim <simulator> [options]',
        '',
        ...Object.entries(SIMULATORS).map(([id, s]) => `  ${id.padEnd(10)} ${s.summary}`),
      ].join('\n'),
    );
    return 2;
  }
  return entry.run(rest);
}
