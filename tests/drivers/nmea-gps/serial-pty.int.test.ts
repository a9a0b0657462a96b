/**
 * Across real processes and a real serial line: the GPS simulator writes NMEA into one end of
 * a socat pty pair, the serial transport + nmea-gps driver read the other end.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nmeaGps, nmeaGpsOptionsSchema } from '../../../drivers/nmea-gps/definition.js';
import type { DriverInstance } from '../../../drivers/sdk/driver.js';
import { createTransport } from '../../../drivers/transports/index.js';
import { openPtyPair, type PtyPair } from '../../../simulators/common/pty.js';
import { distanceM, parsePath } from '../../../simulators/gps/route.js';
import { type GpsSimulator, startGpsSimulator } from '../../../simulators/gps/simulator.js';
import { recordingContext } from '../recording-context.js';

// route-xh-beishan of config/examples/city.yaml
const ROUTE = parsePath('120.090,30.268;120.105,30.270;120.120,30.272;120.135,30.275;120.150,30.262;120.140,30.245');

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function waitFor(cond: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('simulator -> socat pty -> serial transport -> nmea-gps', () => {
  it('delivers plausible positions along the route, stamped with GPS time', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cg-pty-'));
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    const pty: PtyPair = await openPtyPair(dir);
    cleanup.push(() => pty.stop());

    const transport = createTransport({
      type: 'serial',
      path: pty.b,
      baudRate: 9600,
      dataBits: 8,
      parity: 'none',
      stopBits: 1,
      reopenDelay: 200,
    });
    const ctx = recordingContext({ options: nmeaGpsOptionsSchema.parse({ minInterval: '200ms' }), transport });
    const driver: DriverInstance = nmeaGps.create(ctx);
    await driver.start();
    cleanup.push(() => driver.stop());

    const truth: { time: number; lat: number; lon: number }[] = [];
    const startedAt = Date.now();
    const sim: GpsSimulator = await startGpsSimulator({
      route: ROUTE,
      out: pty.a,
      rateHz: 5,
      speedKmh: 25,
      garbage: true,
      seed: 11,
      onFix: (f) => truth.push({ time: f.time, lat: f.lat, lon: f.lon }),
    });
    cleanup.push(() => sim.stop());

    await waitFor(() => ctx.readings.length >= 8, 15_000);

    expect(ctx.availability[0]).toEqual({ online: true });
    // the simulator's noise and damaged checksums were counted, not fatal
    expect(ctx.discardedBytes).toBeGreaterThan(0);
    for (const r of ctx.readings) {
      expect(r.quality).toBe('good');
      expect(r.gatewayClock).toBeUndefined();
      expect(r.ts).toBeGreaterThanOrEqual(startedAt - 1000);
      expect(r.ts).toBeLessThanOrEqual(Date.now() + 1000);
      const sent = truth.find((t) => t.time === r.ts);
      expect(sent, `a simulated fix at ${r.ts}`).toBeDefined();
      // ddmm.mmmmm carries 1e-5 minutes: well under a metre
      expect(
        distanceM([r.fields.lon as number, r.fields.lat as number], [sent?.lon ?? 0, sent?.lat ?? 0]),
      ).toBeLessThan(0.5);
      expect(r.fields.speed_kmh as number).toBeGreaterThan(5);
      expect(r.fields.speed_kmh as number).toBeLessThan(35);
      expect(r.fields.satellites as number).toBeGreaterThanOrEqual(10);
    }
    const ts = ctx.readings.map((r) => r.ts);
    expect([...ts].sort((a, b) => a - b)).toEqual(ts);
    const first = ctx.readings[0];
    const last = ctx.readings.at(-1);
    const moved = distanceM(
      [first?.fields.lon as number, first?.fields.lat as number],
      [last?.fields.lon as number, last?.fields.lat as number],
    );
    expect(moved).toBeGreaterThan(1);
  });

  it('survives the line going away and reads again when it comes back', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cg-pty-'));
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    const first = await openPtyPair(dir);
    const transport = createTransport({
      type: 'serial',
      path: first.b,
      baudRate: 9600,
      dataBits: 8,
      parity: 'none',
      stopBits: 1,
      reopenDelay: 200,
    });
    const ctx = recordingContext({ options: nmeaGpsOptionsSchema.parse({ minInterval: '100ms' }), transport });
    const driver = nmeaGps.create(ctx);
    await driver.start();
    cleanup.push(() => driver.stop());
    const sim1 = await startGpsSimulator({ route: ROUTE, out: first.a, rateHz: 5 });
    await waitFor(() => ctx.readings.length >= 2, 10_000);
    await sim1.stop();
    await first.stop();
    await waitFor(() => ctx.availability.some((a) => !a.online), 10_000);

    const second = await openPtyPair(dir);
    cleanup.push(() => second.stop());
    const before = ctx.readings.length;
    const sim2 = await startGpsSimulator({ route: ROUTE, out: second.a, rateHz: 5 });
    cleanup.push(() => sim2.stop());
    await waitFor(() => ctx.readings.length >= before + 2, 10_000);
    expect(ctx.availability.at(-1)).toEqual({ online: true });
  });
});
