/**
 * `npm run bench -- camera-driver [--snapshots 20] [--frames 10] [--clips 3] [--clip-seconds 2]`
 *
 * The onvif-camera driver's capture paths against a simulated camera on loopback, without the
 * edge and hub (`npm run bench -- capture` measures the whole path to the hub's store):
 * connect; a snapshot via the snapshot URI (HTTP Digest, JPEG checks, stamp, thumbnail); a frame
 * grabbed from RTSP with ffmpeg (gst-rtsp-server); a clip; a capture at a preset (move + settle).
 * Prints one JSON line per path with p50/p99/max in ms.
 */
import { parseArgs } from 'node:util';
import { createOnvifCamera } from '../../drivers/onvif-camera/definition.js';
import { onvifCameraOptionsSchema } from '../../drivers/onvif-camera/options.js';
import { SimulatedCamera } from '../../simulators/camera/camera.js';
import { startRtspServer } from '../../simulators/camera/rtsp.js';
import { networkContext } from '../drivers/onvif-camera/network-context.js';

function emit(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ bench: 'camera-driver', ...line })}\n`);
}

function stats(path: string, ms: number[]): void {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)] ?? 0;
  emit({ path, n: s.length, p50: q(0.5), p99: q(0.99), max: s.at(-1) ?? 0 });
}

export async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      snapshots: { type: 'string', default: '20' },
      frames: { type: 'string', default: '10' },
      clips: { type: 'string', default: '3' },
      'clip-seconds': { type: 'string', default: '2' },
    },
  });
  const rtsp = await startRtspServer(['bench']);
  const password = `bench-${process.pid}`;
  const cams: SimulatedCamera[] = [];
  try {
    const good = await SimulatedCamera.start({
      name: 'BENCH',
      username: 'admin',
      password,
      streamUri: rtsp.url('bench'),
      moveMs: 800,
    });
    const noSnap = await SimulatedCamera.start({
      name: 'BENCH-RTSP',
      username: 'admin',
      password,
      streamUri: rtsp.url('bench'),
      snapshot: 'none',
    });
    cams.push(good, noSnap);
    const make = (cam: SimulatedCamera) =>
      createOnvifCamera(
        networkContext(
          onvifCameraOptionsSchema.parse({
            url: cam.deviceUrl,
            username: 'admin',
            password,
            events: false,
            settlePoll: '100ms',
          }),
        ),
      );
    let t = Date.now();
    const a = make(good);
    await a.start();
    emit({ path: 'connect', ms: Date.now() - t });
    const b = make(noSnap);
    await b.start();
    const timed = async (n: number, fn: () => Promise<unknown>) => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        t = Date.now();
        await fn();
        out.push(Date.now() - t);
      }
      return out;
    };
    stats(
      'snapshot-uri',
      await timed(Number(values.snapshots), () => a.command?.({ name: 'capture', args: {} }) as Promise<unknown>),
    );
    stats(
      'rtsp-frame',
      await timed(Number(values.frames), () => b.command?.({ name: 'capture', args: {} }) as Promise<unknown>),
    );
    const secs = Number(values['clip-seconds']);
    stats(
      `clip-${secs}s`,
      await timed(
        Number(values.clips),
        () => a.command?.({ name: 'capture', args: { mode: 'clip', seconds: secs } }) as Promise<unknown>,
      ),
    );
    let flip = false;
    stats(
      'preset-then-snapshot (move 800 ms)',
      await timed(3, () => {
        flip = !flip;
        return a.command?.({ name: 'capture', args: { preset: flip ? '2' : '3' } }) as Promise<unknown>;
      }),
    );
    await a.stop();
    await b.stop();
  } finally {
    await Promise.allSettled(cams.map((c) => c.stop()));
    await rtsp.stop();
  }
  return 0;
}
