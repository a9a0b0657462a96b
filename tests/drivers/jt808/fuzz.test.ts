/**
 * Fuzz: random and mutated JT/T 808 frames through split and decode. Nothing may throw but
 * DecodeError, and every frame that decodes re-encodes to the same bytes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeJt808, encodeJt808, escapeJt808, jt808Check, splitJt808 } from '../../../drivers/jt808/codec.js';
import { DecodeError } from '../../../drivers/sdk/errors.js';
import { seededRandom } from '../../../simulators/common/random.js';

const VECTORS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'vectors');
const SEEDS: Buffer[] = readdirSync(VECTORS).map((f) =>
  Buffer.from(
    (JSON.parse(readFileSync(path.join(VECTORS, f), 'utf8')) as { frame: string }).frame.replace(/\s+/g, ''),
    'hex',
  ),
);
const FRAMES = 100_000;
/** A few seconds alone; generous so a loaded 2-core run does not time it out. */
const FUZZ_TIMEOUT_MS = 60_000;

/** Header+body+check as the codec sees it after unescaping (the seeds are well escaped or refused anyway). */
function contentOf(frame: Buffer): number[] {
  const out: number[] = [];
  for (let i = 1; i < frame.length - 1; i++) {
    const b = frame[i] as number;
    if (b === 0x7d && i + 2 < frame.length) out.push(frame[++i] === 0x02 ? 0x7e : 0x7d);
    else out.push(b);
  }
  return out;
}

/** Flags, escaping and (when asked) a right check code around content bytes. */
function reframe(content: number[], fixCheck: boolean): Buffer {
  const body = Buffer.from(fixCheck ? content.slice(0, -1) : content);
  const withCheck = fixCheck ? Buffer.concat([body, Buffer.from([jt808Check(body)])]) : body;
  return Buffer.concat([Buffer.from([0x7e]), escapeJt808(withCheck), Buffer.from([0x7e])]);
}

function edit(bytes: number[], rand: () => number, int: (n: number) => number): void {
  const edits = 1 + int(4);
  for (let e = 0; e < edits; e++) {
    const op = int(6);
    const at = int(bytes.length + 1);
    if (op === 0 && bytes.length > 0) bytes[at % bytes.length] = int(256);
    else if (op === 1 && bytes.length > 0)
      bytes[at % bytes.length] = (bytes[at % bytes.length] as number) ^ (1 << int(8));
    else if (op === 2) bytes.splice(at, 0, rand() < 0.3 ? ([0x7d, 0x7e][int(2)] as number) : int(256));
    else if (op === 3) bytes.splice(at, 1);
    else if (op === 4) bytes.length = Math.min(bytes.length, at);
    else bytes.push(...Array.from({ length: int(8) }, () => int(256)));
  }
}

function mutate(rand: () => number, int: (n: number) => number): Buffer {
  const seed = SEEDS[int(SEEDS.length)] as Buffer;
  if (rand() < 0.3) {
    // the wire bytes themselves: broken escaping, lost flags
    const bytes = Array.from(seed);
    edit(bytes, rand, int);
    return Buffer.from(bytes);
  }
  // the content behind the escaping, mostly with a right check code so the field checks are fuzzed
  const content = contentOf(seed);
  edit(content, rand, int);
  // keep the body-length field honest half the time so bodies, not only lengths, are reached
  if (rand() < 0.5 && content.length >= 13) {
    const props = ((content[2] as number) << 8) | (content[3] as number);
    const headerLen = (props & 0x4000 ? 17 : 12) + (props & 0x2000 ? 4 : 0);
    const len = Math.max(0, Math.min(0x3ff, content.length - 1 - headerLen));
    content[2] = ((props & 0xfc00) | len) >> 8;
    content[3] = len & 0xff;
  }
  return reframe(content, rand() < 0.8);
}

function check(frame: Buffer): 'ok' | 'refused' {
  try {
    const f = decodeJt808(frame);
    const again = encodeJt808(f);
    if (!again.equals(frame)) throw new Error(`${frame.toString('hex')} re-encodes as ${again.toString('hex')}`);
    return 'ok';
  } catch (err) {
    if (err instanceof DecodeError) return 'refused';
    throw err;
  }
}

describe('jt808 fuzz', () => {
  it(
    `${FRAMES} random and mutated frames: only DecodeErrors, decoded frames re-encode to the same bytes`,
    () => {
      const rand = seededRandom(20240315);
      const int = (n: number) => Math.floor(rand() * n);
      const counts = { ok: 0, refused: 0, splitFrames: 0 };
      const reasons: Record<string, number> = {};
      for (let i = 0; i < FRAMES; i++) {
        const frame =
          i % 4 === 3
            ? Buffer.concat([
                Buffer.from([0x7e]),
                Buffer.from(Array.from({ length: int(i % 40 === 3 ? 600 : 60) }, () => int(256))),
                Buffer.from([0x7e]),
              ])
            : mutate(rand, int);
        const outcome = check(frame);
        counts[outcome]++;
        if (outcome === 'refused') {
          try {
            decodeJt808(frame);
          } catch (err) {
            const reason = (err as DecodeError).reason;
            reasons[reason] = (reasons[reason] ?? 0) + 1;
          }
        }
        // the same bytes as a stream: split never throws, and what it hands on obeys the same rule
        const split = splitJt808(frame);
        counts.splitFrames += split.frames.length;
        for (const f of split.frames) check(f);
      }
      console.log(`jt808 fuzz: ${JSON.stringify({ ...counts, reasons })}`);
      expect(counts.ok + counts.refused).toBe(FRAMES);
      // both paths exercised: a fuzz that only ever refuses would test nothing behind the check code
      expect(counts.ok).toBeGreaterThan(FRAMES / 20);
      expect(counts.refused).toBeGreaterThan(FRAMES / 4);
    },
    FUZZ_TIMEOUT_MS,
  );
});
