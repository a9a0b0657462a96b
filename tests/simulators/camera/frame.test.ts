/**
 * What the simulated camera "sees" (issue 5 item 5): the scene it watches, the time, the preset,
 * and a marker while an event is active; and `citygrid sim camera` as the issue spells it.
 */
import sharp from 'sharp';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { run as runSim } from '../../../bin/commands/sim.js';
import {
  ANALYTICS_MARKER_MS,
  activeMarkers,
  type FrameScene,
  frameSvg,
  renderFrame,
} from '../../../simulators/camera/frame.js';
import { captureConsole } from '../../helpers/console-capture.js';

const AT = Date.UTC(2026, 10, 23, 8, 30, 0);
const scene = (over: Partial<FrameScene> = {}): FrameScene => ({
  camera: 'XH-CAM01',
  scene: 'BR-XH-001 bridge',
  counter: 7,
  preset: 'Bridge deck',
  position: { x: 0.5, y: -0.2, zoom: 0.3 },
  at: AT,
  motion: false,
  tamper: false,
  width: 640,
  height: 360,
  ...over,
});

/** Mean RGB of a region of a rendered frame. */
async function meanColour(jpeg: Buffer, region: { left: number; top: number; width: number; height: number }) {
  // stats() would describe the whole input image, not the extract: average the raw pixels instead
  const { data, info } = await sharp(jpeg).extract(region).raw().toBuffer({ resolveWithObject: true });
  const sum: [number, number, number] = [0, 0, 0];
  for (let i = 0; i < data.length; i += info.channels) {
    sum[0] += data[i] ?? 0;
    sum[1] += data[i + 1] ?? 0;
    sum[2] += data[i + 2] ?? 0;
  }
  const n = data.length / info.channels;
  return sum.map((v) => Math.round(v / n));
}

afterEach(() => vi.restoreAllMocks());

describe('simulated camera frame', () => {
  it('names the camera, the scene, the preset and the time', () => {
    const svg = frameSvg(scene());
    expect(svg).toContain('>XH-CAM01<');
    expect(svg).toContain('>BR-XH-001 bridge<');
    expect(svg).toContain('preset Bridge deck');
    expect(svg).toContain('2026-11-23T08:30:00.000Z');
    expect(activeMarkers(scene())).toEqual([]);
  });

  it('escapes a scene name as SVG text and leaves the line out when there is none', () => {
    expect(frameSvg(scene({ scene: 'Deck <A & B>' }))).toContain('>Deck &lt;A &amp; B&gt;<');
    const bare = frameSvg(scene({ scene: undefined }));
    expect(bare).not.toContain('bridge');
    expect(bare).toContain('>XH-CAM01<');
  });

  it('marks motion and tamper while they are on, and a line crossing for a while after it', () => {
    expect(activeMarkers(scene({ motion: true, tamper: true }))).toEqual(['MOTION', 'TAMPER']);
    const crossing = { objectId: '42', at: AT - 1000 };
    expect(activeMarkers(scene({ crossing }))).toEqual(['LINE CROSSED 42']);
    expect(frameSvg(scene({ crossing }))).toContain('>LINE CROSSED 42<');
    expect(activeMarkers(scene({ crossing: { objectId: '42', at: AT - ANALYTICS_MARKER_MS } }))).toEqual([]);
    expect(frameSvg(scene({ crossing: { objectId: '42', at: AT - ANALYTICS_MARKER_MS } }))).not.toContain('LINE');
  });

  it('draws the marker into the JPEG: the top-right corner turns red while motion is on', async () => {
    const corner = { left: 560, top: 14, width: 60, height: 20 };
    const quiet = await renderFrame(scene());
    const motion = await renderFrame(scene({ motion: true }));
    const meta = await sharp(motion).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 640, 360]);
    const [r0, , b0] = await meanColour(quiet, corner);
    const [r1, g1, b1] = await meanColour(motion, corner);
    expect(b0).toBeGreaterThan(r0 ?? 0); // the sky
    expect(r1).toBeGreaterThan((g1 ?? 0) + 60); // the marker
    expect(r1).toBeGreaterThan((b1 ?? 0) + 60);
  });
});

describe('citygrid sim camera', () => {
  it('is the same command as sim cameras, and the simulator list names both', async () => {
    const io = captureConsole();
    expect(await runSim(['camera', '--help'])).toBe(0);
    expect(io.out.join('\n')).toMatch(/usage: citygrid sim cameras .*--scene/);
    expect(io.out.join('\n')).toContain('citygrid sim camera is the same command');
    expect(await runSim(['--help'])).toBe(2);
    expect(io.err.join('\n')).toMatch(/^ {2}camera +the same as cameras$/m);
    expect(io.err.join('\n')).toMatch(/^ {2}cameras +ONVIF cameras/m);
  });

  it('refuses more scenes than cameras', async () => {
    const io = captureConsole();
    expect(await runSim(['camera', '--count', '1', '--scene', 'a', '--scene', 'b'])).toBe(2);
    expect(io.err.join('\n')).toContain('2 --scene for 1 camera(s)');
  });
});
