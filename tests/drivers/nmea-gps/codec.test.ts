import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeNmea, MAX_SENTENCE_CHARS, nmeaChecksum, nmeaCodec, splitNmea } from '../../../drivers/nmea-gps/codec.js';
import { DecodeError } from '../../../drivers/sdk/errors.js';
import { decodeOrError as decodeWith, feedChunks, vectorSet } from '../../helpers/vectors.js';

const VECTORS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'vectors');
const vectors = vectorSet(VECTORS);
const cases = vectors.cases;

const readText = vectors.read;

const decodeOrError = (frame: Buffer) => decodeWith(decodeNmea, frame);

describe('nmea codec vectors', () => {
  it('has vector folders', () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
  });

  for (const name of cases) {
    const dir = path.join(VECTORS, name);
    if (existsSync(path.join(dir, 'chunks.json'))) {
      it(`${name} (stream)`, () => {
        const chunks = JSON.parse(readText(name, 'chunks.json')) as string[];
        const expected = JSON.parse(readText(name, 'expected.json')) as {
          frames: unknown[];
          errors: string[];
          discarded: number;
          restLength: number;
        };
        expect(
          feedChunks(
            (b) => nmeaCodec.split(b),
            decodeNmea,
            chunks.map((c) => Buffer.from(c, 'latin1')),
          ),
        ).toEqual(expected);
      });
      continue;
    }
    it(name, () => {
      const input = Buffer.from(readText(name, 'input.txt'), 'latin1');
      const out = decodeOrError(input);
      if (existsSync(path.join(dir, 'error.txt'))) {
        const [reason, messagePart] = readText(name, 'error.txt').split('\n');
        expect(out).toBeInstanceOf(DecodeError);
        const err = out as DecodeError;
        expect(err.reason).toBe(reason);
        if (messagePart) expect(err.message).toContain(messagePart);
        expect(err.frameHex).toBe(input.toString('hex'));
      } else {
        expect(out).toEqual(JSON.parse(readText(name, 'expected.json')));
        // the same sentence with its CR LF decodes the same
        expect(decodeOrError(Buffer.concat([input, Buffer.from('\r\n')]))).toEqual(out);
      }
    });
  }
});

describe('nmea checksum', () => {
  it('is the XOR between $ and * (classic and hub fixtures)', () => {
    expect(nmeaChecksum('GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,')).toBe('47');
    expect(nmeaChecksum('GNGGA,083100.00,,,,,0,00,99.99,,,,,,')).toBe('72');
  });

  it('reports the offset of the checksum digits', () => {
    const s = '$GPRMC,225446.33,A,4916.45,N,12311.12,W,000.5,054.7,191194,020.3,E,A*68';
    const err = decodeOrError(Buffer.from(s)) as DecodeError;
    expect(err.offset).toBe(s.indexOf('*') + 1);
  });

  it('reports the offset of an unreadable field', () => {
    const s = '$GPRMC,123519,A,48x7.038,N,01131.000,E,022.4,084.4,230394,003.1,W*22';
    const err = decodeOrError(Buffer.from(s)) as DecodeError;
    expect(err.offset).toBe(s.indexOf('48x7'));
  });
});

describe('nmea split', () => {
  it('keeps an incomplete sentence as rest', () => {
    const r = splitNmea(Buffer.from('$GPGGA,1235'));
    expect(r.frames).toHaveLength(0);
    expect(r.rest.toString()).toBe('$GPGGA,1235');
    expect(r.discarded).toBe(0);
  });

  it('discards a stream of garbage without a $ entirely', () => {
    const r = splitNmea(Buffer.alloc(10_000, 0x41));
    expect(r).toEqual({ frames: [], rest: Buffer.alloc(0), discarded: 10_000 });
  });

  it('bounds the rest when a $ is followed by endless garbage without a newline', () => {
    let rest: Buffer = Buffer.alloc(0);
    let refused = 0;
    for (let i = 0; i < 100; i++) {
      const chunk = Buffer.concat([i === 0 ? Buffer.from('$') : Buffer.alloc(0), Buffer.alloc(1000, 0x42)]);
      const r = splitNmea(Buffer.concat([rest, chunk]));
      rest = r.rest;
      for (const f of r.frames) {
        const err = decodeOrError(f) as DecodeError;
        expect(err.reason).toBe('too-long');
        refused++;
      }
      expect(rest.length).toBeLessThanOrEqual(MAX_SENTENCE_CHARS + 2);
    }
    expect(refused).toBe(1);
  });

  it('recovers at the next sentence after an over-long line', () => {
    const long = `$GPGGA,${'9'.repeat(300)}\r\n`;
    const good = '$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47\r\n';
    const r = splitNmea(Buffer.from(long + good));
    expect(r.frames).toHaveLength(2);
    expect((decodeOrError(r.frames[0] as Buffer) as DecodeError).reason).toBe('too-long');
    expect(decodeOrError(r.frames[1] as Buffer)).toMatchObject({ type: 'GGA', satellites: 8 });
  });

  it('never throws anything but DecodeError on random bytes', () => {
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const alphabet = Buffer.from('$GPRMCGA,.*0123456789ABCDEFNSEWV\r\n\x00\xff', 'latin1');
    let rest: Buffer = Buffer.alloc(0);
    for (let i = 0; i < 2000; i++) {
      const chunk = Buffer.from(
        Array.from(
          { length: 1 + Math.floor(rand() * 64) },
          () => alphabet[Math.floor(rand() * alphabet.length)] as number,
        ),
      );
      const r = splitNmea(Buffer.concat([rest, chunk]));
      rest = r.rest;
      for (const f of r.frames) decodeOrError(f);
    }
    expect(rest.length).toBeLessThanOrEqual(MAX_SENTENCE_CHARS + 2);
  });
});
