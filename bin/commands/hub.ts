import path from 'node:path';
import { type LoadedHubConfig, loadHubConfig } from '../../config/load.js';
import { workCalendarSchema } from '../../config/schema/calendar.js';
import type { CityConfig } from '../../config/schema/city.js';
import { hubConfigSchema } from '../../config/schema/hub.js';
import { ConfigError, describeError } from '../../drivers/sdk/errors.js';
import { createLogger, type LogLevel } from '../../drivers/sdk/log.js';
import { startHub } from '../../hub/src/main.js';
import { untilStopSignal } from '../lib/signals.js';

const USAGE = `usage: citygrid hub --config <hub.yaml> [--mqtt-port N] [--http-port N]
       citygrid hub --bench-env        (benchmark harness: BENCH_MQTT_URL, BENCH_INFLUX_URL, BENCH_DB, BENCH_DIR)`;

function argValue(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i >= 0) return args[i + 1];
  return args.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
}

function portArg(args: string[], name: string): number | undefined | 'bad' {
  const text = argValue(args, name);
  if (text === undefined) return undefined;
  const n = Number(text);
  return Number.isInteger(n) && n >= 0 && n <= 65535 ? n : 'bad';
}

/**
 * The hub as one more system of ../shared/bench/peer-nodered: an external-broker client of the
 * harness' anonymous Mosquitto, writing into its InfluxDB, with no city config (every gateway is
 * accepted) and telemetry only.
 */
function benchConfig(env: NodeJS.ProcessEnv): LoadedHubConfig {
  const missing = ['BENCH_MQTT_URL', 'BENCH_INFLUX_URL', 'BENCH_DB', 'BENCH_DIR'].filter((k) => !env[k]);
  if (missing.length) {
    throw new ConfigError(missing.map((k) => ({ file: '(environment)', path: k, message: 'required by --bench-env' })));
  }
  const dataDir = path.resolve(env.BENCH_DIR as string, 'citygrid-hub');
  const hub = hubConfigSchema.parse({
    hubId: 'hub-bench',
    city: '(none)',
    dataDir,
    logLevel: 'warn',
    mqtt: { mode: 'external', url: env.BENCH_MQTT_URL, clientId: `citygrid-hub-bench-${process.pid}` },
    http: { port: 0 },
    telemetry: { influx: { url: env.BENCH_INFLUX_URL, database: env.BENCH_DB } },
  });
  const city: CityConfig = {
    city: { id: 'bench', name: 'bench', timezone: 'UTC' },
    districts: [],
    gridCells: [],
    assets: [],
    routes: [],
    roads: [],
    vehicles: [],
    gateways: [],
    units: [],
    workCalendar: workCalendarSchema.parse({}),
  };
  return { file: '(bench-env)', hub, city, dataDir };
}

/** `citygrid hub --config <hub.yaml>`: runs the hub until SIGINT/SIGTERM. */
export async function run(args: string[]): Promise<number> {
  const bench = args.includes('--bench-env');
  const file = argValue(args, '--config');
  const mqttPort = portArg(args, '--mqtt-port');
  const httpPort = portArg(args, '--http-port');
  if ((!file && !bench) || mqttPort === 'bad' || httpPort === 'bad') {
    console.error(USAGE);
    return 2;
  }
  let loaded: LoadedHubConfig;
  try {
    loaded = bench ? benchConfig(process.env) : loadHubConfig(file as string);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const source = file ?? '(environment)';
    console.error(`${source}: ${err.issues.length} problem${err.issues.length > 1 ? 's' : ''}`);
    for (const i of err.issues) console.error(`  ${i.file}: ${i.path || '(root)'}: ${i.message}`);
    return 1;
  }
  const logger = createLogger({ name: 'citygrid-hub', level: loaded.hub.logLevel as LogLevel });
  process.on('unhandledRejection', (err) => {
    logger.fatal({ err: describeError(err) }, 'Unhandled rejection');
    process.exit(1);
  });
  let hub: Awaited<ReturnType<typeof startHub>>;
  try {
    hub = await startHub(loaded, {
      logger,
      mqttPort,
      httpPort,
      channels: bench ? ['telemetry'] : undefined,
      cases: !bench,
    });
  } catch (err) {
    logger.error({ err: describeError(err) }, 'Hub failed to start');
    return 1;
  }
  const signal = await untilStopSignal();
  logger.info({ signal }, 'Stopping');
  await hub.stop();
  return 0;
}
