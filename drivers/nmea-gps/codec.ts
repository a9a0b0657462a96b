/**
 * NMEA 0183 codec: a byte stream of `$..*hh\r\n` sentences <-> typed RMC/GGA frames.
 * Pure: no I/O, no clock, no logging. Refusals are DecodeErrors, nothing else is thrown.
 * Facts and worked sentences: ../shared/domain/3-nmea0183.md.
 */
import type { FrameCodec, SplitResult } from '../sdk/driver.js';
import { DecodeError } from '../sdk/errors.js';

/** [NMEA 0183 §5.3] at most 82 characters including `$` and CR LF; receivers overshoot, so we tolerate up to this. */
export const MAX_SENTENCE_CHARS = 120;

const DOLLAR = 0x24;
const LF = 0x0a;
const CR = 0x0d;
const KNOTS_TO_KMH = 1.852;

/** Recommended minimum data (RMC). Absent fields are `undefined`, never NaN. */
export interface RmcFrame {
  type: 'RMC';
  /** Two-letter talker id: GP, GN, BD, GB, GL, GA, ... */
  talker: string;
  /** UTC time of day of the fix, ms since 00:00. */
  timeOfDayMs?: number;
  /** UTC date + time of the fix, ms since epoch; only when both are present. */
  ts?: number;
  /** `A` data valid, `V` void / receiver warning. An empty status is read as `V`. */
  status: 'A' | 'V';
  /** WGS-84 degrees, negative south. */
  lat?: number;
  /** WGS-84 degrees, negative west. */
  lon?: number;
  speedKnots?: number;
  speedKmh?: number;
  /** Course over ground, degrees true. */
  courseDeg?: number;
  /** Magnetic variation, degrees, negative west. */
  magneticVariationDeg?: number;
  /** NMEA ≥ 2.3 mode indicator: A D E M S N (F R on RTK receivers). */
  mode?: string;
  /** NMEA ≥ 4.1 navigational status: S C U V. */
  navStatus?: string;
  /** Status A, mode not N, and a position present. */
  valid: boolean;
}

/** Global positioning fix data (GGA). Has a time of day but no date. */
export interface GgaFrame {
  type: 'GGA';
  talker: string;
  timeOfDayMs?: number;
  lat?: number;
  lon?: number;
  /** 0 none, 1 GPS, 2 DGPS, 3 PPS, 4 RTK fixed, 5 RTK float, 6 dead reckoning, 7 manual, 8 simulation. Empty reads as 0. */
  fixQuality: number;
  satellites?: number;
  hdop?: number;
  /** Above mean sea level, metres. */
  altitudeM?: number;
  /** Geoid separation, metres (ellipsoid height = altitude + separation). */
  geoidSeparationM?: number;
  dgpsAgeS?: number;
  dgpsStation?: string;
  /** Fix quality above 0 and a position present. */
  valid: boolean;
}

export type NmeaFrame = RmcFrame | GgaFrame;

/** XOR of every character strictly between `$` and `*`, as two uppercase hex digits. */
export function nmeaChecksum(body: string): string {
  let x = 0;
  for (let i = 0; i < body.length; i++) x ^= body.charCodeAt(i);
  return x.toString(16).toUpperCase().padStart(2, '0');
}

/**
 * Frames are lines starting at `$` and ending at LF (CR LF or LF alone). Bytes outside a line
 * are discarded and counted. A `$` inside a line starts a new sentence: the cut-off part before
 * it is handed on as a frame so decode refuses it with a reason. A line longer than
 * MAX_SENTENCE_CHARS is handed on cut to MAX_SENTENCE_CHARS + 1 bytes (decode refuses it as
 * too-long) and the rest of it is discarded, so `rest` never grows past one sentence.
 */
export function splitNmea(buf: Buffer): SplitResult {
  const frames: Buffer[] = [];
  let discarded = 0;
  let i = 0;
  while (i < buf.length) {
    const start = buf.indexOf(DOLLAR, i);
    if (start === -1) {
      discarded += buf.length - i;
      return { frames, rest: Buffer.alloc(0), discarded };
    }
    discarded += start - i;
    let end = start + 1;
    while (end < buf.length && buf[end] !== LF && buf[end] !== DOLLAR && end - start <= MAX_SENTENCE_CHARS + 1) end++;
    if (end - start > MAX_SENTENCE_CHARS + 1) {
      frames.push(Buffer.from(buf.subarray(start, end)));
      i = end;
      // skip the remainder of the over-long line up to its LF or the next `$`
      while (i < buf.length && buf[i] !== LF && buf[i] !== DOLLAR) {
        i++;
        discarded++;
      }
      continue;
    }
    if (end === buf.length) return { frames, rest: Buffer.from(buf.subarray(start)), discarded };
    let lineEnd = end;
    if (lineEnd > start && buf[lineEnd - 1] === CR) lineEnd--;
    frames.push(Buffer.from(buf.subarray(start, lineEnd)));
    i = buf[end] === LF ? end + 1 : end;
  }
  return { frames, rest: Buffer.alloc(0), discarded };
}

/** One comma-separated field with its character offset inside the sentence (for error reports). */
interface Field {
  text: string;
  offset: number;
}

class Fields {
  constructor(
    private readonly fields: Field[],
    private readonly sentence: string,
  ) {}

  get count(): number {
    return this.fields.length;
  }

  private at(i: number): Field {
    return this.fields[i] ?? { text: '', offset: this.sentence.length };
  }

  text(i: number): string | undefined {
    const t = this.at(i).text;
    return t === '' ? undefined : t;
  }

  fail(i: number, what: string): never {
    const f = this.at(i);
    throw new DecodeError('bad-field', `field ${i} (${what}): unreadable value "${f.text}"`, this.sentence, f.offset);
  }

  number(i: number, what: string): number | undefined {
    const t = this.text(i);
    if (t === undefined) return undefined;
    if (!/^[-+]?(\d+\.?\d*|\.\d+)$/.test(t)) this.fail(i, what);
    return Number(t);
  }

  integer(i: number, what: string): number | undefined {
    const t = this.text(i);
    if (t === undefined) return undefined;
    if (!/^\d+$/.test(t)) this.fail(i, what);
    return Number(t);
  }

  /** hhmmss(.sss) -> ms since midnight. */
  timeOfDay(i: number): number | undefined {
    const t = this.text(i);
    if (t === undefined) return undefined;
    const m = /^(\d{2})(\d{2})(\d{2}(?:\.\d+)?)$/.exec(t);
    if (!m) this.fail(i, 'UTC time hhmmss.ss');
    const [h, min, s] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (h > 23 || min > 59 || s >= 61) this.fail(i, 'UTC time hhmmss.ss');
    return Math.round(((h * 60 + min) * 60 + s) * 1000);
  }

  /** ddmmyy -> ms since epoch of that UTC midnight. Two-digit years: 80–99 are 19xx (the classic 1994 vectors), else 20xx. */
  date(i: number): number | undefined {
    const t = this.text(i);
    if (t === undefined) return undefined;
    const m = /^(\d{2})(\d{2})(\d{2})$/.exec(t);
    if (!m) this.fail(i, 'date ddmmyy');
    const [d, mo, yy] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const year = yy >= 80 ? 1900 + yy : 2000 + yy;
    const ms = Date.UTC(year, mo - 1, d);
    if (mo < 1 || mo > 12 || d < 1 || new Date(ms).getUTCDate() !== d) this.fail(i, 'date ddmmyy');
    return ms;
  }

  /**
   * (d)ddmm.mmmm + hemisphere -> signed decimal degrees [3-nmea0183.md §3.5]. Degrees and minutes
   * are cut from the text, not from a float, so 3954.52152 gives exactly 39 + 54.52152/60.
   */
  coordinate(i: number, axis: 'lat' | 'lon'): number | undefined {
    const t = this.text(i);
    const hemi = this.text(i + 1);
    if (t === undefined && hemi === undefined) return undefined;
    const what = axis === 'lat' ? 'latitude ddmm.mmmm' : 'longitude dddmm.mmmm';
    if (t === undefined) this.fail(i, what);
    const m = /^(\d{1,3})(\d{2}(?:\.\d+)?)$/.exec(t);
    if (!m) this.fail(i, what);
    const minutes = Number(m[2]);
    const deg = Number(m[1]) + minutes / 60;
    if (minutes >= 60 || deg > (axis === 'lat' ? 90 : 180)) this.fail(i, what);
    const [pos, neg] = axis === 'lat' ? ['N', 'S'] : ['E', 'W'];
    if (hemi !== pos && hemi !== neg) this.fail(i + 1, `hemisphere ${pos}/${neg}`);
    return round(hemi === neg ? -deg : deg, 8);
  }
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  const r = Math.round(x * f) / f;
  return r === 0 ? 0 : r;
}

function splitFields(sentence: string, body: string): Fields {
  const out: Field[] = [];
  let offset = 1;
  for (const text of body.split(',')) {
    out.push({ text, offset });
    offset += text.length + 1;
  }
  return new Fields(out, sentence);
}

function requireFields(f: Fields, min: number, type: string, sentence: string): void {
  if (f.count < min)
    throw new DecodeError(
      'short-frame',
      `${type} needs ${min - 1} fields, got ${f.count - 1}`,
      sentence,
      sentence.indexOf('*'),
    );
}

// [3-nmea0183.md §3.2] $--RMC,time,status,lat,N/S,lon,E/W,SOG,COG,date,magvar,E/W,mode,navstatus
function decodeRmc(talker: string, f: Fields, sentence: string): RmcFrame {
  requireFields(f, 10, 'RMC', sentence);
  const timeOfDayMs = f.timeOfDay(1);
  const statusText = f.text(2) ?? 'V';
  if (statusText !== 'A' && statusText !== 'V') f.fail(2, 'status A/V');
  const status: 'A' | 'V' = statusText;
  const lat = f.coordinate(3, 'lat');
  const lon = f.coordinate(5, 'lon');
  const speedKnots = f.number(7, 'speed over ground, knots');
  const courseDeg = f.number(8, 'course over ground');
  const dateMs = f.date(9);
  const variation = f.number(10, 'magnetic variation');
  const variationHemi = f.text(11);
  if (variation !== undefined && variationHemi !== 'E' && variationHemi !== 'W') f.fail(11, 'variation E/W');
  const mode = f.text(12);
  if (mode !== undefined && !/^[A-Z]$/.test(mode)) f.fail(12, 'mode indicator');
  const navStatus = f.text(13);
  if (navStatus !== undefined && !/^[A-Z]$/.test(navStatus)) f.fail(13, 'navigational status');

  const frame: RmcFrame = {
    type: 'RMC',
    talker,
    status,
    valid: status === 'A' && mode !== 'N' && lat !== undefined && lon !== undefined,
  };
  if (timeOfDayMs !== undefined) frame.timeOfDayMs = timeOfDayMs;
  if (dateMs !== undefined && timeOfDayMs !== undefined) frame.ts = dateMs + timeOfDayMs;
  if (lat !== undefined) frame.lat = lat;
  if (lon !== undefined) frame.lon = lon;
  if (speedKnots !== undefined) {
    frame.speedKnots = speedKnots;
    frame.speedKmh = round(speedKnots * KNOTS_TO_KMH, 3);
  }
  if (courseDeg !== undefined) frame.courseDeg = courseDeg;
  if (variation !== undefined) frame.magneticVariationDeg = variationHemi === 'W' ? -variation : variation;
  if (mode !== undefined) frame.mode = mode;
  if (navStatus !== undefined) frame.navStatus = navStatus;
  return frame;
}

// [3-nmea0183.md §3.3] $--GGA,time,lat,N/S,lon,E/W,quality,numSV,HDOP,alt,M,geoidSep,M,dgpsAge,dgpsStation
function decodeGga(talker: string, f: Fields, sentence: string): GgaFrame {
  requireFields(f, 10, 'GGA', sentence);
  const timeOfDayMs = f.timeOfDay(1);
  const lat = f.coordinate(2, 'lat');
  const lon = f.coordinate(4, 'lon');
  const fixQuality = f.integer(6, 'fix quality') ?? 0;
  if (fixQuality > 9) f.fail(6, 'fix quality 0-8');
  const satellites = f.integer(7, 'satellites in use');
  const hdop = f.number(8, 'HDOP');
  const altitudeM = f.number(9, 'altitude');
  const geoidSeparationM = f.number(11, 'geoid separation');
  const dgpsAgeS = f.number(13, 'DGPS age');
  const dgpsStation = f.text(14);

  const frame: GgaFrame = {
    type: 'GGA',
    talker,
    fixQuality,
    valid: fixQuality > 0 && lat !== undefined && lon !== undefined,
  };
  if (timeOfDayMs !== undefined) frame.timeOfDayMs = timeOfDayMs;
  if (lat !== undefined) frame.lat = lat;
  if (lon !== undefined) frame.lon = lon;
  if (satellites !== undefined) frame.satellites = satellites;
  if (hdop !== undefined) frame.hdop = hdop;
  if (altitudeM !== undefined) frame.altitudeM = altitudeM;
  if (geoidSeparationM !== undefined) frame.geoidSeparationM = geoidSeparationM;
  if (dgpsAgeS !== undefined) frame.dgpsAgeS = dgpsAgeS;
  if (dgpsStation !== undefined) frame.dgpsStation = dgpsStation;
  return frame;
}

/** Decodes one sentence (with or without its CR LF). Throws DecodeError only. */
export function decodeNmea(frame: Buffer): NmeaFrame {
  let sentence = frame.toString('latin1');
  while (sentence.endsWith('\n') || sentence.endsWith('\r')) sentence = sentence.slice(0, -1);
  if (sentence.length > MAX_SENTENCE_CHARS)
    throw new DecodeError(
      'too-long',
      `sentence of ${sentence.length} characters, at most ${MAX_SENTENCE_CHARS} accepted`,
      sentence,
      MAX_SENTENCE_CHARS,
    );
  if (!sentence.startsWith('$')) throw new DecodeError('bad-frame', 'sentence does not start with "$"', sentence, 0);
  // [NMEA 0183 §5.3.1] checksum = XOR of every character strictly between `$` and `*`
  const star = sentence.lastIndexOf('*');
  if (star === -1)
    throw new DecodeError(
      'bad-checksum',
      'no "*hh" checksum: truncated sentence, or a talker sending none',
      sentence,
      sentence.length,
    );
  const given = sentence.slice(star + 1);
  const body = sentence.slice(1, star);
  const computed = nmeaChecksum(body);
  if (!/^[0-9A-Fa-f]{2}$/.test(given))
    throw new DecodeError(
      'bad-checksum',
      `checksum must be two hex digits after "*", got "${given}" (expected ${computed})`,
      sentence,
      star + 1,
    );
  if (given.toUpperCase() !== computed)
    throw new DecodeError(
      'bad-checksum',
      `checksum mismatch: expected ${computed}, got ${given.toUpperCase()}`,
      sentence,
      star + 1,
    );
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (c < 0x20 || c > 0x7e)
      throw new DecodeError('bad-frame', `non-printable byte 0x${c.toString(16)} in sentence`, sentence, i + 1);
  }

  const fields = splitFields(sentence, body);
  const address = fields.text(0) ?? '';
  // [NMEA 0183 §5.3.3] proprietary sentences start with P and a 3-letter maker code
  if (address.startsWith('P')) throw new DecodeError('unknown-type', `proprietary sentence ${address}`, sentence, 1);
  if (!/^[A-Z]{2}[A-Z]{3}$/.test(address))
    throw new DecodeError('bad-frame', `address field "${address}" is not talker + type`, sentence, 1);
  const talker = address.slice(0, 2);
  const type = address.slice(2);
  if (type === 'RMC') return decodeRmc(talker, fields, sentence);
  if (type === 'GGA') return decodeGga(talker, fields, sentence);
  throw new DecodeError('unknown-type', `sentence type ${type} is not decoded (RMC and GGA are)`, sentence, 3);
}

export const nmeaCodec: FrameCodec<NmeaFrame> = {
  id: 'nmea-0183/v1',
  split: splitNmea,
  decode: decodeNmea,
};
