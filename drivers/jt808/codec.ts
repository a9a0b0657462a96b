/**
 * JT/T 808 (2013 and 2019) framing, header and check code (../shared/domain/4-jt808.md §4.2–4.3).
 * Pure: bytes in, frames out. A frame is `7E | header | body | check | 7E` with 7E/7D escaped
 * inside; offsets in a DecodeError point into the frame as received (escaped, with its flags).
 */
import type { FrameCodec, SplitResult } from '../sdk/driver.js';
import { DecodeError } from '../sdk/errors.js';
import { type Body, BodyError, decodeBody, encodeBody } from './codec-bodies.js';

export type { AdditionalItem, Body, Location } from './codec-bodies.js';
export { encodeLocation } from './codec-bodies.js';

/** Longest frame split keeps waiting for: a 2019 header with sub-package, 1023 body bytes, all escaped. */
export const MAX_FRAME_BYTES = 2 + 2 * (21 + 1023 + 1);

export interface Jt808Header {
  msgId: number;
  /** 2019 layout (body attributes bit 14). */
  v2019: boolean;
  /** Protocol version byte, 2019 only. */
  protocolVersion?: number;
  /** Encryption bits 12..10 (0 none, 1 RSA). */
  encryption: number;
  /** Body attributes bit 15, reserved; kept so the frame re-encodes as received. */
  reserved: boolean;
  /** Terminal phone, all BCD digits (12 in 2013, 20 in 2019), zero-padded: the device key. */
  phone: string;
  serial: number;
  /** Present when the sub-package flag is set. */
  packet?: { total: number; index: number };
}

export interface Jt808Frame {
  header: Jt808Header;
  /** Decoded body; a sub-package or an encrypted body is kept raw. */
  body: Body;
}

/** XOR of every byte: the check code of header+body. */
export function jt808Check(bytes: Uint8Array): number {
  let x = 0;
  for (const b of bytes) x ^= b;
  return x;
}

/** Escapes 7E and 7D (7E -> 7D 02, 7D -> 7D 01). */
export function escapeJt808(raw: Uint8Array): Buffer {
  const out: number[] = [];
  for (const b of raw) {
    if (b === 0x7e) out.push(0x7d, 0x02);
    else if (b === 0x7d) out.push(0x7d, 0x01);
    else out.push(b);
  }
  return Buffer.from(out);
}

/** Splits a stream on 7E flags; empty segments (7E 7E) are skipped, bytes before the first flag discarded. */
export function splitJt808(buf: Buffer): SplitResult {
  const frames: Buffer[] = [];
  let discarded = 0;
  let start = buf.indexOf(0x7e);
  if (start < 0) {
    return { frames, rest: Buffer.alloc(0), discarded: buf.length };
  }
  discarded += start;
  for (;;) {
    const end = buf.indexOf(0x7e, start + 1);
    if (end < 0) break;
    if (end === start + 1) {
      start = end; // 7E 7E: the end of one frame and the start of the next, or an empty segment
      continue;
    }
    frames.push(buf.subarray(start, end + 1));
    start = end; // the closing flag also opens the next frame
  }
  const rest = buf.subarray(start);
  // an opening flag with more bytes behind it than any frame can hold: noise, not a frame
  if (rest.length > MAX_FRAME_BYTES) return { frames, rest: Buffer.alloc(0), discarded: discarded + rest.length };
  return { frames, rest: Buffer.from(rest), discarded };
}

const hex2 = (v: number): string => v.toString(16).toUpperCase().padStart(2, '0');

/** Decodes one frame with its 7E flags. Throws DecodeError. */
export function decodeJt808(frame: Buffer): Jt808Frame {
  const fail = (reason: ConstructorParameters<typeof DecodeError>[0], message: string, offset: number): never => {
    throw new DecodeError(reason, message, frame, offset);
  };
  if (frame.length < 2) fail('short-frame', `frame of ${frame.length} byte(s) cannot hold two 7E flags`, frame.length);
  if (frame[0] !== 0x7e) fail('bad-frame', `frame starts with ${hex2(frame[0] as number)}, not 7E`, 0);
  if (frame[frame.length - 1] !== 0x7e) fail('short-frame', 'frame does not end with 7E', frame.length);
  if (frame.length > MAX_FRAME_BYTES)
    fail('too-long', `frame of ${frame.length} bytes exceeds ${MAX_FRAME_BYTES}`, MAX_FRAME_BYTES);
  // unescape, remembering where each raw byte came from
  const raw: number[] = [];
  const pos: number[] = [];
  for (let i = 1; i < frame.length - 1; i++) {
    const b = frame[i] as number;
    if (b === 0x7e) fail('bad-frame', '7E inside a frame', i);
    if (b === 0x7d) {
      const n = frame[i + 1] as number;
      if (i + 1 >= frame.length - 1 || (n !== 0x01 && n !== 0x02))
        fail('bad-frame', `7D followed by ${i + 1 >= frame.length - 1 ? 'the end flag' : hex2(n)}, not 01 or 02`, i);
      raw.push(n === 0x02 ? 0x7e : 0x7d);
      pos.push(i);
      i++;
    } else {
      raw.push(b);
      pos.push(i);
    }
  }
  const at = (k: number): number => (k < pos.length ? (pos[k] as number) : frame.length - 1);
  const bytes = Buffer.from(raw);
  if (bytes.length < 13)
    fail(
      'short-frame',
      `${bytes.length} byte(s) after unescaping, a 2013 header and check code need 13`,
      at(bytes.length),
    );
  const check = bytes[bytes.length - 1] as number;
  const content = bytes.subarray(0, -1);
  const want = jt808Check(content);
  if (want !== check)
    fail('bad-checksum', `check code mismatch: expected ${hex2(want)}, got ${hex2(check)}`, at(bytes.length - 1));
  const props = content.readUInt16BE(2);
  const v2019 = (props & 0x4000) !== 0;
  const sub = (props & 0x2000) !== 0;
  const phoneAt = v2019 ? 5 : 4;
  const phoneLen = v2019 ? 10 : 6;
  const headerLen = (v2019 ? 17 : 12) + (sub ? 4 : 0);
  if (content.length < headerLen)
    fail(
      'short-frame',
      `header needs ${headerLen} bytes (${v2019 ? 2019 : 2013}${sub ? ', sub-package' : ''}), got ${content.length}`,
      at(content.length),
    );
  let phone = '';
  for (let k = phoneAt; k < phoneAt + phoneLen; k++) {
    const v = content[k] as number;
    if (v >> 4 > 9 || (v & 15) > 9) fail('bad-field', `terminal phone byte ${hex2(v)} is not BCD`, at(k));
    phone += hex2(v);
  }
  const header: Jt808Header = {
    msgId: content.readUInt16BE(0),
    v2019,
    encryption: (props >> 10) & 7,
    reserved: (props & 0x8000) !== 0,
    phone,
    serial: content.readUInt16BE(phoneAt + phoneLen),
  };
  if (v2019) header.protocolVersion = content[4] as number;
  if (sub) {
    const total = content.readUInt16BE(headerLen - 4);
    const index = content.readUInt16BE(headerLen - 2);
    if (index < 1 || index > total)
      fail('out-of-range', `packet index ${index} outside 1..${total}`, at(headerLen - 2));
    header.packet = { total, index };
  }
  const declared = props & 0x3ff;
  const actual = content.length - headerLen;
  if (actual < declared)
    fail('short-frame', `body attributes announce ${declared} byte(s), frame holds ${actual}`, at(content.length));
  if (actual > declared)
    fail('too-long', `body attributes announce ${declared} byte(s), frame holds ${actual}`, at(headerLen + declared));
  const bodyBytes = content.subarray(headerLen);
  if (sub || header.encryption !== 0) return { header, body: { kind: 'raw', hex: bodyBytes.toString('hex') } };
  try {
    return { header, body: decodeBody(header.msgId, bodyBytes, v2019) };
  } catch (e) {
    if (e instanceof BodyError) return fail(e.reason, e.message, at(headerLen + e.at));
    throw e;
  }
}

/** Builds header+body, the check code, escapes and flags. Throws RangeError for a body over 1023 bytes. */
export function encodeJt808(frame: Jt808Frame): Buffer {
  const h = frame.header;
  const body = encodeBody(frame.body);
  if (body.length > 0x3ff) throw new RangeError(`body of ${body.length} bytes exceeds 1023`);
  const digits = h.v2019 ? 20 : 12;
  const phone = h.phone.padStart(digits, '0');
  if (!new RegExp(`^[0-9]{${digits}}$`).test(phone)) throw new RangeError(`phone "${h.phone}" is not ${digits} digits`);
  const props =
    (h.reserved ? 0x8000 : 0) |
    (h.v2019 ? 0x4000 : 0) |
    (h.packet ? 0x2000 : 0) |
    ((h.encryption & 7) << 10) |
    body.length;
  const parts: Buffer[] = [Buffer.from([h.msgId >> 8, h.msgId & 0xff, props >> 8, props & 0xff])];
  if (h.v2019) parts.push(Buffer.from([h.protocolVersion ?? 1]));
  parts.push(Buffer.from(phone, 'hex'), Buffer.from([h.serial >> 8, h.serial & 0xff]));
  if (h.packet)
    parts.push(Buffer.from([h.packet.total >> 8, h.packet.total & 0xff, h.packet.index >> 8, h.packet.index & 0xff]));
  parts.push(body);
  const content = Buffer.concat(parts);
  return Buffer.concat([
    Buffer.from([0x7e]),
    escapeJt808(Buffer.concat([content, Buffer.from([jt808Check(content)])])),
    Buffer.from([0x7e]),
  ]);
}

type HeaderFields = Omit<Jt808Header, 'v2019' | 'encryption' | 'reserved' | 'msgId'> & { v2019?: boolean };
const frameOf = (msgId: number, h: HeaderFields, body: Body): Buffer =>
  encodeJt808({ header: { encryption: 0, reserved: false, v2019: false, ...h, msgId }, body });

/** 0x8001 platform general reply (result 0 ok, 1 fail, 2 message error, 3 unsupported, 4 alarm confirmed). */
export const encodePlatformReply = (h: HeaderFields, replySerial: number, replyMsgId: number, result: number): Buffer =>
  frameOf(0x8001, h, { kind: 'general-reply', replySerial, replyMsgId, result });

/** 0x8100 register reply; the auth code is sent only when result = 0. */
export const encodeRegisterReply = (h: HeaderFields, replySerial: number, result: number, authCode: string): Buffer =>
  frameOf(0x8100, h, {
    kind: 'register-reply',
    replySerial,
    result,
    authCodeHex: result === 0 ? Buffer.from(authCode, 'latin1').toString('hex') : '',
    authCode: result === 0 ? authCode : '',
  });

/** 0x0001 terminal general reply. */
export const encodeTerminalReply = (h: HeaderFields, replySerial: number, replyMsgId: number, result: number): Buffer =>
  frameOf(0x0001, h, { kind: 'general-reply', replySerial, replyMsgId, result });

/** 0x0002 heartbeat. */
export const encodeHeartbeat = (h: HeaderFields): Buffer => frameOf(0x0002, h, { kind: 'empty' });

/** Any terminal message: register, auth, location, batch (the body as decodeJt808 gives it). */
export const encodeTerminalMessage = (msgId: number, h: HeaderFields, body: Body): Buffer => frameOf(msgId, h, body);

export const jt808Codec: FrameCodec<Jt808Frame, Jt808Frame> = {
  id: 'jt808',
  split: splitJt808,
  decode: decodeJt808,
  encode: encodeJt808,
};
