import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  addressBytes,
  cjt188Checksum,
  cjt188Codec,
  decodeCjt188,
  encodeFrame,
  encodeReadRequest,
  MAX_FRAME_BYTES,
  splitCjt188,
  statusFromRaw,
} from '../../../drivers/cjt188/codec.js';
import { DecodeError } from '../../../drivers/sdk/errors.js';
import { decodeOrError as decodeWith, feedChunks, vectorSet } from '../../helpers/vectors.js';

const VECTORS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'vectors');
const vectors = vectorSet(VECTORS);
const cases = vectors.cases;

const readText = vectors.read;

const fromHex = (hex: string) => Buffer.from(hex.replace(/\s/g, ''), 'hex');

const decodeOrError = (frame: Buffer) => decodeWith(decodeCjt188, frame);

describe('cjt188 codec vectors', () => {
  it('has vector folders', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  for (const name of cases) {
    const dir = path.join(VECTORS, name);
    if (existsSync(path.join(dir, 'chunks.json'))) {
      it(`${name} (stream)`, () => {
        const chunks = JSON.parse(readText(name, 'chunks.json')) as string[];
        const expected = JSON.parse(readText(name, 'expected.json')) as unknown;
        expect(feedChunks(splitCjt188, decodeCjt188, chunks.map(fromHex))).toEqual(expected);
      });
      continue;
    }
    it(name, () => {
      const frame = fromHex(readText(name, 'frame.hex'));
      const out = decodeOrError(frame);
      if (existsSync(path.join(dir, 'error.txt'))) {
        const [reason, message, offset] = readText(name, 'error.txt').split('\n');
        expect(out).toBeInstanceOf(DecodeError);
        const err = out as DecodeError;
        expect(err.reason).toBe(reason);
        expect(err.message).toBe(message);
        expect(String(err.offset)).toBe(offset);
        expect(err.frameHex).toBe(frame.toString('hex'));
      } else {
        expect(out).toEqual(JSON.parse(readText(name, 'expected.json')));
        // the same frame as split hands it on (preamble dropped) decodes the same
        const split = splitCjt188(frame);
        expect(split.frames).toHaveLength(1);
        expect(decodeOrError(split.frames[0] as Buffer)).toEqual(out);
      }
    });
  }
});

describe('cjt188 worked values (1-cjt188.md §1.8)', () => {
  it('reads ex 2: 1234.56 m³ now, 1200.00 m³ at settlement, 2024-03-15 08:30:45, valve open', () => {
    const f = decodeCjt188(
      fromHex(
        '68 10 78 56 34 12 00 00 00 81 16 90 1F 01 56 34 12 00 2C 00 00 12 00 2C 45 30 08 15 03 24 20 00 00 B2 16',
      ),
    );
    expect(f).toMatchObject({
      kind: 'metering-data',
      address: '00000012345678',
      cumulativeFlow: { value: 1234.56, unit: 'm³' },
      settlementFlow: { value: 1200, unit: 'm³' },
      meterTime: '2024-03-15T08:30:45',
      status: { valve: 'open', batteryLow: false },
    });
  });

  it('checksum is the byte sum from 68 to before CS', () => {
    expect(cjt188Checksum(fromHex('68 10 78 56 34 12 00 00 00 01 03 90 1F 01'))).toBe(0x40);
    expect(cjt188Checksum(fromHex('68 AA AA AA AA AA AA AA AA 03 03 81 0A 00'))).toBe(0x49);
  });
});

describe('cjt188 encode', () => {
  it('builds ex 1 exactly, in both DI orders', () => {
    const req = { meterType: 0x10, address: '00000012345678', di: '901F', ser: 1 };
    expect(encodeReadRequest(req).toString('hex').toUpperCase()).toBe('FEFEFE6810785634120000000103901F014016');
    expect(
      encodeReadRequest({ ...req, diOrder: '2018' })
        .toString('hex')
        .toUpperCase(),
    ).toBe('FEFEFE68107856341200000001031F90014016');
  });

  it('builds the broadcast read-address frame of ex 4 (control 03 for DI 810A)', () => {
    const b = encodeReadRequest({ meterType: 0xaa, address: 'AAAAAAAAAAAAAA', di: '810A' });
    expect(b.toString('hex').toUpperCase()).toBe('FEFEFE68AAAAAAAAAAAAAAAA0303810A004916');
  });

  it('round-trips requests through decode for many addresses, SERs and both DI orders', () => {
    for (let n = 0; n < 200; n++) {
      const address = String(n * 7919 * 104729).padStart(14, '0');
      const ser = n % 256;
      const diOrder = n % 2 ? '2018' : '2004';
      const f = decodeCjt188(encodeReadRequest({ meterType: 0x10 + (n % 4), address, ser, diOrder }));
      expect(f).toMatchObject({ kind: 'request', address, ser, diOrder, di: '901F', function: 'read-data' });
      expect(f.meterType).toBe((0x10 + (n % 4)).toString(16));
    }
  });

  it('round-trips a metering-data response built with encodeFrame', () => {
    const data = fromHex('1F 90 09 01 00 00 00 2C 99 99 99 00 2C 00 00 12 31 12 25 20 04 00');
    const f = decodeCjt188(encodeFrame({ meterType: 0x10, address: '20240001000042', control: 0x81, data }));
    expect(f).toMatchObject({
      kind: 'metering-data',
      address: '20240001000042',
      diOrder: '2018',
      ser: 9,
      cumulativeFlow: { value: 0.01 },
      settlementFlow: { value: 9999.99 },
      meterTime: '2025-12-31T12:00:00',
      status: { valve: 'open', batteryLow: true },
    });
    expect(addressBytes('20240001000042').toString('hex')).toBe('42000001002420');
  });

  it('refuses bad arguments', () => {
    expect(() => encodeReadRequest({ meterType: 0x10, address: '123' })).toThrow(/14 digits/);
    expect(() => encodeReadRequest({ meterType: 0x10, address: '0000001234567A' })).toThrow(/14 digits/);
    expect(() => encodeReadRequest({ meterType: 0x10, address: '00000012345678', ser: 256 })).toThrow(/SER/);
    expect(() => encodeReadRequest({ meterType: 0x10, address: '00000012345678', di: '9X1F' })).toThrow(/DI/);
  });

  it('is the codec encode', () => {
    expect(cjt188Codec.encode?.({ meterType: 0x10, address: '00000000000012', preamble: 0 }).toString('hex')).toBe(
      '6810120000000000000103901f003d16',
    );
  });
});

describe('cjt188 split', () => {
  it('discards a stream without 68 entirely, not counting FE preamble bytes', () => {
    expect(splitCjt188(Buffer.alloc(1000, 0x41))).toEqual({ frames: [], rest: Buffer.alloc(0), discarded: 1000 });
    expect(splitCjt188(Buffer.alloc(1000, 0xfe))).toEqual({ frames: [], rest: Buffer.alloc(0), discarded: 0 });
  });

  it('bounds the rest when a 68 with the largest L is followed by endless noise', () => {
    let rest: Buffer = Buffer.alloc(0);
    let frames = 0;
    for (let i = 0; i < 100; i++) {
      const chunk = i === 0 ? Buffer.from([0x68, 0x10, 0, 0, 0, 0, 0, 0, 0, 0x81, 0xff]) : Buffer.alloc(50, 0x42);
      const r = splitCjt188(Buffer.concat([rest, chunk]));
      rest = r.rest;
      frames += r.frames.length;
      expect(rest.length).toBeLessThan(MAX_FRAME_BYTES);
    }
    expect(frames).toBe(0);
  });
});

describe('cjt188 status bit maps', () => {
  it('reads ST1 with the standard map (D1D0 valve, D2 battery)', () => {
    expect(statusFromRaw('0500', 'standard')).toEqual({
      raw: '0500',
      valve: 'closed',
      batteryLow: true,
      vendorAlarm: false,
    });
    expect(statusFromRaw('0300', 'standard').valve).toBe('abnormal');
    expect(statusFromRaw('0200', 'standard').valve).toBe('undefined');
    expect(statusFromRaw('0801', 'standard')).toMatchObject({ valve: 'open', vendorAlarm: true });
  });

  it('reads ST1 numbered from the top (S-XJZ: 40 closed, C0 abnormal, 20 battery)', () => {
    expect(statusFromRaw('4000', 'msb-first')).toMatchObject({ valve: 'closed', batteryLow: false });
    expect(statusFromRaw('C000', 'msb-first').valve).toBe('abnormal');
    expect(statusFromRaw('2000', 'msb-first')).toMatchObject({ valve: 'open', batteryLow: true, vendorAlarm: false });
    // the standard frame's 05 means vendor bits under this map, not closed + low battery
    expect(statusFromRaw('0500', 'msb-first')).toMatchObject({ valve: 'open', batteryLow: false, vendorAlarm: true });
  });

  it('refuses a raw status that is not four hex digits', () => {
    expect(() => statusFromRaw('05', 'standard')).toThrow(/four hex digits/);
  });
});
