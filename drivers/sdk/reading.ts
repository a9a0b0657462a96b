import { z } from 'zod';

/** Kinds of device; each is one InfluxDB measurement (DESIGN §4.1). */
export const DEVICE_KINDS = ['water_meter', 'bridge', 'tunnel', 'flood', 'road_weather', 'vehicle', 'camera'] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];

export const QUALITIES = ['good', 'uncertain', 'bad'] as const;
export type Quality = (typeof QUALITIES)[number];

/** Ids that end up in MQTT topics and InfluxDB tags: no separators, no wildcards, no spaces. */
export const idSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'letters, digits, "_", "." or "-", starting with a letter or digit');

export const fieldValueSchema = z.union([z.number().finite(), z.boolean(), z.string().max(256)]);
export type FieldValue = z.infer<typeof fieldValueSchema>;

/**
 * One timestamped sample of one device. `kind` is a string on the wire so the hub can store
 * readings of kinds it does not know yet (a newer edge); the edge only produces DEVICE_KINDS.
 */
export const readingSchema = z.object({
  device: idSchema,
  kind: z.string().regex(/^[a-z][a-z0-9_]*$/, 'snake_case kind'),
  /** ms since epoch. */
  ts: z.number().int().positive(),
  fields: z.record(z.string().regex(/^[a-z][a-z0-9_]*$/, 'snake_case field name'), fieldValueSchema),
  quality: z.enum(QUALITIES).optional(),
  /** True when `ts` comes from the gateway clock, not the device's own (trusted) clock. */
  gatewayClock: z.boolean().optional(),
  /** City asset the device is mounted on, when it has one. */
  asset: idSchema.optional(),
});
export type Reading = z.infer<typeof readingSchema>;

export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** A discrete occurrence: camera motion, valve closed, JT/T 808 alarm bit, device offline. */
export const eventSchema = z.object({
  type: z.string().regex(/^[a-z][a-z0-9_.-]*$/),
  severity: z.enum(SEVERITIES),
  device: idSchema,
  ts: z.number().int().positive(),
  data: z.record(z.string(), z.unknown()).optional(),
  asset: idSchema.optional(),
});
export type CityEvent = z.infer<typeof eventSchema>;
