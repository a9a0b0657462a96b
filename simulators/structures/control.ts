/**
 * The structure simulators' control endpoint on 127.0.0.1, for the flood and snow drills and for
 * people with curl: JSON in, JSON out.
 *
 *   GET  /state                                  sim time, weather, every logger's values
 *   POST /rain            {"mmh": 40}            rain intensity from now on (0 stops it)
 *   POST /air-temperature {"trendCPerHour": -2, "targetC": -5}
 *   POST /load-spike      {"bridge": "bridge-1", "factor": 1, "durationS": 20}
 *   POST /override        {"logger": "underpass-1", "field": "water_level_cm", "value": 999}  (null: back to the signal)
 *   POST /fault           {"logger": "bridge-1", "field": "strain_ue", "code": 1}            (0 clears)
 *   POST /tcp-fault       {"logger": "tunnel-1", "mode": "close-mid-frame"}   (silent, device-failure; none restores)
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StructureSim } from './city.js';
import type { TcpFault } from './tcp-server.js';

export interface ControlServer {
  readonly url: string;
  close(): Promise<void>;
}

const MAX_BODY = 64 * 1024;

class BadRequest extends Error {}

function num(body: Record<string, unknown>, key: string, optional = false): number | undefined {
  const v = body[key];
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new BadRequest(`"${key}" must be a number`);
  return v;
}

function str(body: Record<string, unknown>, key: string, optional = false): string | undefined {
  const v = body[key];
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'string') throw new BadRequest(`"${key}" must be a string`);
  return v;
}

/** What GET /state returns. */
export function simState(sim: StructureSim) {
  sim.scene.advance(sim.now());
  const env = sim.scene.env;
  return {
    simTime: new Date(sim.now()).toISOString(),
    speedup: sim.speedup,
    environment: {
      airC: env.airC,
      meanAirC: env.meanAirC,
      trend: env.trend,
      rainMmh: env.rainMmh,
      traffic: env.trafficAt(sim.scene.now),
    },
    loggers: sim.loggers.map(({ logger, tcp }) => ({
      id: logger.id,
      model: logger.model,
      unit: logger.unit,
      tcp: `${tcp.host}:${tcp.port}`,
      values: logger.values(),
    })),
  };
}

const ROUTES: Record<string, (sim: StructureSim, body: Record<string, unknown>) => unknown> = {
  '/rain': (sim, b) => {
    sim.setRain(num(b, 'mmh') as number);
    return { rainMmh: sim.scene.env.rainMmh };
  },
  '/air-temperature': (sim, b) => {
    sim.setAirTemperatureTrend(num(b, 'trendCPerHour') as number, num(b, 'targetC', true));
    return { trend: sim.scene.env.trend };
  },
  '/load-spike': (sim, b) => ({
    bridge: sim.triggerLoadSpike({
      bridge: str(b, 'bridge', true),
      factor: num(b, 'factor', true),
      durationS: num(b, 'durationS', true),
    }),
  }),
  '/override': (sim, b) => {
    const value = b.value === null ? undefined : num(b, 'value');
    sim.logger(str(b, 'logger') as string).setOverride(str(b, 'field') as string, value);
    return { ok: true };
  },
  '/tcp-fault': (sim, b) => {
    const id = str(b, 'logger') as string;
    const entry = sim.loggers.find((l) => l.logger.id === id);
    if (!entry) throw new BadRequest(`no logger "${id}"`);
    entry.tcp.fault = str(b, 'mode') as TcpFault;
    return { logger: id, mode: entry.tcp.fault };
  },
  '/fault': (sim, b) => {
    sim.logger(str(b, 'logger') as string).setChannelFault(str(b, 'field') as string, num(b, 'code') as number);
    return { ok: true };
  },
};

async function readBody(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of req) {
    text += chunk;
    if (text.length > MAX_BODY) throw new BadRequest('body too large');
  }
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    throw new BadRequest('body is not JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BadRequest('body must be an object');
  return body as Record<string, unknown>;
}

export function startControlServer(sim: StructureSim, opts: { port?: number } = {}): Promise<ControlServer> {
  const server = http.createServer((req, res) => {
    const send = (status: number, payload: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(`${JSON.stringify(payload)}\n`);
    };
    const path = (req.url ?? '/').split('?')[0] as string;
    const handle = async () => {
      if (req.method === 'GET' && path === '/state') return send(200, simState(sim));
      const route = ROUTES[path];
      if (!route)
        return send(404, { error: `no route ${req.method} ${path}`, routes: ['/state', ...Object.keys(ROUTES)] });
      if (req.method !== 'POST') return send(405, { error: `${path} takes POST` });
      send(200, route(sim, await readBody(req)));
    };
    handle().catch((err: unknown) => {
      // a bad request or a value a model refuses (RangeError) is the caller's mistake
      const status = err instanceof BadRequest || err instanceof RangeError ? 400 : 500;
      send(status, { error: err instanceof Error ? err.message : String(err) });
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
