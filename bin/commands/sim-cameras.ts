/**
 * `citygrid sim cameras ...` (or `sim camera`, as issue 5 names it): simulated ONVIF cameras on
 * 127.0.0.1 until SIGINT/SIGTERM. Registered in sim.ts. Prints each camera's URLs, then a line "ready".
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { CameraFleetOptions, SnapshotMode } from '../../simulators/camera/index.js';

export const CAMERAS_USAGE = `usage: citygrid sim cameras [--count N] [--port P] [--user U] [--password P] [--scene TEXT ...]
                 [--no-snapshot-uri | --snapshot jpeg|html|truncated] [--rtsp] [--discovery] [--move-ms MS]
       (citygrid sim camera is the same command)
  --count           number of cameras, default 1 (CAM-01, CAM-02, ...)
  --port            first camera's port on 127.0.0.1 (the others follow); default: free ports
  --user            ONVIF user, default "admin"
  --password        its password; default: generated at start and printed
  --scene           what a camera watches, drawn on its snapshots (Latin text; DejaVu has no CJK);
                    give it once per camera, in order (e.g. --scene "BR-XH-001 bridge deck")
  --no-snapshot-uri cameras have no snapshot URI (GetSnapshotUri faults): clients must grab RTSP frames
  --snapshot        what the snapshot URL serves: jpeg (default), html (a login page), truncated (half a JPEG)
  --rtsp            serve a live H.264 test pattern per camera from gst-rtsp-server (python3-gi)
  --discovery       answer WS-Discovery probes on UDP 3702 (use inside a network namespace)
  --move-ms         how long a PTZ move to a preset takes, default 1500
Control (loopback, no auth): POST <camera>/sim/event?kind=motion|tamper|analytics&value=true|false|<id>,
  POST <camera>/sim/reboot?downMs=2000, POST <camera>/sim/snapshot?mode=jpeg|html|truncated|none`;

function parse(args: string[]): CameraFleetOptions | 'help' {
  const { values } = parseArgs({
    args,
    options: {
      count: { type: 'string' },
      port: { type: 'string' },
      user: { type: 'string' },
      password: { type: 'string' },
      scene: { type: 'string', multiple: true },
      'no-snapshot-uri': { type: 'boolean' },
      snapshot: { type: 'string' },
      rtsp: { type: 'boolean' },
      discovery: { type: 'boolean' },
      'move-ms': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const int = (name: string, text: string | undefined, min: number, max: number) => {
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer in [${min}, ${max}]`);
    return n;
  };
  if (values['no-snapshot-uri'] && values.snapshot) throw new Error('give --no-snapshot-uri or --snapshot, not both');
  if (values.snapshot !== undefined && !['jpeg', 'html', 'truncated'].includes(values.snapshot))
    throw new Error('--snapshot must be jpeg, html or truncated');
  const snapshot = (values['no-snapshot-uri'] ? 'none' : values.snapshot) as SnapshotMode | undefined;
  const moveMs = int('move-ms', values['move-ms'], 0, 60_000);
  const count = int('count', values.count, 1, 64) ?? 1;
  const scenes = values.scene ?? [];
  if (scenes.length > count) throw new Error(`${scenes.length} --scene for ${count} camera(s)`);
  return {
    count,
    port: int('port', values.port, 1, 65_535) ?? 0,
    username: values.user ?? 'admin',
    ...(scenes.length > 0 ? { scenes } : {}),
    password: values.password ?? randomBytes(6).toString('base64url'),
    ...(snapshot ? { snapshot } : {}),
    rtsp: values.rtsp ?? false,
    discovery: values.discovery ?? false,
    ...(moveMs !== undefined ? { moveMs } : {}),
  };
}

export async function runCameras(args: string[]): Promise<number> {
  let opts: CameraFleetOptions;
  try {
    const parsed = parse(args);
    if (parsed === 'help') {
      console.log(CAMERAS_USAGE);
      return 0;
    }
    opts = parsed;
  } catch (err) {
    console.error(`citygrid sim cameras: ${err instanceof Error ? err.message : String(err)}\n\n${CAMERAS_USAGE}`);
    return 2;
  }
  const { startCameraFleet } = await import('../../simulators/camera/index.js');
  let fleet: Awaited<ReturnType<typeof startCameraFleet>>;
  try {
    fleet = await startCameraFleet(opts);
  } catch (err) {
    console.error(`citygrid sim cameras: cannot start: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  console.log(`sim cameras: ${fleet.cameras.length} camera(s), user "${opts.username}", password "${opts.password}"`);
  for (const [i, cam] of fleet.cameras.entries())
    console.log(
      `  ${cam.identity.name}  device ${cam.deviceUrl}` +
        (opts.scenes?.[i] ? `  scene "${opts.scenes[i]}"` : '') +
        (cam.snapshotMode === 'none' ? '' : `  snapshot ${cam.snapshotUrl()}`) +
        (fleet.rtsp ? `  rtsp ${cam.streamUri}` : ''),
    );
  if (fleet.discovery) console.log('  WS-Discovery: answering probes on udp 239.255.255.250:3702');
  console.log('ready; Ctrl-C to stop');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await fleet.stop();
  return 0;
}
