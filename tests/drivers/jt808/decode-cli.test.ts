import { afterEach, describe, expect, it, vi } from 'vitest';
import { run } from '../../../bin/commands/decode.js';
import { captureConsole } from '../../helpers/console-capture.js';

afterEach(() => {
  vi.restoreAllMocks();
});

const TRUCK_2019 =
  '7E 02 00 40 28 01 00 00 00 00 01 38 00 13 80 00 00 01 00 00 00 00 00 0C 00 03 02 60 F5 54 06 F0 15 A5 00 32 01 64 00 5A 24 03 15 16 30 45 01 04 00 00 30 39 30 01 1C 31 01 0C 0B 7E';
const HEARTBEAT = '7E 00 02 00 00 01 38 00 13 80 00 00 02 AA 7E';

describe('citygrid decode jt808', () => {
  it('prints a 2019 location report as JSON (hex as separate arguments)', async () => {
    const io = captureConsole();
    expect(await run(['jt808', ...TRUCK_2019.split(' ')])).toBe(0);
    expect(JSON.parse(io.out.join('\n'))).toMatchObject({
      header: { msgId: 0x0200, v2019: true, protocolVersion: 1, phone: '00000000013800138000', serial: 1 },
      body: { kind: 'location', location: { latitude: 39.908692, longitude: 116.397477, speedKmh: 35.6 } },
    });
  });

  it('says the check code is wrong, where, and exits 1', async () => {
    const io = captureConsole();
    expect(await run(['jt808', HEARTBEAT.replace('AA 7E', 'AB 7E')])).toBe(1);
    const text = io.err.join('\n');
    expect(text).toContain('bad-checksum: check code mismatch: expected AA, got AB');
    expect(text).toContain('at offset 13');
  });

  it('reports broken escaping', async () => {
    const io = captureConsole();
    expect(await run(['jt808', '7E 00 02 00 00 01 38 00 13 80 00 7D 03 AB 7E'])).toBe(1);
    expect(io.err.join('\n')).toContain('bad-frame: 7D followed by 03, not 01 or 02');
  });

  it('decodes each frame of a capture (7E 7E between frames) and notes the noise', async () => {
    const io = captureConsole();
    expect(await run(['jt808', `00 11 ${HEARTBEAT} ${TRUCK_2019}`])).toBe(0);
    expect(io.out.map((l) => (JSON.parse(l) as { body: { kind: string } }).body.kind)).toEqual(['empty', 'location']);
    expect(io.err.join('\n')).toContain('2 byte(s) outside any frame were discarded');
  });
});
