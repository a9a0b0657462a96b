/**
 * Fuzz: 100 000+ random and mutated frames through split + decode. Nothing may throw except
 * DecodeError, `rest` stays bounded, and every call returns (a hang would time the test out).
 * Seeded, so a failure repeats; the failing input is printed as hex.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeCjt188, encodeReadRequest, MAX_FRAME_BYTES, splitCjt188 } from '../../../drivers/cjt188/codec.js';
import { DecodeError } from '../../../drivers/sdk/errors.js';
import { seededRandom as prng } from '../../../simulators/common/random.js';

const VECTORS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'vectors');

function validFrames(): Buffer[] {
  const out: Buffer[] = [];
  for (const name of readdirSync(VECTORS)) {
    try {
      const frame = Buffer.from(readFileSync(path.join(VECTORS, name, 'frame.hex'), 'utf8').replace(/\s/g, ''), 'hex');
      decodeCjt188(frame);
      out.push(frame);
    } catch {
      // error vectors and stream folders are not seeds
    }
  }
  out.push(encodeReadRequest({ meterType: 0x10, address: '00000012345678', ser: 9 }));
  return out;
}

/** Decodes; returns true when it decoded, false on DecodeError; rethrows anything else with the input. */
function tryDecode(frame: Buffer): boolean {
  try {
    decodeCjt188(frame);
    return true;
  } catch (err) {
    if (err instanceof DecodeError) return false;
    throw new Error(`non-DecodeError ${String(err)} for ${frame.toString('hex')}`);
  }
}

describe('cjt188 fuzz', () => {
  it('survives 100 000 random and mutated frames through split + decode', () => {
    const rand = prng(188);
    const int = (n: number) => Math.floor(rand() * n);
    const seeds = validFrames();
    expect(seeds.length).toBeGreaterThanOrEqual(10);
    const randomBytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));

    function mutate(frame: Buffer): Buffer {
      const bytes = [...frame];
      const edits = 1 + int(3);
      for (let e = 0; e < edits; e++) {
        const op = int(6);
        const at = int(bytes.length + 1);
        if (op === 0 && bytes.length > 0) bytes[at % bytes.length] = int(256);
        else if (op === 1 && bytes.length > 0)
          bytes[at % bytes.length] = (bytes[at % bytes.length] as number) ^ (1 << int(8));
        else if (op === 2) bytes.splice(at, 0, ...randomBytes(1 + int(4)));
        else if (op === 3) bytes.splice(at, 1 + int(3));
        else if (op === 4) bytes.length = Math.min(bytes.length, at);
        else bytes.splice(at, 0, 0x68);
      }
      return Buffer.from(bytes);
    }

    const CASES = 100_000;
    let decoded = 0;
    let refused = 0;
    let recoveredIntact = 0;
    let intact = 0;
    let rest: Buffer = Buffer.alloc(0);
    for (let n = 0; n < CASES; n++) {
      const seed = seeds[int(seeds.length)] as Buffer;
      const kind = int(10);
      const input = kind === 0 ? randomBytes(int(64)) : kind === 1 ? seed : mutate(seed);
      if (tryDecode(input)) decoded++;
      else refused++;

      // as a stream: noise, the input, then an intact frame, cut into random chunks
      const tail = seeds[int(seeds.length)] as Buffer;
      const stream = Buffer.concat([randomBytes(int(4)), input, Buffer.from([0xfe, 0xfe]), tail]);
      let seenTail = false;
      let pos = 0;
      while (pos < stream.length) {
        const len = 1 + int(40);
        const r = splitCjt188(Buffer.concat([rest, stream.subarray(pos, pos + len)]));
        pos += len;
        rest = r.rest;
        if (rest.length >= MAX_FRAME_BYTES)
          throw new Error(`rest of ${rest.length} bytes after ${stream.toString('hex')}`);
        for (const f of r.frames) {
          if (tryDecode(f) && f.equals(tail.subarray(tail.indexOf(0x68)))) seenTail = true;
        }
      }
      intact++;
      if (seenTail) recoveredIntact++;
    }
    expect(decoded + refused).toBe(CASES);
    // unmutated seeds (kind 1) always decode; mutations mostly do not
    expect(decoded).toBeGreaterThanOrEqual(CASES / 10 - 1000);
    expect(refused).toBeGreaterThan(CASES / 2);
    // the intact frame after garbage is found again nearly always (a leftover candidate may swallow it)
    expect(recoveredIntact / intact).toBeGreaterThan(0.99);
    // a limit against a hang, not a timing assertion: the run takes ~2 s alone, far longer on a busy machine
  }, 120_000);
});
