/**
 * A narrow promise interface over the `onvif` package's callback `Cam` (STYLE §2.1: protocol in a
 * library, the driver thin). Every call goes through the package's own SOAP code; this file adds
 * timeouts, typed errors and an http.Agent we can destroy to abort a long-poll on stop.
 *
 * Measured behaviour this relies on (STACK.md "onvif"): connect() hangs silently when no profile's
 * SourceToken matches a video source, so it is raced against a timeout; service URLs come from
 * the camera's XAddrs, so `preserveAddress` keeps the configured host and port (NAT, simulators).
 */
import http from 'node:http';
import onvif from 'onvif';
import { CameraError, classifyOnvifError } from './errors.js';

// biome-ignore lint/suspicious/noExplicitAny: the package's callback data is untyped parsed XML
type Any = any;

export interface CameraProfile {
  token: string;
  name: string;
  ptz: boolean;
  width?: number;
  height?: number;
}

export interface PtzState {
  moving: boolean;
  position: { x: number; y: number; zoom: number };
}

export interface OnvifClientOptions {
  url: string;
  username: string;
  password: string;
  /** Per-request socket timeout, ms. */
  requestTimeoutMs: number;
  /** Budget for the whole connect() sequence, ms. */
  connectTimeoutMs: number;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CameraError('CAMERA_UNREACHABLE', `${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export class OnvifClient {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  private readonly cam: Any;
  private readonly opts: OnvifClientOptions;

  constructor(opts: OnvifClientOptions) {
    this.opts = opts;
    const u = new URL(opts.url);
    this.cam = new onvif.Cam({
      hostname: u.hostname,
      port: u.port ? Number(u.port) : 80,
      path: u.pathname || '/onvif/device_service',
      username: opts.username,
      password: opts.password,
      timeout: opts.requestTimeoutMs,
      autoconnect: false,
      preserveAddress: true,
      agent: this.agent,
    });
  }

  /** Calls a callback-style Cam method, mapping its error to a CameraError. */
  private call<T = Any>(method: string, ...args: unknown[]): Promise<T> {
    return new Promise((resolve, reject) => {
      try {
        this.cam[method](...args, (err: Error | null, data: T) =>
          err ? reject(classifyOnvifError(err)) : resolve(data),
        );
      } catch (err) {
        // the package throws synchronously, e.g. "Unrecognized configuration" from getActiveSources
        reject(classifyOnvifError(err));
      }
    });
  }

  /** GetSystemDateAndTime, GetServices (or GetCapabilities), GetProfiles, GetVideoSources. */
  async connect(): Promise<CameraProfile[]> {
    await withTimeout(this.call('connect'), this.opts.connectTimeoutMs, 'ONVIF connect');
    return this.profiles();
  }

  profiles(): CameraProfile[] {
    const list: Any[] = this.cam.profiles ?? [];
    return list.map((p) => ({
      token: String(p.$?.token),
      name: String(p.name ?? p.$?.token),
      ptz: p.PTZConfiguration !== undefined,
      width: p.videoEncoderConfiguration?.resolution?.width,
      height: p.videoEncoderConfiguration?.resolution?.height,
    }));
  }

  /** The profile the package picked for the first video source. */
  defaultProfileToken(): string | undefined {
    return this.cam.activeSource?.profileToken;
  }

  hasPtz(): boolean {
    return this.cam.uri?.ptz !== undefined;
  }

  /** Undefined when the camera faults (many have no snapshot service). */
  async snapshotUri(profileToken: string): Promise<string | undefined> {
    try {
      const r = await this.call<{ uri?: string }>('getSnapshotUri', { profileToken });
      return r?.uri ? String(r.uri) : undefined;
    } catch (err) {
      if (err instanceof CameraError && err.code === 'CAMERA_FAULT') return undefined;
      throw err;
    }
  }

  async streamUri(profileToken: string): Promise<string | undefined> {
    try {
      const r = await this.call<{ uri?: string }>('getStreamUri', { profileToken, protocol: 'RTSP' });
      return r?.uri ? String(r.uri) : undefined;
    } catch (err) {
      if (err instanceof CameraError && err.code === 'CAMERA_FAULT') return undefined;
      throw err;
    }
  }

  /** Presets as token -> name. */
  async presets(profileToken: string): Promise<Map<string, string>> {
    await this.call('getPresets', { profileToken });
    const out = new Map<string, string>();
    for (const [token, p] of Object.entries<Any>(this.cam.presets ?? {}))
      out.set(String(token), String(p?.name ?? token));
    return out;
  }

  async gotoPreset(profileToken: string, presetToken: string): Promise<void> {
    await this.call('gotoPreset', { profileToken, preset: presetToken });
  }

  async ptzStatus(profileToken: string): Promise<PtzState> {
    const s = await this.call<Any>('getStatus', { profileToken });
    const move = s?.moveStatus;
    const states =
      typeof move === 'object' && move !== null ? Object.values(move).map(String) : [String(move ?? 'IDLE')];
    return {
      moving: states.some((v) => v.toUpperCase() === 'MOVING'),
      position: {
        x: Number(s?.position?.x ?? 0),
        y: Number(s?.position?.y ?? 0),
        zoom: Number(s?.position?.zoom ?? 0),
      },
    };
  }

  async createPullPoint(): Promise<void> {
    await this.call('createPullPointSubscription');
    // Pull, Renew and Unsubscribe go to the subscription address, which the package passes to
    // http.request as the options object itself (a parsed URL): without an agent on it they use
    // the global agent, and destroy() could not abort a PullMessages the camera holds for a minute.
    const address = this.cam.events?.subscription?.subscriptionReference?.address;
    if (address && typeof address === 'object') address.agent = this.agent;
  }

  /** Long-polls for notifications (the camera holds the request up to a minute). */
  async pullMessages(limit = 10): Promise<Any[]> {
    const data = await this.call<Any>('pullMessages', { messageLimit: limit });
    const msgs = data?.notificationMessage;
    return msgs === undefined ? [] : Array.isArray(msgs) ? msgs : [msgs];
  }

  /** Renews the subscription; returns its new termination time (ms) when the camera says. */
  async renew(): Promise<number | undefined> {
    const data = await this.call<Any>('renew', {});
    const t = data?.terminationTime;
    const c = data?.currentTime;
    return t instanceof Date && c instanceof Date ? Date.now() + (t.getTime() - c.getTime()) : undefined;
  }

  /** Best effort: a camera that rebooted has forgotten the subscription anyway. */
  async unsubscribe(timeoutMs: number): Promise<void> {
    if (!this.cam.events?.subscription) return;
    // unsubscribe(callback, preserveListeners): the callback comes first in this one
    const done = new Promise<void>((resolve) => this.cam.unsubscribe(() => resolve(), true));
    await withTimeout(done, timeoutMs, 'Unsubscribe').catch(() => undefined);
  }

  /** Forgets the current subscription so the next createPullPoint makes a new one. */
  dropSubscription(): void {
    if (this.cam.events) {
      delete this.cam.events.subscription;
      delete this.cam.events.terminationTime;
    }
  }

  /** Aborts every request in flight (a held PullMessages included). */
  destroy(): void {
    this.agent.destroy();
  }
}
