/** Options of the `onvif-camera` driver: strict, every field described with its default. */
import { z } from 'zod';
import { durationOption } from '../sdk/options.js';

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const onvifCameraOptionsSchema = z
  .object({
    url: z
      .string()
      .url()
      .describe('Device service URL of the camera, e.g. "http://192.168.1.64/onvif/device_service". Required.'),
    username: z
      .string()
      .min(1)
      .describe('ONVIF user (WS-UsernameToken; also used for snapshot Digest auth and RTSP). Required.'),
    password: z
      .union([z.string().min(1), z.number()])
      .transform(String)
      .describe('Password of that user. A secret: write it as "${ENV_VAR}" so the file holds none. Required.'),
    profile: z
      .string()
      .optional()
      .describe(
        'Media profile token or name to capture from. Default: the profile the camera lists first for its video source.',
      ),
    connectTimeout: durationOption()
      .prefault('10s')
      .describe('Budget for connecting (clock, services, profiles) before the start counts as failed. Default "10s".'),
    requestTimeout: durationOption()
      .prefault('10s')
      .describe(
        'Socket timeout of one SOAP request (event pulls wait longer, as the camera holds them). Default "10s".',
      ),
    snapshotTimeout: durationOption()
      .prefault('5s')
      .describe(
        'Time one snapshot may take: the HTTP fetch, or the ffmpeg frame grab before it is killed. Default "5s".',
      ),
    clipMaxSeconds: z
      .number()
      .positive()
      .max(600)
      .default(30)
      .describe('Longest clip a capture command may ask for, seconds. Default 30.'),
    clipStartTimeout: durationOption()
      .prefault('10s')
      .describe(
        'Time ffmpeg gets beyond the clip length (RTSP connect, first keyframe) before it is killed. Default "10s".',
      ),
    ffmpegPath: z
      .string()
      .optional()
      .describe(
        'ffmpeg binary. Default: $FFMPEG_PATH, else the ffmpeg-static binary when installed, else "ffmpeg" on PATH.',
      ),
    settleTimeout: durationOption()
      .prefault('10s')
      .describe('Time a PTZ move to a preset may take (GetStatus MOVING) before the capture fails. Default "10s".'),
    settlePoll: durationOption()
      .prefault('200ms')
      .describe('How often PTZ GetStatus is asked while waiting for a move to finish. Default "200ms".'),
    maxEvidenceBytes: z
      .number()
      .int()
      .positive()
      .default(8 * 1024 * 1024)
      .describe('Largest snapshot or clip sent as evidence, bytes; larger ones are refused. Default 8388608 (8 MiB).'),
    events: z
      .boolean()
      .default(true)
      .describe('Subscribe to motion, tamper and analytics events (PullPoint). Default true.'),
    eventRetry: durationOption()
      .prefault('1s')
      .describe('First wait before re-creating a lost event subscription; doubles up to 60 s. Default "1s".'),
    timeZone: z
      .string()
      .refine(isTimeZone, 'an IANA time zone such as "Asia/Shanghai" or "UTC"')
      .default('Asia/Shanghai')
      .describe('IANA time zone of the time stamped on images (the city\'s). Default "Asia/Shanghai".'),
  })
  .strict();

export type OnvifCameraOptions = z.output<typeof onvifCameraOptionsSchema>;
