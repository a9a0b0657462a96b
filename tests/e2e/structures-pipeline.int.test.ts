/**
 * Structural and environmental loggers end to end, across real processes (issue 4):
 *
 *   responder process -> socat pty -> citygrid edge (modbus-logger on an RS-485 bus, BRG-DL-1 with
 *   its acceleration buffer)                                      \
 *   responder process -> loopback TCP -> citygrid edge (modbus-tcp-logger, UPS-WL-1)
 *     -> TCP proxy (the uplink that is cut) -> MQTT -> citygrid hub -> real InfluxDB
 *
 * The responder (tests/helpers/modbus-tcp-responder.ts) frames Modbus itself and serves a register
 * bank the test rewrites. Checked: decoded values and the reduced vibration in InfluxDB, and a
 * threshold Event raised at the edge while the uplink is down, stored by the hub after it returns.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { findFreePort } from '../../bin/lib/ports.js';
import { brgDl1 } from '../../drivers/modbus-logger/models/index.js';
import { openPtyPair, type PtyPair } from '../../simulators/common/pty.js';
import { type CliProcess, eventually, startCli } from '../helpers/cli-process.js';
import { influxSeries } from '../helpers/influx-query.js';
import { jsonApi } from '../helpers/json-api.js';
import { type RegisterBank, type ResponderProcess, startModbusTcpResponder } from '../helpers/modbus-tcp-responder.js';
import { writeHubConfig } from '../helpers/system-configs.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

interface GatewayHealthView {
  id: string;
  health?: { ts: number; devices?: number; devicesOnline?: number; outbox: { items: number; backlog: number } };
}

const influxUrl = inject('influxUrl');
const database = `structures_${randomBytes(4).toString('hex')}`;
const dir = mkdtempSync(path.join(tmpdir(), 'cg-structures-'));
const password = randomBytes(12).toString('base64url');
const bankFile = path.join(dir, 'bank.json');

/** BRG-DL-1 channels 1..8: the domain doc's worked FC04 0x0010 x16 response (125.6 µε … 18.5 °C). */
const BRIDGE_CHANNELS = '42FB3333 4145999A 404CCCCD 3C449BA6 BB83126F 3D0F5C29 3E3851EC 41940000';

function bank(waterMm: number): RegisterBank {
  const values: Record<string, number> = {};
  const words = Buffer.from(BRIDGE_CHANNELS.replace(/\s+/g, ''), 'hex');
  for (let i = 0; i < 16; i++) values[`4:${0x10 + i}`] = words.readUInt16BE(i * 2);
  for (let i = 0; i < 8; i++) values[`4:${0x40 + i}`] = 0;
  // UPS-WL-1: depth mm, rain 0.1 mm/h, total 0.1 mm as u32 CDAB (low word first)
  Object.assign(values, { '4:0': waterMm, '4:1': 55, '4:2': 1234, '4:3': 0, '4:4': 0 });
  return { values, wave: { function: 4, counterAddress: 0x200, count: 100, rateHz: 100, freqHz: 2.5, ampCounts: 500 } };
}

let pty: PtyPair;
let responder: ResponderProcess;
let proxy: TcpProxy;
let httpPort: number;
let hub: CliProcess;
let edge: CliProcess;

const influx = async (q: string) => (await influxSeries(influxUrl, database, q))[0];

/** Rows as objects. */
async function rows(q: string): Promise<Record<string, unknown>[]> {
  const s = await influx(q);
  return (s?.values ?? []).map((v) => Object.fromEntries(s?.columns.map((c, i) => [c, v[i]]) ?? []));
}

beforeAll(async () => {
  const mqttPort = await findFreePort();
  httpPort = await findFreePort();
  writeHubConfig(dir, {
    hubId: 'hub-structures',
    mqtt: { mode: 'embedded', host: '127.0.0.1', port: mqttPort },
    httpPort,
    gateways: { 'gw-xh-01': '${CG_STRUCT_PW}' },
    influx: { url: influxUrl, database, flushInterval: '50ms' },
  });
  proxy = await startTcpProxy({ port: mqttPort });
  pty = await openPtyPair(dir, { a: 'rtu.sim', b: 'rtu.dev' });
  writeFileSync(bankFile, JSON.stringify(bank(120)));
  responder = await startModbusTcpResponder({ count: 1, bank: bankFile, rtu: { tty: pty.a, unit: 3 } });
  writeFileSync(
    path.join(dir, 'gw.yaml'),
    stringify({
      gateway: { id: 'gw-xh-01', district: 'xihu' },
      hub: {
        url: `mqtt://127.0.0.1:${proxy.port}`,
        password: '${CG_STRUCT_PW}',
        reconnectPeriod: '250ms',
        healthInterval: '3s',
      },
      dataDir: './edge-data',
      batch: { maxReadings: 20, maxDelay: '100ms' },
      delivery: { resendAfter: '2s' },
      buses: [
        {
          id: 'structures-1',
          transport: { type: 'serial', path: pty.b, baudRate: 9600 },
          pollInterval: '1s',
          responseTimeout: '500ms',
        },
      ],
      devices: [
        {
          id: 'XH-BR01',
          kind: 'bridge',
          driver: 'modbus-logger',
          asset: 'BR-XH-001',
          bus: 'structures-1',
          // the shipped map inline, with a 2 s vibration window so the test sees windows soon
          options: { unit: 3, interval: '1s', map: { ...brgDl1, waveform: { ...brgDl1.waveform, windowS: 2 } } },
        },
        {
          id: 'XH-UP01',
          kind: 'flood',
          driver: 'modbus-tcp-logger',
          asset: 'UP-XH-001',
          options: { host: '127.0.0.1', port: responder.ports[0], model: 'UPS-WL-1', interval: '500ms' },
        },
      ],
    }),
  );
  hub = startCli(['hub', '--config', path.join(dir, 'hub.yaml')], {
    env: { CG_STRUCT_PW: password },
    logFile: path.join(dir, 'hub.log'),
  });
  await hub.waitFor(/Listening/);
  edge = startCli(['edge', '--config', path.join(dir, 'gw.yaml')], {
    env: { CG_STRUCT_PW: password },
    logFile: path.join(dir, 'edge.log'),
  });
}, 60_000);

afterAll(async () => {
  await Promise.all([edge?.stop(), hub?.stop(), responder?.stop()]);
  await proxy?.close();
  await pty?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('loggers -> edge -> hub -> InfluxDB', () => {
  it('stores the RTU bridge logger channels decoded by the map, quality good', async () => {
    const [row] = await eventually(
      async () => {
        const r = await rows(
          `SELECT strain_ue, deflection_mm, crack_width_mm, tilt_x_mrad, temperature_c, quality FROM bridge WHERE device = 'XH-BR01' AND strain_ue > 0 LIMIT 1`,
        );
        return r.length > 0 ? r : undefined;
      },
      30_000,
      'a bridge reading in InfluxDB',
    );
    expect(row).toMatchObject({
      strain_ue: 125.6,
      deflection_mm: 12.35,
      crack_width_mm: 0.18,
      temperature_c: 18.5,
      quality: 'good',
    });
    expect(row?.tilt_x_mrad).toBeCloseTo(0.2094, 4);
  }, 40_000);

  it('reduces the 100 Hz acceleration buffer to RMS, peak and the 2.5 Hz mode per window', async () => {
    const windows = await eventually(
      async () => {
        const r = await rows(
          `SELECT accel_rms_g, accel_peak_g, accel_freq_hz FROM bridge WHERE device = 'XH-BR01' AND accel_rms_g > 0`,
        );
        return r.length >= 2 ? r : undefined;
      },
      30_000,
      'two vibration windows',
    );
    for (const w of windows) {
      expect(w.accel_freq_hz as number).toBeCloseTo(2.5, 1);
      expect(w.accel_rms_g as number).toBeCloseTo(0.05 / Math.SQRT2, 2);
      expect(w.accel_peak_g as number).toBeCloseTo(0.05, 2);
    }
  }, 40_000);

  it('stores the TCP underpass gauge: depth in cm, rain total from a word-swapped u32', async () => {
    const [row] = await eventually(
      async () => {
        const r = await rows(
          `SELECT water_level_cm, rain_intensity_mmh, rain_total_mm FROM flood WHERE device = 'XH-UP01' LIMIT 1`,
        );
        return r.length > 0 ? r : undefined;
      },
      20_000,
      'a flood reading',
    );
    expect(row).toMatchObject({ water_level_cm: 12, rain_intensity_mmh: 5.5, rain_total_mm: 123.4 });
  }, 30_000);

  it('raises threshold events at the edge while the uplink is down and delivers them after', async () => {
    const closures = () =>
      rows(
        `SELECT data, severity FROM event WHERE device = 'XH-UP01' AND "type" = 'threshold.high' AND severity = 'critical'`,
      );
    expect(await closures()).toEqual([]);
    proxy.cut('refuse');
    const cutAt = Date.now();
    writeFileSync(bankFile, JSON.stringify(bank(300))); // 30 cm: past yellow (15) and closure (25)
    await edge.waitFor(/"level":"closure"/, 15_000);
    // the hub cannot have it: the link is cut
    expect(await closures()).toEqual([]);
    const restoredAt = Date.now();
    proxy.restore();
    const [closure] = await eventually(
      async () => {
        const r = await rows(
          `SELECT data, severity FROM event WHERE device = 'XH-UP01' AND "type" = 'threshold.high' AND severity = 'critical'`,
        );
        return r.length > 0 ? r : undefined;
      },
      30_000,
      'the closure event at the hub',
    );
    expect(closure?.time as number).toBeGreaterThanOrEqual(cutAt);
    expect(closure?.time as number).toBeLessThan(restoredAt);
    expect(JSON.parse(closure?.data as string)).toMatchObject({
      field: 'water_level_cm',
      value: 30,
      limit: 25,
      direction: 'high',
      level: 'closure',
    });

    // The gateway's health report on reconnecting carries the outage's backlog; later ones show it drained.
    const api = jsonApi(() => `http://127.0.0.1:${httpPort}`);
    const healthOf = async () => {
      const { body } = await api<GatewayHealthView[]>('GET', '/api/gateways');
      return body.find((g) => g.id === 'gw-xh-01')?.health;
    };
    const atReconnect = await eventually(
      async () => {
        const h = await healthOf();
        return h && h.ts >= restoredAt && h.outbox.backlog > 0 ? h : undefined;
      },
      30_000,
      'a health report with the outage backlog',
    );
    expect(atReconnect).toMatchObject({ devices: 2, devicesOnline: 2 });
    expect(atReconnect.outbox.items).toBeGreaterThanOrEqual(atReconnect.outbox.backlog);
    await eventually(
      async () => {
        const h = await healthOf();
        return h && h.ts > atReconnect.ts && h.outbox.backlog === 0 ? h : undefined;
      },
      30_000,
      'a later health report with the backlog drained',
    );

    const yellow = await rows(
      `SELECT data FROM event WHERE device = 'XH-UP01' AND "type" = 'threshold.high' AND severity = 'warning'`,
    );
    expect(yellow.map((r) => JSON.parse(r.data as string).level)).toContain('yellow');
  }, 60_000);
});
