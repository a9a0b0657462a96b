/**
 * The onvif-camera driver against simulated cameras, through the onvif package's own code (no
 * mocks): connect, events with renewal and re-creation after a reboot, wrong password, captures
 * with a preset (snapshot over HTTP Digest, RTSP fallback with real ffmpeg + gst-rtsp-server,
 * clip), refused snapshots (HTML, truncated), an RTSP stream that never starts, oversized evidence.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceConfigSchema } from '../../../config/schema/gateway.js';
import { createOnvifCamera, onvifCamera } from '../../../drivers/onvif-camera/definition.js';
import { type OnvifCameraOptions, onvifCameraOptionsSchema } from '../../../drivers/onvif-camera/options.js';
import { createRegistry } from '../../../drivers/registry.js';
import type { DriverInstance } from '../../../drivers/sdk/driver.js';
import { silentLogger } from '../../../drivers/sdk/log.js';
import { MetricsRegistry } from '../../../drivers/sdk/metrics.js';
import type { CityEvent } from '../../../drivers/sdk/reading.js';
import { Agent, type AgentEvidence } from '../../../edge/src/agent.js';
import { type SimCameraOptions, SimulatedCamera } from '../../../simulators/camera/camera.js';
import { type RtspServer, startRtspServer, startStalledRtsp } from '../../../simulators/camera/rtsp.js';
import { eventually } from '../../helpers/cli-process.js';
import { networkContext, type RecordingNetworkContext } from './network-context.js';

const USER = 'citygrid';
const PASSWORD = `pw-${process.pid}`;

let rtsp: RtspServer;
let stalled: RtspServer;
const cameras: SimulatedCamera[] = [];
const drivers: DriverInstance[] = [];

async function camera(name: string, extra: Partial<SimCameraOptions> = {}): Promise<SimulatedCamera> {
  const cam = await SimulatedCamera.start({
    name,
    username: USER,
    password: PASSWORD,
    moveMs: 600,
    maxPullHoldMs: 300,
    streamUri: rtsp.url('cam'),
    ...extra,
  });
  cameras.push(cam);
  return cam;
}

function driver(cam: SimulatedCamera, extra: Record<string, unknown> = {}) {
  const options: OnvifCameraOptions = onvifCameraOptionsSchema.parse({
    url: cam.deviceUrl,
    username: USER,
    password: PASSWORD,
    connectTimeout: '3s',
    requestTimeout: '3s',
    snapshotTimeout: '4s',
    settlePoll: '100ms',
    eventRetry: '200ms',
    timeZone: 'Asia/Shanghai',
    ...extra,
  });
  const ctx = networkContext(options);
  const instance = createOnvifCamera(ctx);
  drivers.push(instance);
  return { ctx, instance };
}

const errorCode = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (e: { code?: string }) => e.code,
  );

const ffmpegChildren = () =>
  spawnSync('ps', ['-o', 'pid=,stat=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter((l) => /ffmpeg/.test(l));

beforeAll(async () => {
  rtsp = await startRtspServer(['cam']);
  stalled = await startStalledRtsp();
});

afterAll(async () => {
  await Promise.allSettled(drivers.map((d) => d.stop()));
  await Promise.allSettled(cameras.map((c) => c.stop()));
  await rtsp?.stop();
  await stalled?.stop();
});

describe('onvif-camera driver against the simulated camera', () => {
  let cam: SimulatedCamera;
  let ctx: RecordingNetworkContext<OnvifCameraOptions>;

  beforeAll(async () => {
    cam = await camera('CAM-A');
    const d = driver(cam);
    ctx = d.ctx;
    await d.instance.start();
  });

  it('subscribes, delivers motion and tamper as Events, and renews the subscription', async () => {
    await eventually(async () => (cam.pullPoints.stats.renewed >= 2 ? true : undefined), 5000, 'renewals');
    cam.raise('motion', true);
    cam.raise('tamper', true);
    cam.raise('analytics', 'obj-17');
    const got = await eventually(async () => (ctx.events.length >= 3 ? ctx.events : undefined), 5000, 'events');
    expect(got.map((e) => [e.type, e.severity, e.data?.active])).toEqual([
      ['camera.motion', 'warning', true],
      ['camera.tamper', 'critical', true],
      ['camera.analytics', 'warning', undefined],
    ]);
    expect(got[2]?.data?.items).toEqual({ ObjectId: 'obj-17' });
    cam.raise('motion', false);
    const off = await eventually(
      async () => ctx.events.find((e) => e.type === 'camera.motion' && e.data?.active === false),
      5000,
      'motion off',
    );
    expect(off.severity).toBe('info');
    expect(cam.pullPoints.stats.created).toBe(1);
  });

  it('reports the camera offline when it reboots, re-creates the subscription and gets events again', async () => {
    const before = cam.pullPoints.stats.created;
    ctx.events.length = 0;
    await cam.reboot(800);
    await eventually(
      async () => (cam.pullPoints.stats.created > before ? true : undefined),
      10_000,
      'new subscription',
    );
    expect(ctx.availability.map((a) => a.online)).toEqual([true, false, true]);
    expect(ctx.availability[1]?.reason).toMatch(/CAMERA_UNREACHABLE|CAMERA_FAULT/);
    cam.raise('tamper', true);
    const t = await eventually(
      async () => ctx.events.find((e) => e.type === 'camera.tamper' && e.data?.active === true),
      5000,
      'tamper after reboot',
    );
    expect(t.severity).toBe('critical');
  });

  it('captures a snapshot at a preset only after the head has settled there, stamped, with a thumbnail', async () => {
    const { instance } = driver(cam, { events: false });
    await instance.start();
    const result = await instance.command?.({
      name: 'capture',
      id: 'cmd-1',
      args: { preset: 'Bridge deck', mode: 'snapshot' },
    });
    expect(result).toMatchObject({
      mediaType: 'image/jpeg',
      via: 'snapshot-uri',
      preset: 'Bridge deck',
      presetToken: '2',
    });
    expect(result?.position).toEqual({ x: 0.5, y: -0.2, zoom: 0.3 });
    expect(cam.lastSnapshot).toMatchObject({
      moving: false,
      position: { x: 0.5, y: -0.2, zoom: 0.3 },
      preset: 'Bridge deck',
    });
  });

  it('hands over the evidence with the command id; the JPEG and thumbnail decode', async () => {
    const d = driver(cam, { events: false });
    await d.instance.start();
    const result = await d.instance.command?.({ name: 'capture', id: 'cmd-2', args: { preset: '1' } });
    const [e] = d.ctx.evidence;
    expect(e?.commandId).toBe('cmd-2');
    expect(e?.data.length).toBe(result?.bytes);
    const meta = await sharp(e?.data).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 640, 480]);
    expect((await sharp(e?.thumbnail).metadata()).width).toBe(320);
    expect(e?.meta).toMatchObject({ via: 'snapshot-uri', preset: 'Home', profile: 'Profile_1' });
  });

  it('falls back to an RTSP frame (real ffmpeg, gst-rtsp-server) when the snapshot is HTML, and counts the refusal', async () => {
    const c = await camera('CAM-HTML', { snapshot: 'html' });
    const d = driver(c, { events: false });
    await d.instance.start();
    const result = await d.instance.command?.({ name: 'capture', id: 'cmd-3', args: {} });
    expect(result).toMatchObject({ mediaType: 'image/jpeg', via: 'rtsp' });
    expect(d.ctx.errors).toEqual(['SNAPSHOT_NOT_JPEG']);
    expect((await sharp(d.ctx.evidence[0]?.data).metadata()).format).toBe('jpeg');
  });

  it('records a clip of N seconds as MP4 (codec copied)', async () => {
    const d = driver(cam, { events: false });
    await d.instance.start();
    const result = await d.instance.command?.({ name: 'capture', id: 'cmd-4', args: { mode: 'clip', seconds: 2 } });
    expect(result).toMatchObject({ mediaType: 'video/mp4', via: 'rtsp', seconds: 2 });
    const clip = d.ctx.evidence[0]?.data as Buffer;
    expect(clip.subarray(4, 8).toString('latin1')).toBe('ftyp');
    const probe = execFileSync(
      'ffprobe',
      ['-v', 'error', '-show_entries', 'stream=codec_name', '-of', 'csv=p=0', '-i', 'pipe:0'],
      {
        input: clip,
      },
    ).toString();
    expect(probe.trim()).toBe('h264');
  });

  it('refuses an HTML or truncated snapshot with a typed error when there is no RTSP to fall back on', async () => {
    const c = await camera('CAM-BAD', { snapshot: 'html', streamUri: 'rtsp://127.0.0.1:9/none' });
    const d = driver(c, { events: false });
    await d.instance.start();
    expect(await errorCode(d.instance.command?.({ name: 'capture', args: {} }) as Promise<unknown>)).toBe(
      'SNAPSHOT_NOT_JPEG',
    );
    c.snapshotMode = 'truncated';
    expect(await errorCode(d.instance.command?.({ name: 'capture', args: {} }) as Promise<unknown>)).toBe(
      'SNAPSHOT_TRUNCATED',
    );
    expect(d.ctx.errors).toEqual(['FFMPEG_FAILED', 'SNAPSHOT_NOT_JPEG', 'FFMPEG_FAILED', 'SNAPSHOT_TRUNCATED']);
  });

  it('kills ffmpeg when the RTSP stream never starts and leaves no process behind', async () => {
    const c = await camera('CAM-STALL', { snapshot: 'none', streamUri: stalled.url('cam') });
    const d = driver(c, { events: false, snapshotTimeout: '1500ms' });
    await d.instance.start();
    expect(await errorCode(d.instance.command?.({ name: 'capture', args: {} }) as Promise<unknown>)).toBe(
      'FFMPEG_TIMEOUT',
    );
    expect(d.ctx.errors).toEqual(['FFMPEG_TIMEOUT']);
    expect(ffmpegChildren()).toEqual([]);
  });

  it('refuses oversized evidence', async () => {
    const d = driver(cam, { events: false, maxEvidenceBytes: 4000 });
    await d.instance.start();
    expect(await errorCode(d.instance.command?.({ name: 'capture', args: {} }) as Promise<unknown>)).toBe(
      'EVIDENCE_TOO_LARGE',
    );
    expect(d.ctx.evidence).toEqual([]);
    expect(d.ctx.errors).toEqual(['EVIDENCE_TOO_LARGE']);
  });

  it('fails to start with CAMERA_AUTH_FAILED on a wrong password, and counts it', async () => {
    const d = driver(cam, { password: 'wrong-password' });
    const err = await d.instance.start().then(
      () => undefined,
      (e: Error & { retryable?: boolean }) => e,
    );
    expect(err?.message).toMatch(/^CAMERA_AUTH_FAILED: /);
    expect(err?.retryable).toBe(true);
    expect(d.ctx.errors).toEqual(['CAMERA_AUTH_FAILED']);
  });

  it('stops while the camera holds a PullMessages (long-poll of a minute) without waiting for it', async () => {
    const c = await camera('CAM-HOLD', { maxPullHoldMs: 60_000 });
    const d = driver(c);
    await d.instance.start();
    await eventually(async () => (c.pullPoints.stats.pulls >= 2 ? true : undefined), 5000, 'a held pull');
    const stopped = await Promise.race([
      d.instance.stop().then(() => 'stopped'),
      new Promise((r) => setTimeout(() => r('still waiting'), 5000)),
    ]);
    expect(stopped).toBe('stopped');
    expect(c.pullPoints.stats.unsubscribed).toBe(1);
  });

  it('goes offline when the camera disappears for good and stays so', async () => {
    const c = await camera('CAM-GONE');
    const d = driver(c);
    await d.instance.start();
    await eventually(async () => (d.ctx.availability.length >= 1 ? true : undefined), 5000, 'online');
    await c.stop();
    await eventually(async () => (d.ctx.availability.some((a) => !a.online) ? true : undefined), 5000, 'offline');
    expect(d.ctx.availability.at(-1)?.online).toBe(false);
    expect(d.ctx.errors[0]).toBe('CAMERA_UNREACHABLE');
    await d.instance.stop();
  });

  it('runs under the edge Agent: capture routed to the driver, evidence to the sink, a wrong password counted by code', async () => {
    const c = await camera('CAM-AGENT');
    const entry = (id: string, password: string) =>
      deviceConfigSchema.parse({
        id,
        kind: 'camera',
        driver: 'onvif-camera',
        asset: 'BR-XH-001',
        options: onvifCameraOptionsSchema.parse({ url: c.deviceUrl, username: USER, password, events: false }),
      });
    const events: CityEvent[] = [];
    const evidence: AgentEvidence[] = [];
    const metrics = new MetricsRegistry();
    const agent = new Agent([entry('XH-CAM01', PASSWORD), entry('XH-CAM02', 'wrong')], {
      registry: createRegistry([onvifCamera]),
      createTransport: () => {
        throw new Error('a network driver needs no transport');
      },
      sink: { reading: () => undefined, event: (e) => events.push(e), evidence: (e) => evidence.push(e) },
      log: silentLogger(),
      clock: { now: () => Date.now() },
      metrics,
      retry: { initialDelay: 60_000, maxDelay: 60_000 },
    });
    agent.start();
    try {
      await eventually(async () => (agent.onlineCount() === 1 ? true : undefined), 5000, 'XH-CAM01 online');
      await eventually(
        async () => events.find((e) => e.device === 'XH-CAM02' && e.type === 'device.offline'),
        5000,
        'XH-CAM02 offline',
      );
      expect(metrics.render()).toContain(
        'citygrid_edge_device_errors_total{code="CAMERA_AUTH_FAILED",device="XH-CAM02"} 1',
      );
      const result = await agent.command('XH-CAM01', { name: 'capture', id: 'cmd-agent', args: { preset: '3' } });
      expect(result).toMatchObject({ mediaType: 'image/jpeg', preset: 'Underpass entrance' });
      expect(evidence).toHaveLength(1);
      expect(evidence[0]).toMatchObject({
        device: 'XH-CAM01',
        kind: 'camera',
        asset: 'BR-XH-001',
        commandId: 'cmd-agent',
      });
    } finally {
      await agent.stop();
    }
  });
});
