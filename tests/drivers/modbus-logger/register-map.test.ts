/**
 * Register maps: the schema refuses bad maps with paths, and every shipped model decodes its
 * registers (word orders, scale, range -> bad, enum states, channel faults). The bridge and tunnel
 * registers are the domain doc's worked responses (../shared/domain/2-modbus.md §2.5).
 */
import { describe, expect, it } from 'vitest';
import {
  decodeRegisters,
  parseRegisterMap,
  type RegisterMap,
  registerMapSchema,
} from '../../../drivers/modbus/register-map.js';
import { brgDl1, LOGGER_MODELS, rws1, tunEnv1, upsWl1 } from '../../../drivers/modbus-logger/models/index.js';
import { formatIssuePath } from '../../../drivers/sdk/zod-issues.js';

/** The 16-bit registers of a read response's data bytes, given as hex. */
function regs(hex: string): number[] {
  const b = Buffer.from(hex.replace(/\s+/g, ''), 'hex');
  return Array.from({ length: b.length / 2 }, (_, i) => b.readUInt16BE(i * 2));
}

function issues(input: unknown): string[] {
  const r = parseRegisterMap(input);
  if (r.success) return [];
  return r.error.issues.map((i) => `${formatIssuePath(i.path)}: ${i.message}`);
}

const parse = (m: unknown): RegisterMap => registerMapSchema.parse(m);

describe('shipped models', () => {
  it.each(Object.keys(LOGGER_MODELS))('%s is a valid map', (name) => {
    expect(issues(LOGGER_MODELS[name])).toEqual([]);
  });

  it('BRG-DL-1 decodes the worked FC04 0x0010 x16 response (f32 ABCD, tilt ° -> mrad)', () => {
    const ch = regs('42 FB 33 33 41 45 99 9A 40 4C CC CD 3C 44 9B A6 BB 83 12 6F 3D 0F 5C 29 3E 38 51 EC 41 94 00 00');
    const out = decodeRegisters(parse(brgDl1), [ch, [0, 0, 0, 0, 0, 0, 0, 0]]);
    expect(out.bad).toEqual([]);
    expect(out.fields).toEqual({
      strain_ue: 125.6,
      deflection_mm: 12.35,
      displacement_mm: 3.2,
      tilt_x_mrad: expect.closeTo(0.012 * 17.4532925, 9),
      tilt_y_mrad: expect.closeTo(-0.004 * 17.4532925, 9),
      crack_width_mm: 0.18,
      temperature_c: 18.5,
    });
  });

  it('BRG-DL-1 marks the reading bad for a channel fault and keeps the value', () => {
    const ch = regs('42 FB 33 33 41 45 99 9A 40 4C CC CD 3C 44 9B A6 BB 83 12 6F 3D 0F 5C 29 3E 38 51 EC 41 94 00 00');
    const out = decodeRegisters(parse(brgDl1), [ch, [0, 0, 0, 0, 0, 0, 2, 0]]);
    expect(out.bad).toEqual([{ field: 'crack_width_mm', reason: 'channel-fault', value: 2 }]);
    expect(out.fields.crack_width_mm).toBe(0.18);
  });

  it('TUN-ENV-1 decodes the worked FC04 0x0000 x10 response (u16, s16, scales)', () => {
    const out = decodeRegisters(parse(tunEnv1), [regs('00 2D 00 23 00 19 00 00 0D AC 00 78 FF CE 00 B9 00 00 00 00')]);
    expect(out).toEqual({
      fields: {
        co_ppm: 45,
        visibility_per_m: 0.0035,
        wind_ms: 2.5,
        illuminance_lx: 120,
        water_level_cm: -5,
        temperature_c: 18.5,
      },
      bad: [],
    });
  });

  it('UPS-WL-1 reads the rain total as u32 CDAB and keeps an out-of-range depth, marked bad', () => {
    // depth 3500 mm (beyond the 300 cm gauge), 12.5 mm/h, total 0x0001_86A0 = 100000 -> 10000.0 mm, words swapped
    const out = decodeRegisters(parse(upsWl1), [[3500, 125, 0x86a0, 0x0001, 0]]);
    expect(out.fields).toEqual({ water_level_cm: 350, rain_intensity_mmh: 12.5, rain_total_mm: 10000 });
    expect(out.bad).toEqual([{ field: 'water_level_cm', reason: 'out-of-range', value: 350 }]);
  });

  it('RWS-1 reads f32 CDAB temperatures and folds NTCIP surface codes into dry/wet/ice/snow', () => {
    // -2.5 = C0 20 00 00 -> CDAB wire 00 00 C0 20; 1.25 = 3F A0 00 00 -> 00 00 3F A0
    const base = [0x0000, 0xc020, 0x0000, 0x3fa0];
    const map = parse(rws1);
    const states = [3, 4, 7, 9, 13].map((code) => decodeRegisters(map, [[...base, code]]).fields.surface_state);
    expect(states).toEqual(['dry', 'wet', 'ice', 'snow', 'ice']);
    expect(decodeRegisters(map, [[...base, 7]]).fields).toEqual({
      surface_temp_c: -2.5,
      air_temp_c: 1.25,
      surface_state: 'ice',
    });
  });

  it('RWS-1 marks an unlisted state code (2 = sensor error) bad and names it', () => {
    const out = decodeRegisters(parse(rws1), [[0, 0, 0, 0, 2]]);
    expect(out.bad).toEqual([{ field: 'surface_state', reason: 'unknown-state', value: 2 }]);
    expect(out.fields.surface_state).toBeUndefined();
  });

  it('an f32 NaN is not put in the reading; it marks it bad', () => {
    const out = decodeRegisters(parse(rws1), [[0x0000, 0x7fc0, 0, 0, 3]]);
    expect(out.fields.surface_temp_c).toBeUndefined();
    expect(out.bad[0]).toMatchObject({ field: 'surface_temp_c', reason: 'out-of-range' });
  });

  it('a short block is a DecodeError (short read), not a wrong number', () => {
    expect(() => decodeRegisters(parse(upsWl1), [[10, 20]])).toThrow(/past the 2 registers/);
  });
});

describe('map validation names the path', () => {
  const good = {
    model: 'X-1',
    title: 'x',
    kind: 'flood',
    blocks: [{ function: 4, start: 0, count: 2 }],
    points: [{ field: 'water_level_cm', function: 4, address: 0, type: 'u16' }],
  };

  it('accepts a minimal map and fills the defaults', () => {
    const m = parse(good);
    expect(m.points[0]).toMatchObject({ order: 'ABCD', scale: 1, offset: 0 });
    expect(m.limits).toEqual({});
  });

  it.each([
    [
      { points: [{ ...good.points[0], address: 1, type: 'f32' }] },
      'points[0].address: no read block of function 4 covers registers 1..2',
    ],
    [
      { points: [{ ...good.points[0], function: 3 }] },
      'points[0].address: no read block of function 3 covers registers 0..0',
    ],
    [{ points: [{ ...good.points[0], field: 'water_depth' }] }, 'points[0].field:'],
    [{ points: [{ ...good.points[0], order: 'BACD' }] }, 'points[0].order:'],
    [{ points: [{ ...good.points[0], scael: 2 }] }, 'points[0]: Unrecognized key: "scael"'],
    [{ points: [good.points[0], good.points[0]] }, 'points[1].field: field water_level_cm is mapped twice'],
    [
      { points: [{ ...good.points[0], field: 'surface_state' }] },
      'points[0]: surface_state is a text field: give an enum mapping',
    ],
    [{ points: [{ ...good.points[0], range: { min: 5, max: 1 } }] }, 'points[0].range: min must not exceed max'],
    [{ blocks: [{ function: 4, start: 0, count: 126 }] }, 'blocks[0].count:'],
    [{ limits: { co_ppm: [{ high: 1 }] } }, 'limits.co_ppm: co_ppm is not produced by this map'],
    [
      { limits: { water_level_cm: [{ high: 1, low: 0 }] } },
      'limits.water_level_cm[0]: give exactly one of high or low',
    ],
  ])('refuses %j', (patch, message) => {
    const found = issues({ ...good, ...patch });
    expect(
      found.some((m) => m.startsWith(message)),
      found.join('\n'),
    ).toBe(true);
  });
});
