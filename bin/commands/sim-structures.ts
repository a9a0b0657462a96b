/**
 * `citygrid sim structures ...`: bridge, tunnel, underpass and road-weather loggers as Modbus TCP
 * servers on loopback (and optionally RTU slaves on a serial line), with a control endpoint for
 * the drills, until SIGINT/SIGTERM. Registered in sim.ts.
 */
import { parseArgs } from 'node:util';
import type { Parity } from '../../simulators/common/serial-line.js';
import type { StructureSimOptions } from '../../simulators/structures/city.js';
import { untilStopSignal } from '../lib/signals.js';

export const STRUCTURES_USAGE = `usage: citygrid sim structures [--bridges N] [--tunnels N] [--underpasses N] [--road-weather N]
                 [--tcp-base-port P] [--rtu <tty>] [--baud <bps>] [--parity none|even|odd]
                 [--speedup <x>] [--seed <n>] [--control-port P] [--rain <mm/h>]
  --bridges ...       how many loggers of each kind (BRG-DL-1, TUN-ENV-1, UPS-WL-1, RWS-1); at least one in all
  --tcp-base-port     logger n (from 0, in the order above) listens on P + n; default: free ports
  --rtu               also serve every logger as an RTU slave (unit 1, 2, ...) on this tty (e.g. a socat pty end)
  --baud, --parity    the RTU line's settings, default 9600 8N1
  --speedup           sim time runs this many times faster than real time (default 1)
  --control-port      port of the control endpoint on 127.0.0.1 (default: a free port)
  --rain              start with rain at this intensity, mm/h (default 0)
Control (JSON over HTTP): GET /state; POST /rain {"mmh":40}; POST /air-temperature {"trendCPerHour":-2,"targetC":-5};
  POST /load-spike {"bridge":"bridge-1","factor":1,"durationS":20}; POST /override {"logger","field","value"};
  POST /fault {"logger","field","code"}; POST /tcp-fault {"logger","mode":"silent|close-mid-frame|device-failure|none"}`;

function count(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number ≥ 0, got "${text}"`);
  return n;
}

function positive(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a number ≥ 0, got "${text}"`);
  return n;
}

interface Parsed {
  sim: StructureSimOptions;
  controlPort?: number;
  rainMmh?: number;
}

function parseOptions(args: string[]): Parsed | 'help' {
  const { values } = parseArgs({
    args,
    options: {
      bridges: { type: 'string' },
      tunnels: { type: 'string' },
      underpasses: { type: 'string' },
      'road-weather': { type: 'string' },
      'tcp-base-port': { type: 'string' },
      rtu: { type: 'string' },
      baud: { type: 'string' },
      parity: { type: 'string' },
      speedup: { type: 'string' },
      seed: { type: 'string' },
      'control-port': { type: 'string' },
      rain: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const parity = values.parity;
  if (parity !== undefined && parity !== 'none' && parity !== 'even' && parity !== 'odd')
    throw new Error('--parity must be none, even or odd');
  if ((values.baud !== undefined || parity !== undefined) && !values.rtu) throw new Error('--baud/--parity need --rtu');
  const speedup = positive('speedup', values.speedup);
  if (speedup === 0) throw new Error('--speedup must be more than 0');
  return {
    sim: {
      bridges: count('bridges', values.bridges),
      tunnels: count('tunnels', values.tunnels),
      underpasses: count('underpasses', values.underpasses),
      roadWeather: count('road-weather', values['road-weather']),
      tcpBasePort: count('tcp-base-port', values['tcp-base-port']),
      rtu: values.rtu
        ? { out: values.rtu, line: { baudRate: positive('baud', values.baud), parity: parity as Parity | undefined } }
        : undefined,
      speedup,
      seed: count('seed', values.seed),
    },
    controlPort: count('control-port', values['control-port']),
    rainMmh: positive('rain', values.rain),
  };
}

export async function runStructures(args: string[]): Promise<number> {
  let parsed: Parsed;
  try {
    const p = parseOptions(args);
    if (p === 'help') {
      console.log(STRUCTURES_USAGE);
      return 0;
    }
    parsed = p;
    if (parsed.sim.rtu?.line) {
      // undefined keys would override the defaults of the line settings
      const line = parsed.sim.rtu.line;
      parsed.sim.rtu.line = Object.fromEntries(Object.entries(line).filter(([, v]) => v !== undefined));
    }
  } catch (err) {
    console.error(
      `citygrid sim structures: ${err instanceof Error ? err.message : String(err)}\n\n${STRUCTURES_USAGE}`,
    );
    return 2;
  }
  const { startStructureSim } = await import('../../simulators/structures/city.js');
  const { startControlServer } = await import('../../simulators/structures/control.js');
  let sim: Awaited<ReturnType<typeof startStructureSim>>;
  let control: Awaited<ReturnType<typeof startControlServer>>;
  try {
    sim = await startStructureSim(parsed.sim);
  } catch (err) {
    console.error(`citygrid sim structures: cannot start: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  try {
    control = await startControlServer(sim, { port: parsed.controlPort });
    if (parsed.rainMmh) sim.setRain(parsed.rainMmh);
  } catch (err) {
    await sim.stop();
    console.error(`citygrid sim structures: cannot start: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  for (const { logger, tcp } of sim.loggers) {
    const rtu = sim.rtu ? `  rtu ${sim.rtu.path} unit ${logger.unit}` : '';
    console.log(
      `${logger.id.padEnd(16)} ${logger.model.padEnd(9)} modbus-tcp ${tcp.host}:${tcp.port} unit ${logger.unit}${rtu}`,
    );
  }
  const line = sim.rtu?.line;
  const rtuText = line ? `, RTU on ${sim.rtu?.path} at ${line.baudRate} 8${line.parity[0]?.toUpperCase()}1` : '';
  console.log(
    `sim structures: ${sim.loggers.length} loggers${rtuText}, speedup ${sim.speedup}; control ${control.url}/state; Ctrl-C to stop`,
  );
  await untilStopSignal();
  await control.close();
  await sim.stop();
  const requests = sim.loggers.reduce((n, l) => n + l.tcp.stats.requests, 0);
  const rtuRequests = sim.rtu ? `, ${sim.rtu.stats.requests} RTU requests` : '';
  console.log(`sim structures: stopped; ${requests} TCP requests${rtuRequests}`);
  return 0;
}
