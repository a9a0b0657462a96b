import type { z } from 'zod';

/**
 * One zod issue in words a field technician understands: what was expected, and what was found.
 * Used by the config loader, driver option validation and the hub ingest, so every "bad input"
 * message reads the same way.
 */
export function describeZodIssue(i: z.core.$ZodIssue): string {
  if (i.code === 'unrecognized_keys') {
    return `unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `"${k}"`).join(', ')} (not in the schema)`;
  }
  if (i.code === 'invalid_type') {
    const received = (i as { input?: unknown }).input;
    return received === undefined
      ? `required: expected ${i.expected}`
      : `expected ${i.expected}, got ${JSON.stringify(received)}`;
  }
  if (i.code === 'invalid_value') return `expected one of ${i.values.map((v) => JSON.stringify(v)).join(', ')}`;
  if (i.code === 'invalid_union' && 'note' in i && i.note === 'No matching discriminator') {
    return 'unknown or missing discriminator value';
  }
  return i.message;
}

/** Dotted path of an issue, e.g. `readings[3].fields.lat`. */
export function formatIssuePath(segments: readonly PropertyKey[]): string {
  let out = '';
  for (const s of segments) out += typeof s === 'number' ? `[${s}]` : out ? `.${String(s)}` : String(s);
  return out;
}
