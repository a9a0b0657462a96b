/**
 * ffmpeg command lines for the two RTSP captures, and the choice of ffmpeg binary. Pure.
 *
 * The three analysis flags cut a frame grab from ~3.1 s to ~0.6 s (STACK.md): with them ffmpeg
 * starts decoding at the first keyframe instead of probing the stream for seconds.
 */

const FAST_START = ['-fpsprobesize', '0', '-analyzeduration', '0', '-probesize', '32'];

/** Reading an RTSP stream over TCP (interleaved: no UDP ports to open through a 4G router). */
const rtspInput = (rtspUrl: string) => [
  '-nostdin',
  '-loglevel',
  'error',
  '-rtsp_transport',
  'tcp',
  ...FAST_START,
  '-i',
  rtspUrl,
];

/** One JPEG frame from an RTSP stream on stdout. */
export function frameArgs(rtspUrl: string): string[] {
  return [...rtspInput(rtspUrl), '-frames:v', '1', '-f', 'image2pipe', '-c:v', 'mjpeg', 'pipe:1'];
}

/**
 * A clip of `seconds` as fragmented MP4 on stdout, codec copied (no re-encoding on a gateway CPU).
 * Fragmented because a pipe cannot be seeked back to write a faststart moov atom.
 */
export function clipArgs(rtspUrl: string, seconds: number): string[] {
  return [
    ...rtspInput(rtspUrl),
    '-t',
    String(seconds),
    '-map',
    '0:v:0',
    '-c',
    'copy',
    '-movflags',
    'frag_keyframe+empty_moov+default_base_moof',
    '-f',
    'mp4',
    'pipe:1',
  ];
}

export type FfmpegSource = 'config' | 'FFMPEG_PATH' | 'ffmpeg-static' | 'PATH';

/**
 * Which ffmpeg to run: the configured path, else $FFMPEG_PATH, else the ffmpeg-static binary (when
 * its install downloaded one), else `ffmpeg` on PATH.
 */
export function chooseFfmpeg(
  configured: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  ffmpegStatic: string | null | undefined,
): { path: string; source: FfmpegSource } {
  if (configured) return { path: configured, source: 'config' };
  if (env.FFMPEG_PATH) return { path: env.FFMPEG_PATH, source: 'FFMPEG_PATH' };
  if (ffmpegStatic) return { path: ffmpegStatic, source: 'ffmpeg-static' };
  return { path: 'ffmpeg', source: 'PATH' };
}

/** Puts the credentials into an RTSP URL that has none (cameras ask for the same user as ONVIF). */
export function withCredentials(rtspUrl: string, username: string, password: string): string {
  const u = new URL(rtspUrl);
  if (u.username) return rtspUrl;
  u.username = encodeURIComponent(username);
  u.password = encodeURIComponent(password);
  return u.toString();
}

/** The URL with its password replaced, for logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}
