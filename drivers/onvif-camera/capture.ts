/**
 * Snapshots and clips. A snapshot comes from the camera's snapshot URI (checked to be a complete
 * JPEG: markers here, then sharp must read it); when there is none or it fails, a frame is grabbed
 * from the RTSP stream with ffmpeg. A clip is N seconds of the RTSP stream, codec copied, as
 * fragmented MP4. Images are stamped and get a thumbnail; nothing is written to disk.
 */
import sharp from 'sharp';
import type { Logger } from '../sdk/log.js';
import { CameraError } from './errors.js';
import type { FfmpegRunner } from './ffmpeg.js';
import { clipArgs, frameArgs, redactUrl, withCredentials } from './ffmpeg-args.js';
import { checkJpeg } from './jpeg.js';
import { fetchSnapshot } from './snapshot-fetch.js';
import { stampImage } from './stamp.js';

export type CaptureVia = 'snapshot-uri' | 'rtsp';

export interface CaptureResult {
  mediaType: 'image/jpeg' | 'video/mp4';
  data: Buffer;
  thumbnail?: Buffer;
  ts: number;
  via: CaptureVia;
  ms: number;
  width?: number;
  height?: number;
  seconds?: number;
}

export interface CaptureSources {
  snapshotUri?: string;
  streamUri?: string;
}

export interface CaptureDeps {
  log: Logger;
  ffmpeg: FfmpegRunner;
  credentials: { username: string; password: string };
  now(): number;
  countError(code: string): void;
  snapshotTimeoutMs: number;
  /** Extra time ffmpeg gets for a clip beyond its length (connect, first keyframe). */
  clipStartTimeoutMs: number;
  maxEvidenceBytes: number;
}

/** sharp must decode the header: a second opinion on top of the marker check. */
async function readableJpeg(buf: Buffer): Promise<{ width: number; height: number }> {
  const shape = checkJpeg(buf);
  try {
    const meta = await sharp(buf).metadata();
    if (meta.format !== 'jpeg') throw new Error(`sharp reads it as ${meta.format}`);
    // decoding the pixels catches a JPEG whose entropy data is cut short but that still ends in FF D9
    await sharp(buf).stats();
  } catch (err) {
    throw new CameraError('SNAPSHOT_TRUNCATED', `snapshot JPEG cannot be decoded: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return shape;
}

export class Capturer {
  constructor(private readonly deps: CaptureDeps) {}

  private tooLarge(bytes: number): void {
    if (bytes > this.deps.maxEvidenceBytes)
      throw new CameraError(
        'EVIDENCE_TOO_LARGE',
        `evidence of ${bytes} bytes exceeds maxEvidenceBytes (${this.deps.maxEvidenceBytes})`,
      );
  }

  /** A JPEG via the snapshot URI, falling back to an RTSP frame. Throws the snapshot's error when both fail. */
  async snapshot(src: CaptureSources, label: (ts: number) => string): Promise<CaptureResult> {
    const started = Date.now();
    let jpeg: Buffer | undefined;
    let via: CaptureVia = 'snapshot-uri';
    let ts = this.deps.now();
    let snapshotError: CameraError | undefined;
    if (src.snapshotUri) {
      try {
        const got = await fetchSnapshot(src.snapshotUri, this.deps.credentials, {
          timeoutMs: this.deps.snapshotTimeoutMs,
          maxBytes: this.deps.maxEvidenceBytes,
        });
        checkJpeg(got.data, got.contentType);
        await readableJpeg(got.data);
        jpeg = got.data;
      } catch (err) {
        snapshotError =
          err instanceof CameraError ? err : new CameraError('SNAPSHOT_FAILED', String(err), { cause: err });
        if (snapshotError.code === 'EVIDENCE_TOO_LARGE') throw snapshotError;
      }
    }
    // Errors thrown from here are counted and logged by the command; errors absorbed here are counted here.
    if (!jpeg) {
      if (!src.streamUri)
        throw snapshotError ?? new CameraError('NO_MEDIA_SOURCE', 'camera has no snapshot URI and no stream');
      via = 'rtsp';
      ts = this.deps.now();
      try {
        jpeg = (await this.rtspFrame(src.streamUri)).data;
        await readableJpeg(jpeg);
      } catch (err) {
        const e = err instanceof CameraError ? err : new CameraError('FFMPEG_FAILED', String(err), { cause: err });
        if (!snapshotError) throw e;
        this.deps.countError(e.code);
        this.deps.log.warn({ code: e.code, reason: e.message }, 'RTSP fallback failed');
        throw snapshotError;
      }
      if (snapshotError) {
        this.deps.countError(snapshotError.code);
        this.deps.log.warn(
          { code: snapshotError.code, reason: snapshotError.message },
          'Snapshot refused; used an RTSP frame',
        );
      }
    }
    const stamped = await stampImage(jpeg, label(ts));
    this.tooLarge(stamped.data.length);
    return {
      mediaType: 'image/jpeg',
      data: stamped.data,
      thumbnail: stamped.thumbnail,
      ts,
      via,
      ms: Date.now() - started,
      width: stamped.width,
      height: stamped.height,
    };
  }

  private rtspFrame(streamUri: string) {
    const url = withCredentials(streamUri, this.deps.credentials.username, this.deps.credentials.password);
    this.deps.log.debug({ url: redactUrl(url) }, 'Grabbing a frame from RTSP');
    return this.deps.ffmpeg.run(frameArgs(url), {
      timeoutMs: this.deps.snapshotTimeoutMs,
      maxBytes: this.deps.maxEvidenceBytes,
    });
  }

  /** `seconds` of the RTSP stream as fragmented MP4. */
  async clip(src: CaptureSources, seconds: number): Promise<CaptureResult> {
    if (!src.streamUri) throw new CameraError('NO_MEDIA_SOURCE', 'camera has no RTSP stream for a clip');
    const started = Date.now();
    const ts = this.deps.now();
    const url = withCredentials(src.streamUri, this.deps.credentials.username, this.deps.credentials.password);
    const { data } = await this.deps.ffmpeg.run(clipArgs(url, seconds), {
      timeoutMs: seconds * 1000 + this.deps.clipStartTimeoutMs,
      maxBytes: this.deps.maxEvidenceBytes,
    });
    // an MP4 starts with a box whose type is ftyp
    if (data.length < 12 || data.subarray(4, 8).toString('latin1') !== 'ftyp')
      throw new CameraError('FFMPEG_FAILED', `ffmpeg output is not an MP4 (${data.length} bytes)`);
    this.tooLarge(data.length);
    return { mediaType: 'video/mp4', data, ts, via: 'rtsp', ms: Date.now() - started, seconds };
  }
}
