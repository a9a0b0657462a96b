/**
 * A simulated ONVIF camera on 127.0.0.1: SOAP 1.2 device, media, PTZ and event services with
 * WS-UsernameToken auth, a snapshot URL behind HTTP Digest, and control hooks (raise events,
 * reboot, break the snapshot) for tests and `citygrid sim cameras`.
 *
 * Control over HTTP (loopback only, no auth; for the CLI): POST /sim/event?kind=motion&value=true,
 * POST /sim/reboot?downMs=2000, POST /sim/snapshot?mode=html.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Clock, systemClock } from '../../drivers/sdk/clock.js';
import { HttpDigestServer, UsernameTokenVerifier } from './auth.js';
import { activeMarkers, type FrameScene, renderFrame } from './frame.js';
import { type CameraEventKind, notificationMessage } from './notifications.js';
import { DEFAULT_PRESETS, PtzHead } from './ptz.js';
import { PullPoints } from './pull-points.js';
import {
  type CameraIdentity,
  PROFILES,
  type Preset,
  type Profile,
  type PtzVector,
  SERVICE_PATHS,
} from './responses.js';
import { dispatch, notAuthorized, type ServiceState, type SoapReply } from './services.js';
import { fault, operationOf, usernameToken } from './soap.js';

/** What the snapshot URL serves: a good JPEG, an HTML login page, a JPEG cut in half, or no URI at all. */
export type SnapshotMode = 'jpeg' | 'html' | 'truncated' | 'none';
export const SNAPSHOT_MODES: readonly SnapshotMode[] = ['jpeg', 'html', 'truncated', 'none'];

export interface SimCameraOptions {
  name: string;
  /** What the camera watches, drawn on its snapshots (e.g. "BR-XH-001 bridge"). Default: none. */
  scene?: string;
  username: string;
  password: string;
  /** Port on 127.0.0.1; 0 picks a free one. */
  port?: number;
  snapshot?: SnapshotMode;
  /** What GetStreamUri answers (an RTSP URL); default rtsp://127.0.0.1:8554/<name>. */
  streamUri?: string;
  /** How long a PTZ move takes, ms (default 1500). */
  moveMs?: number;
  /** Cap on how long PullMessages is held, ms (default 60 s, what clients ask for). */
  maxPullHoldMs?: number;
  presets?: readonly Preset[];
  clock?: Clock;
}

export interface SimCameraStats {
  soapRequests: number;
  authFailures: number;
  snapshots: number;
  reboots: number;
}

const MAX_BODY = 256 * 1024;

export class SimulatedCamera {
  readonly identity: CameraIdentity;
  readonly ptz: PtzHead;
  readonly pullPoints: PullPoints;
  readonly stats: SimCameraStats = { soapRequests: 0, authFailures: 0, snapshots: 0, reboots: 0 };
  snapshotMode: SnapshotMode;
  /**
   * Where the head was when the last snapshot was drawn (tests check a capture waited for the preset),
   * and the scene and event markers drawn on it.
   */
  lastSnapshot:
    | { at: number; position: PtzVector; moving: boolean; preset?: string; scene?: string; markers: string[] }
    | undefined;
  streamUri: string;
  private readonly clock: Clock;
  private readonly tokens: UsernameTokenVerifier;
  private readonly digest: HttpDigestServer;
  private readonly presets: readonly Preset[];
  private readonly state: {
    motion: boolean;
    tamper: boolean;
    frames: number;
    crossing?: { objectId: string; at: number };
  } = { motion: false, tamper: false, frames: 0 };
  private server: http.Server;
  private listeningPort = 0;
  private down = false;
  private stopped = false;
  private rebootTimer: NodeJS.Timeout | undefined;

  private constructor(private readonly opts: SimCameraOptions) {
    this.clock = opts.clock ?? systemClock;
    this.tokens = new UsernameTokenVerifier(opts);
    this.digest = new HttpDigestServer(opts);
    this.presets = opts.presets ?? DEFAULT_PRESETS;
    this.ptz = new PtzHead(this.clock, opts.moveMs ?? 1500);
    this.pullPoints = new PullPoints(this.clock, opts.maxPullHoldMs ?? 60_000);
    this.snapshotMode = opts.snapshot ?? 'jpeg';
    this.streamUri = opts.streamUri ?? `rtsp://127.0.0.1:8554/${encodeURIComponent(opts.name)}`;
    this.identity = {
      name: opts.name,
      uuid: `urn:uuid:${randomUUID()}`,
      manufacturer: 'citygrid',
      model: 'SIM-PTZ-1',
      firmware: '1.0.0',
      serial: `SIM${opts.name.replace(/[^A-Za-z0-9]/g, '').toUpperCase()}`,
      hostname: opts.name.toLowerCase().replace(/[^a-z0-9-]/g, '-'),
      baseUrl: '',
    };
    this.server = this.createServer();
  }

  static async start(opts: SimCameraOptions): Promise<SimulatedCamera> {
    const cam = new SimulatedCamera(opts);
    await cam.listen(opts.port ?? 0);
    return cam;
  }

  get port(): number {
    return this.listeningPort;
  }
  get deviceUrl(): string {
    return `${this.identity.baseUrl}${SERVICE_PATHS.device}`;
  }
  snapshotUrl(profile: Profile = PROFILES[0] as Profile): string {
    return `${this.identity.baseUrl}/snapshot/${profile.token}.jpg`;
  }

  /** Raises a notification on every subscription: motion/tamper take "true"/"false", analytics an object id. */
  raise(kind: CameraEventKind, value: string | boolean = true): void {
    const v = String(value);
    if (kind === 'motion') this.state.motion = v === 'true';
    if (kind === 'tamper') this.state.tamper = v === 'true';
    if (kind === 'analytics') this.state.crossing = { objectId: v, at: this.clock.now() };
    this.pullPoints.publish(notificationMessage(kind, v, this.clock.now()));
  }

  /** Reboots: drops every subscription and connection, unreachable for `downMs`, then back on the same port. */
  reboot(downMs = 1000): Promise<void> {
    if (this.down || this.stopped) return Promise.resolve();
    this.stats.reboots++;
    this.down = true;
    this.pullPoints.clear();
    this.state.motion = false;
    this.state.tamper = false;
    this.state.crossing = undefined;
    const old = this.server;
    old.closeAllConnections();
    return new Promise((resolve) => {
      old.close(() => {
        this.rebootTimer = setTimeout(() => {
          this.rebootTimer = undefined;
          if (this.stopped) return resolve();
          this.server = this.createServer();
          this.listen(this.listeningPort).then(
            () => resolve(),
            () => resolve(),
          );
        }, downMs);
      });
    });
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.rebootTimer) clearTimeout(this.rebootTimer);
    this.pullPoints.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.listeningPort = (this.server.address() as AddressInfo).port;
    this.identity.baseUrl = `http://127.0.0.1:${this.listeningPort}`;
    this.down = false;
  }

  private createServer(): http.Server {
    const server = http.createServer((req, res) => {
      this.route(req, res).catch((err: unknown) => {
        if (!res.headersSent) send(res, 500, 'text/plain', Buffer.from(String(err)));
      });
    });
    server.keepAliveTimeout = 5000;
    return server;
  }

  private async route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method === 'POST' && url.pathname.startsWith('/onvif/')) return this.soap(req, res, url.pathname);
    if (req.method === 'GET' && url.pathname.startsWith('/snapshot/')) return this.snapshot(req, res, url.pathname);
    if (req.method === 'POST' && url.pathname.startsWith('/sim/')) return this.control(req, res, url);
    send(res, 404, 'text/plain', Buffer.from('not found'));
  }

  private async soap(req: http.IncomingMessage, res: http.ServerResponse, path: string): Promise<void> {
    const body = await readBody(req);
    this.stats.soapRequests++;
    const op = body === undefined ? undefined : operationOf(body);
    let reply: SoapReply;
    if (body === undefined || op === undefined) {
      reply = { status: 400, xml: fault('Sender', 'ter:WellFormed', 'Not a SOAP request') };
    } else if (op !== 'GetSystemDateAndTime' && this.tokens.verify(usernameToken(body), this.clock.now()) !== 'ok') {
      // GetSystemDateAndTime stays open: clients read the camera clock before they can sign a token.
      this.stats.authFailures++;
      reply = notAuthorized();
    } else {
      reply = await dispatch(op, body, this.serviceState(), path);
    }
    if (res.destroyed) return;
    send(res, reply.status, 'application/soap+xml; charset=utf-8', Buffer.from(reply.xml, 'utf8'));
  }

  private serviceState(): ServiceState {
    return {
      identity: this.identity,
      now: () => this.clock.now(),
      ptz: this.ptz,
      presets: this.presets,
      pullPoints: this.pullPoints,
      snapshotUri: (p) => (this.snapshotMode === 'none' ? undefined : this.snapshotUrl(p)),
      streamUri: () => this.streamUri,
      initialMessages: () => {
        const at = this.clock.now();
        return [
          notificationMessage('motion', String(this.state.motion), at, 'Initialized'),
          notificationMessage('tamper', String(this.state.tamper), at, 'Initialized'),
        ];
      },
      reboot: () => void this.reboot(),
    };
  }

  private async snapshot(req: http.IncomingMessage, res: http.ServerResponse, path: string): Promise<void> {
    if (!this.digest.check(req.headers.authorization, 'GET')) {
      res.setHeader('WWW-Authenticate', this.digest.challenge());
      return send(res, 401, 'text/html', Buffer.from('<html><body>401 Unauthorized</body></html>'));
    }
    const token = /\/snapshot\/([^/.]+)\.jpg$/.exec(path)?.[1];
    const profile = PROFILES.find((p) => p.token === token);
    if (!profile || this.snapshotMode === 'none') return send(res, 404, 'text/plain', Buffer.from('no such snapshot'));
    if (this.snapshotMode === 'html')
      // what a camera whose snapshot service is switched off answers: its login page, with a 200
      return send(
        res,
        200,
        'text/html',
        Buffer.from('<!DOCTYPE html><html><head><title>Login</title></head><body><form>user</form></body></html>'),
      );
    this.stats.snapshots++;
    const frame: FrameScene = {
      camera: this.opts.name,
      ...(this.opts.scene ? { scene: this.opts.scene } : {}),
      ...(this.state.crossing ? { crossing: this.state.crossing } : {}),
      counter: ++this.state.frames,
      preset: this.ptz.presetName,
      position: this.ptz.position(),
      at: this.clock.now(),
      motion: this.state.motion,
      tamper: this.state.tamper,
      width: profile.width,
      height: profile.height,
    };
    this.lastSnapshot = {
      at: frame.at,
      position: frame.position,
      moving: this.ptz.moving(),
      preset: this.ptz.presetName,
      scene: this.opts.scene,
      markers: activeMarkers(frame),
    };
    const jpeg = await renderFrame(frame);
    send(
      res,
      200,
      'image/jpeg',
      this.snapshotMode === 'truncated' ? jpeg.subarray(0, Math.floor(jpeg.length / 2)) : jpeg,
    );
  }

  private async control(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    await readBody(req);
    const q = url.searchParams;
    if (url.pathname === '/sim/event') {
      const kind = q.get('kind');
      if (kind !== 'motion' && kind !== 'tamper' && kind !== 'analytics')
        return send(res, 400, 'text/plain', Buffer.from('kind must be motion, tamper or analytics'));
      this.raise(kind, q.get('value') ?? 'true');
    } else if (url.pathname === '/sim/reboot') {
      send(res, 204, 'text/plain', Buffer.alloc(0));
      void this.reboot(Number(q.get('downMs') ?? 1000));
      return;
    } else if (url.pathname === '/sim/snapshot') {
      const mode = q.get('mode') as SnapshotMode;
      if (!['jpeg', 'html', 'truncated', 'none'].includes(mode))
        return send(res, 400, 'text/plain', Buffer.from('mode must be jpeg, html, truncated or none'));
      this.snapshotMode = mode;
    } else return send(res, 404, 'text/plain', Buffer.from('not found'));
    send(res, 204, 'text/plain', Buffer.alloc(0));
  }
}

/** Always with Content-Length and never chunked: onvif-util reads exactly Content-Length bytes. */
function send(res: http.ServerResponse, status: number, type: string, body: Buffer): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': body.length });
  res.end(body);
}

async function readBody(req: http.IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
