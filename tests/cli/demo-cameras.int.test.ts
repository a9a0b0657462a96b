/**
 * The demo's cameras (bin/commands/demo-cameras.ts) on a machine without gst-rtsp-server: one
 * simulated camera per onvif-camera device of the shipped gateway configs, whose `${ENV}`
 * references the returned env fills, so the configs load pointing at the simulators; each camera
 * answers with the generated password, its snapshot is a JPEG, and stop() closes them all.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type DemoCameras, startDemoCameras } from '../../bin/commands/demo-cameras.js';
import { loadCityConfig, loadGatewayConfig } from '../../config/load.js';
import { driverOptionsValidator } from '../../drivers/index.js';
import { fetchSnapshot } from '../../drivers/onvif-camera/snapshot-fetch.js';
import { ROOT } from '../helpers/cli-process.js';
import { captureLogger } from '../helpers/console-capture.js';

const EXAMPLES = path.join(ROOT, 'config/examples');
const GATEWAYS = readdirSync(path.join(EXAMPLES, 'gateways'))
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => path.join(EXAMPLES, 'gateways', f));

let cameras: DemoCameras | undefined;
afterEach(async () => {
  await cameras?.stop();
  cameras = undefined;
});

describe('the demo cameras', () => {
  it('simulate every example camera without RTSP, and fill the configs url and password references', async () => {
    const { logger, lines } = captureLogger();
    const city = loadCityConfig(path.join(EXAMPLES, 'city.yaml'));
    const base = { CITYGRID_PW_GW_XH_01: 'gw-a', CITYGRID_PW_GW_GS_01: 'gw-b' };
    cameras = await startDemoCameras(GATEWAYS, {
      city,
      env: base,
      log: logger,
      python: path.join(ROOT, 'no-such-python'),
    });
    expect(cameras.count).toBe(6);
    const env: Record<string, string> = { ...base, ...cameras.env };
    expect(env.CITYGRID_PW_CAMERAS_XH).toMatch(/^[A-Za-z0-9_-]{12}$/);
    expect(env.CITYGRID_PW_CAMERAS_GS).toMatch(/^[A-Za-z0-9_-]{12}$/);
    expect(env.CITYGRID_PW_CAMERAS_XH).not.toBe(env.CITYGRID_PW_CAMERAS_GS);

    const banner = cameras.banner('http://127.0.0.1:8080');
    expect(banner[0]).toMatch(/^6 simulated ONVIF cameras, .*RTSP off \(.*\): snapshots only$/);
    expect(banner.join('\n')).toMatch(
      /curl -b jar -X POST http:\/\/127\.0\.0\.1:8080\/api\/cameras\/(XH|GS)-CAM01\/capture -d '\{"mode":"snapshot","preset":"2"\}'/,
    );
    expect(lines().some((l) => l.msg?.toString().startsWith('No RTSP'))).toBe(true);

    const devices = GATEWAYS.flatMap((file) =>
      loadGatewayConfig(file, driverOptionsValidator, { env }).gateway.devices.filter(
        (d) => d.driver === 'onvif-camera',
      ),
    );
    expect(devices.map((d) => d.id).sort()).toEqual(
      ['GS-CAM01', 'GS-CAM02', 'GS-CAM03', 'XH-CAM01', 'XH-CAM02', 'XH-CAM03'].sort(),
    );
    for (const d of devices) {
      const o = d.options as { url: string; username: string; password: string };
      expect(o.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/onvif\/device_service$/);
      // the snapshot behind HTTP Digest takes the generated password, and refuses another
      const snapshot = o.url.replace('/onvif/device_service', '/snapshot/Profile_1.jpg');
      const { data, contentType } = await fetchSnapshot(snapshot, o, { timeoutMs: 5000, maxBytes: 1 << 20 });
      expect(contentType).toBe('image/jpeg');
      expect(data.subarray(0, 2).toString('hex')).toBe('ffd8');
      await expect(
        fetchSnapshot(snapshot, { ...o, password: 'wrong' }, { timeoutMs: 5000, maxBytes: 1 << 20 }),
      ).rejects.toMatchObject({ code: 'CAMERA_AUTH_FAILED' });
      // what it drew: the asset the camera watches, no event marker yet
      const asset = city.assets.find((a) => a.id === d.asset);
      const sim = cameras.cameras.find((c) => c.identity.name === d.id);
      expect(sim?.lastSnapshot).toMatchObject({ scene: `${asset?.id} ${asset?.kind}`, markers: [] });
    }

    // an event raised on a camera shows on its next snapshot while it is active
    const bridgeCam = cameras.cameras.find((c) => c.identity.name === 'XH-CAM01');
    const bridge = devices.find((d) => d.id === 'XH-CAM01')?.options as {
      url: string;
      username: string;
      password: string;
    };
    for (const hook of ['kind=motion&value=true', 'kind=analytics&value=5'])
      expect((await fetch(`${bridgeCam?.identity.baseUrl}/sim/event?${hook}`, { method: 'POST' })).status).toBe(204);
    await fetchSnapshot(bridge.url.replace('/onvif/device_service', '/snapshot/Profile_1.jpg'), bridge, {
      timeoutMs: 5000,
      maxBytes: 1 << 20,
    });
    expect(bridgeCam?.lastSnapshot).toMatchObject({ scene: 'BR-XH-001 bridge', markers: ['MOTION', 'LINE CROSSED 5'] });

    const urls = devices.map((d) => (d.options as { url: string }).url);
    await cameras.stop();
    cameras = undefined;
    for (const url of urls) await expect(fetch(url, { method: 'POST' })).rejects.toThrow();
  }, 30_000);
});
