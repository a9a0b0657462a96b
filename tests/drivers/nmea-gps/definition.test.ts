import { afterEach, describe, expect, it, vi } from 'vitest';
import { type NmeaGpsOptions, nmeaGps, nmeaGpsOptionsSchema } from '../../../drivers/nmea-gps/definition.js';
import { StartupError } from '../../../drivers/sdk/errors.js';
import { encodeGga, encodeRmc, type SimFix } from '../../../simulators/gps/nmea-encoder.js';
import { createMemoryTransport, type MemoryTransport } from '../../helpers/memory-transport.js';
import { type RecordingContext, recordingContext } from '../recording-context.js';

const RMC = '$GNRMC,083045.00,A,3954.52152,N,11623.84862,E,19.22,90.00,150324,,,A,V*3D\r\n';
const GGA = '$GNGGA,083045.00,3954.52152,N,11623.84862,E,1,14,0.78,50.0,M,-8.2,M,,*6D\r\n';
const RMC_VOID = '$GNRMC,083100.00,V,,,,,,,150324,,,N,V*12\r\n';
const GGA_NO_FIX = '$GNGGA,083100.00,,,,,0,00,99.99,,,,,,*72\r\n';
const T0 = Date.UTC(2024, 2, 15, 8, 30, 45);

const TIANANMEN_FIELDS = {
  lat: 39.908692,
  lon: 116.397477,
  speed_kmh: 35.595,
  heading_deg: 90,
  altitude_m: 50,
  satellites: 14,
  hdop: 0.78,
  fix_quality: 1,
};

function fixAt(second: number, over: Partial<SimFix> = {}): SimFix {
  return {
    time: T0 + second * 1000,
    lat: 30.27 + second * 0.0001,
    lon: 120.1,
    speedKmh: 20,
    courseDeg: 45,
    altitudeM: 9,
    geoidSeparationM: 7,
    satellites: 12,
    hdop: 0.9,
    valid: true,
    ...over,
  };
}

const epoch = (fix: SimFix) => encodeRmc(fix) + encodeGga(fix);

interface Harness {
  transport: MemoryTransport;
  ctx: RecordingContext<NmeaGpsOptions>;
  instance: ReturnType<typeof nmeaGps.create>;
}

const running: Harness[] = [];

async function startDriver(options: Record<string, unknown> = {}): Promise<Harness> {
  const transport = createMemoryTransport({ reopenDelayMs: 100 });
  const ctx = recordingContext({ options: nmeaGpsOptionsSchema.parse(options), transport });
  const instance = nmeaGps.create(ctx);
  await instance.start();
  const h = { transport, ctx, instance };
  running.push(h);
  return h;
}

afterEach(async () => {
  for (const h of running.splice(0)) await h.instance.stop();
  vi.useRealTimers();
});

describe('nmea-gps options', () => {
  it('has defaults and parses durations to ms', () => {
    expect(nmeaGpsOptionsSchema.parse({})).toEqual({
      minInterval: 1000,
      maxHdop: 5,
      minSatellites: 4,
      allowDeadReckoning: false,
      offlineAfter: 10_000,
    });
    expect(nmeaGpsOptionsSchema.parse({ minInterval: '250ms' }).minInterval).toBe(250);
  });

  it('parses its own output again to the same value (config loader then edge agent)', () => {
    const once = nmeaGpsOptionsSchema.parse({ minInterval: '5s' });
    expect(nmeaGpsOptionsSchema.parse(once)).toEqual(once);
  });

  it('rejects unknown keys and malformed durations', () => {
    expect(nmeaGpsOptionsSchema.safeParse({ minIntervall: '1s' }).success).toBe(false);
    expect(nmeaGpsOptionsSchema.safeParse({ minInterval: 'soon' }).success).toBe(false);
  });

  it('describes every option', () => {
    for (const [key, field] of Object.entries(nmeaGpsOptionsSchema.shape)) {
      expect(field.description, key).toMatch(/Default/);
    }
  });
});

describe('nmea-gps driver', () => {
  it('combines RMC and GGA of one epoch into one exact Reading stamped with GPS time', async () => {
    const { transport, ctx } = await startDriver();
    transport.push(RMC + GGA);
    expect(ctx.readings).toEqual([{ ts: T0, fields: TIANANMEN_FIELDS, quality: 'good' }]);
    expect(ctx.availability).toEqual([{ online: true }]);
  });

  it('combines them in either order', async () => {
    const { transport, ctx } = await startDriver();
    transport.push(GGA);
    expect(ctx.readings).toHaveLength(0);
    transport.push(RMC);
    expect(ctx.readings).toEqual([{ ts: T0, fields: TIANANMEN_FIELDS, quality: 'good' }]);
  });

  it('emits at most one Reading per minInterval', async () => {
    const { transport, ctx } = await startDriver({ minInterval: '5s' });
    for (let s = 0; s < 12; s++) transport.push(epoch(fixAt(s)));
    expect(ctx.readings.map((r) => r.ts)).toEqual([T0, T0 + 5000, T0 + 10_000]);
  });

  it('takes cmd/sample-interval: a slower position rate at run time, and back on "default"', async () => {
    const { transport, ctx, instance } = await startDriver();
    expect(await instance.command?.({ name: 'sample-interval', args: { interval: '3s' } })).toEqual({
      interval: 3000,
      previous: 1000,
      default: 1000,
    });
    for (let s = 0; s < 7; s++) transport.push(epoch(fixAt(s)));
    expect(ctx.readings.map((r) => r.ts)).toEqual([T0, T0 + 3000, T0 + 6000]);
    await instance.command?.({ name: 'sample-interval', args: { interval: 'default' } });
    for (let s = 7; s < 10; s++) transport.push(epoch(fixAt(s)));
    expect(ctx.readings.map((r) => r.ts).slice(3)).toEqual([T0 + 7000, T0 + 8000, T0 + 9000]);
    await expect(instance.command?.({ name: 'sample-interval', args: { interval: 'often' } })).rejects.toMatchObject({
      code: 'BAD_COMMAND',
    });
  });

  it('emits every epoch at the default 1s interval', async () => {
    const { transport, ctx } = await startDriver();
    for (let s = 0; s < 5; s++) transport.push(epoch(fixAt(s)));
    expect(ctx.readings).toHaveLength(5);
  });

  it('emits no position for a void fix and reports fix lost and regained once each', async () => {
    const { transport, ctx } = await startDriver();
    transport.push(RMC + GGA);
    transport.push(RMC_VOID + GGA_NO_FIX);
    transport.push(epoch(fixAt(16, { valid: false })));
    transport.push(epoch(fixAt(17, { valid: false })));
    expect(ctx.readings).toHaveLength(1);
    transport.push(epoch(fixAt(18)));
    expect(ctx.readings.map((r) => r.ts)).toEqual([T0, T0 + 18_000]);
    expect(ctx.events.map((e) => [e.type, e.severity])).toEqual([
      ['gps.fix_lost', 'warning'],
      ['gps.fix_regained', 'info'],
    ]);
    expect(ctx.events[0]?.data).toMatchObject({
      reason: 'RMC status V (void)',
      lastGood: { lat: 39.908692, lon: 116.397477 },
    });
  });

  it.each([
    ['HDOP above maxHdop', { hdop: 5.5 }],
    ['too few satellites', { satellites: 3 }],
  ])('refuses a fix with %s', async (_what, over) => {
    const { transport, ctx } = await startDriver();
    transport.push(epoch(fixAt(0, over)));
    transport.push(epoch(fixAt(1)));
    expect(ctx.readings.map((r) => r.ts)).toEqual([T0 + 1000]);
  });

  it('accepts dead reckoning (GGA quality 6) only when allowed', async () => {
    const dr = epoch(fixAt(0)).replace(/GGA,(\d+\.\d+,[^,]*,[NS],[^,]*,[EW]),1,/, 'GGA,$1,6,');
    const body = dr.split('\r\n')[1]?.slice(1, -3) as string;
    let x = 0;
    for (const c of body) x ^= c.charCodeAt(0);
    const gga = `$${body}*${x.toString(16).toUpperCase().padStart(2, '0')}\r\n`;
    const rmc = encodeRmc(fixAt(0));
    const strict = await startDriver();
    strict.transport.push(rmc + gga);
    expect(strict.ctx.readings).toHaveLength(0);
    const lenient = await startDriver({ allowDeadReckoning: true });
    lenient.transport.push(rmc + gga);
    expect(lenient.ctx.readings).toHaveLength(1);
    expect(lenient.ctx.readings[0]?.fields.fix_quality).toBe(6);
  });

  it('emits an RMC-only receiver as uncertain when the next epoch begins', async () => {
    const { transport, ctx } = await startDriver();
    transport.push(encodeRmc(fixAt(0)));
    expect(ctx.readings).toHaveLength(0);
    transport.push(encodeRmc(fixAt(1)));
    expect(ctx.readings).toHaveLength(1);
    expect(ctx.readings[0]).toMatchObject({ ts: T0, quality: 'uncertain' });
    expect(Object.keys(ctx.readings[0]?.fields ?? {}).sort()).toEqual(['heading_deg', 'lat', 'lon', 'speed_kmh']);
  });

  it('counts bad input, never throws out of the transport, and keeps going', async () => {
    const { transport, ctx } = await startDriver();
    const bad = [
      '$GPRMC,225446.33,A,4916.45,N,12311.12,W,000.5,054.7,191194,020.3,E,A*68\r\n',
      '$GPGSV,3,1,11,03,03,111,00,04,15,270,00,06,01,010,00,13,06,292,00*74\r\n',
      '\x00\xff\xfegarbage',
      '$GNRMC,083045.00,A,3954.52\r\n',
      `$GPGGA,${'1'.repeat(200)}\r\n`,
    ];
    for (const b of bad) expect(() => transport.push(b)).not.toThrow();
    transport.push(RMC + GGA);
    expect(ctx.decodeErrors).toEqual(['bad-checksum', 'unknown-type', 'bad-checksum', 'too-long']);
    expect(ctx.discardedBytes).toBeGreaterThanOrEqual(10);
    expect(ctx.readings).toHaveLength(1);
  });

  it('reports offline after offlineAfter without sentences, and online again when they return', async () => {
    vi.useFakeTimers({ now: T0 });
    const { transport, ctx } = await startDriver({ offlineAfter: '10s' });
    transport.push(RMC + GGA);
    vi.advanceTimersByTime(9000);
    expect(ctx.availability).toEqual([{ online: true }]);
    vi.advanceTimersByTime(2000);
    expect(ctx.availability).toEqual([{ online: true }, { online: false, reason: 'no data' }]);
    transport.push(GGA);
    expect(ctx.availability.at(-1)).toEqual({ online: true });
  });

  it('reports offline when the transport drops and reopens it after the delay', async () => {
    vi.useFakeTimers({ now: T0 });
    const { transport, ctx } = await startDriver();
    transport.push(RMC + GGA);
    transport.drop(new Error('cable pulled'));
    expect(ctx.availability.at(-1)).toEqual({ online: false, reason: 'transport closed: cable pulled' });
    expect(transport.isOpen).toBe(false);
    await vi.advanceTimersByTimeAsync(150);
    expect(transport.opens).toBe(2);
    transport.push(epoch(fixAt(5)));
    expect(ctx.readings.map((r) => r.ts)).toEqual([T0, T0 + 5000]);
  });

  it('throws a retryable StartupError when the transport cannot open', async () => {
    const transport = createMemoryTransport();
    transport.failOpenWith = new Error('ENOENT');
    const instance = nmeaGps.create(recordingContext({ options: nmeaGpsOptionsSchema.parse({}), transport }));
    const err = await instance.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StartupError);
    expect((err as StartupError).retryable).toBe(true);
  });

  it('emits nothing after stop, stops idempotently and leaves no timer behind', async () => {
    vi.useFakeTimers({ now: T0 });
    const { transport, ctx, instance } = await startDriver();
    await instance.stop();
    await instance.stop();
    expect(transport.isOpen).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
    expect(ctx.readings).toHaveLength(0);
  });

  it('does no I/O in create()', () => {
    const transport = createMemoryTransport();
    nmeaGps.create(recordingContext({ options: nmeaGpsOptionsSchema.parse({}), transport }));
    expect(transport.opens).toBe(0);
  });
});
