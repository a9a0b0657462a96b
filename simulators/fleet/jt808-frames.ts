/**
 * The fleet simulator's own JT/T 808 framing (../shared/domain/4-jt808.md §4.2–4.3), written apart
 * from drivers/jt808 on purpose: a bug shared by terminal and server would cancel itself out
 * (DESIGN §3). Only what a terminal needs: build frames in the 2013 or 2019 header layout, and
 * split and read the platform's answers (0x8001, 0x8100).
 */

export type Jt808Version = 2013 | 2019;

export interface FrameHeader {
  msgId: number;
  /** Terminal phone as digits; left-padded with 0 to 12 (2013) or 20 (2019) digits. */
  phone: string;
  serial: number;
  version: Jt808Version;
}

export interface PlatformFrame extends FrameHeader {
  body: Buffer;
}

const FLAG = 0x7e;
const ESC = 0x7d;
/** Body attributes bit 14: the 2019 header. */
const VERSION_FLAG = 0x4000;
/** The first (and so far only) 2019 protocol version byte. */
const PROTOCOL_VERSION_2019 = 1;

export class FrameError extends Error {}

/** XOR of every byte: the check code, over header + body before escaping. */
export function xorCheck(bytes: Uint8Array): number {
  let x = 0;
  for (const b of bytes) x ^= b;
  return x;
}

/** 7E -> 7D 02, 7D -> 7D 01. */
export function escapeBytes(raw: Uint8Array): Buffer {
  const out: number[] = [];
  for (const b of raw) {
    if (b === FLAG) out.push(ESC, 0x02);
    else if (b === ESC) out.push(ESC, 0x01);
    else out.push(b);
  }
  return Buffer.from(out);
}

/** 7D 02 -> 7E, 7D 01 -> 7D; a 7D followed by anything else is broken framing. */
export function unescapeBytes(escaped: Uint8Array): Buffer {
  const out: number[] = [];
  for (let i = 0; i < escaped.length; i++) {
    const b = escaped[i] as number;
    if (b !== ESC) {
      out.push(b);
      continue;
    }
    const next = escaped[++i];
    if (next === 0x02) out.push(FLAG);
    else if (next === 0x01) out.push(ESC);
    else throw new FrameError(`7D followed by ${next === undefined ? 'the end' : next.toString(16)}`);
  }
  return Buffer.from(out);
}

/** Packs decimal digits two per byte, left-padded with 0 to `bytes` × 2 digits. */
export function bcd(digits: string, bytes: number): Buffer {
  if (!/^\d*$/.test(digits) || digits.length > bytes * 2)
    throw new RangeError(`"${digits}" is not at most ${bytes * 2} decimal digits`);
  const padded = digits.padStart(bytes * 2, '0');
  const out = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) out[i] = Number.parseInt(padded.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function bcdDigits(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

export const phoneBytes = (version: Jt808Version) => (version === 2019 ? 10 : 6);

/** One complete frame, flags included: header + body, check code, escaped. */
export function encodeFrame(h: FrameHeader, body: Buffer): Buffer {
  if (body.length > 0x3ff) throw new RangeError(`body of ${body.length} bytes exceeds 1023`);
  const v2019 = h.version === 2019;
  const head = Buffer.alloc(v2019 ? 17 : 12);
  head.writeUInt16BE(h.msgId, 0);
  head.writeUInt16BE(body.length | (v2019 ? VERSION_FLAG : 0), 2);
  let at = 4;
  if (v2019) head[at++] = PROTOCOL_VERSION_2019;
  bcd(h.phone, phoneBytes(h.version)).copy(head, at);
  at += phoneBytes(h.version);
  head.writeUInt16BE(h.serial & 0xffff, at);
  const raw = Buffer.concat([head, body]);
  return Buffer.concat([Buffer.of(FLAG), escapeBytes(Buffer.concat([raw, Buffer.of(xorCheck(raw))])), Buffer.of(FLAG)]);
}

/** Decodes the bytes between two flags (without them). Sub-packaged answers are not expected from a platform. */
export function decodeFrame(inner: Uint8Array): PlatformFrame {
  const raw = unescapeBytes(inner);
  if (raw.length < 13) throw new FrameError(`frame of ${raw.length} bytes is too short`);
  const check = raw[raw.length - 1] as number;
  const data = raw.subarray(0, raw.length - 1);
  if (xorCheck(data) !== check) throw new FrameError(`check code ${check.toString(16)} does not match`);
  const attrs = data.readUInt16BE(2);
  const version: Jt808Version = attrs & VERSION_FLAG ? 2019 : 2013;
  if (attrs & 0x2000) throw new FrameError('sub-packaged platform message');
  let at = version === 2019 ? 5 : 4;
  const phone = bcdDigits(data.subarray(at, at + phoneBytes(version)));
  at += phoneBytes(version);
  const serial = data.readUInt16BE(at);
  at += 2;
  const length = attrs & 0x3ff;
  if (data.length - at !== length) throw new FrameError(`body is ${data.length - at} bytes, header says ${length}`);
  return { msgId: data.readUInt16BE(0), phone, serial, version, body: Buffer.from(data.subarray(at)) };
}

/**
 * Splits a TCP byte stream on 7E flags. Feed chunks; whole frames come out (inner bytes, no
 * flags), the unfinished tail stays. Bytes before the first flag are noise and dropped.
 */
export class FrameSplitter {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly maxBytes = 4096) {}

  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const frames: Buffer[] = [];
    let start = this.pending.indexOf(FLAG);
    if (start < 0) {
      this.pending = Buffer.alloc(0);
      return frames;
    }
    for (;;) {
      const end = this.pending.indexOf(FLAG, start + 1);
      if (end < 0) break;
      // adjacent flags (end of one frame, start of the next) give an empty segment: skip it
      if (end > start + 1) frames.push(Buffer.from(this.pending.subarray(start + 1, end)));
      start = end;
      if (end + 1 < this.pending.length && this.pending[end + 1] === FLAG) start = end + 1;
    }
    this.pending = this.pending.subarray(start);
    if (this.pending.length > this.maxBytes) this.pending = Buffer.alloc(0);
    return frames;
  }
}

/** 0x8001 platform general reply. */
export interface GeneralReply {
  replySerial: number;
  replyMsgId: number;
  /** 0 ok, 1 fail, 2 message error, 3 unsupported, 4 alarm handling confirmed. */
  result: number;
}

export function readGeneralReply(body: Buffer): GeneralReply {
  if (body.length < 5) throw new FrameError(`0x8001 body of ${body.length} bytes`);
  return { replySerial: body.readUInt16BE(0), replyMsgId: body.readUInt16BE(2), result: body[4] as number };
}

/** 0x8100 register reply; the auth code is there only when result is 0. */
export interface RegisterReply {
  replySerial: number;
  /** 0 ok, 1 vehicle already registered, 2 no such vehicle, 3 terminal already registered, 4 no such terminal. */
  result: number;
  authCode?: string;
}

export function readRegisterReply(body: Buffer): RegisterReply {
  if (body.length < 3) throw new FrameError(`0x8100 body of ${body.length} bytes`);
  const result = body[2] as number;
  // auth codes are ASCII in practice; GBK would need a decoder the simulator does not carry
  return {
    replySerial: body.readUInt16BE(0),
    result,
    authCode: result === 0 ? body.subarray(3).toString('latin1') : undefined,
  };
}
