/**
 * The whole evidence path with H1's simulated ONVIF cameras, for the camera e2e test and
 * `npm run bench -- capture`: a gst-rtsp-server, two simulated cameras (one serving snapshots over
 * HTTP Digest, one without a snapshot URI so the driver grabs a frame from RTSP with ffmpeg), the
 * real hub (`citygrid hub`, embedded broker and store) and a real edge process running the
 * onvif-camera driver for both. Everything listens on 127.0.0.1 and stops by PID.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { findFreePort } from '../../../bin/lib/ports.js';
import { SimulatedCamera } from '../../../simulators/camera/camera.js';
import { type RtspServer, startRtspServer } from '../../../simulators/camera/rtsp.js';
import { type CliProcess, eventually, ROOT, startCli, startTsScript } from '../../helpers/cli-process.js';
import { supervisorFetch } from '../../helpers/console-session.js';
import { writeHubConfig } from '../../helpers/system-configs.js';

const EDGE_SCRIPT = path.join(ROOT, 'tests/e2e/evidence/edge-with-test-camera.ts');

/** The camera that serves snapshots over HTTP, and the one reached only through RTSP. */
export const SNAPSHOT_CAMERA = 'XH-CAM01';
export const RTSP_CAMERA = 'XH-CAM02';

/** A row of GET /api/evidence. */
export type EvidenceRecordJson = { id: string; storedAt: number; size: number; mediaType: string } & Record<
  string,
  unknown
>;

export interface CameraRig {
  api: string;
  dir: string;
  hub: CliProcess;
  edge: CliProcess;
  cameras: Record<string, SimulatedCamera>;
  /** POSTs a capture; resolves with the command id (throws on a non-202). */
  capture(device: string, body?: Record<string, unknown>): Promise<string>;
  /** Waits for the command's first evidence id. */
  evidenceOf(commandId: string, timeoutMs?: number): Promise<string>;
  record(evidenceId: string): Promise<EvidenceRecordJson>;
  stop(): Promise<void>;
}

export async function startCameraRig(opts: { moveMs?: number } = {}): Promise<CameraRig> {
  const dir = mkdtempSync(path.join(tmpdir(), 'cg-camera-rig-'));
  const gwPassword = randomBytes(12).toString('base64url');
  const camPassword = randomBytes(9).toString('base64url');
  const started: { rtsp?: RtspServer; cams: SimulatedCamera[]; hub?: CliProcess; edge?: CliProcess } = { cams: [] };
  const stop = async () => {
    await started.edge?.stop('SIGTERM', 5000);
    await started.hub?.stop('SIGTERM', 5000);
    await Promise.allSettled(started.cams.map((c) => c.stop()));
    await started.rtsp?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const rtsp = await startRtspServer(['cam01', 'cam02']);
    started.rtsp = rtsp;
    const camera = async (name: string, mount: string, snapshot: 'jpeg' | 'none') => {
      const cam = await SimulatedCamera.start({
        name,
        username: 'citygrid',
        password: camPassword,
        snapshot,
        streamUri: rtsp.url(mount),
        moveMs: opts.moveMs ?? 300,
        maxPullHoldMs: 1000,
      });
      started.cams.push(cam);
      return cam;
    };
    const snapCam = await camera(SNAPSHOT_CAMERA, 'cam01', 'jpeg');
    const rtspCam = await camera(RTSP_CAMERA, 'cam02', 'none');
    const mqttPort = await findFreePort();
    const httpPort = await findFreePort();
    writeHubConfig(dir, {
      hubId: 'hub-camera',
      mqtt: { mode: 'embedded', host: '127.0.0.1', port: mqttPort },
      httpPort,
      gateways: { 'gw-xh-01': '${CG_RIG_GW_PW}' },
    });
    const device = (id: string, cam: SimulatedCamera) => ({
      id,
      kind: 'camera',
      driver: 'onvif-camera',
      asset: 'BR-XH-001',
      options: {
        url: cam.deviceUrl,
        username: 'citygrid',
        password: '${CG_RIG_CAM_PW}',
        connectTimeout: '5s',
        snapshotTimeout: '5s',
        settlePoll: '50ms',
        events: false,
        timeZone: 'Asia/Shanghai',
      },
    });
    writeFileSync(
      path.join(dir, 'gw-xh-01.yaml'),
      stringify({
        gateway: { id: 'gw-xh-01', district: 'xihu' },
        hub: { url: `mqtt://127.0.0.1:${mqttPort}`, password: '${CG_RIG_GW_PW}', reconnectPeriod: '250ms' },
        dataDir: './edge-data',
        devices: [device(SNAPSHOT_CAMERA, snapCam), device(RTSP_CAMERA, rtspCam)],
      }),
    );
    const env = { CG_RIG_GW_PW: gwPassword, CG_RIG_CAM_PW: camPassword };
    started.hub = startCli(['hub', '--config', path.join(dir, 'hub.yaml')], {
      env,
      logFile: path.join(dir, 'hub.log'),
    });
    await started.hub.waitFor(/"msg":"Listening"/);
    started.edge = startTsScript(EDGE_SCRIPT, ['--config', path.join(dir, 'gw-xh-01.yaml')], {
      env,
      logFile: path.join(dir, 'edge.log'),
    });
    await started.edge.waitFor(/"msg":"Connected"/);
    const api = `http://127.0.0.1:${httpPort}`;
    // Both cameras online in the gateway's retained inventory: the hub can route captures to them.
    await eventually(
      async () => {
        const gws = (await (await supervisorFetch(`${api}/api/gateways`)).json()) as {
          id: string;
          devices: { id: string; online?: boolean }[];
        }[];
        const devices = gws.find((g) => g.id === 'gw-xh-01')?.devices ?? [];
        return devices.filter((d) => d.online !== false).length === 2 ? true : undefined;
      },
      30_000,
      'both cameras online at the hub',
    );
    const capture = async (device: string, body: Record<string, unknown> = {}) => {
      const res = await supervisorFetch(`${api}/api/cameras/${device}/capture`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const json = (await res.json()) as { commandId?: string };
      if (res.status !== 202 || !json.commandId)
        throw new Error(`capture ${device}: ${res.status} ${JSON.stringify(json)}`);
      return json.commandId;
    };
    const evidenceOf = (commandId: string, timeoutMs = 20_000) =>
      eventually(
        async () => {
          const view = (await (await supervisorFetch(`${api}/api/commands/${commandId}`)).json()) as {
            state: string;
            error?: string;
            evidence: string[];
          };
          if (view.state === 'error') throw new Error(`capture failed: ${view.error}`);
          return view.evidence[0];
        },
        timeoutMs,
        `evidence of ${commandId}`,
      );
    const record = async (evidenceId: string) => {
      const list = (await (await supervisorFetch(`${api}/api/evidence?limit=1000`)).json()) as EvidenceRecordJson[];
      const found = list.find((r) => r.id === evidenceId);
      if (!found) throw new Error(`evidence ${evidenceId} not listed`);
      return found;
    };
    return {
      api,
      dir,
      hub: started.hub,
      edge: started.edge,
      cameras: { [SNAPSHOT_CAMERA]: snapCam, [RTSP_CAMERA]: rtspCam },
      capture,
      evidenceOf,
      record,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
