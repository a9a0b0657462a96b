import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseFrameArg, run } from '../../../bin/commands/decode.js';
import { captureConsole } from '../../helpers/console-capture.js';

const capture = captureConsole;

afterEach(() => {
  vi.restoreAllMocks();
});

describe('citygrid decode nmea', () => {
  it('prints a sentence given as text as JSON', async () => {
    const io = capture();
    const rc = await run(['nmea', '$GNGGA,083045.00,3954.52152,N,11623.84862,E,1,14,0.78,50.0,M,-8.2,M,,*6D']);
    expect(rc).toBe(0);
    expect(JSON.parse(io.out.join('\n'))).toMatchObject({
      type: 'GGA',
      lat: 39.908692,
      lon: 116.397477,
      satellites: 14,
    });
  });

  it('accepts the same sentence as hex', async () => {
    const io = capture();
    const hex = Buffer.from('$GNGGA,083100.00,,,,,0,00,99.99,,,,,,*72\r\n').toString('hex');
    expect(await run(['nmea', hex])).toBe(0);
    expect(JSON.parse(io.out.join('\n'))).toMatchObject({ type: 'GGA', fixQuality: 0, valid: false });
  });

  it('says what is wrong with a bad checksum: reason, expected vs got, offset, and exits 1', async () => {
    const io = capture();
    const s = '$GPRMC,225446.33,A,4916.45,N,12311.12,W,000.5,054.7,191194,020.3,E,A*68';
    expect(await run(['nmea', s])).toBe(1);
    const text = io.err.join('\n');
    expect(text).toContain('bad-checksum');
    expect(text).toContain('expected 2B, got 68');
    expect(text).toContain(`at offset ${s.indexOf('*') + 1}`);
  });

  it('refuses an unknown protocol and a missing frame with usage', async () => {
    const io = capture();
    expect(await run(['nope', 'x'])).toBe(2);
    expect(await run(['nmea'])).toBe(2);
    expect(io.err.join('\n')).toContain('usage: citygrid decode');
  });

  it('tells hex from text', () => {
    expect(parseFrameArg('24 47 50', 'auto').toString()).toBe('$GP');
    expect(parseFrameArg('$GP', 'auto').toString()).toBe('$GP');
    expect(() => parseFrameArg('2', 'hex')).toThrow(/hex/);
  });
});
