/**
 * A fast, allocation-free check of a parsed telemetry envelope against the rules of
 * `telemetryEnvelopeSchema` (drivers/sdk/wire.ts, drivers/sdk/reading.ts).
 *
 * Why: zod's safeParse of every reading was the largest single cost of the hub's ingest in the
 * bench (~17 % of its CPU at 50 readings per message), and it copies every object it accepts.
 * This check is never more permissive than the schema and accepts only bodies that the schema
 * would return unchanged (no unknown keys to strip, no transforms). Anything it does not accept
 * goes through zod, which decides and words the error; so it can only make ingest faster, never
 * change what is accepted. tests/hub/envelope-check.test.ts holds both to the same cases.
 */
import { QUALITIES } from '../../../drivers/sdk/reading.js';
import type { TelemetryEnvelope } from '../../../drivers/sdk/wire.js';

const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const SNAKE = /^[a-z][a-z0-9_]*$/;
const ENVELOPE_KEYS = new Set(['v', 'gateway', 'bootId', 'seq', 'firstUnacked', 'sentAt', 'readings']);
const READING_KEYS = new Set(['device', 'kind', 'ts', 'fields', 'quality', 'gatewayClock', 'asset']);
const QUALITY_SET = new Set<unknown>(QUALITIES);
const MAX_READINGS = 10_000;

type Loose = Record<string, unknown>;

function isObject(x: unknown): x is Loose {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function isId(x: unknown): boolean {
  return typeof x === 'string' && x.length >= 1 && x.length <= 64 && ID.test(x);
}

function isCount(x: unknown, min: number): boolean {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= min;
}

function onlyKeys(o: Loose, allowed: Set<string>): boolean {
  for (const key in o) if (!allowed.has(key)) return false;
  return true;
}

function isFields(x: unknown): boolean {
  if (!isObject(x)) return false;
  for (const key in x) {
    if (!SNAKE.test(key)) return false;
    const value = x[key];
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) return false;
    } else if (typeof value === 'string') {
      if (value.length > 256) return false;
    } else if (typeof value !== 'boolean') return false;
  }
  return true;
}

function isReading(x: unknown): boolean {
  if (!isObject(x) || !onlyKeys(x, READING_KEYS)) return false;
  return (
    isId(x.device) &&
    typeof x.kind === 'string' &&
    SNAKE.test(x.kind) &&
    isCount(x.ts, 1) &&
    isFields(x.fields) &&
    (x.quality === undefined || QUALITY_SET.has(x.quality)) &&
    (x.gatewayClock === undefined || typeof x.gatewayClock === 'boolean') &&
    (x.asset === undefined || isId(x.asset))
  );
}

/** True only when `telemetryEnvelopeSchema` would accept `body` and return it unchanged. */
export function isPlainTelemetryEnvelope(body: unknown): body is TelemetryEnvelope {
  if (!isObject(body) || !onlyKeys(body, ENVELOPE_KEYS)) return false;
  if (body.v !== undefined && body.v !== 1) return false;
  if (!isId(body.gateway)) return false;
  const boot = body.bootId;
  if (typeof boot !== 'string' || boot.length < 1 || boot.length > 64) return false;
  if (!isCount(body.seq, 0)) return false;
  if (body.firstUnacked !== undefined && !isCount(body.firstUnacked, 0)) return false;
  if (body.sentAt !== undefined && !isCount(body.sentAt, 1)) return false;
  const readings = body.readings;
  if (!Array.isArray(readings) || readings.length < 1 || readings.length > MAX_READINGS) return false;
  for (const r of readings) if (!isReading(r)) return false;
  return true;
}
