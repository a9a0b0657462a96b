/**
 * The demo's structure loggers: one simulated city (one weather and traffic for every district)
 * with a bridge, tunnel, underpass or road-weather logger for each `modbus-tcp-logger` device of
 * the example gateways that names a shipped model, each a Modbus TCP server on loopback. `wire`
 * points each device's host/port/unit at its simulator. Sim time runs 60× faster, so a day of
 * thermal drift passes in 24 minutes (the bridges' acceleration buffers still sample in real
 * time); the control endpoint drives the flood and snow drills.
 */
import type { GatewayConfig } from '../../config/schema/gateway.js';
import type { Logger } from '../../drivers/sdk/log.js';
import { type StructureSim, startStructureSim } from '../../simulators/structures/city.js';
import { type ControlServer, startControlServer } from '../../simulators/structures/control.js';
import { MODEL_OF } from '../../simulators/structures/logger.js';
import type { StructureKind } from '../../simulators/structures/signals/scene.js';

const SPEEDUP = 60;
const DRIVER = 'modbus-tcp-logger';

export interface DemoStructures {
  /** Loggers simulated (0 when no gateway has any). */
  readonly count: number;
  /** One line for the demo's banner: how many, and how to drive a drill. */
  readonly summary: string;
  /** Points this gateway's structure loggers at their simulators (call before starting its edge). */
  wire(gateway: GatewayConfig): void;
  stop(): Promise<void>;
}

const KIND_OF_MODEL = new Map(Object.entries(MODEL_OF).map(([kind, map]) => [map.model, kind as StructureKind]));

function structureDevices(gateway: GatewayConfig) {
  return gateway.devices.flatMap((d) => {
    const options = d.options as { model?: string };
    const kind = d.driver === DRIVER && options.model ? KIND_OF_MODEL.get(options.model) : undefined;
    return kind ? [{ key: `${gateway.gateway.id}/${d.id}`, kind, device: d }] : [];
  });
}

export async function startDemoStructures(
  gateways: readonly GatewayConfig[],
  opts: { log: Logger; seed?: number },
): Promise<DemoStructures> {
  const wanted = gateways.flatMap(structureDevices);
  if (wanted.length === 0)
    return { count: 0, summary: 'none in the gateway configs', wire: () => undefined, stop: async () => undefined };
  const count = (kind: StructureKind) => wanted.filter((w) => w.kind === kind).length;
  const names = (kind: StructureKind) => wanted.filter((w) => w.kind === kind).map((w) => w.device.id);
  const sim: StructureSim = await startStructureSim({
    bridges: count('bridge'),
    tunnels: count('tunnel'),
    underpasses: count('underpass'),
    roadWeather: count('road-weather'),
    speedup: SPEEDUP,
    seed: opts.seed ?? 1,
    // the loggers carry the device ids, so a drill names the device: {"bridge": "XH-BR001"}
    names: {
      bridge: names('bridge'),
      tunnel: names('tunnel'),
      underpass: names('underpass'),
      'road-weather': names('road-weather'),
    },
  });
  let control: ControlServer;
  try {
    control = await startControlServer(sim);
  } catch (err) {
    await sim.stop();
    throw err;
  }
  // the n-th device of a kind (gateway files, then device order) is the n-th logger of that kind
  const endpoint = new Map<string, { port: number; unit: number; id: string }>();
  for (const kind of new Set(wanted.map((w) => w.kind))) {
    const loggers = sim.loggers.filter((l) => l.logger.kind === kind);
    wanted
      .filter((w) => w.kind === kind)
      .forEach((w, i) => {
        const l = loggers[i];
        if (l) endpoint.set(w.key, { port: l.tcp.port, unit: l.logger.unit, id: l.logger.id });
      });
  }
  opts.log.info(
    { loggers: sim.loggers.length, control: control.url, speedup: SPEEDUP },
    'Simulated structures started',
  );
  return {
    count: sim.loggers.length,
    summary: `${sim.loggers.length} Modbus TCP loggers, sim time ×${SPEEDUP}; drills: curl -X POST ${control.url}/rain -d '{"mmh":40}' (GET ${control.url}/state)`,
    wire(gateway) {
      for (const w of structureDevices(gateway)) {
        const e = endpoint.get(w.key);
        if (!e) continue;
        w.device.options = { ...w.device.options, host: '127.0.0.1', port: e.port, unit: e.unit };
        opts.log.debug({ device: w.device.id, logger: e.id, port: e.port }, 'Structure logger wired');
      }
    },
    async stop() {
      await control.close();
      await sim.stop();
    },
  };
}
