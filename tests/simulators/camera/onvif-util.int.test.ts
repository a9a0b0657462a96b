/**
 * Interop with clients we did not write, in a private network namespace (`unshare -n`, lo with
 * multicast): Debian's onvif-util finds `citygrid sim cameras --discovery` by WS-Discovery, logs
 * in with WS-UsernameToken, lists its profiles, gets the RTSP URI and the encoder options, and is
 * refused with a wrong password; the edge's CameraDiscovery (the onvif package's Discovery) finds
 * it and raises one `camera.discovered` Event for two probes; a real edge agent with
 * `discovery.onvif.enabled` logs the camera as discovered and connects its onvif-camera device.
 *
 * onvif-util 1.4.4 (Debian 12) has no GetSnapshotUri command, so the snapshot URI is checked
 * through the onvif package in the driver's integration test, and through a second client we did
 * not write, node-onvif, in node-onvif.int.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../helpers/cli-process.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'citygrid-onvif-interop-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function sections(out: string): Record<string, string> {
  const parts: Record<string, string> = {};
  let name = '';
  for (const line of out.split('\n')) {
    const m = /^=== (.+)$/.exec(line);
    if (m) name = m[1] as string;
    else parts[name] = `${parts[name] ?? ''}${line}\n`;
  }
  return parts;
}

describe('simulated camera interop (network namespace)', () => {
  it('onvif-util lists profiles and the RTSP URI; the edge discovers the camera once and connects it', () => {
    const password = `pw${process.pid}`;
    const run = spawnSync(
      'unshare',
      ['-n', 'bash', path.join(ROOT, 'tests/simulators/camera/fixtures/netns-interop.sh'), ROOT, password, work],
      { encoding: 'utf8', timeout: 55_000 },
    );
    const out = `${run.stdout}${run.stderr}`;
    expect(run.status, out).toBe(0);
    const s = sections(out);
    const device = /device (http:\/\/127\.0\.0\.1:\d+\/onvif\/device_service)/.exec(s.sim ?? '')?.[1];
    expect(device, out).toBeDefined();

    const util = s['onvif-util'] ?? '';
    expect(util).toContain('successfully connected to host');
    expect(util).toContain('name:   CAM-01 SIM-PTZ-1');
    expect(util).toMatch(/Token 0: Profile_1\s+Token 1: Profile_2/);
    expect(util).toContain('rtsp://127.0.0.1:8554/CAM-01');
    expect(util).toMatch(/640 x 480\s+320 x 240/);
    expect(s['onvif-util wrong password']).toContain('ter:NotAuthorized');

    const events = JSON.parse((s.discovery ?? '').trim()) as {
      type: string;
      device: string;
      data: Record<string, unknown>;
    }[];
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'camera.discovered',
      device: 'gw-test-01',
      data: { xaddrs: [device], name: 'CAM-01', hardware: 'SIM-PTZ-1', address: '127.0.0.1' },
    });
    expect(events[0]?.data.scopes).toContain('onvif://www.onvif.org/Profile/Streaming');

    // the real edge process: discovery enabled in the gateway config, the camera as an onvif-camera device
    const edge = (s.edge ?? '')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(edge.find((l) => l.msg === 'Using ffmpeg')).toMatchObject({ device: 'TEST-CAM01' });
    expect(edge.find((l) => l.msg === 'Camera connected')).toMatchObject({
      profile: 'Profile_1',
      ptz: true,
      rtsp: true,
    });
    expect(edge.find((l) => l.msg === 'Camera discovered')).toMatchObject({
      component: 'edge.discovery',
      xaddrs: [device],
    });
    expect(s['sim exit 0']).toBeDefined();
  });
});
