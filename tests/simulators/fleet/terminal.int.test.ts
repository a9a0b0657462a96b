/**
 * The fleet simulator over real TCP against a tiny platform written here with drivers/jt808 (the
 * independent reader: the simulator has its own encoder). Register, auth, heartbeat, location,
 * retransmission of an unanswered report, a blind-area batch after signal loss, reconnect and
 * re-auth after a drop, a refused terminal, and the whole example fleet in 2013 and 2019.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { loadCityConfig } from '../../../config/load.js';
import { createLogger } from '../../../drivers/sdk/log.js';
import { startFleet } from '../../../simulators/fleet/fleet.js';
import { Terminal } from '../../../simulators/fleet/terminal.js';
import { cityFleet, tunnelPoints } from '../../../simulators/fleet/vehicles.js';
import { distanceM } from '../../../simulators/gps/route.js';
import { eventually } from '../../helpers/cli-process.js';
import { type Jt808Platform, startJt808Platform as startPlatform } from '../../helpers/jt808-platform.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const log = createLogger({ name: 'test', level: 'silent' });
/** Retries a block of assertions until they pass. */
const until = (check: () => void, timeoutMs: number) =>
  eventually(async () => {
    check();
    return true;
  }, timeoutMs);

const REGISTER = {
  province: 33,
  city: 106,
  manufacturer: 'CGSIM',
  model: 'CG-SIM-808',
  terminalId: 'T000001',
  plateColor: 2,
  plate: '浙A·D1001',
};
const report = (time: number, lat = 30.27) => ({
  alarm: 0,
  status: 0x000c0003,
  lat,
  lon: 120.13,
  altitudeM: 9,
  speedKmh: 8.5,
  headingDeg: 270,
  time,
  mileageKm: 12345.6,
  working: true,
  satellites: 14,
});

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function terminalAgainst(
  platform: Jt808Platform,
  phone: string,
  extra: Partial<ConstructorParameters<typeof Terminal>[0]> = {},
) {
  const t = new Terminal({
    host: '127.0.0.1',
    port: platform.port,
    phone,
    version: 2013,
    register: REGISTER,
    heartbeatMs: 300,
    ackTimeoutMs: 150,
    reconnectMs: 100,
    log,
    ...extra,
  });
  cleanups.push(() => t.stop());
  t.start();
  await until(() => expect(t.online).toBe(true), 5000);
  return t;
}

describe('fleet simulator terminal over TCP', () => {
  it('registers, authenticates with the code it was given, heartbeats when idle, reports locations', async () => {
    const platform = await startPlatform();
    cleanups.push(platform.close);
    const t = await terminalAgainst(platform, '013800000001');
    const [reg] = platform.of(0x0100);
    expect(reg?.frame.header).toMatchObject({ phone: '013800000001', serial: 0, v2019: false });
    expect(reg?.frame.body).toMatchObject({
      kind: 'register',
      province: 33,
      city: 106,
      plate: '浙AD1001',
      plateColor: 2,
    });
    expect(platform.of(0x0102)[0]?.frame.body).toMatchObject({ kind: 'auth', authCode: 'AC0001' });

    const time = Date.UTC(2026, 10, 23, 1, 2, 3);
    t.report(report(time));
    await until(() => expect(platform.of(0x0200)).toHaveLength(1), 3000);
    const loc = platform.of(0x0200)[0]?.frame.body;
    if (loc?.kind !== 'location') throw new Error('not a location');
    expect(loc.location).toMatchObject({ latitude: 30.27, longitude: 120.13, speedKmh: 8.5, direction: 270, time });
    expect(loc.location.items.find((i) => i.id === 0x01)?.mileageKm).toBe(12345.6);
    expect(loc.location.items.find((i) => i.id === 0xe1)?.hex).toBe('01');
    await until(() => expect(platform.of(0x0002).length).toBeGreaterThanOrEqual(1), 3000);
    expect(t.stats).toMatchObject({ registered: 1, authenticated: 1, reports: 1, retransmits: 0 });
  });

  it('sends an unanswered report again after T × (n + 1) with the same serial, then gives up the link and reconnects', async () => {
    let ignoring = true;
    const platform = await startPlatform({ ignore: (f) => ignoring && f.header.msgId === 0x0200 });
    cleanups.push(platform.close);
    const t = await terminalAgainst(platform, '013800000002', { heartbeatMs: 60_000 });
    t.report(report(Date.UTC(2026, 10, 23, 1, 0, 0)));
    // 150, 300, 450 ms: three retransmissions; after 600 ms more the link is broken
    await until(() => expect(t.stats.linkFailures).toBe(1), 5000);
    const sent = platform.of(0x0200).filter((r) => r.conn === 1);
    expect(sent).toHaveLength(4);
    expect(new Set(sent.map((r) => r.frame.header.serial)).size).toBe(1);
    expect(t.stats.retransmits).toBe(3);
    // the never-answered position comes back as a blind-area batch on the new connection
    ignoring = false;
    await until(() => expect(platform.of(0x0704).length).toBe(1), 5000);
    const batch = platform.of(0x0704)[0];
    expect(batch?.conn).toBe(2);
    expect(batch?.frame.body).toMatchObject({ kind: 'batch-location', type: 1 });
    // re-authenticated with the kept code, without registering again
    expect(platform.of(0x0100)).toHaveLength(1);
    expect(platform.of(0x0102).map((r) => r.conn)).toEqual([1, 2]);
  });

  it('keeps positions while without signal and uploads them as blind-area batches (0x0704 type 1, each within one frame) with their own times', async () => {
    const platform = await startPlatform();
    cleanups.push(platform.close);
    const t = await terminalAgainst(platform, '013800000003');
    t.setSignal(false);
    const t0 = Date.UTC(2026, 10, 23, 2, 0, 0);
    for (let i = 0; i < 30; i++) t.report(report(t0 + i * 10_000, 30.27 + i * 0.0001));
    expect(t.stats.buffered).toBe(30);
    expect(platform.of(0x0200)).toHaveLength(0);
    t.setSignal(true);
    await until(() => expect(t.stats.buffered).toBe(0), 1000);
    await until(() => expect(platform.of(0x0704).length).toBe(2), 3000);
    const locations = platform
      .of(0x0704)
      .flatMap((r) => (r.frame.body.kind === 'batch-location' ? r.frame.body.locations : []));
    expect(locations.map((l) => l.time)).toEqual(Array.from({ length: 30 }, (_, i) => t0 + i * 10_000));
    expect(platform.of(0x0704).every((r) => r.frame.body.kind === 'batch-location' && r.frame.body.type === 1)).toBe(
      true,
    );
    await until(() => expect(t.stats.acked).toBeGreaterThanOrEqual(4), 3000);
  });

  it('reconnects and re-authenticates after a connection drop; positions in between come as a batch', async () => {
    const platform = await startPlatform();
    cleanups.push(platform.close);
    const t = await terminalAgainst(platform, '013800000004', { reconnectMs: 300 });
    t.drop();
    await until(() => expect(t.online).toBe(false), 1000);
    t.report(report(Date.UTC(2026, 10, 23, 3, 0, 0)));
    await until(() => expect(t.online).toBe(true), 3000);
    await until(() => expect(platform.of(0x0704)).toHaveLength(1), 3000);
    expect(platform.of(0x0102).map((r) => r.conn)).toEqual([1, 2]);
    expect(platform.of(0x0100)).toHaveLength(1);
  });

  it('a terminal the platform does not know is refused at registration and counts it', async () => {
    const platform = await startPlatform({ known: (p) => p !== '013899999999' });
    cleanups.push(platform.close);
    const t = new Terminal({
      host: '127.0.0.1',
      port: platform.port,
      phone: '013899999999',
      version: 2013,
      register: REGISTER,
      reconnectMs: 5000,
      log,
    });
    cleanups.push(() => t.stop());
    t.start();
    await until(() => expect(t.stats.refusals).toBe(1), 3000);
    expect(t.online).toBe(false);
    expect(platform.of(0x0102)).toHaveLength(0);
  });

  it('a truck under a tunnel sends nothing, then its positions there arrive as one blind-area batch', async () => {
    const platform = await startPlatform();
    cleanups.push(platform.close);
    const city = loadCityConfig(path.join(ROOT, 'config/examples/city.yaml'));
    // XH-GB01 (phone rule: the 3rd vehicle) starts on 南山路, which runs under the Xihu tunnel
    const vehicles = cityFleet(city, { only: ['XH-GB01'] });
    const tunnel = city.assets.find((a) => a.id === 'TN-XH-001')?.location as [number, number];
    const fleet = startFleet({
      vehicles,
      host: '127.0.0.1',
      port: platform.port,
      speedup: 600,
      reportIntervalS: 10,
      tunnels: tunnelPoints(city),
      gpsNoiseM: 0,
      log,
    });
    cleanups.push(() => fleet.stop());
    const underTunnel = () =>
      platform
        .of(0x0704)
        .map((r) => r.frame.body)
        .find(
          (b) =>
            b.kind === 'batch-location' && b.locations.some((l) => distanceM([l.longitude, l.latitude], tunnel) <= 151),
        );
    await until(() => expect(underTunnel()).toBeDefined(), 15_000);
    const batch = underTunnel();
    if (batch?.kind !== 'batch-location') throw new Error('not a batch');
    expect(batch.type).toBe(1);
    expect(batch.locations.length).toBeGreaterThanOrEqual(2);
    for (const l of batch.locations) expect(distanceM([l.longitude, l.latitude], tunnel)).toBeLessThanOrEqual(151);
    // one report interval (10 s of sim time) apart, in order
    const times = batch.locations.map((l) => l.time);
    for (let i = 1; i < times.length; i++)
      expect((times[i] as number) - (times[i - 1] as number)).toBeCloseTo(10_000, -2);
    // no live report was sent from under the tunnel
    for (const r of platform.of(0x0200)) {
      if (r.frame.body.kind !== 'location') continue;
      const l = r.frame.body.location;
      expect(distanceM([l.longitude, l.latitude], tunnel)).toBeGreaterThan(149);
    }
  });

  it('a run depends only on seed and start: the same seed sends the same reports, another seed others', async () => {
    const platform = await startPlatform();
    cleanups.push(platform.close);
    const city = loadCityConfig(path.join(ROOT, 'config/examples/city.yaml'));
    const run = async (seed: number) => {
      // the first 30 reports of each truck (how the two trucks interleave depends on timers)
      const seen = new Map<string, string[]>();
      const fleet = startFleet({
        vehicles: cityFleet(city, { only: ['XH-SW01', 'GS-SP01'] }),
        host: '127.0.0.1',
        port: platform.port,
        seed,
        speedup: 600,
        startMs: Date.UTC(2026, 10, 23, 0, 0, 0),
        log,
        onReport: (v, _state, r) => {
          const list = seen.get(v.id) ?? [];
          seen.set(v.id, list);
          if (list.length < 30)
            list.push(`${v.id} ${r.time} ${r.lat.toFixed(7)} ${r.lon.toFixed(7)} ${r.speedKmh.toFixed(2)}`);
        },
      });
      await until(() => expect([...seen.values()].map((l) => l.length)).toEqual([30, 30]), 15_000);
      await fleet.stop();
      return [...seen.values()].flat().sort();
    };
    const first = await run(11);
    expect(await run(11)).toEqual(first);
    expect(await run(12)).not.toEqual(first);
  });

  for (const version of [2013, 2019] as const) {
    it(`drives the example city's fleet (${version} headers): every truck reports, and moves`, async () => {
      const platform = await startPlatform();
      cleanups.push(platform.close);
      const city = loadCityConfig(path.join(ROOT, 'config/examples/city.yaml'));
      const vehicles = cityFleet(city);
      const fleet = startFleet({
        vehicles,
        host: '127.0.0.1',
        port: platform.port,
        version,
        speedup: 100,
        reportIntervalS: 10,
        tunnels: tunnelPoints(city),
        log,
      });
      cleanups.push(() => fleet.stop());
      const positions = (phone: string) =>
        platform
          .of(0x0200)
          .filter((r) => r.frame.header.phone.endsWith(phone.replace(/^0+/, '')))
          .map((r) =>
            r.frame.body.kind === 'location'
              ? `${r.frame.body.location.latitude},${r.frame.body.location.longitude}`
              : '',
          );
      await until(() => {
        for (const v of vehicles) expect(new Set(positions(v.phone)).size).toBeGreaterThanOrEqual(3);
      }, 15_000);
      expect(platform.received.every((r) => r.frame.header.v2019 === (version === 2019))).toBe(true);
      if (version === 2019) expect(platform.of(0x0102)[0]?.frame.body).toMatchObject({ kind: 'auth' });
      expect(fleet.summary()).toMatchObject({ vehicles: vehicles.length, online: vehicles.length });
    });
  }
});
