/** Where a device sits (its own transport, a shared bus, or neither) checked against its driver, with file:line errors. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadGatewayConfig } from '../../config/load.js';
import { driverOptionsValidator } from '../../drivers/index.js';
import { ConfigError } from '../../drivers/sdk/errors.js';

const dir = mkdtempSync(path.join(tmpdir(), 'cg-buses-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bus = { id: 'meters-1', transport: { type: 'serial', path: '/dev/ttyUSB1', baudRate: 2400, parity: 'even' } };
const meter = { id: 'GS-WM011', kind: 'water_meter', driver: 'cjt188-water-meter', options: { address: '11' } };

function problems(config: Record<string, unknown>): string[] {
  const file = path.join(dir, `gw-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(
    file,
    stringify({
      gateway: { id: 'gw-gs-01', district: 'gongshu' },
      hub: { url: 'mqtt://127.0.0.1:1883', password: 'x' },
      ...config,
    }),
  );
  try {
    loadGatewayConfig(file, driverOptionsValidator);
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.issues.map((i) => `${i.path}: ${i.message}`);
  }
}

describe('gateway config: buses and device placement', () => {
  it('accepts meters on a bus, parses the bus defaults and the meter options', () => {
    const file = path.join(dir, 'good.yaml');
    writeFileSync(
      file,
      stringify({
        gateway: { id: 'gw-gs-01', district: 'gongshu' },
        hub: { url: 'mqtt://127.0.0.1:1883', password: 'x' },
        buses: [bus],
        devices: [{ ...meter, bus: 'meters-1' }],
      }),
    );
    const { gateway } = loadGatewayConfig(file, driverOptionsValidator);
    expect(gateway.buses[0]).toMatchObject({
      pollInterval: 60_000,
      responseTimeout: 1000,
      retries: 2,
      offlineAfter: 3,
    });
    expect(gateway.devices[0]?.options).toMatchObject({ address: '00000000000011', meterType: '10' });
  });

  it('tells a technician that a polled meter needs a bus, not a transport of its own', () => {
    const out = problems({ devices: [{ ...meter, transport: bus.transport }] });
    expect(out).toEqual([expect.stringMatching(/devices\[0\]\.transport.*polls devices on a shared bus: give "bus/)]);
  });

  it('refuses a bus nobody declared, a duplicate bus id, and a device with both', () => {
    expect(problems({ buses: [bus], devices: [{ ...meter, bus: 'meters-2' }] })).toEqual([
      expect.stringMatching(/devices\[0\]\.bus: no bus "meters-2" in buses; known: meters-1/),
    ]);
    expect(problems({ buses: [bus, bus], devices: [] })).toEqual([
      expect.stringMatching(/buses\[1\]\.id: duplicate bus id "meters-1"/),
    ]);
    expect(problems({ buses: [bus], devices: [{ ...meter, bus: 'meters-1', transport: bus.transport }] })).toEqual(
      expect.arrayContaining([expect.stringMatching(/devices\[0\]: give "transport" .* or "bus" .*, not both/)]),
    );
  });

  it('tells a stream driver on a bus to take a transport', () => {
    const gps = { id: 'GS-GP001', kind: 'vehicle', driver: 'nmea-gps', bus: 'meters-1' };
    expect(problems({ buses: [bus], devices: [gps] })).toEqual([
      expect.stringMatching(/devices\[0\]\.bus: driver "nmea-gps" reads a line of its own: give "transport"/),
    ]);
  });
});
