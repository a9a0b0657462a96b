import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  decodeMediaPayload,
  encodeMediaItem,
  MediaWireError,
  mediaPayload,
  sha256Hex,
} from '../../../drivers/sdk/media-wire.js';

const uplink = {
  v: 1 as const,
  gateway: 'gw-xh-01',
  bootId: 'boot-a',
  seq: 7,
  firstUnacked: 5,
  sentAt: 1_700_000_000_000,
};

function item(data = randomBytes(5000), thumbnail: Buffer | null = randomBytes(300)) {
  return encodeMediaItem({
    device: 'XH-CAM01',
    kind: 'camera',
    asset: 'BR-XH-001',
    ts: 1_700_000_000_123,
    mediaType: 'image/jpeg',
    data,
    ...(thumbnail ? { thumbnail } : {}),
    commandId: 'cmd-1',
    meta: { preset: 'deck', width: 640 },
  });
}

function reasonOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof MediaWireError) return err.reason;
    throw err;
  }
  return undefined;
}

describe('media wire', () => {
  it('round-trips data, thumbnail and metadata byte for byte, with the uplink fields in the header', () => {
    const data = randomBytes(100_000);
    const thumbnail = randomBytes(2000);
    const { item: stored, meta } = item(data, thumbnail);
    expect(meta).toMatchObject({ size: 100_000, sha256: sha256Hex(data), thumbnail: { size: 2000 } });
    const decoded = decodeMediaPayload(mediaPayload(uplink, stored));
    expect(decoded.header).toEqual({ ...uplink, evidence: meta });
    expect(decoded.data.equals(data)).toBe(true);
    expect(decoded.thumbnail?.equals(thumbnail)).toBe(true);
  });

  it('carries evidence without a thumbnail', () => {
    const data = randomBytes(1000);
    const decoded = decodeMediaPayload(mediaPayload(uplink, item(data, null).item));
    expect(decoded.thumbnail).toBeUndefined();
    expect(decoded.header.evidence.thumbnail).toBeUndefined();
    expect(decoded.data.equals(data)).toBe(true);
  });

  it('is a binary frame: the payload is the data plus a small header, not base64', () => {
    const data = randomBytes(1_000_000);
    const payload = mediaPayload(uplink, item(data, null).item);
    expect(payload.subarray(0, 4).toString('latin1')).toBe('CGM1');
    expect(payload.length - data.length).toBeLessThan(1000);
  });

  it('refuses what is not a frame, a bad header, truncated bytes and a wrong checksum, with a reason', () => {
    const payload = mediaPayload(uplink, item().item);
    expect(reasonOf(() => decodeMediaPayload(Buffer.from('{"v":1}')))).toBe('bad-frame');
    const hugeHeader = Buffer.from(payload);
    hugeHeader.writeUInt32BE(0xffffff, 4);
    expect(reasonOf(() => decodeMediaPayload(hugeHeader))).toBe('bad-frame');
    expect(reasonOf(() => decodeMediaPayload(payload.subarray(0, payload.length - 1)))).toBe('size-mismatch');
    const flipped = Buffer.from(payload);
    const at = flipped.length - 400; // inside the data, before the 300-byte thumbnail
    flipped[at] = (flipped[at] ?? 0) ^ 0xff;
    expect(reasonOf(() => decodeMediaPayload(flipped))).toBe('checksum-mismatch');
    const noGateway = mediaPayload({ ...uplink, gateway: 'bad/topic' }, item().item);
    expect(reasonOf(() => decodeMediaPayload(noGateway))).toBe('bad-header');
    const garbage = Buffer.concat([Buffer.from('CGM1'), Buffer.from([0, 0, 0, 3]), Buffer.from('{{{')]);
    expect(reasonOf(() => decodeMediaPayload(garbage))).toBe('bad-header');
  });
});
