/**
 * Test vectors are data: one folder per case under a codec's `vectors/` (Telegraf testcases
 * style). These helpers read them the same way for every codec.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DecodeError } from '../../drivers/sdk/errors.js';

export interface VectorSet {
  /** Case folder names, sorted. */
  cases: string[];
  /** A file of one case, without its trailing newline. */
  read(caseName: string, file: string): string;
}

export function vectorSet(dir: string): VectorSet {
  return {
    cases: readdirSync(dir).sort(),
    read: (caseName, file) => readFileSync(path.join(dir, caseName, file), 'utf8').replace(/\r?\n$/, ''),
  };
}

/**
 * Runs a decoder and returns a plain JSON value of its result, or the DecodeError it threw;
 * anything else thrown fails the test (codecs may only refuse with DecodeError).
 */
export function decodeOrError(decode: (frame: Buffer) => unknown, frame: Buffer): unknown {
  try {
    return JSON.parse(JSON.stringify(decode(frame)));
  } catch (err) {
    if (!(err instanceof DecodeError)) throw new Error(`codec threw a non-DecodeError: ${String(err)}`);
    return err;
  }
}

/** What a stream vector expects: the frames decoded, the reasons refused, bytes discarded, bytes kept. */
export interface StreamOutcome {
  frames: unknown[];
  errors: string[];
  discarded: number;
  restLength: number;
}

/** Feeds chunks through a codec's split then decode, as a transport would, and tallies the outcome. */
export function feedChunks(
  split: (buf: Buffer) => { frames: Buffer[]; rest: Buffer; discarded: number },
  decode: (frame: Buffer) => unknown,
  chunks: readonly Buffer[],
): StreamOutcome {
  let rest: Buffer = Buffer.alloc(0);
  const outcome: StreamOutcome = { frames: [], errors: [], discarded: 0, restLength: 0 };
  for (const chunk of chunks) {
    const r = split(Buffer.concat([rest, chunk]));
    rest = r.rest;
    outcome.discarded += r.discarded;
    for (const f of r.frames) {
      const out = decodeOrError(decode, f);
      if (out instanceof DecodeError) outcome.errors.push(out.reason);
      else outcome.frames.push(out);
    }
  }
  outcome.restLength = rest.length;
  return outcome;
}
