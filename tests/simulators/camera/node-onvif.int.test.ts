/**
 * Interop with a second ONVIF client we did not write, node-onvif 0.1.7 (onvif-util 1.4.4 has no
 * GetSnapshotUri). Its OnvifDevice.init() calls GetSystemDateAndTime, GetCapabilities,
 * GetDeviceInformation, GetProfiles, GetStreamUri (UDP, HTTP, RTSP for each profile) and
 * GetSnapshotUri for each profile, all with a WS-UsernameToken PasswordDigest; fetchSnapshot()
 * GETs the snapshot URI with Basic credentials, and answers the simulator's 401 Digest challenge
 * with HTTP Digest (MD5, qop=auth). One camera on 127.0.0.1, no WS-Discovery (it multicasts).
 */
import { randomBytes } from 'node:crypto';
import onvif, { type OnvifDevice } from 'node-onvif';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedCamera } from '../../../simulators/camera/camera.js';
import { renderFrame } from '../../../simulators/camera/frame.js';
import { PROFILES } from '../../../simulators/camera/responses.js';

const USER = 'citygrid';
// hex: node-onvif splits "user:pass" at the first ":" for HTTP auth
const PASSWORD = randomBytes(12).toString('hex');
const SCENE = 'BR-XH-001 bridge';

let cam: SimulatedCamera;
let device: OnvifDevice;

beforeAll(async () => {
  cam = await SimulatedCamera.start({ name: 'CAM-01', scene: SCENE, username: USER, password: PASSWORD, port: 0 });
  device = new onvif.OnvifDevice({ xaddr: cam.deviceUrl, user: USER, pass: PASSWORD });
  await device.init();
});

afterAll(async () => {
  await cam?.stop();
});

/** The frame the simulator drew for its last snapshot, drawn again from what it recorded. */
async function redrawLastSnapshot(width: number, height: number): Promise<Buffer> {
  const last = cam.lastSnapshot;
  if (!last) throw new Error('the simulator drew no snapshot');
  expect(last.markers).toEqual([]);
  return renderFrame({
    camera: 'CAM-01',
    scene: SCENE,
    counter: cam.stats.snapshots,
    ...(last.preset ? { preset: last.preset } : {}),
    position: last.position,
    at: last.at,
    motion: false,
    tamper: false,
    width,
    height,
  });
}

async function expectSnapshotOf(profileToken: string): Promise<void> {
  const profile = PROFILES.find((p) => p.token === profileToken);
  if (!profile) throw new Error(`no profile ${profileToken}`);
  const before = cam.stats.snapshots;
  const { headers, body } = await device.fetchSnapshot();
  expect(headers['content-type']).toBe('image/jpeg');
  expect(cam.stats.snapshots).toBe(before + 1);
  expect(body.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
  expect(body.subarray(-2)).toEqual(Buffer.from([0xff, 0xd9]));
  const meta = await sharp(body).metadata();
  expect(meta).toMatchObject({ format: 'jpeg', width: profile.width, height: profile.height });
  expect(body.equals(await redrawLastSnapshot(profile.width, profile.height))).toBe(true);
}

describe('simulated camera with node-onvif (loopback)', () => {
  it('init() reads the device information and lists the profiles the simulator serves', () => {
    expect(device.getInformation()).toEqual({
      Manufacturer: 'citygrid',
      Model: 'SIM-PTZ-1',
      FirmwareVersion: '1.0.0',
      SerialNumber: 'SIMCAM01',
      HardwareId: 'SIM-PTZ-1',
    });
    const listed = device.getProfileList();
    expect(listed.map((p) => p.token)).toEqual(PROFILES.map((p) => p.token));
    for (const [i, p] of PROFILES.entries()) {
      expect(listed[i]).toMatchObject({
        token: p.token,
        name: p.name,
        snapshot: cam.snapshotUrl(p),
        stream: { rtsp: cam.streamUri },
        video: {
          source: { bounds: { width: 640, height: 480, x: 0, y: 0 } },
          encoder: {
            token: `VEC_${p.token}`,
            resolution: { width: p.width, height: p.height },
            encoding: 'H264',
            framerate: p.fps,
            bitrate: p.bitrateKbps,
          },
        },
      });
    }
    expect(cam.stats.authFailures).toBe(0);
  });

  it('the current profile is the first, with the simulator snapshot URI; fetchSnapshot() gets its JPEG over Digest', async () => {
    expect(device.getCurrentProfile()?.token).toBe('Profile_1');
    expect(device.getCurrentProfile()?.snapshot).toBe(`http://127.0.0.1:${cam.port}/snapshot/Profile_1.jpg`);
    await expectSnapshotOf('Profile_1');
  });

  it('after changeProfile() the snapshot is the sub stream size', async () => {
    expect(device.changeProfile('Profile_2')?.snapshot).toBe(`http://127.0.0.1:${cam.port}/snapshot/Profile_2.jpg`);
    await expectSnapshotOf('Profile_2');
    device.changeProfile('Profile_1');
  });

  it('a wrong password is refused: init() fails with NotAuthorized, the snapshot URL with 401', async () => {
    const failuresBefore = cam.stats.authFailures;
    const wrong = new onvif.OnvifDevice({ xaddr: cam.deviceUrl, user: USER, pass: `${PASSWORD}x` });
    await expect(wrong.init()).rejects.toThrow(/400 Bad Request - Sender not Authorized/);
    expect(cam.stats.authFailures).toBeGreaterThan(failuresBefore);

    // the snapshot URI node-onvif already has, asked for with a wrong password through its own Digest code
    const snapshotsBefore = cam.stats.snapshots;
    device.setAuth(USER, `${PASSWORD}x`);
    try {
      await expect(device.fetchSnapshot()).rejects.toThrow(/^401 Unauthorized$/);
    } finally {
      device.setAuth(USER, PASSWORD);
    }
    expect(cam.stats.snapshots).toBe(snapshotsBefore);
  });
});
