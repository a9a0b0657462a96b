/**
 * `citygrid edge` as a real process: config errors exit 1 naming file and path; a running agent
 * serves /healthz and /metrics, and SIGTERM stops it cleanly (offline state published, exit 0).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker, TestHub, waitFor } from './mqtt-harness.js';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/citygrid.mjs');

function runCli(args: string[]): { child: ChildProcess; output: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exit };
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('citygrid edge', () => {
  let dir: string;
  let broker: TestBroker;
  let hub: TestHub;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'citygrid-edge-cli-'));
    broker = await startTestBroker({ hub: 'hub-pw', 'gw-cli': 'gw-pw' });
    hub = await TestHub.connect(broker.url, 'hub-pw');
  });

  afterAll(async () => {
    await hub.close();
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints every config problem with file and path and exits 1', async () => {
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(
      file,
      [
        'gateway: { id: gw-cli, district: testd }',
        'hub: { url: "mqtt://127.0.0.1:1", password: x, reconectPeriod: 1s }',
        'devices:',
        '  - { id: D1, kind: lamp, driver: nmea-gps, transport: { type: tcp, host: h, port: 1 } }',
      ].join('\n'),
    );
    const cli = runCli(['edge', '--config', file]);
    expect(await cli.exit).toBe(1);
    expect(cli.output()).toContain(`${file}:2: hub: unknown key "reconectPeriod"`);
    expect(cli.output()).toContain(`${file}:4: devices[0].kind: expected one of`);
  });

  it('serves /healthz and /metrics and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const file = path.join(dir, 'good.yaml');
    writeFileSync(
      file,
      [
        'gateway: { id: gw-cli, district: testd }',
        `hub: { url: "${broker.url}", password: gw-pw, reconnectPeriod: 100ms }`,
        'logLevel: warn',
        `http: { port: ${port} }`,
        'devices: []',
      ].join('\n'),
    );
    const cli = runCli(['edge', '--config', file]);
    try {
      const online = await waitFor(
        'online state',
        () => hub.uplink('gw-cli', 'state').find((m) => m.body.state === 'online'),
        20_000,
      );
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({
        gateway: 'gw-cli',
        connected: true,
        outboxDepth: 0,
        bootId: online.body.bootId,
      });
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toContain('citygrid_edge_mqtt_connected 1');
      expect(metrics).toContain('citygrid_edge_outbox_depth 0');

      cli.child.kill('SIGTERM');
      expect(await cli.exit).toBe(0);
      const offline = hub.uplink('gw-cli', 'state').find((m) => m.body.state === 'offline');
      expect(offline?.body.bootId).toBe(online.body.bootId);
    } finally {
      if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
    }
  });
});
