/** `servers:` (JT/T 808 listeners) and devices placed with `server:`, checked with file, path and the fix in words. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadGatewayConfig } from '../../config/load.js';
import { heartbeatTimeoutMs } from '../../config/schema/gateway.js';
import { driverOptionsValidator } from '../../drivers/index.js';
import { ConfigError } from '../../drivers/sdk/errors.js';

const dir = mkdtempSync(path.join(tmpdir(), 'cg-servers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const server = { id: 'jt808', protocol: 'jt808', listen: { host: '127.0.0.1', port: 7808 } };
const truck = { id: 'XH-SW-01', kind: 'vehicle', driver: 'jt808-terminal', options: { phone: '013800000001' } };

function write(config: Record<string, unknown>): string {
  const file = path.join(dir, `gw-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(
    file,
    stringify({
      gateway: { id: 'gw-xh-01', district: 'xihu' },
      hub: { url: 'mqtt://127.0.0.1:1883', password: 'x' },
      ...config,
    }),
  );
  return file;
}

function problems(config: Record<string, unknown>): string[] {
  const file = write(config);
  try {
    loadGatewayConfig(file, driverOptionsValidator);
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const i of err.issues) expect(i.file).toMatch(/gw-[a-z0-9]+\.yaml(:\d+)?$/);
    return err.issues.map((i) => `${i.path}: ${i.message}`);
  }
}

describe('gateway config: servers', () => {
  it('accepts a terminal on a server and fills the defaults (heartbeat timeout 3 × interval)', () => {
    const { gateway } = loadGatewayConfig(
      write({ servers: [server], devices: [{ ...truck, server: 'jt808' }] }),
      driverOptionsValidator,
    );
    const s = gateway.servers[0]!;
    expect(s).toMatchObject({
      authTimeoutS: 30,
      heartbeatIntervalS: 60,
      maxConnections: 10_000,
      maxBufferedBytes: 65_536,
    });
    expect(heartbeatTimeoutMs(s)).toBe(180_000);
    expect(heartbeatTimeoutMs({ ...s, heartbeatTimeoutS: 20 })).toBe(20_000);
    expect(gateway.devices[0]).toMatchObject({ server: 'jt808', options: { phone: '013800000001', alarmBits: {} } });
  });

  it('refuses an unknown server, a duplicate server id, and two servers on one address', () => {
    expect(problems({ servers: [server], devices: [{ ...truck, server: 'jt' }] })).toEqual([
      expect.stringMatching(/devices\[0\]\.server: no server "jt" in servers; known: jt808/),
    ]);
    expect(problems({ servers: [server, server] })).toEqual([
      expect.stringMatching(/servers\[1\]\.id: duplicate server id "jt808"/),
      expect.stringMatching(/servers\[1\]\.listen: 127\.0\.0\.1:7808 is already the address of another server/),
    ]);
  });

  it('tells a technician that a terminal connects to a server: no transport, no bus', () => {
    const tcp = { type: 'tcp', host: '127.0.0.1', port: 7808 };
    expect(problems({ servers: [server], devices: [{ ...truck, transport: tcp }] })).toEqual([
      expect.stringMatching(/devices\[0\]\.transport: driver "jt808-terminal" serves terminals .* give "server: <id/),
    ]);
    expect(problems({ servers: [server], devices: [{ ...truck, server: 'jt808', transport: tcp }] })).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/devices\[0\]\.transport: a device that connects to server "jt808" has no transport/),
      ]),
    );
    expect(problems({ servers: [server], devices: [truck] })).toEqual([
      expect.stringMatching(/devices\[0\]: driver "jt808-terminal" serves terminals/),
    ]);
  });

  it('tells a stream driver given a server to take a transport', () => {
    const gps = { id: 'XH-GP001', kind: 'vehicle', driver: 'nmea-gps', server: 'jt808' };
    expect(problems({ servers: [server], devices: [gps] })).toEqual([
      expect.stringMatching(/devices\[0\]\.server: driver "nmea-gps" reads a line of its own: give "transport"/),
    ]);
  });

  it('checks the terminal options: phone digits, alarm bit numbers', () => {
    const bad = {
      ...truck,
      server: 'jt808',
      options: { phone: '138-0000', alarmBits: { 32: { name: 'x', severity: 'info' } } },
    };
    const out = problems({ servers: [server], devices: [bad] });
    expect(out).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/devices\[0\]\.options\.phone: .*up to 20 digits/),
        expect.stringMatching(/devices\[0\]\.options\.alarmBits/),
      ]),
    );
  });
});
