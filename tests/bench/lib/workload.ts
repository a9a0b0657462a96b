/**
 * The bench workload: N gateways in two districts, each with devices of four kinds, publishing
 * telemetry envelopes shaped exactly like the edge's ({v, gateway, bootId, seq, firstUnacked,
 * sentAt, readings}). Every (series, ts) is unique, so no stored point overwrites another and a
 * count in the sink equals the readings sent.
 */

import { seededRandom as random } from '../../../simulators/common/random.js';

export interface BenchGateway {
  id: string;
  district: string;
  password: string;
}

/** Six numeric fields per reading, as the issue asks; names follow drivers/sdk/fields.ts where it has one. */
const KINDS: Record<string, { abbr: string; fields: Record<string, [number, number]> }> = {
  water_meter: {
    abbr: 'WM',
    fields: {
      volume_m3: [0, 99_999],
      flow_m3h: [0, 40],
      pressure_mpa: [0.15, 0.6],
      water_temp_c: [2, 30],
      battery_v: [3.1, 3.7],
      rssi_dbm: [-110, -60],
    },
  },
  bridge: {
    abbr: 'BR',
    fields: {
      strain_ue: [-350, 350],
      deflection_mm: [-20, 20],
      displacement_mm: [-15, 15],
      tilt_x_mrad: [-2, 2],
      crack_width_mm: [0, 0.5],
      accel_rms_g: [0, 0.25],
    },
  },
  tunnel: {
    abbr: 'TN',
    fields: {
      co_ppm: [0, 60],
      visibility_per_m: [0, 0.009],
      wind_ms: [0, 8],
      illuminance_lx: [0, 400],
      air_temp_c: [-5, 38],
      humidity_pct: [20, 100],
    },
  },
  vehicle: {
    abbr: 'VH',
    fields: {
      lat: [30.22, 30.34],
      lon: [120.08, 120.22],
      speed_kmh: [0, 60],
      heading_deg: [0, 359],
      altitude_m: [2, 60],
      satellites: [4, 16],
    },
  },
};

export const BENCH_KINDS = Object.keys(KINDS);
export const DEVICES_PER_GATEWAY = 50;
export const BENCH_DISTRICTS = ['xihu', 'gongshu'] as const;

export function benchGateways(count: number, password: (id: string) => string): BenchGateway[] {
  return Array.from({ length: count }, (_, g) => {
    const district = BENCH_DISTRICTS[g % BENCH_DISTRICTS.length] as string;
    const id = `gw-${district.slice(0, 2)}-${String(g + 1).padStart(3, '0')}`;
    return { id, district, password: password(id) };
  });
}

/**
 * One message of one gateway, before it is sent: the envelope JSON is split around the two
 * header fields the edge stamps at send time (firstUnacked, sentAt).
 */
export interface PreparedMessage {
  seq: number;
  readings: number;
  /** `{"v":1,"gateway":…,"bootId":…,"seq":N,"firstUnacked":` */
  head: string;
  /** `,"readings":[…]}` */
  tail: string;
}

export function envelope(m: PreparedMessage, firstUnacked: number, sentAt: number): string {
  return `${m.head}${firstUnacked},"sentAt":${sentAt}${m.tail}`;
}

/**
 * The messages of gateway `index` (of `gateways`): its share of `totalReadings` (messages are
 * dealt round-robin over gateways) in messages of at most `batch` readings.
 */
export function gatewayMessages(
  gw: BenchGateway,
  index: number,
  gateways: number,
  totalReadings: number,
  batch: number,
  bootId: string,
  t0: number,
): PreparedMessage[] {
  const rnd = random(1000 + index);
  const totalMessages = Math.ceil(totalReadings / batch);
  const devices = Array.from({ length: DEVICES_PER_GATEWAY }, (_, j) => {
    const kind = BENCH_KINDS[(index + j) % BENCH_KINDS.length] as string;
    const spec = KINDS[kind] as (typeof KINDS)[string];
    const id = `${gw.district.slice(0, 2).toUpperCase()}-${spec.abbr}${String(index + 1).padStart(3, '0')}-${String(j + 1).padStart(2, '0')}`;
    return { id, kind, fields: Object.entries(spec.fields) };
  });
  const perDevice = new Array<number>(devices.length).fill(0);
  let cursor = 0;
  const out: PreparedMessage[] = [];
  for (let m = index; m < totalMessages; m += gateways) {
    const n = Math.min(batch, totalReadings - m * batch);
    const readings: string[] = [];
    for (let i = 0; i < n; i++) {
      const d = cursor % devices.length;
      cursor++;
      const dev = devices[d] as (typeof devices)[number];
      // One reading per device per second of device time: (series, ts) never repeats.
      const ts = t0 + (perDevice[d] as number) * 1000;
      perDevice[d] = (perDevice[d] as number) + 1;
      const fields: Record<string, number> = {};
      for (const [name, [lo, hi]] of dev.fields) fields[name] = Math.round((lo + rnd() * (hi - lo)) * 1000) / 1000;
      readings.push(JSON.stringify({ device: dev.id, kind: dev.kind, ts, fields }));
    }
    const seq = out.length;
    out.push({
      seq,
      readings: n,
      head: `{"v":1,"gateway":${JSON.stringify(gw.id)},"bootId":${JSON.stringify(bootId)},"seq":${seq},"firstUnacked":`,
      tail: `,"readings":[${readings.join(',')}]}`,
    });
  }
  return out;
}

/** Readings each measurement should hold after a run (for the count check). */
export function expectedPerKind(gateways: number, totalReadings: number, batch: number): Record<string, number> {
  const expected: Record<string, number> = Object.fromEntries(BENCH_KINDS.map((k) => [k, 0]));
  const totalMessages = Math.ceil(totalReadings / batch);
  for (let index = 0; index < gateways; index++) {
    let cursor = 0;
    for (let m = index; m < totalMessages; m += gateways) {
      const n = Math.min(batch, totalReadings - m * batch);
      for (let i = 0; i < n; i++) {
        const kind = BENCH_KINDS[(index + (cursor % DEVICES_PER_GATEWAY)) % BENCH_KINDS.length] as string;
        expected[kind] = (expected[kind] ?? 0) + 1;
        cursor++;
      }
    }
  }
  return expected;
}
