import { afterEach, describe, expect, it, vi } from 'vitest';
import { run } from '../../../bin/commands/decode.js';
import { captureConsole } from '../../helpers/console-capture.js';

const capture = captureConsole;

afterEach(() => {
  vi.restoreAllMocks();
});

const EX2 = '68 10 78 56 34 12 00 00 00 81 16 90 1F 01 56 34 12 00 2C 00 00 12 00 2C 45 30 08 15 03 24 20 00 00 B2 16';

describe('citygrid decode cjt188', () => {
  it('prints a metering-data response as JSON (hex with spaces, as separate arguments)', async () => {
    const io = capture();
    expect(await run(['cjt188', ...EX2.split(' ')])).toBe(0);
    expect(JSON.parse(io.out.join('\n'))).toMatchObject({
      kind: 'metering-data',
      address: '00000012345678',
      cumulativeFlow: { value: 1234.56, unit: 'm³' },
      meterTime: '2024-03-15T08:30:45',
      status: { valve: 'open', batteryLow: false },
    });
  });

  it('accepts a request with its FE preamble as one hex string', async () => {
    const io = capture();
    expect(await run(['cjt188', 'FEFEFE6810785634120000000103901F014016'])).toBe(0);
    expect(JSON.parse(io.out.join('\n'))).toMatchObject({ kind: 'request', di: '901F', diOrder: '2004', ser: 1 });
  });

  it('says which byte is wrong and what was expected, and exits 1', async () => {
    const io = capture();
    expect(await run(['cjt188', EX2.replace('B2 16', 'B3 16')])).toBe(1);
    const text = io.err.join('\n');
    expect(text).toContain('bad-checksum: checksum mismatch: expected B2, got B3');
    expect(text).toContain('at offset 33');
    // the caret sits under the CS byte of the hex dump
    const dump = io.err.find((l) => l.startsWith('  68 10')) as string;
    const caret = io.err.find((l) => l.trim() === '^') as string;
    expect(dump.slice(caret.indexOf('^'), caret.indexOf('^') + 2)).toBe('B3');
  });

  it('reports a truncated frame and an impossible BCD digit', async () => {
    const io = capture();
    expect(await run(['cjt188', EX2.slice(0, 60)])).toBe(1);
    expect(await run(['cjt188', '68 10 78 5F 34 12 00 00 00 01 03 90 1F 01 49 16'])).toBe(1);
    const text = io.err.join('\n');
    expect(text).toContain('short-frame: truncated: L = 16 announces 35 bytes from 68, got 20');
    expect(text).toContain('address byte A1 = 5F at offset 3 is neither BCD nor the wildcard AA');
  });

  it('decodes each frame of a capture holding several, and notes the noise', async () => {
    const io = capture();
    expect(await run(['cjt188', `00 11 FE FE ${EX2} FE FE 68 10 12 00 00 00 00 00 00 83 03 81 0A 00 9B 16`])).toBe(0);
    expect(io.out.map((l) => (JSON.parse(l) as { kind: string }).kind)).toEqual(['metering-data', 'response']);
    expect(io.err.join('\n')).toContain('2 byte(s) outside any frame were discarded');
  });

  it('refuses text that is not hex', async () => {
    const io = capture();
    expect(await run(['cjt188', 'hello'])).toBe(2);
    expect(io.err.join('\n')).toContain('hex');
  });
});
