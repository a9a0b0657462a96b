/**
 * The durable outbox across real processes (issue 6):
 *
 *   citygrid sim gps (10 Hz) -> socat pty -> citygrid edge -> MQTT -> citygrid hub (embedded store)
 *
 * 1. kill -9 of the edge mid-stream (while the hub is frozen with SIGSTOP, so messages are on the
 *    wire and unacknowledged): every reading the edge had taken (its outbox file, read after the
 *    kill) is stored exactly once after the restart; the previous boot's messages are replayed
 *    under their own boot id and the hub drops what it already had.
 * 2. an uplink outage (hub stopped): the backlog drains in large messages after the hub is back,
 *    and live readings keep arriving.
 * Every process is ours and stopped by PID.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'libsql';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFreePort } from '../../bin/lib/ports.js';
import { openPtyPair, type PtyPair } from '../../simulators/common/pty.js';
import { type CliProcess, eventually, startCli } from '../helpers/cli-process.js';
import { writeHubConfig, writeTruckGatewayConfig } from '../helpers/system-configs.js';

const dir = mkdtempSync(path.join(tmpdir(), 'cg-durable-'));
const gatewayPassword = randomBytes(12).toString('base64url');
const readerPassword = randomBytes(12).toString('base64url');
const DEVICE = 'XH-GP001';
const RATE_HZ = 10;
const PERIOD_MS = 1000 / RATE_HZ;

let pty: PtyPair;
let sim: CliProcess;
let hub: CliProcess;
let edge: CliProcess;
let mqttPort: number;
let httpPort: number;
let observer: MqttClient;
/** Telemetry envelopes as the broker delivered them to a read-only subscriber. */
const seen: { at: number; bootId: string; seq: number; ts: number[] }[] = [];

function startHub(): CliProcess {
  return startCli(['hub', '--config', path.join(dir, 'hub.yaml')], {
    env: { CG_DUR_GW_PW: gatewayPassword, CG_DUR_READER_PW: readerPassword },
    logFile: path.join(dir, 'hub.log'),
  });
}

function startEdge(): CliProcess {
  return startCli(['edge', '--config', path.join(dir, 'gw-xh-01.yaml')], {
    env: { CG_DUR_GW_PW: gatewayPassword },
    logFile: path.join(dir, 'edge.log'),
  });
}

/** GPS timestamps of the vehicle points the hub stored (the embedded store keeps one row per point). */
function storedTs(): number[] {
  const file = path.join(dir, 'hub-data', 'telemetry.db');
  if (!existsSync(file)) return [];
  const db = new Database(file, { readonly: true });
  try {
    const rows = db
      .prepare("SELECT ts FROM telemetry WHERE measurement = 'vehicle' AND device = ? ORDER BY ts")
      .all(DEVICE) as { ts: number }[];
    return rows.map((r) => r.ts);
  } finally {
    db.close();
  }
}

/** Readings the (dead) edge had taken and the hub had not acknowledged: its outbox file. */
function outboxAfterKill(): { boots: Set<string>; messages: number; ts: number[] } {
  const db = new Database(path.join(dir, 'edge-data', 'outbox.db'));
  try {
    const ts: number[] = [];
    const boots = new Set<string>();
    const messages = db.prepare("SELECT boot_id, body FROM message WHERE channel = 'telemetry'").all() as {
      boot_id: string;
      body: string;
    }[];
    for (const m of messages) {
      boots.add(m.boot_id);
      for (const r of JSON.parse(m.body) as { ts: number }[]) ts.push(r.ts);
    }
    for (const row of db.prepare('SELECT ts FROM item WHERE kind = 0').all() as { ts: number }[]) ts.push(row.ts);
    return { boots, messages: messages.length, ts: ts.sort((a, b) => a - b) };
  } finally {
    db.close();
  }
}

/** Messages of `bootId` still in the (running) edge's outbox; WAL lets us read beside the writer. */
function oldBootMessages(bootId: string): number {
  const db = new Database(path.join(dir, 'edge-data', 'outbox.db'), { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM message WHERE boot_id = ?').get(bootId) as { n: number }).n;
  } finally {
    db.close();
  }
}

/** The edge's "Backlog replayed" log lines (readings, messages, ms, readingsPerS). */
function replayLines(): string[] {
  return edge
    .output()
    .split('\n')
    .filter((l) => l.includes('"msg":"Backlog replayed"'));
}

async function hubMetric(name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

/** Holes in a GPS-time series: pairs of neighbours further apart than two epochs. */
function holes(ts: number[], from: number, to: number): [number, number][] {
  const inRange = ts.filter((t) => t >= from && t <= to);
  const found: [number, number][] = [];
  for (let i = 1; i < inRange.length; i++) {
    const a = inRange[i - 1] as number;
    const b = inRange[i] as number;
    // The simulator stamps epochs on whole periods from a timer: a late tick skips one, never two.
    if (b - a > 2 * PERIOD_MS + 10) found.push([a, b]);
  }
  return found;
}

beforeAll(async () => {
  mqttPort = await findFreePort();
  httpPort = await findFreePort();
  writeHubConfig(dir, {
    hubId: 'hub-durable',
    mqtt: { mode: 'embedded', host: '127.0.0.1', port: mqttPort },
    httpPort,
    gateways: { 'gw-xh-01': '${CG_DUR_GW_PW}' },
    readers: { integrator: '${CG_DUR_READER_PW}' },
  });
  pty = await openPtyPair(dir, { a: 'gps.sim', b: 'gps.dev' });
  writeTruckGatewayConfig(dir, {
    file: 'gw-xh-01.yaml',
    hubUrl: `mqtt://127.0.0.1:${mqttPort}`,
    password: '${CG_DUR_GW_PW}',
    reconnectPeriod: '200ms',
    tty: pty.b,
    device: DEVICE,
    baudRate: 115200,
    batch: { maxReadings: 20, maxDelay: '100ms' },
    delivery: { resendAfter: '3s', commitInterval: '5ms' },
    options: { minInterval: 0 },
  });
  sim = startCli(
    [
      'sim',
      'gps',
      '--city',
      path.join(dir, 'city.yaml'),
      '--route',
      'route-xh-beishan',
      '--out',
      pty.a,
      '--loop',
      '--rate',
      String(RATE_HZ),
    ],
    { logFile: path.join(dir, 'sim.log') },
  );
  hub = startHub();
  await hub.waitFor(/Listening/);
  observer = await connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
    clientId: `durability-observer-${process.pid}`,
    username: 'integrator',
    password: readerPassword,
    reconnectPeriod: 200,
    reconnectOnConnackError: true,
  });
  observer.on('message', (_topic, payload) => {
    const env = JSON.parse(payload.toString('utf8')) as { bootId: string; seq: number; readings: { ts: number }[] };
    seen.push({ at: Date.now(), bootId: env.bootId, seq: env.seq, ts: env.readings.map((r) => r.ts) });
  });
  await observer.subscribeAsync({ 'cg/v1/xihu/gw-xh-01/telemetry': { qos: 1 } });
  edge = startEdge();
  await edge.waitFor(/Edge agent started/);
}, 60_000);

afterAll(async () => {
  await observer?.endAsync(true);
  if (hub) process.kill(hub.pid, 'SIGCONT');
  await Promise.all([edge?.stop(), sim?.stop(), hub?.stop()]);
  await pty?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('durable edge outbox across real processes', () => {
  it('after kill -9 every reading the edge had taken arrives exactly once, replayed under its old boot id', async () => {
    const startedAt = Date.now();
    await eventually(async () => (storedTs().length >= 20 ? true : undefined), 20_000, 'first readings stored');

    // Freeze the hub: the edge keeps composing and sending, nothing gets acknowledged.
    process.kill(hub.pid, 'SIGSTOP');
    await new Promise((r) => setTimeout(r, 1500));
    const killedAt = Date.now();
    await edge.stop('SIGKILL');
    const atKill = outboxAfterKill();
    const [oldBoot] = [...atKill.boots];
    // The kill found messages on the wire that nobody acknowledged, and readings not yet composed or sent.
    expect(atKill.messages).toBeGreaterThan(0);
    expect(oldBoot).toBeDefined();
    expect(atKill.ts.length).toBeGreaterThan(5);

    process.kill(hub.pid, 'SIGCONT');
    const restartedAt = Date.now();
    edge = startEdge();
    await edge.waitFor(/Edge agent started/);

    const stored = await eventually(
      async () => {
        const ts = storedTs();
        const have = new Set(ts);
        return atKill.ts.every((t) => have.has(t)) && ts.some((t) => t > restartedAt + 1000) ? ts : undefined;
      },
      20_000,
      'every reading of the killed edge stored, and fresh ones after the restart',
    );
    // Replayed under the boot id it was composed in, next to the new boot's messages.
    const newBoot = seen.at(-1)?.bootId;
    expect(newBoot).not.toBe(oldBoot);
    expect(seen.some((e) => e.bootId === oldBoot && e.at >= restartedAt)).toBe(true);

    // The hub's acks of the old boot are taken: its messages leave the outbox.
    await eventually(
      async () => (oldBootMessages(oldBoot as string) === 0 ? true : undefined),
      10_000,
      'the old boot acknowledged and deleted',
    );

    // No holes in the GPS-second series, except while the edge process was dead.
    const gaps = holes(stored, startedAt, Date.now()).filter(([a, b]) => !(a <= restartedAt && b >= killedAt - 200));
    expect(gaps).toEqual([]);

    // Exactly once: the hub accepted each point once (duplicates dropped by (gateway, bootId, seq))...
    await eventually(
      async () => ((await hubMetric('citygrid_ingest_readings_total')) === storedTs().length ? true : undefined),
      10_000,
      'readings accepted by the hub = points stored',
    );
    expect(await hubMetric('citygrid_ingest_duplicates_total')).toBeGreaterThan(0);
  }, 40_000);

  it('after an uplink outage the backlog drains in large messages while live readings keep coming', async () => {
    const replaysBefore = replayLines().length;
    await hub.stop();
    const downAt = Date.now();
    await new Promise((r) => setTimeout(r, 5000));
    hub = startHub();
    await hub.waitFor(/Listening/);
    const upAt = Date.now();
    const drained = await eventually(
      async () => {
        const ts = storedTs();
        // Outage readings stored, and live ones from after the hub came back.
        return holes(ts, downAt - 1000, upAt).length === 0 &&
          ts.filter((t) => t >= downAt && t <= upAt).length >= 4 * RATE_HZ &&
          ts.some((t) => t > upAt + 1000)
          ? ts
          : undefined;
      },
      20_000,
      'the outage backlog and live readings stored',
    );
    // The edge logs the replay once the hub acknowledged all of it: large messages, far above 10 readings/s.
    const line = await eventually(async () => replayLines()[replaysBefore], 10_000, 'the "Backlog replayed" line');
    const replay = JSON.parse(line) as { readings: number; messages: number; ms: number; readingsPerS: number };
    console.log(JSON.stringify({ outageMs: upAt - downAt, stored: drained.length, ...replay }));
    expect(replay.readings).toBeGreaterThanOrEqual(4 * RATE_HZ);
    expect(replay.messages).toBeLessThanOrEqual(Math.ceil(replay.readings / 20) + 1);
    // ...and live readings taken after the hub came back arrived too.
    expect(drained.some((t) => t > upAt + 1000)).toBe(true);
    expect(holes(drained, downAt - 1000, Date.now() - 1000)).toEqual([]);
  }, 40_000);
});
