/**
 * The `nmea-gps` driver: an NMEA 0183 GNSS receiver on a serial line (or a serial server over
 * TCP), as fitted to sanitation trucks. One position Reading per receiver epoch (RMC + GGA of
 * the same UTC time), throttled to `minInterval`, only while the fix passes the validity rule.
 */
import { z } from 'zod';
import type { DriverContext, DriverDefinition, DriverInstance } from '../sdk/driver.js';
import { durationOption } from '../sdk/options.js';
import { requestedSampleInterval } from '../sdk/sample-interval.js';
import { createStreamDriver } from '../sdk/stream-driver.js';
import { type NmeaFrame, nmeaCodec } from './codec.js';
import { type Epoch, EpochAssembler, type FixRules, fixFields, judgeFix, NMEA_FIELDS } from './fix.js';

export const nmeaGpsOptionsSchema = z
  .object({
    minInterval: durationOption()
      .prefault('1s')
      .describe(
        'Emit at most one position Reading per this interval (GPS time); epochs in between are dropped. Default "1s".',
      ),
    maxHdop: z.number().positive().default(5).describe('A fix with a GGA HDOP above this is not usable. Default 5.'),
    minSatellites: z
      .number()
      .int()
      .min(0)
      .default(4)
      .describe('A fix with fewer satellites in use (GGA) is not usable. Default 4.'),
    allowDeadReckoning: z
      .boolean()
      .default(false)
      .describe('Accept dead-reckoning fixes (GGA quality 6, RMC mode E), e.g. in tunnels. Default false.'),
    offlineAfter: durationOption()
      .prefault('10s')
      .describe('Report the device offline after no RMC/GGA sentence arrived for this long. Default "10s".'),
  })
  .strict();

export type NmeaGpsOptions = z.output<typeof nmeaGpsOptionsSchema>;

function createNmeaGps(ctx: DriverContext<NmeaGpsOptions>): DriverInstance {
  const { options, clock } = ctx;
  const log = ctx.log.child({ driver: 'nmea-gps' });
  const rules: FixRules = {
    maxHdop: options.maxHdop,
    minSatellites: options.minSatellites,
    allowDeadReckoning: options.allowDeadReckoning,
  };
  const epochs = new EpochAssembler();
  let running = false;
  let online: boolean | undefined;
  let lastFrameAt = 0;
  let lastEmittedTs: number | undefined;
  let fixGood: boolean | undefined;
  let lastGood: { lat: number; lon: number; ts: number } | undefined;
  let watchdog: NodeJS.Timeout | undefined;
  /** The throttle; cmd/sample-interval changes it at run time. */
  let minInterval = options.minInterval;

  const setOnline = (value: boolean, reason?: string) => {
    if (online === value) return;
    online = value;
    ctx.setAvailability(value, reason);
  };

  const onEpoch = (epoch: Epoch) => {
    const verdict = judgeFix(epoch, rules);
    const deviceTs = epoch.rmc?.ts;
    const ts = deviceTs ?? clock.now();
    if (!verdict.usable) {
      if (fixGood === true)
        ctx.emitEvent({ type: 'gps.fix_lost', severity: 'warning', ts, data: { reason: verdict.reason, lastGood } });
      fixGood = false;
      log.debug({ reason: verdict.reason }, 'Fix not usable');
      return;
    }
    if (fixGood === false) ctx.emitEvent({ type: 'gps.fix_regained', severity: 'info', ts, data: {} });
    fixGood = true;
    const fields = fixFields(epoch);
    lastGood = { lat: fields.lat as number, lon: fields.lon as number, ts };
    // GPS time may step back after a receiver reset: restart the throttle then rather than go silent
    if (lastEmittedTs !== undefined && ts >= lastEmittedTs && ts - lastEmittedTs < minInterval) return;
    lastEmittedTs = ts;
    ctx.emitReading({
      ts,
      fields,
      quality: verdict.quality,
      ...(deviceTs === undefined ? { gatewayClock: true } : {}),
    });
  };

  const stream = createStreamDriver<NmeaFrame>({
    transport: ctx.transport,
    codec: nmeaCodec,
    log,
    onFrame(frame) {
      if (!running) return;
      lastFrameAt = clock.now();
      setOnline(true);
      for (const epoch of epochs.push(frame)) onEpoch(epoch);
    },
    onDecodeError(err) {
      ctx.countDecodeError(err.reason);
    },
    onDiscarded(bytes) {
      ctx.countDiscardedBytes(bytes);
    },
    onTransportClosed(err) {
      epochs.clear();
      setOnline(false, err ? `transport closed: ${err.message}` : 'transport closed');
    },
  });

  const checkAlive = () => {
    if (running && clock.now() - lastFrameAt >= options.offlineAfter) setOnline(false, 'no data');
  };

  return {
    async start() {
      if (running) return;
      await stream.start();
      running = true;
      lastFrameAt = clock.now();
      watchdog = setInterval(checkAlive, Math.max(50, Math.min(1000, options.offlineAfter)));
      watchdog.unref?.();
    },
    async command(cmd) {
      const asked = requestedSampleInterval(cmd, 0);
      const previous = minInterval;
      minInterval = asked === 'default' ? options.minInterval : asked;
      log.info({ minInterval, previous, commandId: cmd.id }, 'Position interval changed');
      return { interval: minInterval, previous, default: options.minInterval };
    },
    async stop() {
      running = false;
      if (watchdog) clearInterval(watchdog);
      watchdog = undefined;
      epochs.clear();
      await stream.stop();
    },
  };
}

export const nmeaGps: DriverDefinition<NmeaGpsOptions> = {
  id: 'nmea-gps',
  title: 'NMEA 0183 GNSS receiver (RMC + GGA)',
  kinds: ['vehicle'],
  transports: ['serial', 'tcp'],
  optionsSchema: nmeaGpsOptionsSchema,
  fields: NMEA_FIELDS,
  create: createNmeaGps,
};
