/**
 * A fleet of simulated ONVIF cameras, as `citygrid sim cameras` and the demo run it: N cameras on
 * consecutive ports (or free ones), optionally one gst-rtsp-server with a mount per camera, and
 * optionally a WS-Discovery responder (inside a private network namespace only).
 */
import { type SimCameraOptions, SimulatedCamera, type SnapshotMode } from './camera.js';
import { type DiscoveryResponder, startDiscoveryResponder } from './discovery.js';
import { type RtspServer, startRtspServer } from './rtsp.js';

export { type SimCameraOptions, SimulatedCamera, SNAPSHOT_MODES, type SnapshotMode } from './camera.js';
export { startDiscoveryResponder } from './discovery.js';
export type { CameraEventKind } from './notifications.js';
export { startRtspServer, startStalledRtsp } from './rtsp.js';

export interface CameraFleetOptions {
  count: number;
  /** First camera's port; the others follow. 0: free ports. */
  port?: number;
  username: string;
  password: string;
  /** Camera names; default CAM-01, CAM-02, ... */
  names?: readonly string[];
  /** What each camera watches, drawn on its snapshots (index i for camera i); default none. */
  scenes?: readonly string[];
  snapshot?: SnapshotMode;
  /** Start a gst-rtsp-server and point each camera's stream URI at its own mount. */
  rtsp?: boolean;
  /** Answer WS-Discovery probes on UDP 3702 (needs a network namespace with lo multicast). */
  discovery?: boolean;
  moveMs?: number;
  maxPullHoldMs?: number;
}

export interface CameraFleet {
  readonly cameras: readonly SimulatedCamera[];
  readonly rtsp?: RtspServer;
  readonly discovery?: DiscoveryResponder;
  stop(): Promise<void>;
}

export const cameraName = (i: number) => `CAM-${String(i + 1).padStart(2, '0')}`;

export async function startCameraFleet(opts: CameraFleetOptions): Promise<CameraFleet> {
  const names = Array.from({ length: opts.count }, (_, i) => opts.names?.[i] ?? cameraName(i));
  const mounts = names.map((n) => n.toLowerCase().replace(/[^a-z0-9-]/g, '-'));
  const started: { rtsp?: RtspServer; discovery?: DiscoveryResponder; cameras: SimulatedCamera[] } = { cameras: [] };
  const stop = async () => {
    await started.discovery?.close();
    await Promise.allSettled(started.cameras.map((c) => c.stop()));
    await started.rtsp?.stop();
  };
  try {
    if (opts.rtsp) started.rtsp = await startRtspServer(mounts);
    for (const [i, name] of names.entries()) {
      const scene = opts.scenes?.[i];
      const base: SimCameraOptions = {
        name,
        ...(scene ? { scene } : {}),
        username: opts.username,
        password: opts.password,
        port: opts.port ? opts.port + i : 0,
        ...(opts.snapshot ? { snapshot: opts.snapshot } : {}),
        ...(opts.moveMs !== undefined ? { moveMs: opts.moveMs } : {}),
        ...(opts.maxPullHoldMs !== undefined ? { maxPullHoldMs: opts.maxPullHoldMs } : {}),
      };
      const mount = mounts[i] as string;
      started.cameras.push(
        await SimulatedCamera.start(started.rtsp ? { ...base, streamUri: started.rtsp.url(mount) } : base),
      );
    }
    if (opts.discovery) started.discovery = await startDiscoveryResponder(() => started.cameras);
  } catch (err) {
    await stop();
    throw err;
  }
  return { cameras: started.cameras, rtsp: started.rtsp, discovery: started.discovery, stop };
}
