/**
 * The `jt808-terminal` driver: a vehicle's JT/T 808 satellite terminal that dials the gateway's
 * JT/T 808 server (`server:` in the gateway config). The server runs the protocol
 * (../jt808/session.ts) and routes this terminal's outcomes here by its phone: locations become
 * `vehicle` Readings with the terminal's own timestamps, alarm bits become Events on their
 * transitions, and the authenticated session is the vehicle's online/offline.
 */
import { z } from 'zod';
import type { Location } from '../jt808/codec.js';
import { type Jt808Outcome, type Jt808SessionDevice, phoneKey } from '../jt808/session.js';
import type { DriverReading, SessionDriverContext, SessionDriverDefinition } from '../sdk/driver.js';
import type { FieldName } from '../sdk/fields.js';
import { type AlarmBit, alarmTransitions, STANDARD_ALARM_BITS } from './alarms.js';

const BIT = /^([0-9]|[12][0-9]|3[01])$/;

export const jt808TerminalOptionsSchema = z
  .object({
    phone: z
      .string()
      .regex(/^\d{1,20}$/, 'the terminal phone: up to 20 digits, e.g. "013800000001"')
      .describe(
        'Terminal phone number as the terminal sends it in its header (BCD, 12 digits in 2013, 20 in 2019); compared without leading zeros, so "13800000001" and "013800000001" are the same terminal.',
      ),
    plate: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Plate of the vehicle. When given, a registration (0x0100) naming another plate is refused with 0x8100 result 2 "no such vehicle" (a terminal moved to another truck). Default: not checked.',
      ),
    workStateItem: z
      .number()
      .int()
      .min(0xe1)
      .max(0xff)
      .default(0xe1)
      .describe(
        'Vendor additional item (0xE1–0xFF) whose first byte carries the sanitation work state in bit 0 (brush down, pump or spreader on, blade down): the Reading field `working`. Default 0xE1 (225).',
      ),
    alarmBits: z
      .record(
        z.string().regex(BIT, 'a bit number 0..31'),
        z
          .object({
            name: z
              .string()
              .regex(/^[a-z][a-z0-9_]*$/, 'snake_case')
              .describe('Event name suffix: vehicle.alarm.<name>.'),
            severity: z.enum(['info', 'warning', 'critical']).describe('Severity of the raised event.'),
          })
          .strict(),
      )
      .default({})
      .describe(
        'Per-model alarm bit overrides, e.g. { "15": { name: battery_low, severity: warning } } for trackers that reuse the reserved bits 15–17. Default: the standard bits only.',
      ),
  })
  .strict();

export type Jt808TerminalOptions = z.output<typeof jt808TerminalOptionsSchema>;

const FIELDS: readonly FieldName[] = [
  'lat',
  'lon',
  'speed_kmh',
  'heading_deg',
  'altitude_m',
  'mileage_km',
  'satellites',
  'working',
  'alarm_flags',
  'status_flags',
];

/** Status bit 1: the position is a valid fix. */
const LOCATED = 2;
const ALARM_KEY = 'alarm';
const AUTH_KEY = 'authCode';

/** A location as a Reading: the position only when the terminal has a fix. */
export function locationReading(l: Location, workStateItem = 0xe1): DriverReading {
  const fields: DriverReading['fields'] = { alarm_flags: l.alarm >>> 0, status_flags: l.status >>> 0 };
  const located = (l.status & LOCATED) !== 0;
  if (located) {
    fields.lat = l.latitude;
    fields.lon = l.longitude;
    fields.speed_kmh = l.speedKmh;
    fields.heading_deg = l.direction;
    fields.altitude_m = l.altitudeM;
  }
  for (const item of l.items) {
    if (item.mileageKm !== undefined) fields.mileage_km = item.mileageKm;
    if (item.satellites !== undefined) fields.satellites = item.satellites;
    if (item.id === workStateItem && item.hex.length >= 2)
      fields.working = (Number.parseInt(item.hex.slice(0, 2), 16) & 1) === 1;
  }
  return { ts: l.time, fields, quality: located ? 'good' : 'uncertain' };
}

function createJt808Terminal(ctx: SessionDriverContext<Jt808TerminalOptions>): Jt808SessionDevice {
  const o = ctx.options;
  const bits: Record<number, AlarmBit> = { ...STANDARD_ALARM_BITS };
  for (const [bit, spec] of Object.entries(o.alarmBits)) bits[Number(bit)] = spec;
  let alarm = ctx.store.get<number>(ALARM_KEY) ?? 0;

  const onLocation = (l: Location, batch: boolean) => {
    ctx.emitReading(locationReading(l, o.workStateItem));
    // a batch carries old positions (blind-area 补报): its alarm bits are history, not transitions now
    if (batch) return;
    const next = l.alarm >>> 0;
    for (const t of alarmTransitions(alarm, next, bits))
      ctx.emitEvent({
        type: `vehicle.alarm.${t.alarm.name}${t.raised ? '' : '.cleared'}`,
        severity: t.raised ? t.alarm.severity : 'info',
        ts: l.time,
        data: { bit: t.bit, alarmFlags: next, ...(l.status & LOCATED ? { lat: l.latitude, lon: l.longitude } : {}) },
      });
    if (next !== alarm) {
      alarm = next;
      ctx.store.set(ALARM_KEY, next);
    }
  };

  return {
    key: phoneKey(o.phone),
    device: ctx.device.id,
    ...(o.plate !== undefined ? { plate: o.plate } : {}),
    authCode: () => ctx.store.get<string>(AUTH_KEY),
    setAuthCode: (code) => ctx.store.set(AUTH_KEY, code),
    deliver(outcome: Jt808Outcome) {
      switch (outcome.kind) {
        case 'authenticated':
          ctx.setAvailability(true, 'authenticated');
          break;
        case 'unregistered':
          ctx.setAvailability(false, 'unregistered');
          break;
        case 'location':
          onLocation(outcome.location, outcome.batch);
          break;
        default:
          break;
      }
    },
    ended(reason) {
      ctx.setAvailability(false, reason);
    },
  };
}

export const jt808Terminal: SessionDriverDefinition<Jt808TerminalOptions> = {
  id: 'jt808-terminal',
  title: 'JT/T 808 vehicle terminal (2013/2019) dialling the gateway JT/T 808 server',
  access: 'session',
  protocol: 'jt808',
  kinds: ['vehicle'],
  optionsSchema: jt808TerminalOptionsSchema,
  fields: FIELDS,
  createSession: createJt808Terminal,
};
