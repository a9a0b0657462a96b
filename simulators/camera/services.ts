/**
 * SOAP dispatch of the simulated camera: one handler per operation, keyed by the local name of the
 * Body's first element (clients post some operations to other services' XAddrs).
 */

import type { PtzHead } from './ptz.js';
import type { PullPoints } from './pull-points.js';
import * as r from './responses.js';
import { elementAttribute, elementText, envelope, fault, parseDuration, terminationTime } from './soap.js';

export interface SoapReply {
  status: number;
  xml: string;
}

/** What the handlers need from the camera. */
export interface ServiceState {
  identity: r.CameraIdentity;
  now(): number;
  ptz: PtzHead;
  presets: readonly r.Preset[];
  pullPoints: PullPoints;
  /** Undefined when the camera has no snapshot URI (GetSnapshotUri faults). */
  snapshotUri(profile: r.Profile): string | undefined;
  streamUri(profile: r.Profile): string;
  /** Messages a new subscription starts with (one Initialized per topic). */
  initialMessages(): string[];
  reboot(): void;
}

const ok = (body: string): SoapReply => ({ status: 200, xml: envelope(body) });
const senderFault = (sub: string, reason: string): SoapReply => ({ status: 400, xml: fault('Sender', sub, reason) });

export const notAuthorized = (): SoapReply => senderFault('ter:NotAuthorized', 'Sender not Authorized');

function profileOf(xml: string): r.Profile | SoapReply {
  const token = elementText(xml, 'ProfileToken') ?? r.PROFILES[0]?.token;
  const p = r.PROFILES.find((q) => q.token === token);
  return p ?? senderFault('ter:InvalidArgVal', `no profile "${token}"`);
}

const isReply = (v: unknown): v is SoapReply => typeof v === 'object' && v !== null && 'xml' in v;

type Handler = (xml: string, s: ServiceState, path: string) => SoapReply | Promise<SoapReply>;

/** The subscription id from the request path (/onvif/subscription/<id>) or from the WS-Addressing To header. */
function subscriptionId(xml: string, path: string): string | undefined {
  const fromPath = /\/onvif\/subscription\/([^/?]+)/.exec(path)?.[1];
  if (fromPath) return fromPath;
  return /\/onvif\/subscription\/([^/?<\s]+)/.exec(elementText(xml, 'To') ?? '')?.[1];
}

const unknownSubscription = (): SoapReply => ({
  status: 400,
  xml: fault('Sender', 'wsrf-rw:ResourceUnknownFault', 'Subscription unknown or expired'),
});

const HANDLERS: Record<string, Handler> = {
  GetSystemDateAndTime: (_x, s) => ok(r.systemDateAndTime(s.now())),
  GetServices: (_x, s) => ok(r.services(s.identity)),
  GetCapabilities: (_x, s) => ok(r.capabilities(s.identity)),
  GetDeviceInformation: (_x, s) => ok(r.deviceInformation(s.identity)),
  GetHostname: (_x, s) => ok(r.hostname(s.identity)),
  GetNTP: () => ok(r.ntp()),
  GetScopes: (_x, s) => ok(r.scopesResponse(s.identity)),
  SystemReboot: (_x, s) => {
    setTimeout(() => s.reboot(), 50);
    return ok('<tds:SystemRebootResponse><tds:Message>Rebooting</tds:Message></tds:SystemRebootResponse>');
  },
  GetVideoSources: () => ok(r.videoSources()),
  GetProfiles: () => ok(r.profiles()),
  GetProfile: (xml) => {
    const p = profileOf(xml);
    return isReply(p) ? p : ok(r.profileResponse(p));
  },
  GetVideoEncoderConfiguration: (xml) => {
    const token = elementText(xml, 'ConfigurationToken');
    const p = r.PROFILES.find((q) => `VEC_${q.token}` === token) ?? r.PROFILES[0];
    return p ? ok(r.encoderConfigurationResponse(p)) : senderFault('ter:InvalidArgVal', 'no configuration');
  },
  GetVideoEncoderConfigurationOptions: () => ok(r.encoderConfigurationOptions()),
  GetSnapshotUri: (xml, s) => {
    const p = profileOf(xml);
    if (isReply(p)) return p;
    const uri = s.snapshotUri(p);
    return uri ? ok(r.mediaUri('GetSnapshotUri', uri)) : senderFault('ter:ActionNotSupported', 'No snapshot URI');
  },
  GetStreamUri: (xml, s) => {
    const p = profileOf(xml);
    return isReply(p) ? p : ok(r.mediaUri('GetStreamUri', s.streamUri(p)));
  },
  GetPresets: (_x, s) => ok(r.presets(s.presets)),
  GotoPreset: (xml, s) => {
    const token = elementText(xml, 'PresetToken');
    const preset = s.presets.find((p) => p.token === token);
    if (!preset) return senderFault('ter:InvalidArgVal', `no preset "${token}"`);
    s.ptz.moveTo(preset, preset.name);
    return ok('<tptz:GotoPresetResponse/>');
  },
  AbsoluteMove: (xml, s) => {
    const num = (v: string | undefined, d: number) => (v === undefined || !Number.isFinite(Number(v)) ? d : Number(v));
    const cur = s.ptz.position();
    s.ptz.moveTo({
      x: num(elementAttribute(xml, 'PanTilt', 'x'), cur.x),
      y: num(elementAttribute(xml, 'PanTilt', 'y'), cur.y),
      zoom: num(elementAttribute(xml, 'Zoom', 'x'), cur.zoom),
    });
    return ok('<tptz:AbsoluteMoveResponse/>');
  },
  Stop: (_x, s) => {
    s.ptz.stop();
    return ok('<tptz:StopResponse/>');
  },
  GetStatus: (_x, s) => ok(r.ptzStatus(s.ptz.position(), s.ptz.moving(), s.now())),
  GetEventProperties: () => ok(r.eventProperties()),
  CreatePullPointSubscription: (xml, s) => {
    const now = s.now();
    const termination = terminationTime(elementText(xml, 'InitialTerminationTime'), now) ?? now + 60_000;
    const id = s.pullPoints.create(termination, s.initialMessages());
    return ok(r.subscriptionCreated(`${s.identity.baseUrl}/onvif/subscription/${id}`, now, termination));
  },
  PullMessages: async (xml, s, path) => {
    const id = subscriptionId(xml, path);
    const timeout = parseDuration(elementText(xml, 'Timeout')) ?? 10_000;
    const limit = Math.max(1, Number(elementText(xml, 'MessageLimit') ?? 10) || 10);
    const messages = id === undefined ? undefined : await s.pullPoints.pull(id, timeout, limit);
    const termination = id === undefined ? undefined : s.pullPoints.terminationOf(id);
    if (messages === undefined || termination === undefined) return unknownSubscription();
    return ok(r.pullMessagesResponse(s.now(), termination, messages));
  },
  Renew: (xml, s, path) => {
    const id = subscriptionId(xml, path);
    const now = s.now();
    const termination = terminationTime(elementText(xml, 'TerminationTime'), now) ?? now + 60_000;
    if (id === undefined || !s.pullPoints.renew(id, termination)) return unknownSubscription();
    return ok(r.renewResponse(now, termination));
  },
  Unsubscribe: (xml, s, path) => {
    const id = subscriptionId(xml, path);
    if (id === undefined || !s.pullPoints.unsubscribe(id)) return unknownSubscription();
    return ok('<wsnt:UnsubscribeResponse/>');
  },
};

export async function dispatch(op: string, xml: string, state: ServiceState, path: string): Promise<SoapReply> {
  const handler = HANDLERS[op];
  if (!handler) return senderFault('ter:ActionNotSupported', `Operation ${op} is not supported`);
  return handler(xml, state, path);
}
