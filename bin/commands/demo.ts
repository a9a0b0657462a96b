/**
 * `citygrid demo`: the whole system on embedded defaults, from the shipped example city.
 * Hub (embedded aedes + embedded store) + one edge agent per example gateway + one simulated
 * truck per GPS device, each truck writing NMEA into a real pty pair (socat) whose other end the
 * edge reads. Without socat the simulator serves the sentences over loopback TCP instead, as a
 * serial device server would. The meter buses, structure loggers and cameras are simulated too
 * (demo-meters.ts, demo-structures.ts, demo-cameras.ts). Everything runs in this process except
 * socat and the cameras' gst-rtsp-server, whose PIDs we own.
 */

import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type LoadedGatewayConfig, loadGatewayConfig, loadHubConfig } from '../../config/load.js';
import { createTransport, driverOptionsValidator, registry } from '../../drivers/index.js';
import { createLogger, type LogLevel } from '../../drivers/sdk/log.js';
import { startEdge } from '../../edge/src/main.js';
import { hashPassword } from '../../hub/src/broker/passwords.js';
import { startHub } from '../../hub/src/main.js';
import { openPtyPair, type PtyPair, whichSync } from '../../simulators/common/pty.js';
import { startTcpSerialServer } from '../../simulators/common/tcp-serial-server.js';
import { startGpsSimulator } from '../../simulators/gps/index.js';
import { findFreePort, isPortFree } from '../lib/ports.js';
import { untilStopSignal } from '../lib/signals.js';
import { startDemoCameras } from './demo-cameras.js';
import { startDemoFleet } from './demo-fleet.js';
import { startDemoMeterBuses } from './demo-meters.js';
import { startDemoStructures } from './demo-structures.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const EXAMPLES = path.join(ROOT, 'config/examples');

/** Console users of the example hub.yaml, one per role; their password hashes come from the environment. */
const CONSOLE_USERS = ['supervisor', 'xihu-commander', 'gongshu-commander', 'beishan-handler'] as const;

const envName = (id: string) => id.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
const password = () => randomBytes(12).toString('base64url');

async function pickPort(wanted: number | undefined, preferred: number): Promise<number> {
  if (wanted !== undefined) return wanted;
  return (await isPortFree(preferred)) ? preferred : findFreePort();
}

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      'http-port': { type: 'string' },
      'mqtt-port': { type: 'string' },
      'data-dir': { type: 'string' },
      'log-level': { type: 'string', default: 'info' },
      'no-socat': { type: 'boolean', default: false },
    },
  });
  const keepData = values['data-dir'] !== undefined;
  const dataDir = path.resolve(values['data-dir'] ?? mkdtempSync(path.join(tmpdir(), 'citygrid-demo-')));
  mkdirSync(dataDir, { recursive: true });
  const logFile = path.join(dataDir, 'demo.log');
  const { pino } = await import('pino');
  const logger = createLogger({
    name: 'citygrid-demo',
    level: values['log-level'] as LogLevel,
    destination: pino.destination({ dest: logFile, sync: false, mkdir: true }),
  });

  const httpPort = await pickPort(values['http-port'] ? Number(values['http-port']) : undefined, 8080);
  const mqttPort = await pickPort(values['mqtt-port'] ? Number(values['mqtt-port']) : undefined, 1883);
  const secrets: Record<string, string> = { CITYGRID_PW_INTEGRATOR: password() };
  const gatewayFiles = readdirSync(path.join(EXAMPLES, 'gateways'))
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => path.join(EXAMPLES, 'gateways', f));

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CITYGRID_MQTT_PORT: String(mqttPort),
    CITYGRID_HTTP_PORT: String(httpPort),
    CITYGRID_HUB_DATA: path.join(dataDir, 'hub'),
    CITYGRID_EDGE_DATA: path.join(dataDir, 'edge'),
    CITYGRID_HUB_MQTT: `mqtt://127.0.0.1:${mqttPort}`,
    // meters are read every 15 min in the field; the demo reads them often enough to watch
    CITYGRID_METER_POLL: '10s',
  };

  const cleanups: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch (err) {
        logger.warn({ err }, 'Stop step failed');
      }
    }
    logger.flush();
    if (!keepData) rmSync(dataDir, { recursive: true, force: true });
  };

  try {
    const useSocat = !values['no-socat'] && whichSync('socat') !== undefined;
    // First pass over the gateway configs: which GPS devices need a simulator, and their passwords.
    const gateways: { file: string; id: string }[] = [];
    for (const file of gatewayFiles) {
      const id = path.basename(file, '.yaml');
      secrets[`CITYGRID_PW_${envName(id)}`] = password();
      // the port its JT/T 808 server listens on for the simulated fleet
      env[`CITYGRID_JT808_PORT_${envName(id)}`] = String(await findFreePort());
      gateways.push({ file, id });
    }
    Object.assign(env, secrets);
    const consolePasswords = new Map<string, string>();
    for (const id of CONSOLE_USERS) {
      consolePasswords.set(id, password());
      env[`CITYGRID_CONSOLE_HASH_${envName(id)}`] = await hashPassword(consolePasswords.get(id) as string);
    }
    const hubLoaded = loadHubConfig(path.join(EXAMPLES, 'hub.yaml'), { env });
    const city = hubLoaded.city;
    const consoleLines = hubLoaded.hub.console.users.map((u) => {
      const scope = u.district ?? u.unit ?? '';
      return `user "${u.id}" (${u.role}${scope ? ` ${scope}` : ''}) password "${consolePasswords.get(u.id) ?? '?'}"`;
    });
    const usersFile = path.join(dataDir, 'console-users.txt');
    writeFileSync(usersFile, `${consoleLines.join('\n')}\n`, { mode: 0o600 });

    const hub = await startHub(hubLoaded, { logger });
    cleanups.push(() => hub.stop());

    // The cameras' simulators first: their URLs and generated passwords fill the gateway configs' ${ENV} references.
    const cameras = await startDemoCameras(gatewayFiles, { city, env, log: logger.child({ component: 'sim.camera' }) });
    cleanups.push(() => cameras.stop());
    Object.assign(env, cameras.env);

    // One simulated city of structure loggers for all gateways (one weather: a drill's rain reaches every district).
    const structures = await startDemoStructures(
      gateways.map((gw) => loadGatewayConfig(gw.file, driverOptionsValidator, { env }).gateway),
      { log: logger.child({ component: 'sim.structures' }) },
    );
    cleanups.push(() => structures.stop());

    const ptys: PtyPair[] = [];
    const edgeConfigs: LoadedGatewayConfig[] = [];
    for (const gw of gateways) {
      // Each GPS device gets a wire: a pty pair (socat) or a loopback TCP serial server.
      const probe = loadGatewayConfig(gw.file, driverOptionsValidator, { env });
      const loaded: LoadedGatewayConfig = probe;
      for (const device of loaded.gateway.devices) {
        if (device.driver !== 'nmea-gps') continue;
        const route = city.routes.find((r) => r.district === loaded.gateway.gateway.district) ?? city.routes[0];
        if (!route) throw new Error('the example city has no route for the simulated trucks');
        const simLog = logger.child({ component: 'sim.gps', device: device.id });
        if (useSocat) {
          const ttyDir = path.join(dataDir, 'tty');
          mkdirSync(ttyDir, { recursive: true });
          const pair = await openPtyPair(ttyDir, { a: `${device.id}.sim`, b: `${device.id}.dev` });
          ptys.push(pair);
          cleanups.push(() => pair.stop());
          device.transport = { ...device.transport, type: 'serial', path: pair.b } as typeof device.transport;
          const sim = await startGpsSimulator({ route: route.path, out: pair.a, loop: true, seed: ptys.length });
          cleanups.push(() => sim.stop());
        } else {
          const server = await startTcpSerialServer(simLog);
          cleanups.push(() => server.close());
          device.transport = { type: 'tcp', host: '127.0.0.1', port: server.port, reopenDelay: 1000 };
          const sim = await startGpsSimulator({
            route: route.path,
            out: server.sink,
            loop: true,
            seed: ptys.length + 1,
          });
          cleanups.push(() => sim.stop());
        }
      }
      const meterBuses = await startDemoMeterBuses(loaded.gateway, {
        useSocat,
        ttyDir: path.join(dataDir, 'tty'),
        log: logger.child({ component: 'sim.meters', gateway: loaded.gateway.gateway.id }),
      });
      cleanups.push(() => meterBuses.stop());
      structures.wire(loaded.gateway);
      const edge = await startEdge(loaded, {
        registry,
        createTransport,
        logger: logger.child({ gateway: loaded.gateway.gateway.id }),
      });
      cleanups.push(() => edge.stop());
      edgeConfigs.push(loaded);
    }

    // The sanitation fleet dials each gateway's JT/T 808 server once the edges listen.
    const fleet = startDemoFleet(
      edgeConfigs.map((l) => l.gateway),
      { city, log: logger.child({ component: 'sim.fleet' }) },
    );
    cleanups.push(() => fleet.stop());

    const reader = secrets.CITYGRID_PW_INTEGRATOR;
    console.log(
      [
        `citygrid demo is running (${gateways.length} gateways, trucks on ${useSocat ? 'pseudo-terminals via socat' : 'loopback TCP serial servers (socat not found)'})`,
        `  console / API   ${hub.httpUrl}/            (log in as one of these; also in ${usersFile}, mode 0600)`,
        ...consoleLines.map((l) => `                  ${l}`),
        `                  curl -c jar -H 'content-type: application/json' -d '{"username":"supervisor","password":"…"}' ${hub.httpUrl}/api/login`,
        `                  curl -b jar -N ${hub.httpUrl}/api/stream (live positions)`,
        `  MQTT broker     ${hub.mqttUrl}`,
        `  read-only MQTT  user "integrator", password "${reader}"`,
        `                  mosquitto_sub -h 127.0.0.1 -p ${mqttPort} -u integrator -P '${reader}' -t 'cg/v1/#' -v`,
        `  structures      ${structures.summary}`,
        `  fleet           ${fleet.summary}`,
        ...cameras.banner(hub.httpUrl).map((line, i) => `${i === 0 ? '  cameras         ' : ' '.repeat(18)}${line}`),
        `  cases           curl -b jar ${hub.httpUrl}/api/cases or CITYGRID_PASSWORD=… citygrid cases list --hub ${hub.httpUrl} --user supervisor (the rain drill raises 道路积水 cases)`,
        `  data and logs   ${dataDir}${keepData ? '' : ' (removed on exit)'} (demo.log)`,
        'Ctrl-C stops everything.',
      ].join('\n'),
    );
  } catch (err) {
    console.error(`citygrid demo: could not start: ${(err as Error).message}`);
    await stopAll();
    return 1;
  }

  await untilStopSignal();
  console.log('Stopping…');
  await stopAll();
  console.log('Stopped.');
  return 0;
}
