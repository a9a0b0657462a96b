/**
 * CaptureCommands with an in-memory broker link and a registry fed state messages: routing a
 * capture to the gateway that has the camera, typed refusals, results from cmd-result, evidence
 * linked by command id, and requestCapture fanning out to an asset's cameras at their presets.
 */
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../drivers/sdk/log.js';
import { MetricsRegistry } from '../../../drivers/sdk/metrics.js';
import type { BrokerLink, MessageHandler } from '../../../hub/src/broker/link.js';
import { CaptureCommands, CaptureError } from '../../../hub/src/evidence/capture.js';
import { GatewayRegistry } from '../../../hub/src/ingest/gateways.js';

const city = {
  gateways: [
    { id: 'gw-xh-01', district: 'xihu' },
    { id: 'gw-gs-01', district: 'gongshu' },
  ],
};
const assets = [
  {
    id: 'BR-XH-001',
    name: 'bridge',
    kind: 'bridge' as const,
    district: 'xihu',
    cameras: [{ device: 'XH-CAM01', preset: 'Bridge deck' }, { device: 'XH-CAM02' }, { device: 'GONE-CAM' }],
  },
];

function rig() {
  const published: { topic: string; body: Record<string, unknown> }[] = [];
  const handlers: MessageHandler[] = [];
  let connected = true;
  const link: BrokerLink = {
    mode: 'embedded',
    url: 'mqtt://test',
    subscribe: async (_filter, handler) => {
      handlers.push(handler);
    },
    publish: async (topic, payload) => {
      published.push({ topic, body: JSON.parse(String(payload)) as Record<string, unknown> });
    },
    connected: () => connected,
    close: async () => {},
  };
  const registry = new GatewayRegistry(city);
  const online = (gateway: string, district: string, devices: string[], state: 'online' | 'offline' = 'online') =>
    registry.applyState(
      district,
      {
        gateway,
        state,
        bootId: 'b1',
        ts: Date.now(),
        // The offline last will carries no inventory: the registry keeps the last one it had.
        ...(state === 'online'
          ? { devices: devices.map((id) => ({ id, kind: 'camera', driver: 'onvif-camera' })) }
          : {}),
      },
      Date.now(),
    );
  online('gw-xh-01', 'xihu', ['XH-CAM01', 'XH-CAM02']);
  online('gw-gs-01', 'gongshu', ['GS-CAM01']);
  const capture = new CaptureCommands({
    link,
    registry,
    city: { assets },
    log: silentLogger(),
    metrics: new MetricsRegistry(),
  });
  const result = (gateway: string, district: string, body: Record<string, unknown>) =>
    handlers[0]?.(`cg/v1/${district}/${gateway}/cmd-result`, Buffer.from(JSON.stringify(body)));
  return { capture, published, online, result, setConnected: (v: boolean) => (connected = v) };
}

const reasonOf = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (e: unknown) => (e instanceof CaptureError ? `${e.reason} ${e.status}` : String(e)),
  );

describe('CaptureCommands', () => {
  it('publishes cmd/capture to the gateway that has the camera and tracks result and evidence', async () => {
    const { capture, published, result } = rig();
    await capture.start();
    const view = await capture.capture('GS-CAM01', { mode: 'clip', seconds: 5 });
    expect(published).toEqual([
      {
        topic: 'cg/v1/gongshu/gw-gs-01/cmd/capture',
        body: { id: view.id, device: 'GS-CAM01', mode: 'clip', seconds: 5 },
      },
    ]);
    expect(capture.get(view.id)).toMatchObject({ state: 'sent', gateway: 'gw-gs-01', evidence: [] });
    // A result from another gateway naming the id is not taken.
    result('gw-xh-01', 'xihu', { id: view.id, name: 'capture', ok: false, error: 'spoofed' });
    expect(capture.get(view.id)?.state).toBe('sent');
    result('gw-gs-01', 'gongshu', { id: view.id, name: 'capture', ok: true, device: 'GS-CAM01', bytes: 12 });
    capture.evidenceArrived(view.id, 'abc');
    capture.evidenceArrived(view.id, 'abc');
    expect(capture.get(view.id)).toMatchObject({
      state: 'ok',
      result: { device: 'GS-CAM01', bytes: 12 },
      evidence: ['abc'],
    });
    const failed = await capture.capture('GS-CAM01', {});
    result('gw-gs-01', 'gongshu', { id: failed.id, name: 'capture', ok: false, error: 'CAMERA_UNREACHABLE: gone' });
    expect(capture.get(failed.id)).toMatchObject({ state: 'error', error: 'CAMERA_UNREACHABLE: gone' });
  });

  it('refuses with typed errors: unknown camera 404, offline gateway 409, broker down 503, bad body 400', async () => {
    const { capture, online, setConnected } = rig();
    expect(await reasonOf(capture.capture('NOPE', {}))).toBe('unknown-camera 404');
    expect(await reasonOf(capture.capture('XH-CAM01', { mode: 'panorama' }))).toBe('bad-request 400');
    setConnected(false);
    expect(await reasonOf(capture.capture('XH-CAM01', {}))).toBe('broker-down 503');
    setConnected(true);
    online('gw-xh-01', 'xihu', [], 'offline');
    expect(await reasonOf(capture.capture('XH-CAM01', {}))).toBe('gateway-offline 409');
  });

  it('requestCapture asks every camera of the asset at its preset and reports the ones it cannot reach', async () => {
    const { capture, published } = rig();
    const sent = await capture.requestCapture('BR-XH-001');
    expect(published.map((p) => [p.topic, p.body.device, p.body.preset])).toEqual([
      ['cg/v1/xihu/gw-xh-01/cmd/capture', 'XH-CAM01', 'Bridge deck'],
      ['cg/v1/xihu/gw-xh-01/cmd/capture', 'XH-CAM02', undefined],
    ]);
    expect(sent.map((s) => [s.device, s.command?.state, s.error?.split(':')[0]])).toEqual([
      ['XH-CAM01', 'sent', undefined],
      ['XH-CAM02', 'sent', undefined],
      ['GONE-CAM', undefined, 'unknown-camera'],
    ]);
    expect(await reasonOf(capture.requestCapture('NO-ASSET'))).toBe('unknown-asset 404');
  });
});
