/**
 * Modbus TCP (MBAP) codec vectors: one folder per case under vectors-tcp/ with frame.hex and either
 * expected.json (the decoded frame) or error.txt (`<reason> <offset>` then the message). Cases ending
 * in -request are decoded as requests. Every decoded case also re-encodes to the same bytes.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { RtuRequest, RtuResponse } from '../../../drivers/modbus/codec-rtu.js';
import {
  decodeTcpRequest,
  decodeTcpResponse,
  encodeTcpRequest,
  encodeTcpResponse,
  splitTcp,
  type TcpFrame,
} from '../../../drivers/modbus/codec-tcp.js';
import { decodeOrError, vectorSet } from '../../helpers/vectors.js';

const vectors = vectorSet(path.join(path.dirname(fileURLToPath(import.meta.url)), 'vectors-tcp'));
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const isRequest = (c: string) => c.endsWith('-request');

describe('modbus tcp codec vectors', () => {
  it('has decoded and refused cases', () => {
    expect(vectors.cases.length).toBeGreaterThanOrEqual(11);
  });

  it.each(vectors.cases)('%s', (c) => {
    const frame = hex(vectors.read(c, 'frame.hex'));
    const out = decodeOrError(isRequest(c) ? decodeTcpRequest : decodeTcpResponse, frame);
    let expected: string;
    try {
      expected = vectors.read(c, 'expected.json');
    } catch {
      const [head, message] = vectors.read(c, 'error.txt').split('\n');
      const [reason, offset] = (head ?? '').split(' ');
      expect(out).toMatchObject({ reason, offset: Number(offset), message });
      return;
    }
    expect(out).toEqual(JSON.parse(expected));
    const again = isRequest(c)
      ? encodeTcpRequest(out as TcpFrame<RtuRequest>)
      : encodeTcpResponse(out as TcpFrame<RtuResponse>);
    expect(again.toString('hex')).toBe(frame.toString('hex'));
  });
});

describe('splitTcp', () => {
  const a = hex('00 01 00 00 00 05 01 03 02 00 2A');
  const b = hex('00 02 00 00 00 03 01 83 02');

  it('splits back-to-back frames and keeps a partial one', () => {
    const r = splitTcp(Buffer.concat([a, b, b.subarray(0, 4)]));
    expect(r.frames.map((f) => f.toString('hex'))).toEqual([a.toString('hex'), b.toString('hex')]);
    expect(r.rest.toString('hex')).toBe('00020000');
    expect(r).toMatchObject({ discarded: 0, desynced: false });
  });

  it('gives up on a stream whose header cannot be Modbus and says so', () => {
    const r = splitTcp(Buffer.concat([a, hex('47 45 54 20 2F 20 48 54 54 50')]));
    expect(r.frames).toHaveLength(1);
    expect(r).toMatchObject({ discarded: 10, desynced: true });
    expect(r.rest.length).toBe(0);
  });

  it('waits for the header before judging', () => {
    expect(splitTcp(hex('00 01 00'))).toMatchObject({ frames: [], discarded: 0, desynced: false });
  });
});

describe('encode', () => {
  it('builds the read request with MBAP length 6 and the unit in the header', () => {
    const f = encodeTcpRequest({
      transactionId: 0xbeef,
      unit: 0,
      message: { kind: 'read', unit: 1, function: 4, address: 0x0202, quantity: 100 },
    });
    expect(f.toString('hex')).toBe('beef000000060004020200' + '64');
  });

  it('refuses a transaction id that does not fit 16 bits (a caller bug)', () => {
    expect(() =>
      encodeTcpRequest({
        transactionId: 0x10000,
        unit: 1,
        message: { kind: 'read', unit: 1, function: 3, address: 0, quantity: 1 },
      }),
    ).toThrow(RangeError);
  });
});
