/**
 * A network test driver for the evidence path (a stand-in for the ONVIF driver, which the e2e test
 * with the simulated camera covers): on `capture` it emits one JPEG as evidence with the command's
 * id, and a thumbnail made with sharp. The JPEG is the fixture made by fixtureJpeg() from the
 * capture's number, so every capture is different bytes (a different evidence id), and a copy is
 * written to `outDir/<commandId>.jpg` for the test to compare byte for byte with what the hub
 * serves. The preset steers it: `pad-<n>` pads the JPEG (COM segments) to n bytes, for the size
 * limit; `delay-<ms>` answers the command at once and emits the evidence ms later (so a test can
 * cut the uplink in between).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { z } from 'zod';
import type { NetworkDriverDefinition } from '../../../drivers/sdk/driver.js';

const optionsSchema = z
  .object({
    outDir: z.string().describe('Where a copy of every emitted JPEG goes.'),
    width: z.number().int().positive().default(320).describe('Fixture width.'),
  })
  .strict();
type Options = z.output<typeof optionsSchema>;

/** A deterministic JPEG of `width` x 3/4 width: noise from a seed, so different seeds give different bytes. */
export async function fixtureJpeg(seed: number, width = 320): Promise<Buffer> {
  const height = Math.round((width * 3) / 4);
  const raw = Buffer.alloc(width * height * 3);
  let x = (seed % 2 ** 32) >>> 0 || 1;
  for (let i = 0; i < raw.length; i++) {
    // xorshift32: integer-exact, unlike a float LCG on a large seed.
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    raw[i] = x >>> 24;
  }
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 80 })
    .toBuffer();
}

/** Pads a JPEG to `bytes` with COM segments after SOI (still a valid JPEG). */
export function padJpeg(jpeg: Buffer, bytes: number): Buffer {
  const segments: Buffer[] = [jpeg.subarray(0, 2)];
  let missing = bytes - jpeg.length;
  while (missing > 0) {
    const body = Math.min(65_533, Math.max(0, missing - 4));
    const seg = Buffer.alloc(4 + body, 0x20);
    seg[0] = 0xff;
    seg[1] = 0xfe;
    seg.writeUInt16BE(body + 2, 2);
    segments.push(seg);
    missing -= seg.length;
  }
  segments.push(jpeg.subarray(2));
  return Buffer.concat(segments);
}

export const testCameraDriver: NetworkDriverDefinition<Options> = {
  id: 'test-camera',
  title: 'Test driver: a camera that emits a fixture JPEG on capture',
  kinds: ['camera'],
  access: 'network',
  optionsSchema,
  fields: [],
  create(ctx) {
    const { outDir, width } = ctx.options;
    let captures = 0;
    return {
      async start() {
        ctx.setAvailability(true);
      },
      async stop() {},
      async command(cmd) {
        if (cmd.name !== 'capture') throw new Error(`unsupported command ${cmd.name}`);
        const n = ++captures;
        const preset = typeof cmd.args.preset === 'string' ? cmd.args.preset : '';
        const bytes = Number(/^pad-(\d+)$/.exec(preset)?.[1] ?? 0);
        const delayMs = Number(/^delay-(\d+)$/.exec(preset)?.[1] ?? 0);
        const base = await fixtureJpeg(Date.now() + n, width);
        const data = bytes ? padJpeg(base, bytes) : base;
        const thumbnail = await sharp(base).resize(80).jpeg({ quality: 60 }).toBuffer();
        const name = cmd.id ?? `capture-${n}`;
        writeFileSync(path.join(outDir, `${name}.jpg`), data);
        const emit = () =>
          ctx.emitEvidence({
            ts: ctx.clock.now(),
            mediaType: 'image/jpeg',
            data,
            thumbnail,
            ...(cmd.id ? { commandId: cmd.id } : {}),
            meta: { preset, mode: cmd.args.mode ?? 'snapshot' },
          });
        if (delayMs > 0) setTimeout(emit, delayMs);
        else emit();
        return { bytes: data.length };
      },
    };
  },
};
