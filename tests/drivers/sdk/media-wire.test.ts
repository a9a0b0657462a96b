import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  decodeMediaPayload,
  encodeMediaItem,
  encodeMediaItems,
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

  it('splits evidence larger than a part into parts: the thumbnail with part 0, each part checked on its own', () => {
    const data = randomBytes(10_000);
    const thumbnail = randomBytes(500);
    const input = { device: 'XH-CAM01', kind: 'camera', ts: 1_700_000_000_000, mediaType: 'video/mp4' as const };
    const { items, meta } = encodeMediaItems({ ...input, data, thumbnail }, 3000);
    expect(meta).toMatchObject({ size: 10_000, sha256: sha256Hex(data), thumbnail: { size: 500 } });
    const decoded = items.map((item, seq) => decodeMediaPayload(mediaPayload({ ...uplink, seq }, item)));
    expect(
      decoded.map((d) => [d.header.part?.index, d.header.part?.offset, d.data.length, d.thumbnail?.length]),
    ).toEqual([
      [0, 0, 2500, 500],
      [1, 2500, 3000, undefined],
      [2, 5500, 3000, undefined],
      [3, 8500, 1500, undefined],
    ]);
    expect(decoded.every((d) => d.header.part?.count === 4 && d.header.evidence.sha256 === meta.sha256)).toBe(true);
    expect(Buffer.concat(decoded.map((d) => d.data)).equals(data)).toBe(true);
    expect(decoded[0]?.thumbnail?.equals(thumbnail)).toBe(true);
    // What fits one part stays one item without a part header.
    const small = encodeMediaItems({ ...input, data: randomBytes(2000), thumbnail }, 3000);
    expect(small.items).toHaveLength(1);
    expect(decodeMediaPayload(mediaPayload(uplink, small.items[0] as Buffer)).header.part).toBeUndefined();
    // A part's bytes are checked against the part's own sha256.
    const tampered = Buffer.from(mediaPayload(uplink, items[2] as Buffer));
    const at = tampered.length - 10;
    tampered[at] = (tampered[at] ?? 0) ^ 1;
    expect(reasonOf(() => decodeMediaPayload(tampered))).toBe('checksum-mismatch');
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
