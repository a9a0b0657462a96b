/**
 * Register maps as data: which Modbus blocks a logger is read in, and which Reading field each
 * register (or register pair) becomes. A new logger model is a map (a file under
 * drivers/modbus-logger/models/, or inline in a device's options), not code.
 *
 * Also the one pure function that turns the registers read into Reading fields, with the
 * physical range check (outside = the value is kept and the reading is marked `bad`) and enum
 * mapping (a road surface state code -> dry/wet/ice/snow). Facts: ../shared/domain/2-modbus.md.
 */
import { z } from 'zod';
import { FIELDS, type FieldName, isKnownField } from '../sdk/fields.js';
import { DEVICE_KINDS } from '../sdk/reading.js';
import { limitSchema } from '../sdk/thresholds.js';
import { MAX_READ_QUANTITY } from './codec-rtu.js';
import { readPoint, registerCount, VALUE_TYPES, WORD_ORDERS } from './values.js';

const FIELD_NAMES = Object.keys(FIELDS) as [FieldName, ...FieldName[]];
const readFunction = z
  .union([z.literal(3), z.literal(4)])
  .describe('Modbus function: 3 = read holding registers, 4 = read input registers');
const address = z.number().int().min(0).max(0xffff).describe('Register address, 0-based as on the wire (40001 = 0)');

export const readBlockSchema = z
  .strictObject({
    function: readFunction,
    start: address.describe('First register of the block, 0-based'),
    count: z.number().int().min(1).max(MAX_READ_QUANTITY).describe('Registers in the block (1..125)'),
  })
  .describe('One read request per poll: function, first register, register count');

export const pointSchema = z
  .strictObject({
    field: z
      .enum(FIELD_NAMES)
      .describe('Reading field this point becomes (drivers/sdk/fields.ts; the unit is fixed there)'),
    function: readFunction,
    address: address.describe('Register of the point (the first of two for 32-bit types)'),
    type: z.enum(VALUE_TYPES).describe('u16, s16, u32, s32, f32 or bcd16'),
    order: z.enum(WORD_ORDERS).default('ABCD').describe('Byte order of 32-bit types, as on the wire (default ABCD)'),
    scale: z.number().default(1).describe('Engineering value = raw × scale + offset (default 1)'),
    offset: z.number().default(0).describe('Added after scaling (default 0)'),
    range: z
      .strictObject({
        min: z.number().describe('Lowest physically possible value, in the field unit'),
        max: z.number().describe('Highest physically possible value, in the field unit'),
      })
      .refine((r) => r.min <= r.max, { message: 'min must not exceed max' })
      .optional()
      .describe('Physical range; a value outside is kept and marks the reading quality bad'),
    enum: z
      .record(z.string().regex(/^\d+$/, 'a register value in decimal'), z.string().min(1).max(64))
      .optional()
      .describe('Raw value -> state name (string fields); a value not listed marks the reading bad'),
    bit: z
      .number()
      .int()
      .min(0)
      .max(15)
      .optional()
      .describe('For boolean fields: the bit that is the value (default: any bit)'),
    qualityRegister: address
      .optional()
      .describe('A u16 register (same function) whose non-zero value says the channel is faulty: reading bad'),
  })
  .describe('One register (or register pair) and the Reading field it becomes');
export type Point = z.output<typeof pointSchema>;

export const waveformSchema = z
  .strictObject({
    function: readFunction,
    counterAddress: address.describe('u32 ABCD count of samples the device has taken since it started'),
    address: address.describe('First register of the sample buffer: the latest `count` samples, oldest first'),
    count: z
      .number()
      .int()
      .min(8)
      .max(MAX_READ_QUANTITY - 2)
      .describe('Samples in the buffer'),
    type: z.enum(['s16', 'u16']).describe('Type of one sample'),
    scale: z.number().describe('g per count'),
    offset: z.number().default(0).describe('Added after scaling, g (default 0)'),
    rateHz: z.number().positive().max(10_000).describe('Sampling rate of the buffer, Hz'),
    windowS: z
      .number()
      .positive()
      .default(10)
      .describe('Samples are reduced to RMS/peak/dominant frequency per window of this many seconds (default 10)'),
  })
  .describe(
    'A high-rate acceleration sample buffer, read fast and reduced at the edge to accel_rms_g, accel_peak_g, accel_freq_hz',
  );
export type Waveform = z.output<typeof waveformSchema>;

const registerMapObject = z.strictObject({
  model: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/)
    .describe('Model id, e.g. BRG-DL-1'),
  title: z.string().min(1).describe('What the device is, in words'),
  kind: z.enum(DEVICE_KINDS).describe('Device kind (InfluxDB measurement)'),
  blocks: z.array(readBlockSchema).min(1).describe('Blocks read on every poll, in order'),
  points: z.array(pointSchema).min(1).describe('Points decoded from the blocks'),
  waveform: waveformSchema.optional(),
  limits: z
    .partialRecord(z.enum(FIELD_NAMES), z.array(limitSchema).min(1))
    .default({})
    .describe('Edge-local alarm limits per field; a device may override them'),
});
export type RegisterMap = z.output<typeof registerMapObject>;

export const registerMapSchema = registerMapObject
  .superRefine((map, ctx) => checkMap(map, ctx))
  .describe('A Modbus logger register map: read blocks and the points decoded from them');
export type RegisterMapInput = z.input<typeof registerMapSchema>;

const WAVEFORM_FIELDS: readonly FieldName[] = ['accel_rms_g', 'accel_peak_g', 'accel_freq_hz'];

function blockHolding(map: Pick<RegisterMap, 'blocks'>, fn: 3 | 4, first: number, n: number): number {
  return map.blocks.findIndex((b) => b.function === fn && first >= b.start && first + n <= b.start + b.count);
}

function checkMap(map: RegisterMap, ctx: z.core.$RefinementCtx): void {
  const seen = new Set<string>();
  map.points.forEach((p, i) => {
    const path = ['points', i];
    const spec = FIELDS[p.field];
    if (seen.has(p.field))
      ctx.addIssue({ code: 'custom', path: [...path, 'field'], message: `field ${p.field} is mapped twice` });
    seen.add(p.field);
    if (blockHolding(map, p.function, p.address, registerCount(p.type)) < 0)
      ctx.addIssue({
        code: 'custom',
        path: [...path, 'address'],
        message: `no read block of function ${p.function} covers registers ${p.address}..${p.address + registerCount(p.type) - 1}`,
      });
    if (p.qualityRegister !== undefined && blockHolding(map, p.function, p.qualityRegister, 1) < 0)
      ctx.addIssue({
        code: 'custom',
        path: [...path, 'qualityRegister'],
        message: `no read block of function ${p.function} covers register ${p.qualityRegister}`,
      });
    if (spec.type === 'string' && !p.enum)
      ctx.addIssue({ code: 'custom', path, message: `${p.field} is a text field: give an enum mapping` });
    if (spec.type !== 'string' && p.enum)
      ctx.addIssue({
        code: 'custom',
        path: [...path, 'enum'],
        message: `${p.field} is a ${spec.type} field: enum only for text fields`,
      });
    if (p.bit !== undefined && spec.type !== 'boolean')
      ctx.addIssue({
        code: 'custom',
        path: [...path, 'bit'],
        message: `bit only for boolean fields (${p.field} is ${spec.type})`,
      });
    if (spec.type !== 'number' && p.range)
      ctx.addIssue({
        code: 'custom',
        path: [...path, 'range'],
        message: `range only for number fields (${p.field} is ${spec.type})`,
      });
  });
  if (map.waveform) {
    for (const f of WAVEFORM_FIELDS)
      if (seen.has(f))
        ctx.addIssue({
          code: 'custom',
          path: ['waveform'],
          message: `${f} comes from the waveform; do not also map it as a point`,
        });
  }
  for (const [field, limits] of Object.entries(map.limits)) {
    if (isKnownField(field) && FIELDS[field].type !== 'number')
      ctx.addIssue({
        code: 'custom',
        path: ['limits', field],
        message: `limits only for number fields (${field} is ${FIELDS[field].type})`,
      });
    if (limits && !seen.has(field) && !(map.waveform && WAVEFORM_FIELDS.includes(field as FieldName)))
      ctx.addIssue({ code: 'custom', path: ['limits', field], message: `${field} is not produced by this map` });
  }
}

/** Fields a map can produce. */
export function mapFields(map: RegisterMap): FieldName[] {
  return [...map.points.map((p) => p.field), ...(map.waveform ? WAVEFORM_FIELDS : [])];
}

/** Why a point made the reading bad. */
export interface BadPoint {
  field: FieldName;
  reason: 'out-of-range' | 'unknown-state' | 'channel-fault';
  /** The decoded value (or the raw code for an unknown state / the fault code). */
  value: number;
}

export interface DecodedRegisters {
  fields: Record<string, number | boolean | string>;
  /** Points that make the reading `bad` (empty = good). Out-of-range values stay in `fields`. */
  bad: BadPoint[];
}

/**
 * Registers -> Reading fields. `blocks[i]` holds the registers read for `map.blocks[i]`.
 * Throws DecodeError (short-frame) when a block is shorter than the map says (a short read).
 */
export function decodeRegisters(map: RegisterMap, blocks: readonly (readonly number[])[]): DecodedRegisters {
  const fields: DecodedRegisters['fields'] = {};
  const bad: BadPoint[] = [];
  const at = (fn: 3 | 4, first: number, n: number): [readonly number[], number] => {
    const i = blockHolding(map, fn, first, n);
    const block = map.blocks[i];
    if (!block) throw new RangeError(`no block holds ${fn}:${first}; validate the map first`);
    return [blocks[i] ?? [], first - block.start];
  };
  for (const p of map.points) {
    const [registers, index] = at(p.function, p.address, registerCount(p.type));
    const spec = FIELDS[p.field];
    if (p.qualityRegister !== undefined) {
      const [qr, qi] = at(p.function, p.qualityRegister, 1);
      const fault = readPoint(qr, qi, { type: 'u16' });
      if (fault !== 0) bad.push({ field: p.field, reason: 'channel-fault', value: fault });
    }
    if (spec.type === 'string') {
      const raw = readPoint(registers, index, { type: p.type, order: p.order });
      const state = p.enum?.[String(raw)];
      if (state === undefined) bad.push({ field: p.field, reason: 'unknown-state', value: raw });
      else fields[p.field] = state;
      continue;
    }
    if (spec.type === 'boolean') {
      const raw = readPoint(registers, index, { type: p.type, order: p.order });
      fields[p.field] = p.bit === undefined ? raw !== 0 : ((raw >>> p.bit) & 1) === 1;
      continue;
    }
    const value = readPoint(registers, index, p);
    if (!Number.isFinite(value)) {
      // NaN / Infinity from an f32 register cannot travel in a Reading: the reading says bad instead
      bad.push({ field: p.field, reason: 'out-of-range', value: Number.NaN });
      continue;
    }
    fields[p.field] = value;
    if (p.range && (value < p.range.min || value > p.range.max))
      bad.push({ field: p.field, reason: 'out-of-range', value });
  }
  return { fields, bad };
}

/**
 * Parses a map, with errors that name the path (`points[3].address: no read block …`).
 * Returns zod's result so callers (config loader, driver options) report issues their own way.
 */
export function parseRegisterMap(input: unknown) {
  return registerMapSchema.safeParse(input);
}
