/**
 * Config files for tests that run the real `citygrid hub` / `citygrid edge` processes: the
 * example city copied into the test dir, a hub config and a one-truck gateway config. Tests
 * state only what differs (ports, sink, batching); secrets stay `${ENV}` references.
 */
import { copyFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { ROOT } from './cli-process.js';
import { consoleUserEntry, TEST_SUPERVISOR, type TestConsoleUser } from './console-session.js';

export interface HubFixture {
  httpPort: number;
  /** The `mqtt:` section, e.g. `{ mode: 'embedded', host: '127.0.0.1', port }` or an external broker. */
  mqtt: Record<string, unknown>;
  hubId?: string;
  /** Gateway accounts: id -> password (a literal or a `${ENV}` reference). */
  gateways?: Record<string, string>;
  /** Reader accounts: username -> password. */
  readers?: Record<string, string>;
  /** The `telemetry.influx` section; the embedded store when omitted. */
  influx?: Record<string, unknown>;
  /** Console users (random passwords, hashed into the file). Default the one TEST_SUPERVISOR that jsonApi/consoleFetch use. */
  consoleUsers?: TestConsoleUser[];
  /** Other `console:` options (sessionTtlMinutes, loginAttemptsPerMinute). */
  console?: Record<string, unknown>;
}

/**
 * Copies the case catalogue and rules the example city names (`catalogue: ./catalogue.yaml`,
 * `rules: ./rules.yaml`) into `dir`, for a copy of the example city written there: the hub loads
 * them relative to the city file.
 */
export function copyExampleCaseConfigs(dir: string): void {
  for (const f of ['catalogue.yaml', 'rules.yaml'])
    copyFileSync(path.join(ROOT, 'config/examples', f), path.join(dir, f));
}

/** Copies the example city (with its catalogue and rules) next to the hub config and writes `hub.yaml`; returns its path. */
export function writeHubConfig(dir: string, f: HubFixture): string {
  copyFileSync(path.join(ROOT, 'config/examples/city.yaml'), path.join(dir, 'city.yaml'));
  copyExampleCaseConfigs(dir);
  const config: Record<string, unknown> = {
    ...(f.hubId ? { hubId: f.hubId } : {}),
    city: './city.yaml',
    dataDir: './hub-data',
    mqtt: f.mqtt,
    http: { host: '127.0.0.1', port: f.httpPort },
  };
  if (f.gateways || f.readers) {
    config.accounts = {
      gateways: Object.entries(f.gateways ?? {}).map(([id, password]) => ({ id, password })),
      readers: Object.entries(f.readers ?? {}).map(([username, password]) => ({ username, password })),
    };
  }
  if (f.influx) config.telemetry = { influx: f.influx };
  config.console = { ...f.console, users: (f.consoleUsers ?? [TEST_SUPERVISOR]).map(consoleUserEntry) };
  const file = path.join(dir, 'hub.yaml');
  writeFileSync(file, stringify(config));
  return file;
}

export interface TruckGatewayFixture {
  file: string;
  hubUrl: string;
  password: string;
  /** The pty end (or device path) the gateway reads NMEA from. */
  tty: string;
  device?: string;
  baudRate?: number;
  batch?: Record<string, unknown>;
  delivery?: Record<string, unknown>;
  http?: Record<string, unknown>;
  reconnectPeriod?: string;
  options?: Record<string, unknown>;
}

/** Writes the config of gateway gw-xh-01 (Xihu) reading one truck's GNSS receiver; returns its path. */
export function writeTruckGatewayConfig(dir: string, f: TruckGatewayFixture): string {
  const config: Record<string, unknown> = {
    gateway: { id: 'gw-xh-01', district: 'xihu' },
    hub: { url: f.hubUrl, password: f.password, reconnectPeriod: f.reconnectPeriod ?? '250ms' },
    dataDir: './edge-data',
    ...(f.batch ? { batch: f.batch } : {}),
    ...(f.delivery ? { delivery: f.delivery } : {}),
    ...(f.http ? { http: f.http } : {}),
    devices: [
      {
        id: f.device ?? 'XH-GP001',
        kind: 'vehicle',
        driver: 'nmea-gps',
        asset: 'TRUCK-XH-01',
        transport: { type: 'serial', path: f.tty, baudRate: f.baudRate ?? 9600 },
        ...(f.options ? { options: f.options } : {}),
      },
    ],
  };
  const file = path.join(dir, f.file);
  writeFileSync(file, stringify(config));
  return file;
}

export interface FloodGatewayFixture {
  hubUrl: string;
  /** The gateway password reference, e.g. `${CG_CASES_PW}`. */
  password: string;
  /** Port of the Modbus TCP responder that plays the underpass gauge. */
  gaugePort: number;
  /** Devices beside the gauge (a camera at the underpass). */
  extraDevices?: Record<string, unknown>[];
  file?: string;
}

/**
 * The Xihu gateway with the UP-XH-001 underpass gauge (XH-UP01, a UPS-WL-1 logger over Modbus TCP,
 * read every 500 ms): what the case and console tests raise their flood cases from. Returns its path.
 */
export function writeFloodGatewayConfig(dir: string, f: FloodGatewayFixture): string {
  const config = {
    gateway: { id: 'gw-xh-01', district: 'xihu' },
    hub: { url: f.hubUrl, password: f.password, reconnectPeriod: '250ms' },
    dataDir: './edge-data',
    batch: { maxReadings: 20, maxDelay: '100ms' },
    devices: [
      {
        id: 'XH-UP01',
        kind: 'flood',
        driver: 'modbus-tcp-logger',
        asset: 'UP-XH-001',
        options: { host: '127.0.0.1', port: f.gaugePort, model: 'UPS-WL-1', interval: '500ms' },
      },
      ...(f.extraDevices ?? []),
    ],
  };
  const file = path.join(dir, f.file ?? 'gw.yaml');
  writeFileSync(file, stringify(config));
  return file;
}
