/**
 * Is this a complete JPEG? Pure: checks the bytes only (SOI at the start, EOI at the end, a frame
 * header in between). sharp's metadata is the second opinion (capture.ts).
 */
import { CameraError } from './errors.js';

const SOI = [0xff, 0xd8];
const EOI = [0xff, 0xd9];

export interface JpegShape {
  width: number;
  height: number;
}

/** Reads the first SOFn header's size; undefined when none is found before the data ends. */
function frameSize(buf: Buffer): JpegShape | undefined {
  let i = 2;
  while (i + 4 <= buf.length) {
    if (buf[i] !== 0xff) return undefined;
    const marker = buf[i + 1] as number;
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    const len = buf.readUInt16BE(i + 2);
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC)
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (i + 9 > buf.length) return undefined;
      return { height: buf.readUInt16BE(i + 5), width: buf.readUInt16BE(i + 7) };
    }
    if (marker === 0xda) return undefined; // start of scan before any frame header
    i += 2 + len;
  }
  return undefined;
}

/**
 * Throws SNAPSHOT_NOT_JPEG when the bytes are not a JPEG at all (HTML, text) and SNAPSHOT_TRUNCATED
 * when a JPEG stops before its end marker. Returns the frame size.
 */
export function checkJpeg(buf: Buffer, contentType?: string): JpegShape {
  if (buf.length < 4 || buf[0] !== SOI[0] || buf[1] !== SOI[1]) {
    const head = buf
      .subarray(0, 40)
      .toString('latin1')
      .replace(/[^\x20-\x7e]/g, '.');
    throw new CameraError(
      'SNAPSHOT_NOT_JPEG',
      `snapshot is not a JPEG (${contentType ?? 'no content type'}, ${buf.length} bytes, starts "${head}")`,
    );
  }
  // Trailing padding after EOI is common (some firmwares pad to a block size): look at the last 64 bytes.
  const tail = buf.subarray(Math.max(2, buf.length - 64));
  let hasEoi = false;
  for (let i = tail.length - 2; i >= 0; i--)
    if (tail[i] === EOI[0] && tail[i + 1] === EOI[1]) {
      hasEoi = true;
      break;
    }
  if (!hasEoi) throw new CameraError('SNAPSHOT_TRUNCATED', `snapshot JPEG has no end marker (${buf.length} bytes)`);
  const size = frameSize(buf);
  if (!size || size.width === 0 || size.height === 0)
    throw new CameraError('SNAPSHOT_TRUNCATED', `snapshot JPEG has no frame header (${buf.length} bytes)`);
  return size;
}
