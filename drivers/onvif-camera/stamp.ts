/**
 * Evidence images: a stamp (time in the city's timezone, camera id, asset id) burnt into the image
 * and a small thumbnail, both with sharp. The label and SVG builders are pure; SVG text needs
 * fonts-dejavu-core, else librsvg drops it silently (STACK.md).
 */
import sharp from 'sharp';

/** Escapes the five XML specials; camera and asset ids come from config and may hold any of them. */
export function escapeSvgText(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' }[c]};`);
}

/** `2024-03-15 16:30:45 Asia/Shanghai  CAM-01  BR-001`: the time as the city reads it. */
export function stampLabel(opts: {
  ts: number;
  timeZone: string;
  camera: string;
  asset?: string;
  preset?: string;
}): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: opts.timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(opts.ts));
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  const time = `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}:${get('second')}`;
  return [
    `${time} ${opts.timeZone}`,
    opts.camera,
    ...(opts.asset ? [opts.asset] : []),
    ...(opts.preset ? [`preset ${opts.preset}`] : []),
  ].join('  ');
}

export function stampSvg(label: string, width: number, height = 24): string {
  const size = Math.max(10, Math.min(16, Math.floor(height * 0.6)));
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
    '<rect width="100%" height="100%" fill="#000" fill-opacity="0.55"/>' +
    `<text x="6" y="${Math.round(height * 0.7)}" font-family="DejaVu Sans Mono" font-size="${size}" fill="#fff">${escapeSvgText(label)}</text></svg>`
  );
}

export interface StampedImage {
  data: Buffer;
  thumbnail: Buffer;
  width: number;
  height: number;
}

/** Burns `label` along the bottom of `jpeg` and makes a `thumbWidth`-px-wide thumbnail of the result. */
export async function stampImage(jpeg: Buffer, label: string, thumbWidth = 320): Promise<StampedImage> {
  const meta = await sharp(jpeg).metadata();
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  const barHeight = Math.max(18, Math.round(height / 20));
  const data = await sharp(jpeg)
    .composite([{ input: Buffer.from(stampSvg(label, width, barHeight)), gravity: 'southwest' }])
    .jpeg({ quality: 85 })
    .toBuffer();
  const thumbnail = await sharp(data)
    .resize({ width: Math.min(thumbWidth, width) })
    .jpeg({ quality: 70 })
    .toBuffer();
  return { data, thumbnail, width, height };
}
