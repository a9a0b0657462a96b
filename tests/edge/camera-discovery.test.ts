/** CameraDiscovery with an injected probe: one Event per new camera or new address, nothing for repeats; ProbeMatch parsing. */
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../drivers/sdk/log.js';
import type { CityEvent } from '../../drivers/sdk/reading.js';
import { CameraDiscovery, type DiscoveredCamera, parseProbeMatch } from '../../edge/src/camera-discovery.js';

const cam = (urn: string, xaddr: string): DiscoveredCamera => ({
  urn,
  xaddrs: [xaddr],
  scopes: [],
  address: '10.0.0.1',
});

describe('CameraDiscovery', () => {
  it('raises camera.discovered once per camera, again when its address changes', async () => {
    const answers = [
      [cam('urn:a', 'http://10.0.0.1/onvif')],
      [cam('urn:a', 'http://10.0.0.1/onvif'), cam('urn:b', 'http://10.0.0.2/onvif')],
      [cam('urn:a', 'http://10.0.0.9/onvif')],
    ];
    const events: CityEvent[] = [];
    const d = new CameraDiscovery({
      gatewayId: 'gw-xh-01',
      intervalMs: 1000,
      probeTimeoutMs: 10,
      log: silentLogger(),
      now: () => 1_700_000_000_000,
      emitEvent: (e) => events.push(e),
      probe: async () => answers.shift() ?? [],
    });
    await d.probe();
    await d.probe();
    await d.probe();
    expect(
      events.map((e) => [e.type, e.severity, e.device, e.data?.urn, (e.data?.xaddrs as string[] | undefined)?.[0]]),
    ).toEqual([
      ['camera.discovered', 'info', 'gw-xh-01', 'urn:a', 'http://10.0.0.1/onvif'],
      ['camera.discovered', 'info', 'gw-xh-01', 'urn:b', 'http://10.0.0.2/onvif'],
      ['camera.discovered', 'info', 'gw-xh-01', 'urn:a', 'http://10.0.0.9/onvif'],
    ]);
  });

  it('survives a failing probe', async () => {
    const d = new CameraDiscovery({
      gatewayId: 'gw-xh-01',
      intervalMs: 1000,
      probeTimeoutMs: 10,
      log: silentLogger(),
      now: () => 1,
      emitEvent: () => undefined,
      probe: async () => {
        throw new Error('EADDRINUSE');
      },
    });
    expect(await d.probe()).toEqual([]);
  });
});

describe('parseProbeMatch', () => {
  it('reads urn, xaddrs and the name/hardware scopes', () => {
    const data = {
      probeMatches: {
        probeMatch: {
          endpointReference: { address: 'urn:uuid:1' },
          XAddrs: 'http://192.168.1.64/onvif/device_service http://[fe80::1]/onvif/device_service',
          scopes: 'onvif://www.onvif.org/name/Gate%20East onvif://www.onvif.org/hardware/IPC-X',
        },
      },
    };
    expect(parseProbeMatch(data, '192.168.1.64')).toEqual({
      urn: 'urn:uuid:1',
      xaddrs: ['http://192.168.1.64/onvif/device_service', 'http://[fe80::1]/onvif/device_service'],
      scopes: ['onvif://www.onvif.org/name/Gate%20East', 'onvif://www.onvif.org/hardware/IPC-X'],
      name: 'Gate East',
      hardware: 'IPC-X',
      address: '192.168.1.64',
    });
    expect(parseProbeMatch({}, '1.2.3.4')).toBeUndefined();
  });
});
