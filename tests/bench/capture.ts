/**
 * `npm run bench -- capture [--captures 50] [--preset <name>]`
 *
 * From `POST /api/cameras/<id>/capture` to the evidence stored at the hub, with the whole real path
 * (tests/e2e/evidence/camera-rig.ts): the hub, an edge process running the onvif-camera driver,
 * two simulated ONVIF cameras and a gst-rtsp-server. Path `snapshot`: the camera serves a snapshot
 * URI (HTTP Digest, then sharp stamp + thumbnail on the edge). Path `rtsp-frame`: the camera has
 * no snapshot URI; the driver grabs one frame from RTSP with ffmpeg. Captures run one after the
 * other; the latency of one is the hub's `storedAt` (index row committed after the file's fsync,
 * i.e. when the hub acks) minus the time just before the POST, same machine clock.
 * One JSON line per path on stdout (p50/p99/mean/max ms, mean bytes); progress on stderr.
 */

import { type CameraRig, RTSP_CAMERA, SNAPSHOT_CAMERA, startCameraRig } from '../e2e/evidence/camera-rig.js';
import { log, percentile } from './lib/proc.js';

interface Options {
  captures: number;
  preset?: string;
}

const USAGE = 'usage: npm run bench -- capture [--captures 50] [--preset <preset name or token>]';

function parseOptions(args: string[]): Options | undefined {
  const o: Options = { captures: 50 };
  for (let i = 0; i < args.length; i++) {
    const [name, inline] = (args[i] as string).split('=', 2) as [string, string | undefined];
    const value = inline ?? args[++i];
    if (name === '--captures' && Number.isInteger(Number(value)) && Number(value) > 0) o.captures = Number(value);
    else if (name === '--preset' && value) o.preset = value;
    else return undefined;
  }
  return o;
}

async function runPath(rig: CameraRig, path: string, device: string, o: Options): Promise<void> {
  const latencies: number[] = [];
  let bytes = 0;
  const body = { mode: 'snapshot', ...(o.preset ? { preset: o.preset } : {}) };
  // One warm-up capture (ffmpeg and sharp first use, the driver's connection): not counted.
  await rig.evidenceOf(await rig.capture(device, body), 30_000);
  for (let i = 0; i < o.captures; i++) {
    const t0 = Date.now();
    const commandId = await rig.capture(device, body);
    const evidenceId = await rig.evidenceOf(commandId, 30_000);
    const record = await rig.record(evidenceId);
    latencies.push(record.storedAt - t0);
    bytes += record.size;
    if ((i + 1) % 10 === 0) log(`  ${path}: ${i + 1}/${o.captures}`);
  }
  const mean = latencies.reduce((a, b) => a + b, 0) / latencies.length;
  console.log(
    JSON.stringify({
      bench: 'capture',
      path,
      captures: latencies.length,
      preset: o.preset ?? null,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      meanMs: Math.round(mean * 10) / 10,
      maxMs: Math.max(...latencies),
      meanBytes: Math.round(bytes / latencies.length),
    }),
  );
}

export async function main(args: string[]): Promise<number> {
  const o = parseOptions(args);
  if (!o) {
    console.error(USAGE);
    return 2;
  }
  log(`capture bench: ${o.captures} captures per path, POST capture -> evidence stored at the hub`);
  const rig = await startCameraRig();
  try {
    await runPath(rig, 'snapshot', SNAPSHOT_CAMERA, o);
    await runPath(rig, 'rtsp-frame', RTSP_CAMERA, o);
  } finally {
    await rig.stop();
  }
  return 0;
}
