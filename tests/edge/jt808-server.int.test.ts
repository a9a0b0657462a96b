/**
 * The edge's JT/T 808 server over real TCP (issue 9 item 2):
 *
 *   test terminals (tests/helpers/jt808-client.ts, their own encoder) -> TCP -> citygrid edge
 *     (servers: jt808) -> MQTT -> citygrid hub -> real InfluxDB
 *
 * Register/auth/heartbeat/location/batch in 2013 and 2019, an unknown terminal, a terminal that
 * never authenticates, a heartbeat timeout, a connection flood, garbage and a bad check code;
 * what the edge counted is read from its /metrics. Every process is ours and stopped by PID.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { findFreePort } from '../../bin/lib/ports.js';
import { type CliProcess, eventually, startCli } from '../helpers/cli-process.js';
import { influxSeries } from '../helpers/influx-query.js';
import { batchBody, locationBody, registerBody, TestTerminal, terminalFrame } from '../helpers/jt808-client.js';
import { writeHubConfig } from '../helpers/system-configs.js';

const influxUrl = inject('influxUrl');
const database = `jt808_${randomBytes(4).toString('hex')}`;
const dir = mkdtempSync(path.join(tmpdir(), 'cg-jt808-'));
const gatewayPassword = randomBytes(12).toString('base64url');
const MAX_CONNECTIONS = 8;

let hub: CliProcess;
let edge: CliProcess;
let jtPort: number;
let edgeHttp: number;
const terminals: TestTerminal[] = [];
const beats: NodeJS.Timeout[] = [];

const VEHICLES = [
  { id: 'XH-SW-01', phone: '013700000001' },
  { id: 'XH-SW-02', phone: '13700000002' }, // a 2019 terminal: 20 BCD digits on the wire
  { id: 'XH-SW-03', phone: '013700000003' },
  { id: 'XH-SW-04', phone: '013700000004' },
  // vehicles of the example city, driven by `citygrid sim fleet` (phones by its rule: 0138 + index)
  { id: 'XH-SW01', phone: '013800000001' },
  { id: 'XH-WS01', phone: '013800000002' },
];

const rows = async (q: string) => {
  const s = (await influxSeries(influxUrl, database, q))[0];
  return s ? s.values.map((v) => Object.fromEntries(s.columns.map((c, i) => [c, v[i]]))) : [];
};

async function metric(name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${edgeHttp}/metrics`)).text();
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const labelText = line.slice(name.length + 1, line.indexOf('}'));
    if (want.every((w) => labelText.split(',').includes(w))) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

async function connect(phone: string, v2019 = false): Promise<TestTerminal> {
  const t = await TestTerminal.connect(jtPort, phone, v2019);
  terminals.push(t);
  return t;
}

/** Heartbeats every 400 ms, so the 3 s heartbeat timeout never hits this terminal. */
function keepAlive(t: TestTerminal): void {
  beats.push(setInterval(() => t.closed || t.send(0x0002, Buffer.alloc(0)).catch(() => {}), 400));
}

beforeAll(async () => {
  const mqttPort = await findFreePort();
  const httpPort = await findFreePort();
  jtPort = await findFreePort();
  edgeHttp = await findFreePort();
  writeHubConfig(dir, {
    mqtt: { mode: 'embedded', host: '127.0.0.1', port: mqttPort },
    httpPort,
    gateways: { 'gw-xh-01': '${CG_JT_GW_PW}' },
    influx: { url: influxUrl, database, flushInterval: '50ms' },
  });
  writeFileSync(
    path.join(dir, 'gw-xh-01.yaml'),
    stringify({
      gateway: { id: 'gw-xh-01', district: 'xihu' },
      hub: { url: `mqtt://127.0.0.1:${mqttPort}`, password: '${CG_JT_GW_PW}', reconnectPeriod: '250ms' },
      dataDir: './edge-data',
      batch: { maxReadings: 50, maxDelay: '100ms' },
      http: { port: edgeHttp },
      servers: [
        {
          id: 'jt808',
          protocol: 'jt808',
          listen: { host: '127.0.0.1', port: jtPort },
          authTimeoutS: 1,
          heartbeatTimeoutS: 3,
          maxConnections: MAX_CONNECTIONS,
          sweepIntervalS: 0.2,
        },
      ],
      devices: VEHICLES.map((v) => ({
        id: v.id,
        kind: 'vehicle',
        driver: 'jt808-terminal',
        server: 'jt808',
        options: { phone: v.phone },
      })),
    }),
  );
  hub = startCli(['hub', '--config', path.join(dir, 'hub.yaml')], {
    env: { CG_JT_GW_PW: gatewayPassword },
    logFile: path.join(dir, 'hub.log'),
  });
  await hub.waitFor(/Listening/);
  edge = startCli(['edge', '--config', path.join(dir, 'gw-xh-01.yaml')], {
    env: { CG_JT_GW_PW: gatewayPassword },
    logFile: path.join(dir, 'edge.log'),
  });
  await edge.waitFor(/JT\/T 808 server listening/, 30_000);
}, 60_000);

afterAll(async () => {
  for (const b of beats) clearInterval(b);
  for (const t of terminals) t.close();
  await Promise.all([edge?.stop(), hub?.stop()]);
  if (!process.env.KEEP_JT808_DIR) rmSync(dir, { recursive: true, force: true });
});

describe('JT/T 808 server on the edge, over real TCP', () => {
  it('registers, authenticates and lands locations and a batch upload at the hub with the terminal times', async () => {
    const t1 = await connect('013700000001');
    const auth = await t1.login();
    expect(auth).toMatchObject({ msgId: 0x8001, replyMsgId: 0x0102, result: 0, v2019: false });
    keepAlive(t1);
    expect(await t1.send(0x0002, Buffer.alloc(0))).toMatchObject({ replyMsgId: 0x0002, result: 0 });

    const now = Math.floor(Date.now() / 1000) * 1000;
    const live = { lat: 30.259, lon: 120.13, speedKmh: 18.5, heading: 270, ts: now, mileageKm: 1234.5, alarm: 0b10 };
    expect(await t1.send(0x0200, locationBody(live))).toMatchObject({ replyMsgId: 0x0200, result: 0 });
    const gap = [
      { lat: 30.25, lon: 120.12, ts: now - 120_000 },
      { lat: 30.251, lon: 120.121, ts: now - 110_000 },
      { lat: 30.252, lon: 120.122, ts: now - 100_000 },
    ];
    expect(await t1.send(0x0704, batchBody(gap))).toMatchObject({ replyMsgId: 0x0704, result: 0 });

    const t2 = await connect('13700000002', true);
    expect(await t2.login()).toMatchObject({ replyMsgId: 0x0102, result: 0, v2019: true });
    keepAlive(t2);
    expect(await t2.send(0x0200, locationBody({ lat: 30.3, lon: 120.2, ts: now }))).toMatchObject({
      result: 0,
      v2019: true,
    });

    const points = await eventually(
      async () => {
        const r = await rows(`SELECT * FROM vehicle WHERE device = 'XH-SW-01' ORDER BY time ASC`);
        return r.length >= 4 ? r : undefined;
      },
      20_000,
      'four XH-SW-01 points in InfluxDB',
    );
    expect(points.map((p) => p.time)).toEqual([now - 120_000, now - 110_000, now - 100_000, now]);
    expect(points[3]).toMatchObject({
      lat: 30.259,
      lon: 120.13,
      speed_kmh: 18.5,
      heading_deg: 270,
      mileage_km: 1234.5,
      alarm_flags: 2,
      gateway: 'gw-xh-01',
    });
    expect(points[0]).toMatchObject({ lat: 30.25, lon: 120.12 });
    const v2019 = await eventually(
      async () => (await rows(`SELECT lat, lon FROM vehicle WHERE device = 'XH-SW-02'`))[0],
      20_000,
      'the 2019 terminal point',
    );
    expect(v2019).toMatchObject({ lat: 30.3, lon: 120.2 });

    const events = await eventually(
      async () => {
        const r = await rows(`SELECT * FROM event WHERE device = 'XH-SW-01'`);
        return r.some((e) => e.type === 'vehicle.alarm.overspeed') && r.some((e) => e.type === 'device.online')
          ? r
          : undefined;
      },
      20_000,
      'online and overspeed events of XH-SW-01',
    );
    expect(events.find((e) => e.type === 'vehicle.alarm.overspeed')).toMatchObject({ severity: 'warning', time: now });
    expect(await metric('citygrid_edge_jt808_frames_total', { msg_id: '0x0704' })).toBe(1);
    expect(await metric('citygrid_edge_jt808_sessions', { state: 'authenticated' })).toBe(2);
  }, 60_000);

  it('refuses an unknown terminal at registration with 0x8100 result 4, and a location before auth', async () => {
    const stranger = await connect('013999999999');
    expect(await stranger.send(0x0100, registerBody('ZJX9999'))).toMatchObject({ msgId: 0x8100, result: 4 });
    expect(await stranger.send(0x0200, locationBody({ lat: 30, lon: 120, ts: Date.now() }))).toMatchObject({
      msgId: 0x8001,
      result: 1,
    });
    expect(await metric('citygrid_edge_jt808_refusals_total', { reason: 'unknown-terminal' })).toBe(1);
    expect(await metric('citygrid_edge_jt808_refusals_total', { reason: 'not-authenticated' })).toBe(1);
    expect(await rows(`SELECT * FROM vehicle WHERE lat = 30`)).toEqual([]);
    stranger.close();
  });

  it('drops a terminal that never authenticates after the auth timeout', async () => {
    const lazy = await connect('013700000004');
    expect(await lazy.send(0x0100, registerBody('ZJA0004'))).toMatchObject({ msgId: 0x8100, result: 0 });
    await lazy.waitClosed(10_000);
    expect(await metric('citygrid_edge_jt808_disconnects_total', { reason: 'auth-timeout' })).toBeGreaterThanOrEqual(1);
  }, 20_000);

  it('counts garbage and a bad check code; the session survives', async () => {
    const t1 = terminals.find((t) => t.phone === '013700000001')!;
    // after a frame the closing 7E opens the next candidate: the noise is framed by the flags around it and fails its check code
    t1.raw(Buffer.from('hello, this is not a frame'));
    const bad = terminalFrame(0x0002, t1.phone, 999, Buffer.alloc(0));
    bad[bad.length - 2] = (bad[bad.length - 2] as number) ^ 0x01; // wrong check code (the frame's is not 7D/7E)
    t1.raw(bad);
    t1.raw(Buffer.from([0x7e, 0x00, 0x02, 0x7d, 0x05, 0x7e])); // broken escaping
    expect(await t1.send(0x0002, Buffer.alloc(0))).toMatchObject({ result: 0 });
    expect(await metric('citygrid_edge_jt808_refusals_total', { reason: 'bad-checksum' })).toBe(2);
    expect(await metric('citygrid_edge_jt808_refusals_total', { reason: 'bad-frame' })).toBe(1);
    expect(await metric('citygrid_edge_decode_errors_total', { device: 'XH-SW-01', reason: 'bad-checksum' })).toBe(2);
    expect(t1.closed).toBe(false);
    // noise before any flag on a new connection belongs to no frame: counted in bytes
    const noisy = await connect('013700000009');
    noisy.raw(Buffer.alloc(40, 0x55));
    await eventually(
      async () => ((await metric('citygrid_edge_jt808_garbage_bytes_total', {})) >= 40 ? 1 : undefined),
      5_000,
      '40 garbage bytes counted',
    );
    noisy.close();
  });

  it('drops an oversized frame (a 7E and more bytes than any frame holds) and keeps the session', async () => {
    const t1 = terminals.find((t) => t.phone === '013700000001')!;
    t1.raw(Buffer.concat([Buffer.from([0x7e]), Buffer.alloc(3000, 0x41)]));
    expect(await t1.send(0x0002, Buffer.alloc(0))).toMatchObject({ result: 0 });
    expect(await metric('citygrid_edge_jt808_refusals_total', { reason: 'too-long' })).toBeGreaterThanOrEqual(1);
    expect(t1.closed).toBe(false);
  });

  it('answers an unknown message id with result 3', async () => {
    const t1 = terminals.find((t) => t.phone === '013700000001')!;
    expect(await t1.send(0x0900, Buffer.from([1, 2, 3]))).toMatchObject({ replyMsgId: 0x0900, result: 3 });
  });

  it('reports a silent terminal offline after the heartbeat timeout', async () => {
    const t3 = await connect('013700000003');
    expect(await t3.login()).toMatchObject({ result: 0 });
    await t3.waitClosed(10_000); // no heartbeats: closed 3 s after its last frame
    const offline = await eventually(
      async () => (await rows(`SELECT * FROM event WHERE device = 'XH-SW-03' AND type = 'device.offline'`))[0],
      20_000,
      'offline event of XH-SW-03',
    );
    expect(JSON.parse(offline.data as string)).toEqual({ reason: 'heartbeat-timeout' });
    expect(await metric('citygrid_edge_jt808_disconnects_total', { reason: 'heartbeat-timeout' })).toBe(1);
  }, 30_000);

  it('closes connections beyond maxConnections at once while the sessions keep working', async () => {
    const open = await metric('citygrid_edge_jt808_sessions', { state: 'connected' });
    const flood: net.Socket[] = [];
    for (let i = 0; i < MAX_CONNECTIONS + 4; i++) {
      const s = net.connect({ host: '127.0.0.1', port: jtPort });
      s.on('error', () => {});
      flood.push(s);
    }
    await eventually(
      async () =>
        (await metric('citygrid_edge_jt808_refusals_total', { reason: 'max-connections' })) >= 4 ? 1 : undefined,
      10_000,
      'connections refused at maxConnections',
    );
    expect(await metric('citygrid_edge_jt808_refusals_total', { reason: 'max-connections' })).toBe(open + 4);
    const t1 = terminals.find((t) => t.phone === '013700000001')!;
    expect(await t1.send(0x0200, locationBody({ lat: 30.26, lon: 120.14, ts: Date.now() }))).toMatchObject({
      result: 0,
    });
    for (const s of flood) s.destroy();
    expect(t1.closed).toBe(false);
    // the next tests connect again: wait until the server has seen the flood go
    await eventually(
      async () => ((await metric('citygrid_edge_jt808_sessions', { state: 'connected' })) <= open ? 1 : undefined),
      10_000,
      'the flood connections closed',
    );
  }, 20_000);

  it('lets a second connection of the same terminal replace the first', async () => {
    const first = terminals.find((t) => t.phone === '13700000002')!;
    const again = await connect('13700000002', true);
    expect(await again.login()).toMatchObject({ result: 0 });
    await first.waitClosed(5_000);
    expect(await again.send(0x0002, Buffer.alloc(0))).toMatchObject({ result: 0 });
    expect(await metric('citygrid_edge_jt808_disconnects_total', { reason: 'replaced' })).toBe(1);
    keepAlive(again);
  }, 20_000);

  it('closes a terminal that sends and never reads its replies once they pile up past maxBufferedBytes', async () => {
    const t3 = await connect('013700000003');
    expect(await t3.login()).toMatchObject({ result: 0 });
    t3.socket.pause(); // reads nothing more: our replies fill the socket buffers, then the edge's write queue
    const beat = terminalFrame(0x0002, t3.phone, 100, Buffer.alloc(0));
    const burst = Buffer.concat(Array.from({ length: 20_000 }, () => beat));
    for (let i = 0; i < 40 && !t3.socket.destroyed; i++) {
      if (!t3.socket.write(burst)) await new Promise((r) => setTimeout(r, 50));
      if ((await metric('citygrid_edge_jt808_disconnects_total', { reason: 'buffer-overflow' })) > 0) break;
    }
    await eventually(
      async () =>
        (await metric('citygrid_edge_jt808_disconnects_total', { reason: 'buffer-overflow' })) === 1 ? 1 : undefined,
      20_000,
      'the connection closed for buffer overflow',
    );
    expect(await metric('citygrid_edge_jt808_refusals_total', { reason: 'buffer-overflow' })).toBe(1);
    t3.close();
  }, 40_000);

  it('serves `citygrid sim fleet` (its own JT/T 808 terminals) for the city vehicles of this gateway', async () => {
    const sim = startCli(
      [
        'sim',
        'fleet',
        '--city',
        path.join(dir, 'city.yaml'),
        '--gateway',
        path.join(dir, 'gw-xh-01.yaml'),
        '--vehicles',
        'XH-SW01,XH-WS01',
        '--report-interval-s',
        '1',
        '--seed',
        '7',
      ],
      // the gateway file names the hub password by ${CG_JT_GW_PW}; the simulator only reads its devices
      { env: { CG_JT_GW_PW: gatewayPassword }, logFile: path.join(dir, 'sim.log') },
    );
    try {
      for (const device of ['XH-SW01', 'XH-WS01']) {
        const points = await eventually(
          async () => {
            const r = await rows(`SELECT lat, lon, speed_kmh FROM vehicle WHERE device = '${device}'`);
            return r.length >= 3 ? r : undefined;
          },
          30_000,
          `three points of ${device} from sim fleet`,
        );
        // on the example city's roads in Xihu
        for (const p of points) {
          expect(p.lat as number).toBeGreaterThan(30.1);
          expect(p.lat as number).toBeLessThan(30.4);
          expect(p.lon as number).toBeGreaterThan(120.0);
          expect(p.lon as number).toBeLessThan(120.3);
        }
        const online = await rows(`SELECT * FROM event WHERE device = '${device}' AND type = 'device.online'`);
        expect(online.length).toBeGreaterThanOrEqual(1);
      }
      expect(await metric('citygrid_edge_jt808_refusals_total', { reason: 'unknown-terminal' })).toBe(1); // the stranger only
    } finally {
      await sim.stop();
    }
  }, 60_000);
});
