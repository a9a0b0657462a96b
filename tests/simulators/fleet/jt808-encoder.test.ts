/**
 * The fleet simulator's own JT/T 808 encoder against the worked frames of
 * ../shared/domain/4-jt808.md §4.9 (both ends of escaping, check code, 2013 and 2019 headers).
 */
import { describe, expect, it } from 'vitest';
import {
  authBody,
  batchBody,
  bcdTime,
  locationBody,
  MAX_BODY,
  packBatches,
  registerBody,
} from '../../../simulators/fleet/jt808-bodies.js';
import {
  decodeFrame,
  encodeFrame,
  escapeBytes,
  FrameError,
  FrameSplitter,
  readGeneralReply,
  readRegisterReply,
  unescapeBytes,
  xorCheck,
} from '../../../simulators/fleet/jt808-frames.js';

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');
const PHONE = '13800138000';
/** 2024-03-15 16:30:45 in UTC+8. */
const FIXTURE_TIME = Date.UTC(2024, 2, 15, 8, 30, 45);

const FIXTURE_REPORT = {
  alarm: 0,
  status: 0x000c0003,
  lat: 39.908692,
  lon: 116.397477,
  altitudeM: 50,
  speedKmh: 35.6,
  headingDeg: 90,
  time: FIXTURE_TIME,
  mileageKm: 1234.5,
  csq: 28,
  satellites: 12,
};

describe('fleet simulator JT/T 808 encoder', () => {
  it('escapes 7E and 7D and undoes it (the worked escape example)', () => {
    expect(escapeBytes(hex('30 7E 08 7D 55'))).toEqual(hex('30 7D 02 08 7D 01 55'));
    expect(unescapeBytes(hex('30 7D 02 08 7D 01 55'))).toEqual(hex('30 7E 08 7D 55'));
    expect(() => unescapeBytes(hex('30 7D 03'))).toThrow(FrameError);
  });

  it('encodes the hub fixture location body (40 bytes)', () => {
    expect(locationBody(FIXTURE_REPORT)).toEqual(
      hex(
        '00 00 00 00 00 0C 00 03 02 60 F5 54 06 F0 15 A5 00 32 01 64 00 5A 24 03 15 16 30 45 01 04 00 00 30 39 30 01 1C 31 01 0C',
      ),
    );
  });

  it('frames it in the 2013 and the 2019 header with the documented check codes', () => {
    const body = locationBody(FIXTURE_REPORT);
    expect(encodeFrame({ msgId: 0x0200, phone: PHONE, serial: 1, version: 2013 }, body)).toEqual(
      hex(
        '7E 02 00 00 28 01 38 00 13 80 00 00 01 00 00 00 00 00 0C 00 03 02 60 F5 54 06 F0 15 A5 00 32 01 64 00 5A 24 03 15 16 30 45 01 04 00 00 30 39 30 01 1C 31 01 0C 4A 7E',
      ),
    );
    expect(encodeFrame({ msgId: 0x0200, phone: PHONE, serial: 1, version: 2019 }, body)).toEqual(
      hex(
        '7E 02 00 40 28 01 00 00 00 00 01 38 00 13 80 00 00 01 00 00 00 00 00 0C 00 03 02 60 F5 54 06 F0 15 A5 00 32 01 64 00 5A 24 03 15 16 30 45 01 04 00 00 30 39 30 01 1C 31 01 0C 0B 7E',
      ),
    );
  });

  it("reproduces SmallChi's vector: escaping in the serial and in an additional item", () => {
    const body = locationBody({
      alarm: 1,
      status: 2,
      lat: 12.222222,
      lon: 132.444444,
      altitudeM: 40,
      speedKmh: 6,
      headingDeg: 0,
      time: Date.UTC(2018, 9, 15, 2, 10, 10),
      mileageKm: 10,
      extra: [{ id: 0x02, value: hex('00 7D') }],
    });
    expect(encodeFrame({ msgId: 0x0200, phone: '123456789012', serial: 126, version: 2013 }, body)).toEqual(
      hex(
        '7E 02 00 00 26 12 34 56 78 90 12 00 7D 02 00 00 00 01 00 00 00 02 00 BA 7F 0E 07 E4 F1 1C 00 28 00 3C 00 00 18 10 15 10 10 10 01 04 00 00 00 64 02 02 00 7D 01 13 7E',
      ),
    );
  });

  it('encodes heartbeats, with one and two escapes in the serial', () => {
    const hb = (serial: number) => encodeFrame({ msgId: 0x0002, phone: PHONE, serial, version: 2013 }, Buffer.alloc(0));
    expect(hb(2)).toEqual(hex('7E 00 02 00 00 01 38 00 13 80 00 00 02 AA 7E'));
    expect(hb(0x007e)).toEqual(hex('7E 00 02 00 00 01 38 00 13 80 00 00 7D 02 D6 7E'));
    expect(hb(0x7d7e)).toEqual(hex('7E 00 02 00 00 01 38 00 13 80 00 7D 01 7D 02 AB 7E'));
  });

  it('encodes 0x0102 auth bodies (2013 code only; 2019 length + IMEI + software version)', () => {
    expect(encodeFrame({ msgId: 0x0102, phone: PHONE, serial: 4, version: 2013 }, authBody('AUTH123', 2013))).toEqual(
      hex('7E 01 02 00 07 01 38 00 13 80 00 00 04 41 55 54 48 31 32 33 92 7E'),
    );
    expect(
      encodeFrame({ msgId: 0x0102, phone: '12345678900', serial: 12345, version: 2013 }, authBody('456121111', 2013)),
    ).toEqual(hex('7E 01 02 00 09 01 23 45 67 89 00 30 39 34 35 36 31 32 31 31 31 31 BE 7E'));
    const v19 = authBody('AUTH123', 2019, '860000000000001', 'sim-1.0');
    expect(v19.length).toBe(1 + 7 + 15 + 20);
    expect(v19[0]).toBe(7);
    expect(v19.subarray(8, 23).toString('latin1')).toBe('860000000000001');
  });

  it('encodes the 0x0704 blind-area batch fixture', () => {
    const item = (lat: number, lon: number, speed: number, dir: number, sec: number) =>
      locationBody({
        alarm: 0,
        status: 3,
        lat,
        lon,
        altitudeM: 50,
        speedKmh: speed,
        headingDeg: dir,
        time: Date.UTC(2024, 2, 15, 8, 0, sec),
      });
    const body = batchBody(1, [item(39.908692, 116.397477, 0, 0, 0), item(39.9087, 116.3975, 12, 45, 30)]);
    expect(encodeFrame({ msgId: 0x0704, phone: PHONE, serial: 5, version: 2013 }, body)).toEqual(
      hex(
        '7E 07 04 00 3F 01 38 00 13 80 00 00 05 00 02 01 00 1C 00 00 00 00 00 00 00 03 02 60 F5 54 06 F0 15 A5 00 32 00 00 00 00 24 03 15 16 00 00 00 1C 00 00 00 00 00 00 00 03 02 60 F5 5C 06 F0 15 BC 00 32 00 78 00 2D 24 03 15 16 00 30 E4 7E',
      ),
    );
  });

  it('packs batches so each fits one frame body', () => {
    const bodies = Array.from({ length: 50 }, (_, i) =>
      locationBody({ ...FIXTURE_REPORT, time: FIXTURE_TIME + i * 1000 }),
    );
    const batches = packBatches(bodies);
    expect(batches.flat()).toHaveLength(50);
    for (const b of batches) expect(batchBody(1, b).length).toBeLessThanOrEqual(MAX_BODY);
    expect(batches.length).toBe(Math.ceil(50 / Math.floor((MAX_BODY - 3) / (2 + 40))));
  });

  it('writes BCD time in UTC+8 across midnight', () => {
    expect(bcdTime(Date.UTC(2024, 11, 31, 17, 5, 9))).toEqual(hex('25 01 01 01 05 09'));
  });

  it('encodes the 2013 register body with GBK plate', () => {
    const body = registerBody(
      {
        province: 33,
        city: 100,
        manufacturer: 'CGSIM',
        model: 'SIM-808',
        terminalId: 'T000001',
        plateColor: 2,
        plate: '浙A·D1234',
      },
      2013,
    );
    expect(body.length).toBe(4 + 5 + 20 + 7 + 1 + 8);
    expect(body.subarray(0, 4)).toEqual(hex('00 21 00 64'));
    expect(body.subarray(37)).toEqual(Buffer.concat([hex('D5 E3'), Buffer.from('AD1234')]));
    expect(
      registerBody(
        { province: 33, city: 100, manufacturer: 'M', model: 'X', terminalId: 'T', plateColor: 0, plate: 'V' },
        2019,
      ).length,
    ).toBe(4 + 11 + 30 + 30 + 1 + 1);
  });

  it('reads the platform answers of the fixtures (0x8001, 0x8100)', () => {
    const [reply] = new FrameSplitter().push(hex('7E 80 01 00 05 01 38 00 13 80 00 01 01 00 01 02 00 00 2D 7E'));
    const f = decodeFrame(reply as Buffer);
    expect(f).toMatchObject({ msgId: 0x8001, phone: '013800138000', serial: 0x0101, version: 2013 });
    expect(readGeneralReply(f.body)).toEqual({ replySerial: 1, replyMsgId: 0x0200, result: 0 });
    const reg = decodeFrame(hex('81 00 00 0A 01 38 00 13 80 00 01 00 00 00 00 41 55 54 48 31 32 33 18'));
    expect(readRegisterReply(reg.body)).toEqual({ replySerial: 0, result: 0, authCode: 'AUTH123' });
  });

  it('decodes its own 2019 frames and refuses a bad check code', () => {
    const frame = encodeFrame({ msgId: 0x8001, phone: PHONE, serial: 0x7e7d, version: 2019 }, hex('00 01 02 00 00'));
    const [inner] = new FrameSplitter().push(frame);
    expect(decodeFrame(inner as Buffer)).toMatchObject({
      phone: '00000000013800138000',
      serial: 0x7e7d,
      version: 2019,
    });
    const raw = unescapeBytes(inner as Buffer);
    raw[raw.length - 1] = (raw[raw.length - 1] as number) ^ 1;
    expect(() => decodeFrame(escapeBytes(raw))).toThrow(/check code/);
    expect(xorCheck(hex('01 02 03'))).toBe(0);
  });

  it('splits a stream: noise before the flag, back-to-back frames, a frame across two chunks', () => {
    const s = new FrameSplitter();
    const hb = hex('7E 00 02 00 00 01 38 00 13 80 00 00 02 AA 7E');
    const first = s.push(Buffer.concat([hex('FF 00'), hb, hb, hb.subarray(0, 5)]));
    expect(first).toHaveLength(2);
    expect(s.push(hb.subarray(5))).toHaveLength(1);
    expect(s.push(Buffer.concat([hb, hb]))).toHaveLength(2);
  });
});
