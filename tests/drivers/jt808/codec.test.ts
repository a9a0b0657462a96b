import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  decodeJt808,
  encodeHeartbeat,
  encodeJt808,
  encodePlatformReply,
  encodeRegisterReply,
  encodeTerminalReply,
  escapeJt808,
  type Jt808Frame,
  jt808Check,
  splitJt808,
} from '../../../drivers/jt808/codec.js';
import { DecodeError } from '../../../drivers/sdk/errors.js';
import { decodeOrError, feedChunks, vectorSet } from '../../helpers/vectors.js';

/**
 * Vectors: one JSON file per case, {source, frame (hex), expected | error {reason, message, offset}}.
 * The domain doc's worked frames (4-jt808.md §4.9) and frames built by hand (XOR check code and
 * escaping computed apart from the codec).
 */
const VECTORS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'vectors');
const vectors = vectorSet(VECTORS);
interface Vector {
  source: string;
  frame: string;
  expected?: unknown;
  error?: { reason: string; message: string; offset: number };
}
const fromHex = (hex: string) => Buffer.from(hex.replace(/\s/g, ''), 'hex');
const load = (name: string) => JSON.parse(vectors.read('.', name)) as Vector;

describe('jt808 codec vectors', () => {
  it('has the domain frames and hand-built ones', () => {
    expect(vectors.cases.filter((c) => c.startsWith('domain-')).length).toBe(12);
    expect(vectors.cases.length).toBeGreaterThanOrEqual(30);
  });

  for (const name of vectors.cases) {
    it(name, () => {
      const v = load(name);
      const frame = fromHex(v.frame);
      const out = decodeOrError(decodeJt808, frame);
      if (v.error) {
        expect(out).toBeInstanceOf(DecodeError);
        const err = out as DecodeError;
        expect({ reason: err.reason, message: err.message, offset: err.offset }).toEqual(v.error);
        expect(err.frameHex).toBe(frame.toString('hex'));
      } else {
        expect(out).toEqual(v.expected);
        // what the platform or a terminal would send is the same bytes
        expect(encodeJt808(decodeJt808(frame)).toString('hex')).toBe(frame.toString('hex'));
      }
    });
  }
});

describe('jt808 worked values (4-jt808.md §4.9)', () => {
  it('escapes 30 7E 08 7D 55 as 30 7D 02 08 7D 01 55', () => {
    expect(escapeJt808(fromHex('307E087D55')).toString('hex')).toBe('307d02087d0155');
  });

  it('reads the truck fixture in both layouts alike: position, speed, UTC+8 time, mileage', () => {
    const f13 = decodeJt808(fromHex(load('domain-truck-0200-2013.json').frame));
    const f19 = decodeJt808(fromHex(load('domain-truck-0200-2019.json').frame));
    expect(f13.body).toEqual(f19.body);
    expect(f13.header.phone).toBe('013800138000');
    expect(f19.header.phone).toBe('00000000013800138000');
    expect(f13.body).toMatchObject({
      kind: 'location',
      location: {
        latitude: 39.908692,
        longitude: 116.397477,
        speedKmh: 35.6,
        direction: 90,
        time: Date.parse('2024-03-15T16:30:45+08:00'),
        items: [{ id: 1, mileageKm: 1234.5 }, { csq: 28 }, { satellites: 12 }],
      },
    });
  });

  it('the check code is the XOR of header and body (SmallChi 0x0200: 13)', () => {
    const raw = fromHex(load('domain-smallchi-0200-escaped-serial-and-fuel.json').frame);
    expect(raw.length).toBe(55);
    const unescaped = fromHex(
      '0200002612345678901200 7E 00000001 00000002 00BA7F0E 07E4F11C 0028 003C 0000 181015101010 01040000006402 02 007D',
    );
    expect(unescaped.length).toBe(50);
    expect(jt808Check(unescaped)).toBe(0x13);
  });
});

describe('jt808 encoders', () => {
  const h = { phone: '13800138000', serial: 0x0101 };
  it('0x8001 platform reply is the domain fixture', () => {
    expect(encodePlatformReply(h, 1, 0x0200, 0)).toEqual(fromHex(load('domain-8001-ack-0200.json').frame));
  });
  it('0x8100 register reply is the domain fixture; a refusal carries no auth code', () => {
    expect(encodeRegisterReply({ ...h, serial: 0x0100 }, 0, 0, 'AUTH123')).toEqual(
      fromHex(load('domain-8100-register-reply-ok.json').frame),
    );
    expect(decodeJt808(encodeRegisterReply(h, 7, 1, 'AUTH123')).body).toMatchObject({ result: 1, authCode: '' });
  });
  it('terminal side: heartbeat with double escape, terminal reply', () => {
    expect(encodeHeartbeat({ ...h, serial: 0x7d7e })).toEqual(
      fromHex(load('domain-heartbeat-serial-7d7e-double-escape.json').frame),
    );
    expect(encodeTerminalReply({ ...h, serial: 3 }, 0x0101, 0x8103, 0)).toEqual(
      fromHex(load('domain-0001-terminal-reply-8103.json').frame),
    );
  });
  it('a 2019 header carries the version byte and 20 phone digits', () => {
    const f = decodeJt808(encodeHeartbeat({ phone: '13800138000', serial: 5, v2019: true, protocolVersion: 1 }));
    expect(f.header).toMatchObject({ v2019: true, protocolVersion: 1, phone: '00000000013800138000' });
  });
  it('refuses a body over 1023 bytes and a phone that is not digits', () => {
    const big: Jt808Frame = {
      header: { msgId: 0x0900, v2019: false, encryption: 0, reserved: false, phone: '1', serial: 0 },
      body: { kind: 'raw', hex: '00'.repeat(1024) },
    };
    expect(() => encodeJt808(big)).toThrow(RangeError);
    expect(() => encodeHeartbeat({ phone: '12a', serial: 0 })).toThrow(RangeError);
  });
});

describe('jt808 stream split', () => {
  const hb = load('domain-heartbeat-serial-2.json').frame.replace(/\s/g, '');
  const esc = load('domain-heartbeat-serial-007e-escape.json').frame.replace(/\s/g, '');
  it('splits back-to-back frames (7E 7E) and frames sharing a flag, discards leading noise', () => {
    const shared = `${hb}${esc.slice(2)}`; // ... AA 7E 00 02 ... : one flag ends the first and opens the second
    const out = feedChunks(splitJt808, decodeJt808, [fromHex(`0011${hb}${esc}`), fromHex(shared)]);
    expect(out.errors).toEqual([]);
    expect(out.frames.map((f) => (f as Jt808Frame).header.serial)).toEqual([2, 126, 2, 126]);
    expect(out.discarded).toBe(2);
    expect(out.restLength).toBe(1); // the last closing flag, kept as a possible opening one
  });
  it('keeps a frame cut across chunks, and counts a broken frame as one error', () => {
    const out = feedChunks(splitJt808, decodeJt808, [
      fromHex(hb.slice(0, 10)),
      fromHex(hb.slice(10)),
      fromHex('7E00027D037E'),
      fromHex(esc),
    ]);
    expect(out.frames).toHaveLength(2);
    expect(out.errors).toEqual(['bad-frame']);
  });
  it('drops an opening flag followed by more bytes than any frame holds', () => {
    const r = splitJt808(Buffer.concat([Buffer.from([0x7e]), Buffer.alloc(3000, 1)]));
    expect(r).toMatchObject({ frames: [], discarded: 3001 });
    expect(r.rest.length).toBe(0);
  });
});
