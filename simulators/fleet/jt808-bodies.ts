/**
 * Bodies a simulated terminal sends (../shared/domain/4-jt808.md §4.4–4.7): register, auth,
 * location report (basic info + additional items), batch upload. The simulator's own encoder,
 * never drivers/jt808 (DESIGN §3).
 */
import { bcd, type Jt808Version } from './jt808-frames.js';

export const MSG = {
  terminalReply: 0x0001,
  heartbeat: 0x0002,
  register: 0x0100,
  auth: 0x0102,
  location: 0x0200,
  batch: 0x0704,
  platformReply: 0x8001,
  registerReply: 0x8100,
} as const;

/** Status bits (§4.7) the simulator sets. */
export const STATUS = { acc: 1 << 0, located: 1 << 1, south: 1 << 2, west: 1 << 3, gps: 1 << 18, beidou: 1 << 19 };
/** Alarm bits (§4.6) the simulator can raise. */
export const ALARM = { overspeed: 1 << 1, routeDeviation: 1 << 23 };

/**
 * Additional item carrying the sanitation work state (brush down, pump on, blade down): vendor
 * range (0xE1–0xFF), 1 byte, bit 0 = working. Documented in simulators/fleet/README.md; the edge's
 * jt808 driver maps it to the Reading field `working`.
 */
export const WORK_STATE_ITEM = 0xe1;

export interface RegisterInfo {
  province: number;
  city: number;
  manufacturer: string;
  model: string;
  terminalId: string;
  /** JT/T 415 plate colour; 0 = unplated (then `plate` is the VIN). */
  plateColor: number;
  plate: string;
}

/** ASCII (or GBK-compatible bytes for plain ASCII) padded with 0x00 to `n` bytes. */
function padded(text: string, n: number): Buffer {
  const out = Buffer.alloc(n);
  Buffer.from(text, 'latin1').copy(out, 0, 0, n);
  return out;
}

/** GBK for the plate: its Chinese province character is two bytes. Only the characters plates use. */
const GBK_PROVINCE: Record<string, [number, number]> = {
  浙: [0xd5, 0xe3],
  京: [0xbe, 0xa9],
  沪: [0xbb, 0xa6],
  苏: [0xcb, 0xd5],
  粤: [0xd4, 0xc1],
};

export function gbkPlate(plate: string): Buffer {
  const bytes: number[] = [];
  for (const ch of plate) {
    const gbk = GBK_PROVINCE[ch];
    if (gbk) bytes.push(...gbk);
    else if (ch.charCodeAt(0) < 0x80) bytes.push(ch.charCodeAt(0));
    // the middle dot of "浙A·D1234" is typography, not part of the registered number
  }
  return Buffer.from(bytes);
}

export function registerBody(info: RegisterInfo, version: Jt808Version): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(info.province, 0);
  head.writeUInt16BE(info.city, 2);
  const [m, model, id] = version === 2019 ? [11, 30, 30] : [5, 20, 7];
  return Buffer.concat([
    head,
    padded(info.manufacturer, m),
    padded(info.model, model),
    padded(info.terminalId, id),
    Buffer.of(info.plateColor),
    gbkPlate(info.plate),
  ]);
}

/** 2013: the code is the whole body. 2019: length byte, code, IMEI[15], software version[20]. */
export function authBody(code: string, version: Jt808Version, imei = '', software = ''): Buffer {
  const text = Buffer.from(code, 'latin1');
  if (version === 2013) return text;
  return Buffer.concat([Buffer.of(text.length), text, padded(imei, 15), padded(software, 20)]);
}

/** BCD[6] YYMMDDhhmmss in UTC+8 (the standard's GMT+8, whatever the terminal's own zone). */
export function bcdTime(ms: number): Buffer {
  const d = new Date(ms + 8 * 3600_000);
  const two = (n: number) => String(n).padStart(2, '0');
  const digits = [
    d.getUTCFullYear() % 100,
    d.getUTCMonth() + 1,
    d.getUTCDate(),
    d.getUTCHours(),
    d.getUTCMinutes(),
    d.getUTCSeconds(),
  ]
    .map(two)
    .join('');
  return bcd(digits, 6);
}

export interface LocationReport {
  alarm: number;
  /** Status bits; the south/west bits are set from the signs of lat/lon. */
  status: number;
  lat: number;
  lon: number;
  altitudeM: number;
  speedKmh: number;
  headingDeg: number;
  /** UTC ms; sent as BCD in UTC+8. */
  time: number;
  /** Odometer, km (item 0x01, 0.1 km). */
  mileageKm?: number;
  /** Work state (item 0xE1). */
  working?: boolean;
  /** Signal strength CSQ (item 0x30). */
  csq?: number;
  /** GNSS satellites (item 0x31). */
  satellites?: number;
  /** Any further items, in order after the ones above. */
  extra?: { id: number; value: Buffer }[];
}

function item(id: number, value: Buffer): Buffer {
  return Buffer.concat([Buffer.of(id, value.length), value]);
}

export function locationBody(r: LocationReport): Buffer {
  const basic = Buffer.alloc(28);
  const status =
    (r.status & ~(STATUS.south | STATUS.west)) | (r.lat < 0 ? STATUS.south : 0) | (r.lon < 0 ? STATUS.west : 0);
  basic.writeUInt32BE(r.alarm >>> 0, 0);
  basic.writeUInt32BE(status >>> 0, 4);
  basic.writeUInt32BE(Math.round(Math.abs(r.lat) * 1e6), 8);
  basic.writeUInt32BE(Math.round(Math.abs(r.lon) * 1e6), 12);
  basic.writeUInt16BE(Math.max(0, Math.min(0xffff, Math.round(r.altitudeM))), 16);
  basic.writeUInt16BE(Math.max(0, Math.min(0xffff, Math.round(r.speedKmh * 10))), 18);
  basic.writeUInt16BE(Math.round(r.headingDeg) % 360, 20);
  bcdTime(r.time).copy(basic, 22);
  const items: Buffer[] = [];
  if (r.mileageKm !== undefined) {
    const v = Buffer.alloc(4);
    v.writeUInt32BE(Math.round(r.mileageKm * 10) >>> 0);
    items.push(item(0x01, v));
  }
  if (r.working !== undefined) items.push(item(WORK_STATE_ITEM, Buffer.of(r.working ? 1 : 0)));
  if (r.csq !== undefined) items.push(item(0x30, Buffer.of(r.csq)));
  if (r.satellites !== undefined) items.push(item(0x31, Buffer.of(r.satellites)));
  for (const e of r.extra ?? []) items.push(item(e.id, e.value));
  return Buffer.concat([basic, ...items]);
}

/** Body budget of a frame: 10 bits of length. */
export const MAX_BODY = 1023;

/** 0x0704: count, type (0 normal batch, 1 blind-area 补报), then each 0x0200 body with its length. */
export function batchBody(type: 0 | 1, bodies: Buffer[]): Buffer {
  const head = Buffer.alloc(3);
  head.writeUInt16BE(bodies.length, 0);
  head[2] = type;
  const parts = bodies.map((b) => {
    const len = Buffer.alloc(2);
    len.writeUInt16BE(b.length);
    return Buffer.concat([len, b]);
  });
  const body = Buffer.concat([head, ...parts]);
  if (body.length > MAX_BODY) throw new RangeError(`batch body of ${body.length} bytes exceeds ${MAX_BODY}`);
  return body;
}

/** Splits location bodies into batches that each fit one frame. */
export function packBatches(bodies: Buffer[]): Buffer[][] {
  const batches: Buffer[][] = [];
  let current: Buffer[] = [];
  let size = 3;
  for (const b of bodies) {
    if (current.length && size + 2 + b.length > MAX_BODY) {
      batches.push(current);
      current = [];
      size = 3;
    }
    current.push(b);
    size += 2 + b.length;
  }
  if (current.length) batches.push(current);
  return batches;
}
