import { describe, expect, it } from 'vitest';
import { ByteSink } from '../../../hub/src/telemetry/byte-sink.js';

describe('ByteSink', () => {
  it('writes text as Buffer.from would encode it, ASCII or not, growing as needed', () => {
    const texts = [
      'plain ascii',
      '',
      'é',
      'abc西湖def',
      '😀 pair',
      'lone \ud800 surrogate',
      'x'.repeat(500),
      '"q" \\ ,=',
    ];
    const sink = new ByteSink(1);
    for (const t of texts) {
      sink.text(t);
      sink.byte(0x0a);
    }
    expect(sink.bytes().equals(Buffer.from(texts.map((t) => `${t}\n`).join(''), 'utf8'))).toBe(true);
    expect(sink.length).toBe(sink.bytes().length);
  });

  it('grows for single bytes too', () => {
    const sink = new ByteSink(0);
    for (let i = 0; i < 1000; i++) sink.byte(0x30 + (i % 10));
    expect(sink.bytes().toString('latin1')).toBe('0123456789'.repeat(100));
  });
});
