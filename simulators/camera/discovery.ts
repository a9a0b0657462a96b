/**
 * WS-Discovery responder for simulated cameras (domain 5-onvif.md §5.7): listens on UDP 3702,
 * joins 239.255.255.250, and answers a matching Probe with one unicast ProbeMatches per camera to
 * the sender's address and port. Binding 3702 and multicast only make sense inside a private
 * network namespace (`unshare -n` with lo multicast routes); tests and the CLI opt in.
 */
import { randomUUID } from 'node:crypto';
import dgram from 'node:dgram';
import type { CameraIdentity } from './responses.js';
import { scopes } from './responses.js';
import { elementText, xmlEscape } from './soap.js';

export const DISCOVERY_ADDRESS = '239.255.255.250';
export const DISCOVERY_PORT = 3702;

/** True for a Probe whose Types are empty or ask for a NetworkVideoTransmitter or a Device. */
export function isMatchingProbe(xml: string): boolean {
  if (!/<(?:[\w.-]+:)?Probe[\s/>]/.test(xml)) return false;
  const types = elementText(xml, 'Types');
  return types === undefined || types === '' || /NetworkVideoTransmitter|(?:^|[\s:])Device\b/.test(types);
}

export function probeMatches(cam: CameraIdentity, relatesTo: string, deviceUrl: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" ' +
    'xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:dn="http://www.onvif.org/ver10/network/wsdl" ' +
    'xmlns:tds="http://www.onvif.org/ver10/device/wsdl"><s:Header>' +
    `<a:MessageID>urn:uuid:${randomUUID()}</a:MessageID><a:RelatesTo>${xmlEscape(relatesTo)}</a:RelatesTo>` +
    '<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>' +
    '<a:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</a:Action></s:Header>' +
    `<s:Body><d:ProbeMatches><d:ProbeMatch><a:EndpointReference><a:Address>${cam.uuid}</a:Address></a:EndpointReference>` +
    '<d:Types>dn:NetworkVideoTransmitter tds:Device</d:Types>' +
    `<d:Scopes>${scopes(cam).map(xmlEscape).join(' ')}</d:Scopes><d:XAddrs>${xmlEscape(deviceUrl)}</d:XAddrs>` +
    '<d:MetadataVersion>1</d:MetadataVersion></d:ProbeMatch></d:ProbeMatches></s:Body></s:Envelope>'
  );
}

export interface DiscoveryResponder {
  readonly probes: number;
  close(): Promise<void>;
}

/** Starts answering probes for `cameras` (read at each probe, so cameras may come and go). */
export async function startDiscoveryResponder(
  cameras: () => readonly { identity: CameraIdentity; deviceUrl: string }[],
  opts: { port?: number; interfaceAddress?: string; maxDelayMs?: number } = {},
): Promise<DiscoveryResponder> {
  const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  let probes = 0;
  const timers = new Set<NodeJS.Timeout>();
  socket.on('message', (msg, rinfo) => {
    const xml = msg.toString('utf8');
    if (!isMatchingProbe(xml)) return;
    probes++;
    const relatesTo = elementText(xml, 'MessageID') ?? '';
    for (const cam of cameras()) {
      const reply = Buffer.from(probeMatches(cam.identity, relatesTo, cam.deviceUrl), 'utf8');
      // APP_MAX_DELAY: answers are spread so many cameras do not answer in one burst
      const t = setTimeout(
        () => {
          timers.delete(t);
          socket.send(reply, rinfo.port, rinfo.address, () => undefined);
        },
        Math.floor(Math.random() * (opts.maxDelayMs ?? 100)),
      );
      timers.add(t);
    }
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(opts.port ?? DISCOVERY_PORT, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  socket.addMembership(DISCOVERY_ADDRESS, opts.interfaceAddress ?? '127.0.0.1');
  return {
    get probes() {
      return probes;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        socket.close(() => resolve());
      }),
  };
}
