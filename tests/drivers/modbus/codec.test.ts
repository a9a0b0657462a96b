import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  crc16Modbus,
  type DecodeResponseOptions,
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  type RtuRequest,
  type RtuResponse,
} from '../../../drivers/modbus/codec-rtu.js';
import { decodeEither, splitRtu } from '../../../drivers/modbus/codec-rtu-stream.js';
import { type PointSpec, readPoint } from '../../../drivers/modbus/values.js';
import { DecodeError } from '../../../drivers/sdk/errors.js';
import { vectorSet } from '../../helpers/vectors.js';

const VECTORS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'vectors');
const vectors = vectorSet(VECTORS);
const cases = vectors.cases;
const read = vectors.read;
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

interface Expected {
  direction: 'request' | 'response';
  options?: DecodeResponseOptions;
  frame: RtuRequest | RtuResponse;
  values?: (PointSpec & { index: number; value: number })[];
}

function decodeAs(direction: string, frame: Buffer, options?: DecodeResponseOptions): RtuRequest | RtuResponse {
  return direction === 'request' ? decodeRequest(frame) : decodeResponse(frame, options);
}

function catchDecode(fn: () => unknown): DecodeError {
  try {
    fn();
  } catch (err) {
    if (err instanceof DecodeError) return err;
    throw new Error(`threw a non-DecodeError: ${String(err)}`);
  }
  throw new Error('decoded, a DecodeError was expected');
}

describe('modbus rtu codec vectors', () => {
  it('has the domain frames and hand-made ones', () => {
    expect(cases.filter((c) => c.startsWith('doc-')).length).toBe(14);
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });

  for (const name of cases) {
    it(name, () => {
      const frame = hex(read(name, 'frame.hex'));
      if (existsSync(path.join(VECTORS, name, 'error.txt'))) {
        const [head = '', messagePart] = read(name, 'error.txt').split('\n');
        const [direction = '', reason, offset] = head.split(' ');
        // the wrong-* vectors are only wrong against the request they answer
        const options: DecodeResponseOptions = name.startsWith('wrong-')
          ? { expectUnit: 3, expectFunction: 3, expectQuantity: 6 }
          : {};
        const err = catchDecode(() => decodeAs(direction, frame, options));
        expect(err.reason).toBe(reason);
        expect(err.offset).toBe(Number(offset));
        if (messagePart) expect(err.message).toContain(messagePart);
        expect(err.frameHex).toBe(frame.toString('hex'));
        return;
      }
      const expected = JSON.parse(read(name, 'expected.json')) as Expected;
      const decoded = decodeAs(expected.direction, frame, expected.options);
      expect(decoded).toEqual(expected.frame);
      // what we decode, we encode back to the same bytes
      const encoded =
        expected.direction === 'request'
          ? encodeRequest(decoded as RtuRequest)
          : encodeResponse(decoded as RtuResponse);
      expect(encoded.toString('hex')).toBe(frame.toString('hex'));
      const registers =
        decoded.kind === 'read' && 'registers' in decoded
          ? decoded.registers
          : decoded.kind === 'write-multiple' && 'values' in decoded
            ? decoded.values
            : [];
      for (const { index, value, ...spec } of expected.values ?? []) {
        expect(readPoint(registers, index, spec), `${spec.type} ${spec.order ?? ''} at ${index}`).toBe(value);
      }
    });
  }
});

describe('crc16Modbus', () => {
  it('has the check value 0x4B37 for "123456789"', () => {
    expect(crc16Modbus(Buffer.from('123456789'))).toBe(0x4b37);
  });

  it('computes the doc frames (sent low byte first)', () => {
    expect(crc16Modbus(hex('01 03 00 00 00 0A'))).toBe(0xcdc5);
    expect(crc16Modbus(hex('01 83 02'))).toBe(0xf1c0);
    expect(crc16Modbus(hex('01 10 00 64 00 02 00 17'))).toBe(0);
  });
});

describe('encode', () => {
  it('builds the doc requests', () => {
    expect(encodeRequest({ kind: 'read', unit: 1, function: 3, address: 0, quantity: 10 }).toString('hex')).toBe(
      '01030000000ac5cd',
    );
    expect(encodeRequest({ kind: 'write-single', unit: 1, function: 6, address: 0x1c, value: 2 }).toString('hex')).toBe(
      '0106001c0002c9cd',
    );
    expect(
      encodeRequest({ kind: 'write-multiple', unit: 1, function: 16, address: 0x64, values: [0x4120, 0] }).toString(
        'hex',
      ),
    ).toBe('0110006400020441200000e182');
  });

  it('refuses what the protocol cannot carry', () => {
    expect(() => encodeRequest({ kind: 'read', unit: 1, function: 3, address: 0, quantity: 126 })).toThrow(RangeError);
    expect(() => encodeRequest({ kind: 'read', unit: 0, function: 3, address: 0, quantity: 1 })).toThrow(RangeError);
    expect(() => encodeRequest({ kind: 'write-single', unit: 248, function: 6, address: 0, value: 1 })).toThrow(
      RangeError,
    );
    expect(() => encodeRequest({ kind: 'write-single', unit: 1, function: 6, address: 0x10000, value: 1 })).toThrow(
      RangeError,
    );
    expect(() => encodeRequest({ kind: 'write-multiple', unit: 1, function: 16, address: 0, values: [] })).toThrow(
      RangeError,
    );
  });

  it('round-trips requests and responses of every kind', () => {
    const requests: RtuRequest[] = [
      { kind: 'read', unit: 247, function: 4, address: 0xffff, quantity: 125 },
      { kind: 'write-single', unit: 0, function: 6, address: 0x1234, value: 0xffff },
      {
        kind: 'write-multiple',
        unit: 12,
        function: 16,
        address: 0x1010,
        values: Array.from({ length: 123 }, (_, i) => i * 500),
      },
    ];
    for (const r of requests) expect(decodeRequest(encodeRequest(r))).toEqual(r);
    const responses: RtuResponse[] = [
      { kind: 'read', unit: 1, function: 3, registers: Array.from({ length: 125 }, (_, i) => 0xffff - i) },
      { kind: 'write-single', unit: 2, function: 6, address: 7, value: 8 },
      { kind: 'write-multiple', unit: 3, function: 16, address: 9, quantity: 123 },
      {
        kind: 'exception',
        unit: 4,
        function: 3,
        exceptionCode: 11,
        exceptionName: 'gateway target device failed to respond',
      },
    ];
    for (const r of responses) expect(decodeResponse(encodeResponse(r))).toEqual(r);
  });
});

describe('direction', () => {
  it('gives both interpretations of an 06 frame (request and echo are the same bytes)', () => {
    const both = decodeEither(hex('01 06 00 1C 00 02 C9 CD'));
    expect(both.request).toMatchObject({ kind: 'write-single', value: 2 });
    expect(both.response).toMatchObject({ kind: 'write-single', value: 2 });
  });

  it('gives only the request reading of an 03 request and only the response reading of an 03 response', () => {
    expect(decodeEither(hex('01 03 00 00 00 0A C5 CD'))).toEqual({
      request: { kind: 'read', unit: 1, function: 3, address: 0, quantity: 10 },
    });
    expect(Object.keys(decodeEither(hex('02 03 08 42 F6 E6 66 00 00 BF 00 E7 4B')))).toEqual(['response']);
  });

  it('throws the refusal of a frame neither way reads, the CRC one before a length one', () => {
    const err = catchDecode(() => decodeEither(hex('01 03 00 00 00 0A C5 CC')));
    expect(err.reason).toBe('bad-checksum');
  });
});

describe('splitRtu (captured stream without timing)', () => {
  const req = hex('03 03 00 01 00 06 95 EA');
  const resp = hex('03 03 0C 00 50 9A 44 00 00 00 00 1F 85 0B 3F 64 33');

  it('splits request, response, exception and noise by CRC', () => {
    const exc = hex('01 83 02 C0 F1');
    const r = splitRtu(Buffer.concat([hex('FF 00'), req, resp, hex('55'), exc]));
    expect(r.frames.map((f) => f.toString('hex'))).toEqual([req, resp, exc].map((f) => f.toString('hex')));
    expect(r.discarded).toBe(3);
    expect(r.rest.length).toBe(0);
  });

  it('keeps an incomplete frame as rest and finishes it with the next chunk', () => {
    const first = splitRtu(Buffer.concat([req, resp.subarray(0, 7)]));
    expect(first.frames).toHaveLength(1);
    const second = splitRtu(Buffer.concat([first.rest, resp.subarray(7)]));
    expect(second.frames.map((f) => f.toString('hex'))).toEqual([resp.toString('hex')]);
  });

  it('does not let a noise byte that looks like a long frame hide the frames after it', () => {
    const r = splitRtu(Buffer.concat([hex('01 03 F0'), req]));
    expect(r.frames.map((f) => f.toString('hex'))).toEqual([req.toString('hex')]);
  });

  it('bounds the rest to one maximal frame', () => {
    let rest: Buffer = Buffer.alloc(0);
    for (let i = 0; i < 50; i++) rest = splitRtu(Buffer.concat([rest, Buffer.alloc(100, 0x03)])).rest;
    expect(rest.length).toBeLessThanOrEqual(256);
  });
});
