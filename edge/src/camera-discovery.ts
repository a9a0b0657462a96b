/**
 * WS-Discovery of ONVIF cameras on the gateway's network (opt-in per gateway:
 * `discovery.onvif.enabled`). Every `interval` it multicasts a Probe through the onvif package's
 * Discovery; each camera not seen before is logged and raised as a `camera.discovered` Event of
 * the gateway (xaddrs, scopes, name, hardware). It lives in the edge, not in a driver: it finds
 * devices nobody configured yet, and hands its Events to the agent's sink like any driver does.
 */
import onvif from 'onvif';
import type { Logger } from '../../drivers/sdk/log.js';
import type { CityEvent } from '../../drivers/sdk/reading.js';

export interface DiscoveredCamera {
  /** urn:uuid:... endpoint reference: what identifies a camera across address changes. */
  urn: string;
  xaddrs: string[];
  scopes: string[];
  name?: string;
  hardware?: string;
  /** Where the ProbeMatch came from. */
  address: string;
}

// biome-ignore lint/suspicious/noExplicitAny: parsed XML from the onvif package
type Any = any;

const scopeValue = (scopes: readonly string[], key: string) => {
  const s = scopes.find((x) => x.startsWith(`onvif://www.onvif.org/${key}/`));
  return s === undefined ? undefined : decodeURIComponent(s.slice(`onvif://www.onvif.org/${key}/`.length));
};

/** A ProbeMatch as the onvif package parses it (probe with resolve: false) -> DiscoveredCamera. Pure. */
export function parseProbeMatch(data: Any, address: string): DiscoveredCamera | undefined {
  const match = data?.probeMatches?.probeMatch;
  const urn = match?.endpointReference?.address;
  if (typeof urn !== 'string') return undefined;
  const words = (v: unknown) => (typeof v === 'string' ? v.split(/\s+/).filter(Boolean) : []);
  const scopes = words(typeof match.scopes === 'object' ? match.scopes?._ : match.scopes);
  return {
    urn,
    xaddrs: words(match.XAddrs),
    scopes,
    ...(scopeValue(scopes, 'name') ? { name: scopeValue(scopes, 'name') } : {}),
    ...(scopeValue(scopes, 'hardware') ? { hardware: scopeValue(scopes, 'hardware') } : {}),
    address,
  };
}

/** One probe: every camera that answered within `timeoutMs`. */
export function probeOnce(timeoutMs: number): Promise<DiscoveredCamera[]> {
  return new Promise((resolve) => {
    const found: DiscoveredCamera[] = [];
    const onDevice = (data: Any, rinfo: { address: string }) => {
      const cam = parseProbeMatch(data, rinfo.address);
      if (cam && !found.some((f) => f.urn === cam.urn)) found.push(cam);
    };
    // a non-ProbeMatch datagram is reported as 'error' on the shared emitter: keep it from throwing
    const onError = () => undefined;
    onvif.Discovery.on('device', onDevice);
    onvif.Discovery.on('error', onError);
    onvif.Discovery.probe({ resolve: false, timeout: timeoutMs }, () => {
      onvif.Discovery.removeListener('device', onDevice);
      onvif.Discovery.removeListener('error', onError);
      resolve(found);
    });
  });
}

export interface CameraDiscoveryOptions {
  gatewayId: string;
  intervalMs: number;
  probeTimeoutMs: number;
  log: Logger;
  now(): number;
  emitEvent(event: CityEvent): void;
  probe?: (timeoutMs: number) => Promise<DiscoveredCamera[]>;
}

export class CameraDiscovery {
  private readonly seen = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;
  probes = 0;

  constructor(private readonly opts: CameraDiscoveryOptions) {}

  start(): void {
    this.opts.log.info({ interval: this.opts.intervalMs }, 'ONVIF discovery started');
    const tick = () => {
      this.running = this.probe().finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, this.opts.intervalMs);
      });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** Probes once; raises an Event for every camera new or moved to another address. */
  async probe(): Promise<DiscoveredCamera[]> {
    let found: DiscoveredCamera[];
    try {
      found = await (this.opts.probe ?? probeOnce)(this.opts.probeTimeoutMs);
    } catch (err) {
      this.opts.log.warn({ reason: (err as Error).message }, 'ONVIF discovery probe failed');
      return [];
    }
    this.probes++;
    if (this.stopped) return found;
    for (const cam of found) {
      const key = cam.xaddrs.join(' ');
      if (this.seen.get(cam.urn) === key) continue;
      this.seen.set(cam.urn, key);
      this.opts.log.info({ urn: cam.urn, xaddrs: cam.xaddrs, name: cam.name }, 'Camera discovered');
      this.opts.emitEvent({
        type: 'camera.discovered',
        severity: 'info',
        device: this.opts.gatewayId,
        ts: this.opts.now(),
        data: { ...cam },
      });
    }
    return found;
  }
}
