/**
 * `citygrid sim fleet ...`: sanitation trucks with JT/T 808 terminals dialling a platform (the
 * edge's jt808 server) until SIGINT/SIGTERM, with a one-line summary every minute. Registered in
 * sim.ts.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadCityConfig, loadGatewayConfig } from '../../config/load.js';
import { ConfigError } from '../../drivers/sdk/errors.js';
import { createLogger, type LogLevel } from '../../drivers/sdk/log.js';
import type { FleetOptions } from '../../simulators/fleet/fleet.js';
import { cityFleet, phonesFromGateway, syntheticFleet, tunnelPoints } from '../../simulators/fleet/vehicles.js';
import { untilStopSignal } from '../lib/signals.js';

const DEFAULT_CITY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../config/examples/city.yaml');

export const FLEET_USAGE = `usage: citygrid sim fleet [--city <city.yaml>] [--gateway <gateway.yaml>] [--host 127.0.0.1] [--port 7808]
                 [--vehicles <id,id,...> | --count N] [--seed <n>] [--speedup <x>] [--report-interval-s 10]
                 [--heartbeat-s 30] [--ack-timeout-s 10] [--version 2013|2019] [--misbehave <vehicleId>]...
                 [--drop-every <s>] [--no-tunnels] [--gps-noise-m 3] [--summary-every-s 60] [--log-level warn]
  --city              city config with roads and vehicles (default config/examples/city.yaml)
  --gateway           gateway config: the phones of its jt808-terminal devices (only those vehicles are driven) and,
                      unless --host/--port say otherwise, where its jt808 server listens
  --host, --port      the JT/T 808 server to dial (default 127.0.0.1:7808)
  --vehicles          only these vehicles of the city config
  --count             N synthetic trucks on the city's roads instead (SIM-00001..., phones 0139 + 8 digits)
  --seed              PRNG seed: the same seed drives the same tracks (default 1)
  --speedup           sim time runs this many times faster (trucks drive farther per report; default 1)
  --report-interval-s sim seconds between location reports (default 10)
  --heartbeat-s       heartbeat after this many idle seconds (default 30)
  --ack-timeout-s     T of the retransmission rule T × (n + 1), 3 retransmissions (default 10)
  --version           JT/T 808 header layout (default 2013)
  --misbehave         this vehicle skips the second half of every second assigned segment
  --drop-every        every terminal drops its TCP connection every this many seconds (reconnect, re-auth)
  --no-tunnels        no signal loss under the city's tunnels
  --summary-every-s   seconds between summary lines (default 60)
Phones without --gateway: vehicle i of the city config (from 1) is 0138 + i in 8 digits (013800000001, ...).`;

function number(name: string, text: string | undefined, min = 0): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number ≥ ${min}, got "${text}"`);
  return n;
}

/**
 * Reads the gateway config for its servers and jt808-terminal devices. The ${VAR}s the simulator
 * does not need (the gateway's MQTT password, camera passwords) may be unset: they read as a
 * placeholder, so the file still validates.
 */
function readGateway(file: string) {
  const env = new Proxy(process.env, {
    get: (target, key) => (typeof key === 'string' ? (target[key] ?? 'unset-for-the-simulator') : undefined),
  });
  const { gateway } = loadGatewayConfig(file, undefined, { env });
  return gateway;
}

interface Parsed {
  fleet: Omit<FleetOptions, 'log'>;
  summaryEveryS: number;
  logLevel: LogLevel;
}

function parse(args: string[]): Parsed | 'help' {
  const { values } = parseArgs({
    args,
    options: {
      city: { type: 'string' },
      gateway: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      vehicles: { type: 'string' },
      count: { type: 'string' },
      seed: { type: 'string' },
      speedup: { type: 'string' },
      'report-interval-s': { type: 'string' },
      'heartbeat-s': { type: 'string' },
      'ack-timeout-s': { type: 'string' },
      version: { type: 'string' },
      misbehave: { type: 'string', multiple: true },
      'drop-every': { type: 'string' },
      'no-tunnels': { type: 'boolean' },
      'gps-noise-m': { type: 'string' },
      'summary-every-s': { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return 'help';
  if (values.vehicles && values.count) throw new Error('give --vehicles or --count, not both');
  const version = Number(values.version ?? 2013);
  if (version !== 2013 && version !== 2019) throw new Error('--version must be 2013 or 2019');
  const city = loadCityConfig(values.city ?? DEFAULT_CITY);
  const gateway = values.gateway ? readGateway(values.gateway) : undefined;
  const server = gateway?.servers?.find((s) => s.protocol === 'jt808');
  if (gateway && !server) throw new Error(`${values.gateway} has no jt808 server in servers:`);
  const misbehave = values.misbehave ?? [];
  const count = number('count', values.count, 1);
  let vehicles: FleetOptions['vehicles'];
  if (count !== undefined) vehicles = syntheticFleet(city, Math.floor(count), { misbehave });
  else {
    const only = values.vehicles?.split(',').map((v) => v.trim());
    const phones = gateway ? phonesFromGateway(gateway) : undefined;
    vehicles = cityFleet(city, { phones, only, misbehave });
    const unknown = [...(only ?? []), ...misbehave].filter((id) => !city.vehicles.some((v) => v.id === id));
    if (unknown.length) throw new Error(`no vehicle ${unknown.join(', ')} in the city config`);
    // the plate the gateway expects is the one to register with (the session refuses another)
    if (gateway)
      for (const v of vehicles) {
        const plate = gateway.devices.find((d) => d.id === v.id)?.options?.plate;
        if (typeof plate === 'string') v.register.plate = plate;
      }
  }
  if (vehicles.length === 0)
    throw new Error(
      gateway
        ? `no jt808-terminal device of ${values.gateway} is a vehicle of the city config`
        : 'no vehicles to drive',
    );
  const listenHost = server?.listen.host;
  return {
    fleet: {
      vehicles,
      host: values.host ?? (listenHost && listenHost !== '0.0.0.0' ? listenHost : '127.0.0.1'),
      port: number('port', values.port, 1) ?? server?.listen.port ?? 7808,
      version,
      seed: number('seed', values.seed),
      speedup: number('speedup', values.speedup),
      reportIntervalS: number('report-interval-s', values['report-interval-s']),
      heartbeatS: number('heartbeat-s', values['heartbeat-s']),
      ackTimeoutMs: values['ack-timeout-s']
        ? (number('ack-timeout-s', values['ack-timeout-s']) ?? 10) * 1000
        : undefined,
      dropEveryS: number('drop-every', values['drop-every']),
      tunnels: values['no-tunnels'] ? [] : tunnelPoints(city),
      gpsNoiseM: number('gps-noise-m', values['gps-noise-m']),
    },
    summaryEveryS: number('summary-every-s', values['summary-every-s']) ?? 60,
    logLevel: (values['log-level'] ?? 'warn') as LogLevel,
  };
}

export async function runFleet(args: string[]): Promise<number> {
  let parsed: Parsed;
  try {
    const p = parse(args);
    if (p === 'help') {
      console.log(FLEET_USAGE);
      return 0;
    }
    parsed = p;
  } catch (err) {
    if (err instanceof ConfigError) console.error(err.message);
    else console.error(`citygrid sim fleet: ${err instanceof Error ? err.message : String(err)}\n\n${FLEET_USAGE}`);
    return 2;
  }
  const { startFleet, formatSummary } = await import('../../simulators/fleet/fleet.js');
  const log = createLogger({ name: 'sim-fleet', level: parsed.logLevel });
  const fleet = startFleet({ ...parsed.fleet, log });
  const f = parsed.fleet;
  console.error(
    `sim fleet: ${f.vehicles.length} trucks dialling ${f.host}:${f.port} (JT/T 808-${f.version}), reports every ${f.reportIntervalS ?? 10} s sim time, speedup ${f.speedup ?? 1}; Ctrl-C to stop`,
  );
  const summary = setInterval(() => console.error(formatSummary(fleet.summary())), parsed.summaryEveryS * 1000);
  await untilStopSignal();
  clearInterval(summary);
  await fleet.stop();
  console.error(`${formatSummary(fleet.summary())}; stopped`);
  return 0;
}
