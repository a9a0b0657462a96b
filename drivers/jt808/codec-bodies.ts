/**
 * JT/T 808 message bodies (../shared/domain/4-jt808.md §4.4–4.7). Pure. Every field a decoder
 * reads is kept in a form the matching encoder writes back byte for byte (raw hex for padded
 * and GBK fields, with a readable text beside it).
 */

/** A body parse failure, before the frame layer adds the frame bytes and the absolute offset; decodeJt808 turns it into a DecodeError, so only decodeJt808 is exported to users. */
export class BodyError extends Error {
  constructor(
    readonly reason: 'short-frame' | 'bad-field' | 'out-of-range',
    message: string,
    readonly at: number,
  ) {
    super(message);
  }
}

export interface AdditionalItem {
  id: number;
  /** The value bytes, hex. Unknown ids are kept this way only. */
  hex: string;
  /** 0x01 mileage, km (the wire unit is 0.1 km). */
  mileageKm?: number;
  /** 0x02 fuel, L (0.1 L). */
  fuelL?: number;
  /** 0x03 tachograph speed, km/h (0.1 km/h). */
  tachoSpeedKmh?: number;
  /** 0x30 signal strength (CSQ). */
  csq?: number;
  /** 0x31 number of GNSS satellites. */
  satellites?: number;
}

export interface Location {
  alarm: number;
  status: number;
  /** Degrees, negative south (status bit 2). */
  latitude: number;
  /** Degrees, negative west (status bit 3). */
  longitude: number;
  altitudeM: number;
  speedKmh: number;
  direction: number;
  /** The BCD time (UTC+8) as epoch ms. */
  time: number;
  items: AdditionalItem[];
}

export type Body =
  | { kind: 'empty' }
  | { kind: 'general-reply'; replySerial: number; replyMsgId: number; result: number }
  | { kind: 'register-reply'; replySerial: number; result: number; authCodeHex: string; authCode: string }
  | {
      kind: 'register';
      province: number;
      city: number;
      manufacturerHex: string;
      modelHex: string;
      terminalIdHex: string;
      manufacturer: string;
      model: string;
      terminalId: string;
      plateColor: number;
      plateHex: string;
      plate: string;
    }
  | { kind: 'auth'; authCodeHex: string; authCode: string; imeiHex?: string; softwareVersionHex?: string }
  | { kind: 'location'; location: Location }
  | { kind: 'batch-location'; type: number; locations: Location[] }
  | { kind: 'raw'; hex: string };

const gbk = new TextDecoder('gbk');
const text = (b: Uint8Array): string => gbk.decode(b).replace(/\0+$/, '');
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function need(b: Buffer, at: number, n: number, what: string): void {
  if (at + n > b.length)
    throw new BodyError('short-frame', `${what} needs ${n} byte(s) at ${at}, body has ${b.length}`, at);
}

const bcdDigit = (b: Buffer, i: number): number => {
  const v = b[i] as number;
  if (v >> 4 > 9 || (v & 15) > 9)
    throw new BodyError('bad-field', `BCD byte ${v.toString(16).toUpperCase().padStart(2, '0')} is not BCD`, i);
  return (v >> 4) * 10 + (v & 15);
};

/** BCD YYMMDDhhmmss in UTC+8 to epoch ms; the date must exist. */
function decodeTime(b: Buffer, at: number): number {
  const [yy, mo, dd, hh, mi, ss] = [0, 1, 2, 3, 4, 5].map((k) => bcdDigit(b, at + k)) as number[];
  const ms = Date.UTC(2000 + (yy as number), (mo as number) - 1, dd, hh, mi, ss) - 8 * 3_600_000;
  const back = new Date(ms + 8 * 3_600_000);
  if (
    back.getUTCMonth() !== (mo as number) - 1 ||
    back.getUTCDate() !== dd ||
    back.getUTCHours() !== hh ||
    back.getUTCMinutes() !== mi ||
    back.getUTCSeconds() !== ss
  )
    throw new BodyError(
      'out-of-range',
      `time 20${[yy, mo, dd, hh, mi, ss].map((v) => String(v).padStart(2, '0')).join('')} does not exist`,
      at,
    );
  return ms;
}

function encodeTime(ms: number): Buffer {
  const d = new Date(ms + 8 * 3_600_000);
  const parts = [
    d.getUTCFullYear() % 100,
    d.getUTCMonth() + 1,
    d.getUTCDate(),
    d.getUTCHours(),
    d.getUTCMinutes(),
    d.getUTCSeconds(),
  ];
  return Buffer.from(parts.map((v) => (Math.floor(v / 10) << 4) | (v % 10)));
}

function decodeItem(id: number, v: Buffer): AdditionalItem {
  const item: AdditionalItem = { id, hex: hex(v) };
  if (id === 0x01 && v.length === 4) item.mileageKm = v.readUInt32BE(0) / 10;
  else if (id === 0x02 && v.length === 2) item.fuelL = v.readUInt16BE(0) / 10;
  else if (id === 0x03 && v.length === 2) item.tachoSpeedKmh = v.readUInt16BE(0) / 10;
  else if (id === 0x30 && v.length === 1) item.csq = v[0] as number;
  else if (id === 0x31 && v.length === 1) item.satellites = v[0] as number;
  return item;
}

export function decodeLocation(b: Buffer, base = 0): Location {
  need(b, 0, 28, 'location basic info');
  const status = b.readUInt32BE(4);
  const lat = b.readUInt32BE(8) / 1e6;
  const lon = b.readUInt32BE(12) / 1e6;
  let time: number;
  try {
    time = decodeTime(b, 22);
  } catch (e) {
    if (e instanceof BodyError) throw new BodyError(e.reason, e.message, e.at + base);
    throw e;
  }
  const items: AdditionalItem[] = [];
  let at = 28;
  while (at < b.length) {
    if (at + 2 > b.length)
      throw new BodyError('short-frame', `additional item at ${at} lacks its length byte`, base + at);
    const id = b[at] as number;
    const len = b[at + 1] as number;
    if (at + 2 + len > b.length)
      throw new BodyError(
        'short-frame',
        `additional item 0x${id.toString(16).padStart(2, '0')} announces ${len} byte(s), ${b.length - at - 2} left`,
        base + at + 1,
      );
    items.push(decodeItem(id, b.subarray(at + 2, at + 2 + len)));
    at += 2 + len;
  }
  return {
    alarm: b.readUInt32BE(0),
    status,
    latitude: status & 4 ? -lat : lat,
    longitude: status & 8 ? -lon : lon,
    altitudeM: b.readUInt16BE(16),
    speedKmh: b.readUInt16BE(18) / 10,
    direction: b.readUInt16BE(20),
    time,
    items,
  };
}

export function encodeLocation(l: Location): Buffer {
  const basic = Buffer.alloc(22);
  basic.writeUInt32BE(l.alarm >>> 0, 0);
  basic.writeUInt32BE(l.status >>> 0, 4);
  basic.writeUInt32BE(Math.round(Math.abs(l.latitude) * 1e6), 8);
  basic.writeUInt32BE(Math.round(Math.abs(l.longitude) * 1e6), 12);
  basic.writeUInt16BE(l.altitudeM, 16);
  basic.writeUInt16BE(Math.round(l.speedKmh * 10), 18);
  basic.writeUInt16BE(l.direction, 20);
  const items = l.items.map((i) => {
    const v = Buffer.from(i.hex, 'hex');
    return Buffer.concat([Buffer.from([i.id, v.length]), v]);
  });
  return Buffer.concat([basic, encodeTime(l.time), ...items]);
}

function fixed(b: Buffer, at: number, n: number, what: string): Buffer {
  need(b, at, n, what);
  return b.subarray(at, at + n);
}

/** Decodes the body of `msgId`; `v2019` selects the 2019 field sizes. Unknown ids come back raw. */
export function decodeBody(msgId: number, b: Buffer, v2019: boolean): Body {
  switch (msgId) {
    case 0x0002:
    case 0x0003:
      if (b.length !== 0)
        throw new BodyError(
          'bad-field',
          `message 0x${msgId.toString(16).padStart(4, '0')} has an empty body, got ${b.length} byte(s)`,
          0,
        );
      return { kind: 'empty' };
    case 0x0001:
    case 0x8001:
      if (b.length !== 5)
        throw new BodyError(
          b.length < 5 ? 'short-frame' : 'bad-field',
          `general reply body is 5 bytes, got ${b.length}`,
          Math.min(b.length, 5),
        );
      return {
        kind: 'general-reply',
        replySerial: b.readUInt16BE(0),
        replyMsgId: b.readUInt16BE(2),
        result: b[4] as number,
      };
    case 0x8100: {
      need(b, 0, 3, 'register reply');
      const code = b.subarray(3);
      return {
        kind: 'register-reply',
        replySerial: b.readUInt16BE(0),
        result: b[2] as number,
        authCodeHex: hex(code),
        authCode: text(code),
      };
    }
    case 0x0100: {
      const [m, t, id] = v2019 ? [11, 30, 30] : [5, 20, 7];
      const man = fixed(b, 4, m, 'manufacturer ID');
      const model = fixed(b, 4 + m, t, 'terminal model');
      const tid = fixed(b, 4 + m + t, id, 'terminal ID');
      need(b, 4 + m + t + id, 1, 'plate color');
      const plate = b.subarray(5 + m + t + id);
      return {
        kind: 'register',
        province: b.readUInt16BE(0),
        city: b.readUInt16BE(2),
        manufacturerHex: hex(man),
        modelHex: hex(model),
        terminalIdHex: hex(tid),
        manufacturer: text(man),
        model: text(model),
        terminalId: text(tid),
        plateColor: b[4 + m + t + id] as number,
        plateHex: hex(plate),
        plate: text(plate),
      };
    }
    case 0x0102: {
      if (!v2019) return { kind: 'auth', authCodeHex: hex(b), authCode: text(b) };
      need(b, 0, 1, 'auth code length');
      const n = b[0] as number;
      const code = fixed(b, 1, n, 'auth code');
      const imei = fixed(b, 1 + n, 15, 'IMEI');
      const sw = fixed(b, 16 + n, 20, 'software version');
      if (b.length !== 36 + n)
        throw new BodyError('bad-field', `2019 auth body is ${36 + n} bytes, got ${b.length}`, 36 + n);
      return {
        kind: 'auth',
        authCodeHex: hex(code),
        authCode: text(code),
        imeiHex: hex(imei),
        softwareVersionHex: hex(sw),
      };
    }
    case 0x0200:
      return { kind: 'location', location: decodeLocation(b) };
    case 0x0704: {
      need(b, 0, 3, 'batch header');
      const count = b.readUInt16BE(0);
      const locations: Location[] = [];
      let at = 3;
      for (let k = 0; k < count; k++) {
        need(b, at, 2, `batch item ${k + 1} length`);
        const len = b.readUInt16BE(at);
        need(b, at + 2, len, `batch item ${k + 1}`);
        locations.push(decodeLocation(b.subarray(at + 2, at + 2 + len), at + 2));
        at += 2 + len;
      }
      if (at !== b.length)
        throw new BodyError('bad-field', `batch of ${count} item(s) ends at ${at}, body has ${b.length} bytes`, at);
      return { kind: 'batch-location', type: b[2] as number, locations };
    }
    default:
      return { kind: 'raw', hex: hex(b) };
  }
}

const word = (v: number): Buffer => {
  const o = Buffer.alloc(2);
  o.writeUInt16BE(v & 0xffff, 0);
  return o;
};

export function encodeBody(body: Body): Buffer {
  switch (body.kind) {
    case 'empty':
      return Buffer.alloc(0);
    case 'general-reply':
      return Buffer.concat([word(body.replySerial), word(body.replyMsgId), Buffer.from([body.result])]);
    case 'register-reply':
      return Buffer.concat([word(body.replySerial), Buffer.from([body.result]), Buffer.from(body.authCodeHex, 'hex')]);
    case 'register':
      return Buffer.concat([
        word(body.province),
        word(body.city),
        Buffer.from(body.manufacturerHex, 'hex'),
        Buffer.from(body.modelHex, 'hex'),
        Buffer.from(body.terminalIdHex, 'hex'),
        Buffer.from([body.plateColor]),
        Buffer.from(body.plateHex, 'hex'),
      ]);
    case 'auth': {
      const code = Buffer.from(body.authCodeHex, 'hex');
      if (body.imeiHex === undefined) return code;
      return Buffer.concat([
        Buffer.from([code.length]),
        code,
        Buffer.from(body.imeiHex, 'hex'),
        Buffer.from(body.softwareVersionHex ?? '', 'hex'),
      ]);
    }
    case 'location':
      return encodeLocation(body.location);
    case 'batch-location': {
      const items = body.locations.map((l) => {
        const b = encodeLocation(l);
        return Buffer.concat([word(b.length), b]);
      });
      return Buffer.concat([word(items.length), Buffer.from([body.type]), ...items]);
    }
    case 'raw':
      return Buffer.from(body.hex, 'hex');
  }
}
