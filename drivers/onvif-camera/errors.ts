/**
 * Why a camera operation failed. Each code is a label of `citygrid_edge_device_errors_total` and
 * travels in the failed command's result, so the hub can tell a wrong password from a bad snapshot.
 */
import { CitygridError } from '../sdk/errors.js';

export type CameraErrorCode =
  /** The camera refused our credentials (SOAP NotAuthorized or HTTP 401 after Digest). */
  | 'CAMERA_AUTH_FAILED'
  /** The camera did not answer (refused, reset, timed out) or answered with something that is not ONVIF. */
  | 'CAMERA_UNREACHABLE'
  /** A SOAP fault other than auth (unknown preset, unsupported operation). */
  | 'CAMERA_FAULT'
  /** The snapshot URL answered with something that is not an image (an HTML login page). */
  | 'SNAPSHOT_NOT_JPEG'
  /** The snapshot was a JPEG cut short (no EOI marker, or sharp could not read it). */
  | 'SNAPSHOT_TRUNCATED'
  /** The snapshot URL failed at the HTTP level (status, timeout). */
  | 'SNAPSHOT_FAILED'
  /** The camera has neither a usable snapshot URI nor an RTSP stream. */
  | 'NO_MEDIA_SOURCE'
  /** ffmpeg produced nothing before its timeout and was killed. */
  | 'FFMPEG_TIMEOUT'
  /** ffmpeg exited with an error, or is not installed. */
  | 'FFMPEG_FAILED'
  /** The evidence is larger than maxEvidenceBytes. */
  | 'EVIDENCE_TOO_LARGE'
  /** The PTZ head did not report idle within settleTimeout. */
  | 'PTZ_NOT_SETTLED'
  /** A capture command with arguments we cannot honour. */
  | 'BAD_COMMAND';

export class CameraError extends CitygridError {
  declare readonly code: CameraErrorCode;
  constructor(code: CameraErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** Classifies an error thrown by the onvif package (plain Errors with messages or Node error codes). */
export function classifyOnvifError(err: unknown): CameraError {
  if (err instanceof CameraError) return err;
  const e = err as { message?: string; code?: string } | undefined;
  const message = e?.message ?? String(err);
  const lower = message.toLowerCase();
  if (
    lower.includes('not authorized') ||
    lower.includes('notauthorized') ||
    lower.includes('unauthorized') ||
    lower.includes('digest authentication failed')
  )
    return new CameraError('CAMERA_AUTH_FAILED', `camera refused the credentials: ${message}`, { cause: err });
  if (lower.startsWith('onvif soap fault')) return new CameraError('CAMERA_FAULT', message, { cause: err });
  return new CameraError('CAMERA_UNREACHABLE', `camera unreachable: ${e?.code ? `${e.code} ` : ''}${message}`, {
    cause: err,
  });
}
