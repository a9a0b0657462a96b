/**
 * What both water-meter drivers do with a decoded answer: one Reading (cumulative volume, the
 * interval consumption since the previous read, flow, valve, battery...) and an Event on every
 * change that matters to the water company: valve closed or opened, battery low, a vendor
 * alarm, water running backwards, the counter rolling over, a meter replaced. The previous read
 * and the flags live in the device store, so a gateway restart neither loses an interval nor
 * repeats an event.
 */
import type { DriverContextBase } from '../sdk/driver.js';
import type { FieldValue, Severity } from '../sdk/reading.js';
import { type CounterRead, type IntervalRules, intervalConsumption } from './interval.js';

/** One read of a water meter, in engineering units; absent = the meter does not report it. */
export interface MeterSample {
  /** Net cumulative volume, m³. */
  volumeM3: number;
  reverseM3?: number;
  flowM3h?: number;
  pressureMpa?: number;
  temperatureC?: number;
  valveOpen?: boolean;
  /** Valve neither cleanly open nor closed (CJ/T 188 status 11). */
  valveAbnormal?: boolean;
  batteryLow?: boolean;
  batteryV?: number;
  /** A manufacturer alarm bit is set (magnetic attack, sensor fault...). */
  vendorAlarm?: boolean;
  /** The meter's serial number when the protocol reports one (replacement detection). */
  serial?: string;
  /** Raw status for the record (CJ/T 188 ST1 ST2). */
  statusRaw?: string;
}

interface Flags {
  valveOpen?: boolean;
  valveAbnormal?: boolean;
  batteryLow?: boolean;
  vendorAlarm?: boolean;
  reverse?: boolean;
}

/** The events of a flag: when it becomes true, when it becomes false. */
const TRANSITIONS: readonly {
  flag: keyof Flags;
  set: [string, Severity];
  cleared: [string, Severity];
  raiseOnFirstRead: boolean;
}[] = [
  {
    flag: 'valveOpen',
    set: ['meter.valve_opened', 'info'],
    cleared: ['meter.valve_closed', 'warning'],
    raiseOnFirstRead: false,
  },
  {
    flag: 'valveAbnormal',
    set: ['meter.valve_fault', 'warning'],
    cleared: ['meter.valve_ok', 'info'],
    raiseOnFirstRead: true,
  },
  {
    flag: 'batteryLow',
    set: ['meter.battery_low', 'warning'],
    cleared: ['meter.battery_ok', 'info'],
    raiseOnFirstRead: true,
  },
  {
    flag: 'vendorAlarm',
    set: ['meter.alarm', 'warning'],
    cleared: ['meter.alarm_cleared', 'info'],
    raiseOnFirstRead: true,
  },
  {
    flag: 'reverse',
    set: ['meter.reverse_flow', 'warning'],
    cleared: ['meter.forward_flow', 'info'],
    raiseOnFirstRead: true,
  },
];

const LAST = 'last-read';
const FLAGS = 'flags';

export type MeterReads = (sample: MeterSample) => void;

export function meterReads(ctx: DriverContextBase<unknown>, rules: IntervalRules): MeterReads {
  return (sample) => {
    const ts = ctx.clock.now();
    const current: CounterRead = { volumeM3: sample.volumeM3, ts, ...(sample.serial ? { serial: sample.serial } : {}) };
    const previous = ctx.store.get<CounterRead>(LAST);
    const outcome = intervalConsumption(previous, current, rules);
    const fields: Record<string, FieldValue> = { volume_m3: sample.volumeM3 };
    if (outcome.kind === 'interval') fields.volume_interval_m3 = outcome.m3;
    if (sample.reverseM3 !== undefined) fields.volume_reverse_m3 = sample.reverseM3;
    if (sample.flowM3h !== undefined) fields.flow_m3h = sample.flowM3h;
    if (sample.pressureMpa !== undefined) fields.pressure_mpa = sample.pressureMpa;
    if (sample.temperatureC !== undefined) fields.temperature_c = sample.temperatureC;
    if (sample.valveOpen !== undefined) fields.valve_open = sample.valveOpen;
    if (sample.batteryLow !== undefined) fields.battery_low = sample.batteryLow;
    if (sample.batteryV !== undefined) fields.battery_v = sample.batteryV;
    ctx.emitReading({ ts, fields, gatewayClock: true, quality: sample.valveAbnormal ? 'uncertain' : 'good' });
    ctx.store.set(LAST, current);

    if (outcome.kind === 'replaced')
      ctx.emitEvent({
        type: 'meter.replaced',
        severity: 'warning',
        ts,
        data: { previousM3: outcome.previousM3, currentM3: sample.volumeM3, reason: outcome.reason },
      });
    else if (outcome.kind === 'interval' && outcome.wrapped)
      ctx.emitEvent({
        type: 'meter.rollover',
        severity: 'info',
        ts,
        data: { previousM3: previous?.volumeM3, currentM3: sample.volumeM3 },
      });

    const before = ctx.store.get<Flags>(FLAGS) ?? {};
    const now: Flags = {
      ...(sample.valveOpen !== undefined ? { valveOpen: sample.valveOpen } : {}),
      ...(sample.valveAbnormal !== undefined ? { valveAbnormal: sample.valveAbnormal } : {}),
      ...(sample.batteryLow !== undefined ? { batteryLow: sample.batteryLow } : {}),
      ...(sample.vendorAlarm !== undefined ? { vendorAlarm: sample.vendorAlarm } : {}),
      reverse: outcome.kind === 'interval' ? outcome.reverse : before.reverse,
    };
    const data = { volumeM3: sample.volumeM3, ...(sample.statusRaw ? { status: sample.statusRaw } : {}) };
    for (const t of TRANSITIONS) {
      const was = before[t.flag];
      const is = now[t.flag];
      // the first read only sets the baseline (a valve found closed is a state, not a change);
      // a fault found on the first read is raised
      const changed = was !== undefined && is !== undefined && was !== is;
      if (!changed && !(t.raiseOnFirstRead && was === undefined && is === true)) continue;
      const [type, severity] = is ? t.set : t.cleared;
      const extra = t.flag === 'reverse' && outcome.kind === 'interval' ? { intervalM3: outcome.m3 } : {};
      ctx.emitEvent({ type, severity, ts, data: { ...data, ...extra } });
    }
    ctx.store.set(FLAGS, now);
  };
}
