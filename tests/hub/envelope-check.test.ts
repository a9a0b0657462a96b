import { describe, expect, it } from 'vitest';
import { telemetryEnvelopeSchema } from '../../drivers/sdk/wire.js';
import { isPlainTelemetryEnvelope } from '../../hub/src/ingest/envelope-check.js';

const reading = () => ({
  device: 'TRUCK-XH-01',
  kind: 'vehicle',
  ts: 1_710_491_445_000,
  fields: { lat: 30.27, lon: 120.1, moving: true, fix: 'rtk' },
});
const envelope = (): Record<string, unknown> => ({
  v: 1,
  gateway: 'gw-xh-01',
  bootId: 'boot-1',
  seq: 0,
  firstUnacked: 0,
  sentAt: 1_710_491_445_100,
  readings: [reading()],
});
type Edit = (e: Record<string, unknown>) => void;
const firstReading = (e: Record<string, unknown>) =>
  (e.readings as Record<string, unknown>[])[0] as Record<string, unknown>;
const onReading =
  (edit: (r: Record<string, unknown>) => void): Edit =>
  (e) =>
    edit(firstReading(e));

/** Accepted by the schema AND returned unchanged by it: the fast check must say yes. */
const plain: [string, Edit][] = [
  ['the edge envelope', () => {}],
  [
    'without the optional header fields',
    (e) => {
      delete e.v;
      delete e.firstUnacked;
      delete e.sentAt;
    },
  ],
  [
    'with quality, gatewayClock and asset',
    onReading((r) => Object.assign(r, { quality: 'uncertain', gatewayClock: true, asset: 'BR-XH-001' })),
  ],
  [
    'an empty fields object',
    onReading((r) => {
      r.fields = {};
    }),
  ],
  [
    '10 000 readings',
    (e) => {
      e.readings = Array.from({ length: 10_000 }, reading);
    },
  ],
  [
    'a 256-character string field',
    onReading((r) => {
      r.fields = { note: 'x'.repeat(256) };
    }),
  ],
];

/** Refused by the schema, or accepted only after stripping unknown keys: the fast check must say no. */
const notPlain: [string, Edit][] = [
  [
    'v = 2',
    (e) => {
      e.v = 2;
    },
  ],
  [
    'an unknown header key (zod would strip it)',
    (e) => {
      e.extra = 1;
    },
  ],
  [
    'an unknown reading key (zod would strip it)',
    onReading((r) => {
      r.extra = 1;
    }),
  ],
  [
    'gateway with a slash',
    (e) => {
      e.gateway = 'gw/1';
    },
  ],
  [
    'gateway of 65 characters',
    (e) => {
      e.gateway = 'g'.repeat(65);
    },
  ],
  [
    'empty bootId',
    (e) => {
      e.bootId = '';
    },
  ],
  [
    'bootId of 65 characters',
    (e) => {
      e.bootId = 'b'.repeat(65);
    },
  ],
  [
    'negative seq',
    (e) => {
      e.seq = -1;
    },
  ],
  [
    'fractional seq',
    (e) => {
      e.seq = 1.5;
    },
  ],
  [
    'seq as a string',
    (e) => {
      e.seq = '1';
    },
  ],
  [
    'negative firstUnacked',
    (e) => {
      e.firstUnacked = -1;
    },
  ],
  [
    'sentAt 0',
    (e) => {
      e.sentAt = 0;
    },
  ],
  [
    'no readings',
    (e) => {
      e.readings = [];
    },
  ],
  [
    '10 001 readings',
    (e) => {
      e.readings = Array.from({ length: 10_001 }, reading);
    },
  ],
  [
    'readings not an array',
    (e) => {
      e.readings = { 0: reading() };
    },
  ],
  [
    'a reading that is null',
    (e) => {
      e.readings = [null];
    },
  ],
  [
    'kind in CamelCase',
    onReading((r) => {
      r.kind = 'Vehicle';
    }),
  ],
  [
    'device with a space',
    onReading((r) => {
      r.device = 'a b';
    }),
  ],
  [
    'ts 0',
    onReading((r) => {
      r.ts = 0;
    }),
  ],
  [
    'ts fractional',
    onReading((r) => {
      r.ts = 1.5;
    }),
  ],
  [
    'a field name with a capital',
    onReading((r) => {
      r.fields = { Lat: 1 };
    }),
  ],
  [
    'a null field value',
    onReading((r) => {
      r.fields = { lat: null };
    }),
  ],
  [
    'an object field value',
    onReading((r) => {
      r.fields = { lat: { v: 1 } };
    }),
  ],
  [
    'a 257-character string field',
    onReading((r) => {
      r.fields = { note: 'x'.repeat(257) };
    }),
  ],
  [
    'fields as an array',
    onReading((r) => {
      r.fields = [1];
    }),
  ],
  [
    'quality "great"',
    onReading((r) => {
      r.quality = 'great';
    }),
  ],
  [
    'gatewayClock "yes"',
    onReading((r) => {
      r.gatewayClock = 'yes';
    }),
  ],
  [
    'asset with a space',
    onReading((r) => {
      r.asset = 'a b';
    }),
  ],
  [
    'not an object',
    (e) => {
      for (const k of Object.keys(e)) delete e[k];
    },
  ],
];

describe('isPlainTelemetryEnvelope', () => {
  it.each(plain)('accepts %s, which the schema returns unchanged', (_name, edit) => {
    const body = envelope();
    edit(body);
    expect(isPlainTelemetryEnvelope(body)).toBe(true);
    const parsed = telemetryEnvelopeSchema.safeParse(body);
    expect(parsed.success).toBe(true);
    expect(parsed.data).toEqual(body);
  });

  it.each(notPlain)('leaves %s to zod', (_name, edit) => {
    const body = envelope();
    edit(body);
    expect(isPlainTelemetryEnvelope(body)).toBe(false);
    const parsed = telemetryEnvelopeSchema.safeParse(body);
    if (parsed.success) expect(parsed.data).not.toEqual(body);
  });

  it('says no to non-objects', () => {
    for (const body of [null, 1, 'x', [envelope()], undefined]) expect(isPlainTelemetryEnvelope(body)).toBe(false);
  });
});
