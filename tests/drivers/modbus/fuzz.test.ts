/**
 * Fuzz: random and mutated frames through every decoder. Nothing may throw but DecodeError,
 * and nothing may hang (the loop is bounded; a hang would time the test out).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  crc16Modbus,
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  type RtuRequest,
  type RtuResponse,
} from '../../../drivers/modbus/codec-rtu.js';
import { decodeEither, splitRtu } from '../../../drivers/modbus/codec-rtu-stream.js';
import { readPoint, VALUE_TYPES, WORD_ORDERS } from '../../../drivers/modbus/values.js';
import { DecodeError } from '../../../drivers/sdk/errors.js';
import { seededRandom } from '../../../simulators/common/random.js';

const VECTORS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'vectors');
const SEEDS: Buffer[] = readdirSync(VECTORS).map((d) =>
  Buffer.from(readFileSync(path.join(VECTORS, d, 'frame.hex'), 'utf8').replace(/\s+/g, ''), 'hex'),
);
const FRAMES = 100_000;
/** Takes a few seconds alone; generous so a loaded 2-core CI run does not time it out. */
const FUZZ_TIMEOUT_MS = 60_000;

function fixCrc(frame: Buffer): Buffer {
  if (frame.length < 3) return frame;
  const out = Buffer.from(frame);
  out.writeUInt16LE(crc16Modbus(out, out.length - 2), out.length - 2);
  return out;
}

function mutate(rand: () => number, int: (n: number) => number): Buffer {
  const seed = SEEDS[int(SEEDS.length)] as Buffer;
  const bytes = Array.from(seed);
  const edits = 1 + int(4);
  for (let e = 0; e < edits; e++) {
    const op = int(6);
    const at = int(bytes.length + 1);
    if (op === 0 && bytes.length > 0) bytes[at % bytes.length] = int(256);
    else if (op === 1 && bytes.length > 0)
      bytes[at % bytes.length] = (bytes[at % bytes.length] as number) ^ (1 << int(8));
    else if (op === 2) bytes.splice(at, 0, int(256));
    else if (op === 3) bytes.splice(at, 1);
    else if (op === 4) bytes.length = Math.min(bytes.length, at);
    else bytes.push(...Array.from({ length: int(8) }, () => int(256)));
  }
  const frame = Buffer.from(bytes);
  // half the mutants get a right CRC, so the field checks behind it are fuzzed too
  return rand() < 0.5 ? fixCrc(frame) : frame;
}

function onlyDecodeErrors(fn: () => unknown): 'ok' | 'refused' {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (err instanceof DecodeError) return 'refused';
    throw new Error(`threw a non-DecodeError: ${String(err)}`);
  }
}

describe('modbus rtu fuzz', () => {
  it(
    `${FRAMES} random and mutated frames: only DecodeErrors, decoded frames re-encode to the same bytes`,
    () => {
      const rand = seededRandom(20240315);
      const int = (n: number) => Math.floor(rand() * n);
      const counts = { ok: 0, refused: 0 };
      for (let i = 0; i < FRAMES; i++) {
        const frame =
          i % 2 === 0
            ? mutate(rand, int)
            : (() => {
                const f = Buffer.from(Array.from({ length: int(i % 10 === 1 ? 300 : 24) }, () => int(256)));
                return rand() < 0.5 ? fixCrc(f) : f;
              })();
        const asRequest = onlyDecodeErrors(() => {
          const req = decodeRequest(frame);
          if (!encodeRequest(req as RtuRequest).equals(frame))
            throw new Error(`request ${frame.toString('hex')} re-encodes differently`);
        });
        const asResponse = onlyDecodeErrors(() => {
          const resp = decodeResponse(frame, {
            expectUnit: rand() < 0.3 ? int(248) : undefined,
            expectFunction: rand() < 0.3 ? [3, 4, 6, 16][int(4)] : undefined,
            expectQuantity: rand() < 0.3 ? 1 + int(125) : undefined,
          });
          if (resp.kind === 'read') {
            const type = VALUE_TYPES[int(VALUE_TYPES.length)] ?? 'u16';
            const order = WORD_ORDERS[int(WORD_ORDERS.length)] ?? 'ABCD';
            // a point past the block or a non-BCD register is a DecodeError too
            onlyDecodeErrors(() => readPoint(resp.registers, int(resp.registers.length + 1), { type, order }));
          }
          if (!encodeResponse(resp as RtuResponse).equals(frame))
            throw new Error(`response ${frame.toString('hex')} re-encodes differently`);
        });
        onlyDecodeErrors(() => decodeEither(frame));
        counts[asRequest]++;
        counts[asResponse]++;
      }
      // the mutants with a fixed CRC must reach the decoders' success paths, or the fuzz tests little
      expect(counts.ok).toBeGreaterThan(FRAMES / 100);
      expect(counts.refused).toBeGreaterThan(FRAMES / 2);
    },
    FUZZ_TIMEOUT_MS,
  );

  it('splits 2 000 noisy captured streams with bounded rest and only whole-CRC frames', () => {
    const rand = seededRandom(7);
    const int = (n: number) => Math.floor(rand() * n);
    let rest: Buffer = Buffer.alloc(0);
    let frames = 0;
    for (let i = 0; i < 2000; i++) {
      const parts: Buffer[] = [];
      for (let k = int(4); k > 0; k--)
        parts.push(rand() < 0.6 ? (SEEDS[int(SEEDS.length)] as Buffer) : mutate(rand, int));
      const r = splitRtu(Buffer.concat([rest, ...parts]));
      rest = r.rest;
      for (const f of r.frames) {
        frames++;
        expect(crc16Modbus(f)).toBe(0);
        onlyDecodeErrors(() => decodeEither(f));
      }
      expect(rest.length).toBeLessThanOrEqual(256);
    }
    expect(frames).toBeGreaterThan(1000);
  });
});
