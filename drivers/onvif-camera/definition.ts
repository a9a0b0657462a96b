/**
 * The `onvif-camera` driver: an ONVIF Profile S camera on the gateway's network, through the
 * `onvif` package. It reports availability, turns motion/tamper/analytics notifications into
 * Events, and answers the hub's `capture` command: move to a preset, wait for the head to settle,
 * take a snapshot or a clip, hand it over as evidence with the command's id.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type {
  DeviceCommand,
  DeviceCommandResult,
  DriverInstance,
  NetworkDriverContext,
  NetworkDriverDefinition,
} from '../sdk/driver.js';
import { StartupError } from '../sdk/errors.js';
import { type CaptureResult, Capturer, type CaptureSources } from './capture.js';
import { CameraError, classifyOnvifError } from './errors.js';
import { PullPointLoop } from './event-loop.js';
import { FfmpegRunner, resolveFfmpeg } from './ffmpeg.js';
import { OnvifClient } from './onvif-client.js';
import { type OnvifCameraOptions, onvifCameraOptionsSchema } from './options.js';
import { stampLabel } from './stamp.js';

export type { OnvifCameraOptions } from './options.js';

const captureArgsSchema = z
  .object({
    preset: z.union([z.string().min(1), z.number()]).optional(),
    mode: z.enum(['snapshot', 'clip']).default('snapshot'),
    seconds: z.number().positive().optional(),
  })
  .passthrough();

interface Connected {
  profile: string;
  ptz: boolean;
  sources: CaptureSources;
}

export function createOnvifCamera(ctx: NetworkDriverContext<OnvifCameraOptions>): DriverInstance {
  const { options: o, device, clock } = ctx;
  // the agent's logger already carries device, driver and component
  const log = ctx.log;
  const countError = (code: string) => ctx.countError?.(code);
  const ffmpegBinary = resolveFfmpeg(o.ffmpegPath);
  const ffmpeg = new FfmpegRunner(ffmpegBinary.path);
  const credentials = { username: o.username, password: o.password };
  let client: OnvifClient | undefined;
  let connected: Connected | undefined;
  let loop: PullPointLoop | undefined;
  let stopped = false;
  let queue: Promise<unknown> = Promise.resolve();
  const capturer = new Capturer({
    log,
    ffmpeg,
    credentials,
    now: () => clock.now(),
    countError,
    snapshotTimeoutMs: o.snapshotTimeout,
    clipStartTimeoutMs: o.clipStartTimeout,
    maxEvidenceBytes: o.maxEvidenceBytes,
  });

  async function connect(): Promise<Connected> {
    client?.destroy();
    const c = new OnvifClient({
      url: o.url,
      username: o.username,
      password: o.password,
      requestTimeoutMs: o.requestTimeout,
      connectTimeoutMs: o.connectTimeout,
    });
    client = c;
    const profiles = await c.connect();
    const wanted = o.profile;
    const chosen = wanted
      ? profiles.find((p) => p.token === wanted || p.name === wanted)
      : (profiles.find((p) => p.token === c.defaultProfileToken()) ?? profiles[0]);
    if (!chosen)
      throw new CameraError(
        'CAMERA_FAULT',
        wanted
          ? `camera has no profile "${wanted}" (has ${profiles.map((p) => p.token).join(', ')})`
          : 'camera lists no media profile',
      );
    const [snapshotUri, streamUri] = [await c.snapshotUri(chosen.token), await c.streamUri(chosen.token)];
    const result = {
      profile: chosen.token,
      ptz: chosen.ptz && c.hasPtz(),
      sources: { ...(snapshotUri ? { snapshotUri } : {}), ...(streamUri ? { streamUri } : {}) },
    };
    log.info(
      {
        profile: result.profile,
        ptz: result.ptz,
        snapshotUri: snapshotUri !== undefined,
        rtsp: streamUri !== undefined,
      },
      'Camera connected',
    );
    return result;
  }

  async function waitSettled(c: OnvifClient, profile: string): Promise<{ x: number; y: number; zoom: number }> {
    const deadline = clock.now() + o.settleTimeout;
    // the camera may not report MOVING yet right after GotoPreset: ask at least twice
    for (let polls = 0; ; polls++) {
      const s = await c.ptzStatus(profile);
      if (!s.moving && polls > 0) return s.position;
      if (clock.now() >= deadline)
        throw new CameraError('PTZ_NOT_SETTLED', `PTZ still moving after settleTimeout (${o.settleTimeout} ms)`);
      await new Promise((r) => setTimeout(r, o.settlePoll));
    }
  }

  async function capture(cmd: DeviceCommand): Promise<DeviceCommandResult> {
    const parsed = captureArgsSchema.safeParse(cmd.args);
    if (!parsed.success)
      throw new CameraError('BAD_COMMAND', `bad capture arguments: ${parsed.error.issues[0]?.message}`);
    const args = parsed.data;
    if (args.mode === 'clip' && (args.seconds ?? 0) > o.clipMaxSeconds)
      throw new CameraError(
        'BAD_COMMAND',
        `clip of ${args.seconds} s is longer than clipMaxSeconds (${o.clipMaxSeconds})`,
      );
    if (!connected || !client) connected = await connect();
    const c = client as OnvifClient;
    const conn = connected;
    let preset: { token: string; name: string } | undefined;
    let position: { x: number; y: number; zoom: number } | undefined;
    if (args.preset !== undefined) {
      if (!conn.ptz) throw new CameraError('BAD_COMMAND', 'camera profile has no PTZ: cannot go to a preset');
      const presets = await c.presets(conn.profile);
      const want = String(args.preset);
      const token = presets.has(want) ? want : [...presets].find(([, name]) => name === want)?.[0];
      if (token === undefined) throw new CameraError('BAD_COMMAND', `camera has no preset "${want}"`);
      preset = { token, name: presets.get(token) ?? token };
      await c.gotoPreset(conn.profile, token);
      position = await waitSettled(c, conn.profile);
    }
    const label = (ts: number) =>
      stampLabel({
        ts,
        timeZone: o.timeZone,
        camera: device.id,
        ...(device.asset ? { asset: device.asset } : {}),
        ...(preset ? { preset: preset.name } : {}),
      });
    const r: CaptureResult =
      args.mode === 'clip'
        ? await capturer.clip(conn.sources, args.seconds ?? Math.min(5, o.clipMaxSeconds))
        : await capturer.snapshot(conn.sources, label);
    const sha256 = createHash('sha256').update(r.data).digest('hex');
    const meta = {
      via: r.via,
      profile: conn.profile,
      ...(preset ? { preset: preset.name, presetToken: preset.token } : {}),
      ...(position ? { position } : {}),
      ...(r.width ? { width: r.width, height: r.height } : {}),
      ...(r.seconds ? { seconds: r.seconds } : {}),
      captureMs: r.ms,
    };
    if (stopped) throw new CameraError('CAMERA_UNREACHABLE', 'driver stopped during the capture');
    ctx.emitEvidence({
      ts: r.ts,
      mediaType: r.mediaType,
      data: r.data,
      ...(r.thumbnail ? { thumbnail: r.thumbnail } : {}),
      ...(cmd.id ? { commandId: cmd.id } : {}),
      meta,
    });
    return { mediaType: r.mediaType, bytes: r.data.length, sha256, ts: r.ts, ...meta };
  }

  return {
    async start() {
      stopped = false;
      log.info({ ffmpeg: ffmpegBinary.path, source: ffmpegBinary.source }, 'Using ffmpeg');
      try {
        connected = await connect();
      } catch (err) {
        const e = classifyOnvifError(err);
        countError(e.code);
        client?.destroy();
        // a wrong password is retried too: the camera may be reconfigured without restarting the gateway
        throw new StartupError(`${e.code}: ${e.message}`, true, { cause: e });
      }
      if (o.events && client) {
        loop = new PullPointLoop({
          client,
          log,
          countError,
          retry: { min: o.eventRetry, max: 60_000 },
          setOnline: (online, reason) => ctx.setAvailability(online, reason),
          emit: (e) => ctx.emitEvent({ type: e.type, severity: e.severity, ts: e.ts ?? clock.now(), data: e.data }),
        });
        loop.start();
      }
    },

    async stop() {
      if (stopped) return;
      stopped = true;
      const l = loop;
      loop = undefined;
      const stopping = l?.stop();
      await client?.unsubscribe(1000);
      client?.destroy();
      await stopping;
      await ffmpeg.stopAll();
    },

    async command(cmd) {
      if (cmd.name !== 'capture')
        throw new CameraError('BAD_COMMAND', `onvif-camera takes "capture", not "${cmd.name}"`);
      const run = queue.then(() => capture(cmd));
      // one capture at a time per camera: a second preset move would spoil the first capture
      queue = run.catch(() => undefined);
      try {
        return await run;
      } catch (err) {
        const e = err instanceof CameraError ? err : classifyOnvifError(err);
        countError(e.code);
        log.warn({ code: e.code, reason: e.message, command: cmd.id }, 'Capture failed');
        if (e.code === 'CAMERA_UNREACHABLE') connected = undefined;
        throw e;
      }
    },
  };
}

export const onvifCamera: NetworkDriverDefinition<OnvifCameraOptions> = {
  id: 'onvif-camera',
  title: 'ONVIF camera (Profile S): events, snapshots, clips, PTZ presets',
  access: 'network',
  kinds: ['camera'],
  optionsSchema: onvifCameraOptionsSchema,
  fields: [],
  create: createOnvifCamera,
};
