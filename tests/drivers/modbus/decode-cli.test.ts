import { afterEach, describe, expect, it, vi } from 'vitest';
import { run } from '../../../bin/commands/decode.js';
import { captureConsole } from '../../helpers/console-capture.js';

const capture = captureConsole;

afterEach(() => {
  vi.restoreAllMocks();
});

describe('citygrid decode modbus-rtu', () => {
  it('prints both readings of a frame that is request and echo alike', async () => {
    const io = capture();
    expect(await run(['modbus-rtu', '01 06 00 1C 00 02 C9 CD'])).toBe(0);
    const printed = JSON.parse(io.out.join('\n'));
    expect(printed.request).toEqual({ kind: 'write-single', unit: 1, function: 6, address: 0x1c, value: 2 });
    expect(printed.response).toEqual(printed.request);
  });

  it('prints only the reading that decodes: the Xintai meter response, with spaces split into arguments', async () => {
    const io = capture();
    const hex = '03 03 0C 00 50 9A 44 00 00 00 00 1F 85 0B 3F 64 33';
    expect(await run(['modbus-rtu', ...hex.split(' ')])).toBe(0);
    expect(JSON.parse(io.out.join('\n'))).toEqual({
      response: { kind: 'read', unit: 3, function: 3, registers: [0x0050, 0x9a44, 0, 0, 0x1f85, 0x0b3f] },
    });
  });

  it('--request and --response pick one direction', async () => {
    const io = capture();
    expect(await run(['modbus-rtu', '--request', '01 06 00 1C 00 02 C9 CD'])).toBe(0);
    expect(JSON.parse(io.out.join('\n'))).toMatchObject({ kind: 'write-single', value: 2 });
    expect(await run(['modbus-rtu', '--response', '01 03 00 00 00 0A C5 CD'])).toBe(1);
    expect(io.err.join('\n')).toContain('an echo of the request?');
  });

  it('says what is wrong with a bad CRC: expected vs got, the offset, a caret, exit 1', async () => {
    const io = capture();
    expect(await run(['modbus-rtu', '01 03 00 00 00 0A C5 CC'])).toBe(1);
    const text = io.err.join('\n');
    expect(text).toContain('bad-checksum');
    expect(text).toContain('expected 0xCDC5 (on the wire C5 CD), got 0xCCC5 (C5 CC)');
    expect(text).toContain('at offset 6');
    expect(text).toContain(`  ${' '.repeat(18)}^`);
  });

  it('names an exception response by its code', async () => {
    const io = capture();
    expect(await run(['modbus-rtu', '01 83 02 C0 F1'])).toBe(0);
    expect(JSON.parse(io.out.join('\n')).response).toMatchObject({
      kind: 'exception',
      function: 3,
      exceptionCode: 2,
      exceptionName: 'illegal data address',
    });
  });

  it('reports a truncated frame as short, not as a bad CRC', async () => {
    const io = capture();
    expect(await run(['modbus-rtu', '--response', '03 03 0C 00 50 9A 44 00 00'])).toBe(1);
    expect(io.err.join('\n')).toContain('short-frame: response: truncated: function 03 response with byte count 12');
  });

  it('decodes a capture of several frames one per line', async () => {
    const io = capture();
    const capture_ = '03 03 00 01 00 06 95 EA 03 03 0C 00 50 9A 44 00 00 00 00 1F 85 0B 3F 64 33';
    expect(await run(['modbus-rtu', capture_])).toBe(0);
    expect(io.out.map((l) => Object.keys(JSON.parse(l)))).toEqual([['request'], ['response']]);
  });

  it('lists the protocol and its flags in the usage', async () => {
    const io = capture();
    expect(await run(['--help'])).toBe(2);
    expect(io.err.join('\n')).toMatch(/modbus-rtu[\s\S]*--request[\s\S]*--response/);
  });
});
