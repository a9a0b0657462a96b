/**
 * What the simulated camera "sees": a JPEG drawn with sharp from SVG, showing the camera name, a
 * frame counter, the preset, the PTZ position, the time and a marker while motion or tamper is on.
 * SVG text needs fonts-dejavu-core; without fonts librsvg silently drops the text.
 */
import sharp from 'sharp';
import type { PtzVector } from './responses.js';
import { xmlEscape } from './soap.js';

export interface FrameScene {
  camera: string;
  counter: number;
  preset?: string;
  position: PtzVector;
  at: number;
  motion: boolean;
  tamper: boolean;
  width: number;
  height: number;
}

export function frameSvg(s: FrameScene): string {
  const e = xmlEscape;
  // the "scene" shifts with pan/tilt so a preset change is visible in the picture
  const cx = Math.round(s.width / 2 - s.position.x * s.width * 0.4);
  const cy = Math.round(s.height / 2 + s.position.y * s.height * 0.4);
  const r = Math.round(40 + s.position.zoom * 60);
  const line = (y: number, text: string, size = 18) =>
    `<text x="12" y="${y}" font-family="DejaVu Sans Mono" font-size="${size}" fill="#fff">${e(text)}</text>`;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${s.width}" height="${s.height}">` +
    `<rect width="100%" height="100%" fill="${s.tamper ? '#222' : '#3a6b8c'}"/>` +
    `<rect y="${Math.round(s.height * 0.65)}" width="100%" height="${Math.round(s.height * 0.35)}" fill="#555"/>` +
    `<circle cx="${cx}" cy="${cy}" r="${r}" fill="#d9a441"/>` +
    line(28, s.camera, 22) +
    line(52, `frame ${s.counter}`) +
    line(74, `preset ${s.preset ?? '-'}  pan ${s.position.x} tilt ${s.position.y} zoom ${s.position.zoom}`, 14) +
    line(s.height - 14, new Date(s.at).toISOString(), 14) +
    (s.motion
      ? `<rect x="${s.width - 110}" y="10" width="100" height="28" fill="#c0392b"/><text x="${s.width - 100}" y="30" font-family="DejaVu Sans" font-size="16" fill="#fff">MOTION</text>`
      : '') +
    (s.tamper
      ? `<text x="${s.width - 120}" y="60" font-family="DejaVu Sans" font-size="16" fill="#f1c40f">TAMPER</text>`
      : '') +
    '</svg>'
  );
}

export async function renderFrame(scene: FrameScene): Promise<Buffer> {
  return sharp(Buffer.from(frameSvg(scene)))
    .jpeg({ quality: 80 })
    .toBuffer();
}
