/**
 * Evidence from H1's simulated ONVIF cameras through the real onvif-camera driver in a real edge
 * process to the real hub (camera-rig.ts): POST /api/cameras/<id>/capture with a PTZ preset, a
 * frame grabbed from RTSP with ffmpeg for a camera without a snapshot URI, and an MP4 clip. The
 * hub's evidence id must be the sha256 the driver reported for the bytes it captured.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { supervisorFetch } from '../helpers/console-session.js';
import { type CameraRig, RTSP_CAMERA, SNAPSHOT_CAMERA, startCameraRig } from './evidence/camera-rig.js';

let rig: CameraRig;

beforeAll(async () => {
  rig = await startCameraRig();
}, 60_000);

afterAll(async () => {
  await rig?.stop();
});

async function command(id: string) {
  return (await (await supervisorFetch(`${rig.api}/api/commands/${id}`)).json()) as {
    state: string;
    result?: { sha256?: string; via?: string; preset?: string };
  };
}

async function fetchEvidence(id: string, sub = '') {
  const res = await supervisorFetch(`${rig.api}/api/evidence/${id}${sub}`);
  expect(res.status).toBe(200);
  return { type: res.headers.get('content-type'), bytes: Buffer.from(await res.arrayBuffer()) };
}

describe('evidence from a simulated ONVIF camera', () => {
  it('a snapshot at a preset: moved, captured over HTTP, stamped, stored under the sha256 the driver reported', async () => {
    const commandId = await rig.capture(SNAPSHOT_CAMERA, { preset: 'Bridge deck', mode: 'snapshot' });
    const evidenceId = await rig.evidenceOf(commandId, 30_000);
    const view = await command(commandId);
    expect(view.state).toBe('ok');
    expect(view.result?.sha256).toBe(evidenceId);
    expect(view.result?.preset).toBe('Bridge deck');
    const image = await fetchEvidence(evidenceId);
    expect(image.type).toBe('image/jpeg');
    expect((await sharp(image.bytes).metadata()).format).toBe('jpeg');
    const thumb = await fetchEvidence(evidenceId, '/thumbnail');
    const t = await sharp(thumb.bytes).metadata();
    expect(t.format).toBe('jpeg');
    expect(t.width ?? 0).toBeLessThan((await sharp(image.bytes).metadata()).width ?? 0);
    const record = await rig.record(evidenceId);
    expect(record).toMatchObject({ device: SNAPSHOT_CAMERA, asset: 'BR-XH-001', gateway: 'gw-xh-01', commandId });
  });

  it('a camera without a snapshot URI: a frame grabbed from RTSP with ffmpeg', async () => {
    const commandId = await rig.capture(RTSP_CAMERA, {});
    const evidenceId = await rig.evidenceOf(commandId, 30_000);
    const view = await command(commandId);
    expect(view.result?.sha256).toBe(evidenceId);
    expect(view.result?.via).toMatch(/rtsp/);
    const image = await fetchEvidence(evidenceId);
    expect((await sharp(image.bytes).metadata()).format).toBe('jpeg');
  });

  it('a 2 s clip from RTSP arrives as video/mp4', async () => {
    const commandId = await rig.capture(SNAPSHOT_CAMERA, { mode: 'clip', seconds: 2 });
    const evidenceId = await rig.evidenceOf(commandId, 30_000);
    expect((await command(commandId)).result?.sha256).toBe(evidenceId);
    const clip = await fetchEvidence(evidenceId);
    expect(clip.type).toBe('video/mp4');
    expect(clip.bytes.subarray(4, 8).toString('latin1')).toBe('ftyp');
  });
});
