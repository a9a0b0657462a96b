/**
 * The wire format of evidence on `cg/v1/<district>/<gateway>/media` (DESIGN §4.2). A clip is a few
 * MB: base64 in JSON would add a third and cost a parse of the whole payload, so a media message is
 * a small binary frame instead:
 *
 *   "CGM1" | uint32 BE header length | header (UTF-8 JSON) | data bytes | thumbnail bytes
 *
 * The header carries the uplink fields every sequenced message has (gateway, bootId, seq,
 * firstUnacked, sentAt) and `evidence`: what it is, its size and sha256 (the hub checks both), and
 * the thumbnail's size. The edge stores the same frame with only `evidence` (and `part`) in the
 * header (a media *item*) and rewrites the header when it sends it; the bytes after the header are
 * never copied through JSON. One item is one message, under MAX_UPLINK_BYTES: evidence larger
 * than PART_BYTES is split into parts (`part: { index, count, offset, size, sha256 }`, each part
 * its own item, message and seq; the thumbnail rides with part 0), which the hub stores as they
 * come and assembles once all are there. Above the configured maximum the edge refuses it
 * (EvidenceTooLargeError).
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { CitygridError } from './errors.js';
import { idSchema } from './reading.js';
import { MAX_UPLINK_BYTES } from './wire.js';

const MAGIC = Buffer.from('CGM1', 'latin1');
const PREFIX_BYTES = MAGIC.length + 4;
/** A header is metadata only; anything larger is not one of ours. */
export const MAX_MEDIA_HEADER_BYTES = 64 * 1024;
/** Body bytes of one message (part) at most: what fits one uplink message with its header. */
export const PART_BYTES = MAX_UPLINK_BYTES - MAX_MEDIA_HEADER_BYTES;
/** A thumbnail must leave room for data in part 0. */
export const MAX_THUMBNAIL_BYTES = 1024 * 1024;

export const MEDIA_TYPES = ['image/jpeg', 'video/mp4'] as const;
export type MediaType = (typeof MEDIA_TYPES)[number];

const sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex sha256');

export const evidenceMetaSchema = z
  .object({
    device: idSchema,
    kind: z.string().min(1).max(64),
    asset: idSchema.optional(),
    /** When the image or the clip's first frame was taken, ms since epoch (device clock). */
    ts: z.number().int().positive(),
    mediaType: z.enum(MEDIA_TYPES),
    size: z.number().int().positive(),
    sha256: sha256Schema,
    thumbnail: z.object({ mediaType: z.literal('image/jpeg'), size: z.number().int().positive() }).optional(),
    commandId: z.string().min(1).max(128).optional(),
    meta: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
export type EvidenceMeta = z.infer<typeof evidenceMetaSchema>;

/** One part of evidence split across messages; `evidence.size`/`sha256` are the whole data's. */
export const mediaPartSchema = z
  .object({
    index: z.number().int().nonnegative(),
    count: z.number().int().min(2).max(4096),
    offset: z.number().int().nonnegative(),
    size: z.number().int().positive(),
    sha256: sha256Schema,
  })
  .strict()
  .refine((p) => p.index < p.count, 'index must be below count');
export type MediaPart = z.infer<typeof mediaPartSchema>;

export const mediaHeaderSchema = z
  .object({
    v: z.literal(1),
    gateway: idSchema,
    bootId: z.string().min(1).max(64),
    seq: z.number().int().nonnegative(),
    firstUnacked: z.number().int().nonnegative().optional(),
    sentAt: z.number().int().positive().optional(),
    evidence: evidenceMetaSchema,
    part: mediaPartSchema.optional(),
  })
  .strict();
export type MediaHeader = z.infer<typeof mediaHeaderSchema>;

/** Uplink fields the sender adds to a stored item. */
export type MediaUplinkFields = Omit<MediaHeader, 'evidence' | 'part'>;

/** Why a media frame was refused. */
export type MediaWireReason = 'bad-frame' | 'bad-header' | 'size-mismatch' | 'checksum-mismatch';

export class MediaWireError extends CitygridError {
  readonly reason: MediaWireReason;
  constructor(reason: MediaWireReason, message: string) {
    super('media-wire', message);
    this.name = 'MediaWireError';
    this.reason = reason;
  }
}

/** Evidence above the configured maximum: refused at the edge, never sent. */
export class EvidenceTooLargeError extends CitygridError {
  constructor(
    readonly device: string,
    readonly bytes: number,
    readonly maxBytes: number,
  ) {
    super('evidence-too-large', `evidence of ${bytes} bytes from ${device} exceeds the maximum of ${maxBytes}`);
    this.name = 'EvidenceTooLargeError';
  }
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function frame(header: unknown, body: readonly Uint8Array[]): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.allocUnsafe(PREFIX_BYTES);
  MAGIC.copy(prefix, 0);
  prefix.writeUInt32BE(json.length, MAGIC.length);
  return Buffer.concat([prefix, json, ...body]);
}

/** Splits a frame into its parsed (unvalidated) header and the bytes after it. */
function unframe(buf: Buffer): { header: unknown; body: Buffer } {
  if (buf.length < PREFIX_BYTES || !buf.subarray(0, MAGIC.length).equals(MAGIC))
    throw new MediaWireError('bad-frame', 'not a media frame (no CGM1 prefix)');
  const length = buf.readUInt32BE(MAGIC.length);
  if (length > MAX_MEDIA_HEADER_BYTES || PREFIX_BYTES + length > buf.length)
    throw new MediaWireError('bad-frame', `header length ${length} does not fit the frame of ${buf.length} bytes`);
  let header: unknown;
  try {
    header = JSON.parse(buf.toString('utf8', PREFIX_BYTES, PREFIX_BYTES + length));
  } catch {
    throw new MediaWireError('bad-header', 'header is not JSON');
  }
  return { header, body: buf.subarray(PREFIX_BYTES + length) };
}

export interface EvidenceInput {
  device: string;
  kind: string;
  asset?: string;
  ts: number;
  mediaType: MediaType;
  data: Buffer;
  thumbnail?: Buffer;
  commandId?: string;
  meta?: Record<string, unknown>;
}

/** The metadata of evidence (what every part's header carries). */
function evidenceMeta(e: EvidenceInput): EvidenceMeta {
  return {
    device: e.device,
    kind: e.kind,
    ...(e.asset ? { asset: e.asset } : {}),
    ts: e.ts,
    mediaType: e.mediaType,
    size: e.data.length,
    sha256: sha256Hex(e.data),
    ...(e.thumbnail && e.thumbnail.length > 0
      ? { thumbnail: { mediaType: 'image/jpeg' as const, size: e.thumbnail.length } }
      : {}),
    ...(e.commandId ? { commandId: e.commandId } : {}),
    ...(e.meta ? { meta: e.meta } : {}),
  };
}

/** The stored form of evidence that fits one message: a frame whose header is `{ evidence }`. */
export function encodeMediaItem(e: EvidenceInput): { item: Buffer; meta: EvidenceMeta } {
  const meta = evidenceMeta(e);
  const body = meta.thumbnail && e.thumbnail ? [e.data, e.thumbnail] : [e.data];
  return { item: frame({ evidence: meta }, body), meta };
}

/**
 * The stored items of evidence: one when data and thumbnail fit `partBytes`, else parts of the
 * data (the thumbnail with part 0), each at most `partBytes` of body.
 */
export function encodeMediaItems(e: EvidenceInput, partBytes = PART_BYTES): { items: Buffer[]; meta: EvidenceMeta } {
  const thumb = e.thumbnail && e.thumbnail.length > 0 ? e.thumbnail : undefined;
  if (e.data.length + (thumb?.length ?? 0) <= partBytes) {
    const { item, meta } = encodeMediaItem(e);
    return { items: [item], meta };
  }
  const meta = evidenceMeta(e);
  const first = partBytes - (thumb?.length ?? 0);
  if (first <= 0) throw new RangeError(`thumbnail of ${thumb?.length} bytes leaves no room in a part`);
  const bounds: [number, number][] = [[0, Math.min(first, e.data.length)]];
  for (let at = first; at < e.data.length; at += partBytes) bounds.push([at, Math.min(at + partBytes, e.data.length)]);
  const items = bounds.map(([from, to], index) => {
    const bytes = e.data.subarray(from, to);
    const part: MediaPart = { index, count: bounds.length, offset: from, size: bytes.length, sha256: sha256Hex(bytes) };
    return frame({ evidence: meta, part }, index === 0 && thumb ? [bytes, thumb] : [bytes]);
  });
  return { items, meta };
}

/** The uplink payload of a stored item: the uplink fields join its header, the bytes stay. */
export function mediaPayload(uplink: MediaUplinkFields, item: Buffer): Buffer {
  const { header, body } = unframe(item);
  return frame({ ...uplink, ...(header as object) }, [body]);
}

export interface DecodedMedia {
  header: MediaHeader;
  /** The whole data, or this part's bytes when `header.part` is set. */
  data: Buffer;
  thumbnail?: Buffer;
}

/**
 * Parses and checks a media payload: header schema, sizes, and the sha256 of the data (of the
 * part's bytes for a part; the hub checks the whole once assembled). Throws MediaWireError.
 */
export function decodeMediaPayload(buf: Buffer): DecodedMedia {
  const { header: raw, body } = unframe(buf);
  const parsed = mediaHeaderSchema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const where = first?.path.length ? first.path.join('.') : '(root)';
    throw new MediaWireError('bad-header', `${where}: ${first?.message ?? 'invalid'}`);
  }
  const header = parsed.data;
  const { thumbnail } = header.evidence;
  const part = header.part;
  if (part && part.offset + part.size > header.evidence.size)
    throw new MediaWireError('bad-header', 'part lies beyond the evidence size');
  const size = part ? part.size : header.evidence.size;
  const sha256 = part ? part.sha256 : header.evidence.sha256;
  const withThumb = thumbnail !== undefined && (!part || part.index === 0);
  const expected = size + (withThumb ? (thumbnail?.size ?? 0) : 0);
  if (body.length !== expected)
    throw new MediaWireError('size-mismatch', `header announces ${expected} bytes, the frame carries ${body.length}`);
  const data = body.subarray(0, size);
  if (sha256Hex(data) !== sha256) throw new MediaWireError('checksum-mismatch', 'data does not match its sha256');
  return { header, data, ...(withThumb ? { thumbnail: body.subarray(size) } : {}) };
}
