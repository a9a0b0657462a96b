/**
 * The demo's cameras: one simulated ONVIF camera (simulators/camera) per `onvif-camera` device of
 * the example gateways, in this process on 127.0.0.1 with free ports. The gateway configs write
 * each camera's `url` and `password` as `${ENV}` references; `env` holds those variables (the URL
 * of its simulator, one generated password per password variable), so the configs load as they
 * ship and no secret is written anywhere. Snapshots need only sharp; each camera also gets an RTSP
 * stream (frame grabs and clips) when gst-rtsp-server can start (Debian python3-gi), else the demo
 * says RTSP is off and runs without it.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { CityConfig } from '../../config/schema/city.js';
import type { Logger } from '../../drivers/sdk/log.js';
import { SimulatedCamera } from '../../simulators/camera/camera.js';
import { type RtspServer, startRtspServer } from '../../simulators/camera/rtsp.js';

const DRIVER = 'onvif-camera';
/** The example cameras' presets are the simulated head's tokens: 1 Home, 2 Bridge deck, 3 Underpass entrance. */
const EXAMPLE_PRESET = '2';

export interface DemoCameras {
  readonly count: number;
  /** The simulators, in gateway-file and device order (their ids are the device ids). */
  readonly cameras: readonly SimulatedCamera[];
  /** Variables the gateway configs' `${ENV}` references need: simulator URLs and generated passwords. */
  readonly env: Readonly<Record<string, string>>;
  /** Lines for the demo's banner: the endpoints and how to ask for evidence. */
  banner(hubUrl: string): string[];
  stop(): Promise<void>;
}

interface PlannedCamera {
  gateway: string;
  device: string;
  asset?: string;
  urlVar: string;
  passwordVar?: string;
  password: string;
  username: string;
}

/** `${NAME}` or `${NAME:-default}` as the whole value (config/load.ts substitutes the same syntax). */
function envReference(value: unknown): { name: string; fallback?: string } | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}$/.exec(value.trim());
  return m?.[1] ? { name: m[1], ...(m[2] !== undefined ? { fallback: m[2] } : {}) } : undefined;
}

/**
 * The cameras of the gateway files, read before substitution so the `${ENV}` names are known.
 * A camera whose url is not an `${ENV}` reference cannot be pointed at a simulator: it is left
 * as configured (and logged).
 */
function plan(files: readonly string[], env: NodeJS.ProcessEnv, log: Logger): PlannedCamera[] {
  const passwords = new Map<string, string>();
  const out: PlannedCamera[] = [];
  for (const file of files) {
    const raw = parse(readFileSync(file, 'utf8')) as {
      gateway?: { id?: string };
      devices?: { id?: string; driver?: string; asset?: string; options?: Record<string, unknown> }[];
    };
    for (const d of raw.devices ?? []) {
      if (d.driver !== DRIVER || !d.id) continue;
      const urlRef = envReference(d.options?.url);
      if (!urlRef) {
        log.warn({ device: d.id, file }, 'Camera url is not an ${ENV} reference: the demo leaves it as configured');
        continue;
      }
      const passwordRef = envReference(d.options?.password);
      const literal = typeof d.options?.password === 'string' && !passwordRef ? d.options.password : undefined;
      let password = literal ?? (passwordRef ? env[passwordRef.name] : undefined);
      if (password === undefined && passwordRef) {
        password = passwords.get(passwordRef.name) ?? randomBytes(9).toString('base64url');
        passwords.set(passwordRef.name, password);
      }
      const userRef = envReference(d.options?.username);
      const username = userRef
        ? (env[userRef.name] ?? userRef.fallback ?? 'citygrid')
        : String(d.options?.username ?? 'citygrid');
      out.push({
        gateway: raw.gateway?.id ?? file,
        device: d.id,
        ...(d.asset ? { asset: d.asset } : {}),
        urlVar: urlRef.name,
        ...(passwordRef && !env[passwordRef.name] ? { passwordVar: passwordRef.name } : {}),
        password: password ?? randomBytes(9).toString('base64url'),
        username,
      });
    }
  }
  return out;
}

/** What the camera "sees", drawn on its snapshots: the asset id and kind (DejaVu has no CJK for its name). */
function sceneOf(city: CityConfig, asset: string | undefined): string | undefined {
  const a = asset ? city.assets.find((x) => x.id === asset) : undefined;
  return a ? `${a.id} ${a.kind}` : asset;
}

async function tryRtsp(mounts: readonly string[], log: Logger, python?: string): Promise<RtspServer | string> {
  try {
    return await startRtspServer(mounts, { readyTimeoutMs: 8000, ...(python ? { python } : {}) });
  } catch (err) {
    const reason = err instanceof Error ? (err.message.split('\n')[0] ?? err.message) : String(err);
    log.info({ reason }, 'No RTSP for the simulated cameras (gst-rtsp-server via python3-gi not available)');
    return reason;
  }
}

export async function startDemoCameras(
  gatewayFiles: readonly string[],
  opts: {
    city: CityConfig;
    env: NodeJS.ProcessEnv;
    log: Logger;
    /** Python that runs gst-rtsp-server (default /usr/bin/python3); tests name a missing one to see the demo without RTSP. */
    python?: string;
  },
): Promise<DemoCameras> {
  const planned = plan(gatewayFiles, opts.env, opts.log);
  if (planned.length === 0) return { count: 0, cameras: [], env: {}, banner: () => [], stop: async () => undefined };
  const mounts = planned.map((c) => c.device.toLowerCase().replace(/[^a-z0-9-]/g, '-'));
  const started: { rtsp?: RtspServer; cameras: SimulatedCamera[] } = { cameras: [] };
  const stop = async () => {
    await Promise.allSettled(started.cameras.map((c) => c.stop()));
    await started.rtsp?.stop();
  };
  const env: Record<string, string> = {};
  let rtspOff: string | undefined;
  try {
    const rtsp = await tryRtsp(mounts, opts.log, opts.python);
    if (typeof rtsp === 'string') rtspOff = rtsp;
    else started.rtsp = rtsp;
    for (const [i, c] of planned.entries()) {
      const scene = sceneOf(opts.city, c.asset);
      const cam = await SimulatedCamera.start({
        name: c.device,
        ...(scene ? { scene } : {}),
        username: c.username,
        password: c.password,
        port: 0,
        ...(started.rtsp ? { streamUri: started.rtsp.url(mounts[i] as string) } : {}),
      });
      started.cameras.push(cam);
      env[c.urlVar] = cam.deviceUrl;
      if (c.passwordVar) env[c.passwordVar] = c.password;
      opts.log.info(
        { device: c.device, gateway: c.gateway, url: cam.deviceUrl, rtsp: started.rtsp ? cam.streamUri : undefined },
        'Simulated camera started',
      );
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const assetPreset = (device: string) =>
    opts.city.assets.flatMap((a) => a.cameras ?? []).find((c) => c.device === device)?.preset;
  const first = started.cameras[0] as SimulatedCamera;
  const firstId = first.identity.name;
  return {
    count: started.cameras.length,
    cameras: started.cameras,
    env,
    banner(hubUrl) {
      const width = Math.max(...planned.map((c) => c.device.length));
      return [
        `${started.cameras.length} simulated ONVIF cameras, snapshots over HTTP Digest; ` +
          (started.rtsp
            ? `RTSP streams from gst-rtsp-server (frame grabs, clips: "mode":"clip")`
            : `RTSP off (${rtspOff ?? 'gst-rtsp-server not available'}): snapshots only`),
        ...started.cameras.map((cam, i) => {
          const c = planned[i] as PlannedCamera;
          return `  ${c.device.padEnd(width)} ${(c.asset ?? '').padEnd(10)} ${cam.deviceUrl}`;
        }),
        `evidence: curl -b jar -X POST ${hubUrl}/api/cameras/${firstId}/capture -d '{"mode":"snapshot","preset":"${assetPreset(firstId) ?? EXAMPLE_PRESET}"}'`,
        `  then curl -b jar ${hubUrl}/api/commands/<commandId> (its evidence ids) and ${hubUrl}/api/evidence/<id> (the JPEG)`,
        `events: curl -X POST '${first.identity.baseUrl}/sim/event?kind=motion&value=true' (tamper, analytics&value=<id>)`,
      ];
    },
    stop,
  };
}
