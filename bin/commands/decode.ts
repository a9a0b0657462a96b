/**
 * `citygrid decode <protocol> <frame>`: decodes one frame (or a captured stream, with `-` for
 * stdin) and prints it as JSON; on a refused frame prints the reason, what was expected and
 * where, and exits 1. Protocols are entries of PROTOCOLS; a new codec is one more entry.
 */
import { readFileSync } from 'node:fs';
import type { FrameCodec } from '../../drivers/sdk/driver.js';
import { DecodeError } from '../../drivers/sdk/errors.js';

interface ProtocolEntry {
  summary: string;
  /** Text protocols show a caret under the offending character; binary ones the hex. */
  textual: boolean;
  /** Switches of this protocol alone (flag -> what it does), handed to load. */
  flags?: Record<string, string>;
  load(flags: ReadonlySet<string>): Promise<FrameCodec<unknown, unknown>>;
}

const PROTOCOLS: Record<string, ProtocolEntry> = {
  nmea: {
    summary: 'NMEA 0183 sentence (RMC, GGA), e.g. "$GPGGA,...*47" or its hex',
    textual: true,
    load: async () => (await import('../../drivers/nmea-gps/codec.js')).nmeaCodec,
  },
  cjt188: {
    summary: 'CJ/T 188 meter frame (2004 or 2018) in hex, FE preamble allowed, e.g. "FE FE 68 10 ... 40 16"',
    textual: false,
    load: async () => (await import('../../drivers/cjt188/codec.js')).cjt188Codec,
  },
  jt808: {
    summary: 'JT/T 808 frame (2013 or 2019) in hex with its 7E flags, e.g. "7E 00 02 00 00 ... AA 7E"',
    textual: false,
    load: async () => (await import('../../drivers/jt808/codec.js')).jt808Codec,
  },
  'modbus-rtu': {
    summary: 'Modbus RTU frame in hex, e.g. "01 03 00 00 00 0A C5 CD"; prints every reading (request, response)',
    textual: false,
    flags: { '--request': 'decode as a request (master -> slave) only', '--response': 'decode as a response only' },
    load: async (flags) =>
      (await import('../../drivers/modbus/codec-rtu-stream.js')).modbusRtuCodecFor(
        flags.has('--request') ? 'request' : flags.has('--response') ? 'response' : 'either',
      ),
  },
};

function usage(): string {
  return [
    'usage: citygrid decode <protocol> [--hex | --text] <frame | ->',
    '  <frame> as text or hex (spaces allowed); "-" reads a captured stream from stdin',
    '',
    'protocols:',
    ...Object.entries(PROTOCOLS).flatMap(([id, p]) => [
      `  ${id.padEnd(10)} ${p.summary}`,
      ...Object.entries(p.flags ?? {}).map(([flag, what]) => `  ${''.padEnd(10)}   ${flag}: ${what}`),
    ]),
  ].join('\n');
}

const HEX = /^(?:[0-9a-fA-F]{2}[\s:]*)+$/;

/** Text unless it looks like hex (or --hex says so). */
export function parseFrameArg(text: string, mode: 'auto' | 'hex' | 'text'): Buffer {
  const trimmed = text.trim();
  if (mode === 'hex' || (mode === 'auto' && HEX.test(trimmed))) {
    const digits = trimmed.replace(/[\s:]/g, '');
    if (!/^([0-9a-fA-F]{2})+$/.test(digits)) throw new Error('not an even number of hex digits');
    return Buffer.from(digits, 'hex');
  }
  return Buffer.from(text, 'latin1');
}

/** Stdin as bytes; for a binary protocol a hex dump (what sniffers print) is read as hex. */
function readStdin(textual: boolean): Buffer {
  const raw = readFileSync(0);
  if (textual) return raw;
  const text = raw.toString('latin1');
  return HEX.test(text.trim()) ? parseFrameArg(text, 'hex') : raw;
}

function printError(err: DecodeError, frame: Buffer, textual: boolean): void {
  console.error(`error: ${err.reason}: ${err.message}`);
  if (err.offset !== undefined) {
    console.error(`  at offset ${err.offset}`);
    if (!textual) {
      // spaced hex with a caret under the offending byte (or just past the end for a truncated frame)
      console.error(`  ${[...frame].map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' ')}`);
      console.error(`  ${' '.repeat(Math.min(err.offset, frame.length) * 3)}^`);
    } else {
      const shown = frame.toString('latin1').replace(/[\r\n]+$/, '');
      const printable = shown.replace(/[^\x20-\x7e]/g, '.');
      console.error(`  ${printable}`);
      console.error(`  ${' '.repeat(Math.min(err.offset, printable.length))}^`);
    }
  }
  if (err.frameHex) console.error(`  frame hex: ${err.frameHex}`);
}

export async function run(args: string[]): Promise<number> {
  const [protocol, ...rest] = args;
  if (!protocol || protocol === '--help' || protocol === '-h') {
    console.error(usage());
    return 2;
  }
  const entry = PROTOCOLS[protocol];
  if (!entry) {
    console.error(`citygrid decode: unknown protocol "${protocol}"\n\n${usage()}`);
    return 2;
  }
  const mode = rest.includes('--hex') || !entry.textual ? 'hex' : rest.includes('--text') ? 'text' : 'auto';
  const flags = new Set(rest.filter((a) => Object.hasOwn(entry.flags ?? {}, a)));
  const parts = rest.filter((a) => a !== '--hex' && a !== '--text' && !flags.has(a));
  if (parts.length === 0) {
    console.error(usage());
    return 2;
  }
  let input: Buffer;
  try {
    input = parts[0] === '-' ? readStdin(entry.textual) : parseFrameArg(parts.join(mode === 'text' ? ' ' : ''), mode);
  } catch (err) {
    console.error(`citygrid decode: ${err instanceof Error ? err.message : String(err)}`);
    return 2;
  }
  const codec = await entry.load(flags);
  // One frame given on the command line; a stream (several lines, or stdin) goes through split.
  // A binary frame is a stream when split finds more than one frame in it; a single one is decoded
  // whole, so a truncated frame or stray leading bytes are reported rather than skipped.
  const isStream = entry.textual
    ? parts[0] === '-' || input.subarray(0, -2).includes(0x0a)
    : parts[0] === '-' || codec.split(input).frames.length > 1;
  const frames = !isStream
    ? { frames: [input], rest: Buffer.alloc(0), discarded: 0 }
    : entry.textual
      ? codec.split(input.at(-1) === 0x0a ? input : Buffer.concat([input, Buffer.from('\n')]))
      : codec.split(input);
  let failed = 0;
  for (const frame of frames.frames) {
    try {
      const decoded = codec.decode(frame);
      console.log(isStream ? JSON.stringify(decoded) : JSON.stringify(decoded, null, 2));
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      failed++;
      printError(err, frame, entry.textual);
    }
  }
  if (frames.discarded > 0) console.error(`note: ${frames.discarded} byte(s) outside any frame were discarded`);
  if (frames.rest.length > 0) console.error(`note: ${frames.rest.length} byte(s) of an incomplete frame at the end`);
  return failed > 0 ? 1 : 0;
}
