/**
 * What the simulated camera "sees": a JPEG drawn with sharp from SVG, showing the camera name, the
 * scene it watches, a frame counter, the preset, the PTZ position, the time and a marker while an
 * event is active (MOTION, TAMPER, and LINE CROSSED for a while after an analytics event).
 * SVG text needs fonts-dejavu-core; without fonts librsvg silently drops the text. DejaVu has no
 * CJK glyphs, so scene names are ids and Latin text (a Chinese asset name would draw as boxes).
 */
import sharp from 'sharp';
import type { PtzVector } from './responses.js';
import { xmlEscape } from './soap.js';

/** How long the LINE CROSSED marker stays after an analytics (line-crossing) event, ms. */
export const ANALYTICS_MARKER_MS = 10_000;

export interface FrameScene {
  camera: string;
  /** What the camera watches (e.g. "BR-XH-001 bridge"); none: only the camera name is drawn. */
  scene?: string;
  counter: number;
  preset?: string;
  position: PtzVector;
  at: number;
  motion: boolean;
  tamper: boolean;
  /** The last line crossing (object id, when), drawn while younger than ANALYTICS_MARKER_MS. */
  crossing?: { objectId: string; at: number };
  width: number;
  height: number;
}

/** The event markers active at `s.at`, top to bottom. */
export function activeMarkers(s: FrameScene): string[] {
  const crossed = s.crossing !== undefined && s.at - s.crossing.at < ANALYTICS_MARKER_MS && s.at >= s.crossing.at;
  return [
    ...(s.motion ? ['MOTION'] : []),
    ...(s.tamper ? ['TAMPER'] : []),
    ...(crossed && s.crossing ? [`LINE CROSSED ${s.crossing.objectId}`] : []),
  ];
}

export function frameSvg(s: FrameScene): string {
  const e = xmlEscape;
  // the "scene" shifts with pan/tilt so a preset change is visible in the picture
  const cx = Math.round(s.width / 2 - s.position.x * s.width * 0.4);
  const cy = Math.round(s.height / 2 + s.position.y * s.height * 0.4);
  const r = Math.round(40 + s.position.zoom * 60);
  const line = (y: number, text: string, size = 18) =>
    `<text x="12" y="${y}" font-family="DejaVu Sans Mono" font-size="${size}" fill="#fff">${e(text)}</text>`;
  const markers = activeMarkers(s)
    .map((text, i) => {
      const w = 16 + text.length * 10;
      const y = 10 + i * 34;
      return (
        `<rect x="${s.width - w - 10}" y="${y}" width="${w}" height="28" fill="${text === 'TAMPER' ? '#b7950b' : '#c0392b'}"/>` +
        `<text x="${s.width - w - 2}" y="${y + 20}" font-family="DejaVu Sans Mono" font-size="16" fill="#fff">${e(text)}</text>`
      );
    })
    .join('');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${s.width}" height="${s.height}">` +
    `<rect width="100%" height="100%" fill="${s.tamper ? '#222' : '#3a6b8c'}"/>` +
    `<rect y="${Math.round(s.height * 0.65)}" width="100%" height="${Math.round(s.height * 0.35)}" fill="#555"/>` +
    `<circle cx="${cx}" cy="${cy}" r="${r}" fill="#d9a441"/>` +
    line(28, s.camera, 22) +
    (s.scene ? line(52, s.scene, 16) : '') +
    line(76, `frame ${s.counter}`, 14) +
    line(96, `preset ${s.preset ?? '-'}  pan ${s.position.x} tilt ${s.position.y} zoom ${s.position.zoom}`, 14) +
    // the time at the top, as cameras' own OSD puts it: the driver's stamp covers the bottom edge
    line(116, new Date(s.at).toISOString(), 14) +
    markers +
    '</svg>'
  );
}

export async function renderFrame(scene: FrameScene): Promise<Buffer> {
  return sharp(Buffer.from(frameSvg(scene)))
    .jpeg({ quality: 80 })
    .toBuffer();
}
