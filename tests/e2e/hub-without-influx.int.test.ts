/**
 * The hub does not wait for InfluxDB: started while InfluxDB is down, it takes telemetry, makes it
 * durable in its disk spool, acknowledges it to the gateway, and writes it to InfluxDB once
 * InfluxDB comes up.
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { findFreePort } from '../../bin/lib/ports.js';
import { type CliProcess, eventually, ROOT, startCli } from '../helpers/cli-process.js';
import { type RunningInfluxd, startInfluxd } from '../helpers/influxd.js';
import { copyExampleCaseConfigs } from '../helpers/system-configs.js';

const dir = mkdtempSync(path.join(tmpdir(), 'cg-noinflux-'));
const password = randomBytes(9).toString('base64url');
let hub: CliProcess | undefined;
let influxd: RunningInfluxd | undefined;

afterAll(async () => {
  await hub?.stop();
  await influxd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('hub started while InfluxDB is down', () => {
  it('acknowledges from its disk spool and lands everything once InfluxDB is up', async () => {
    const [mqttPort, httpPort, influxPort] = await Promise.all([findFreePort(), findFreePort(), findFreePort()]);
    copyFileSync(path.join(ROOT, 'config/examples/city.yaml'), path.join(dir, 'city.yaml'));
    copyExampleCaseConfigs(dir);
    writeFileSync(
      path.join(dir, 'hub.yaml'),
      [
        'city: ./city.yaml',
        'dataDir: ./hub-data',
        `mqtt: { mode: embedded, host: 127.0.0.1, port: ${mqttPort} }`,
        `http: { host: 127.0.0.1, port: ${httpPort} }`,
        `accounts: { gateways: [{ id: gw-xh-01, password: "${password}" }] }`,
        `telemetry: { influx: { url: "http://127.0.0.1:${influxPort}", database: spooled } }`,
        '',
      ].join('\n'),
    );
    hub = startCli(['hub', '--config', path.join(dir, 'hub.yaml')], { logFile: path.join(dir, 'hub.log') });
    await hub.waitFor(/Listening/, 60_000);
    expect(hub.output()).toMatch(/spooling to disk/);

    const gw = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
      clientId: 'gw-xh-01',
      username: 'gw-xh-01',
      password,
      protocolVersion: 4,
    });
    const acks: { bootId: string; seq: number }[] = [];
    gw.on('message', (_t, p) => acks.push(JSON.parse(String(p))));
    await gw.subscribeAsync({ 'cg/v1/xihu/gw-xh-01/cmd/#': { qos: 1 } });
    const t0 = 1_790_000_000_000;
    for (let seq = 0; seq < 10; seq++) {
      const readings = Array.from({ length: 20 }, (_, i) => ({
        device: 'XH-GP001',
        kind: 'vehicle',
        ts: t0 + (seq * 20 + i) * 1000,
        fields: { lat: 30.27, lon: 120.1 + i / 1e4 },
      }));
      await gw.publishAsync(
        'cg/v1/xihu/gw-xh-01/telemetry',
        JSON.stringify({ v: 1, gateway: 'gw-xh-01', bootId: 'b1', seq, readings }),
        { qos: 1 },
      );
    }
    // Every message acknowledged while InfluxDB is still down: durable in the spool.
    await eventually(
      async () => (acks.some((a) => a.bootId === 'b1' && a.seq === 9) ? true : undefined),
      20_000,
      'the ack of seq 9',
    );
    await gw.endAsync();

    influxd = await startInfluxd({ httpPort: influxPort });
    const count = await eventually(
      async () => {
        const q = encodeURIComponent('SELECT count(lat) FROM vehicle');
        const body = (await (await fetch(`${influxd!.url}/query?db=spooled&q=${q}`)).json()) as {
          results: { series?: { values: [string, number][] }[] }[];
        };
        const n = body.results[0]?.series?.[0]?.values[0]?.[1] ?? 0;
        return n >= 200 ? n : undefined;
      },
      60_000,
      '200 points in InfluxDB',
    );
    expect(count).toBe(200);
  }, 120_000);
});
