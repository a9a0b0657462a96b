/** Meters answering requests (addressing, DI orders, register map, exceptions, modes) and the line framer. */
import { describe, expect, it } from 'vitest';
import { withCrc } from '../../../simulators/meters/encoding.js';
import { type BusRequest, LineFramer } from '../../../simulators/meters/line-framer.js';
import { type MeterSpec, SimMeter } from '../../../simulators/meters/meter.js';

const hex = (b: Buffer | undefined) => b?.toString('hex').toUpperCase().match(/../g)?.join(' ');
const bytes = (h: string) => Buffer.from(h.replace(/\s+/g, ''), 'hex');
// 2024-03-15 08:30:45 in China Standard Time
const AT = Date.UTC(2024, 2, 15, 0, 30, 45);
const EX1_2004 = 'FE FE FE 68 10 78 56 34 12 00 00 00 01 03 90 1F 01 40 16';
const EX1_2018 = 'FE FE FE 68 10 78 56 34 12 00 00 00 01 03 1F 90 01 40 16';

function meter(spec: Partial<MeterSpec> & Pick<MeterSpec, 'protocol' | 'address'>): SimMeter {
  return new SimMeter({ dailyM3: 0, ...spec }, { utcOffsetMinutes: 480, random: () => 0.5, startMs: AT });
}

function request(h: string): BusRequest {
  const [req] = new LineFramer().push(bytes(h));
  if (!req) throw new Error(`not a request: ${h}`);
  return req;
}

describe('CJ/T 188 meter', () => {
  const m = meter({ protocol: 'cjt188', address: '00000012345678', initialM3: 1234.56, settlementM3: 1200 });

  it('answers Ex 1 with Ex 2 byte for byte (after FE FE)', () => {
    expect(hex(m.answer(request(EX1_2004), AT))).toBe(
      'FE FE 68 10 78 56 34 12 00 00 00 81 16 90 1F 01 56 34 12 00 2C 00 00 12 00 2C 45 30 08 15 03 24 20 00 00 B2 16',
    );
  });

  it('echoes the 2018 DI order', () => {
    expect(hex(m.answer(request(EX1_2018), AT))?.slice(0, 47)).toBe('FE FE 68 10 78 56 34 12 00 00 00 81 16 1F 90 01');
  });

  it('answers the all-AA wildcard, not the 99 broadcast, another address or another type', () => {
    expect(hex(m.answer(request('FE FE FE 68 AA AA AA AA AA AA AA AA 03 03 81 0A 00 49 16'), AT))).toBe(
      'FE FE 68 10 78 56 34 12 00 00 00 83 03 81 0A 00 9D 16',
    );
    const other = 'FE 68 10 12 00 00 00 00 00 00 01 03 90 1F 00 3D 16';
    expect(m.answer(request(other), AT)).toBeUndefined();
    const broadcast = [0x68, 0x10, ...Array(7).fill(0x99), 0x01, 0x03, 0x90, 0x1f, 0x00];
    const sum = broadcast.reduce((a, b) => a + b, 0) & 0xff;
    expect(m.answer(request(hex(Buffer.from([...broadcast, sum, 0x16])) as string), AT)).toBeUndefined();
    const gasType = [0x68, 0x30, 0x78, 0x56, 0x34, 0x12, 0, 0, 0, 0x01, 0x03, 0x90, 0x1f, 0x01];
    const gasSum = gasType.reduce((a, b) => a + b, 0) & 0xff;
    expect(m.answer(request(hex(Buffer.from([...gasType, gasSum, 0x16])) as string), AT)).toBeUndefined();
  });

  it('dead battery sets ST1 D2; reverse flow makes the reading fall', () => {
    const dead = meter({ protocol: 'cjt188', address: '00000012345678', initialM3: 1234.56, deadBattery: true });
    expect(dead.answer(request(EX1_2004), AT)?.at(-4)).toBe(0x04);
    const back = meter({
      protocol: 'cjt188',
      address: '00000012345678',
      initialM3: 1234.56,
      reverse: true,
      dailyM3: 1,
    });
    back.answer(request(EX1_2004), AT + 12 * 3_600_000);
    expect(back.flow.netM3).toBeLessThan(1234.5);
  });

  it('a silent meter never answers', () => {
    const silent = meter({ protocol: 'cjt188', address: '00000012345678', silent: true });
    expect(silent.answer(request(EX1_2004), AT)).toBeUndefined();
  });

  it('an unknown DI gets an error response (C1, SER, ST)', () => {
    const req = [0x68, 0x10, 0x78, 0x56, 0x34, 0x12, 0, 0, 0, 0x01, 0x03, 0xd1, 0x20, 0x07];
    const sum = req.reduce((a, b) => a + b, 0) & 0xff;
    expect(hex(m.answer(request(hex(Buffer.from([...req, sum, 0x16])) as string), AT))?.slice(0, 47)).toBe(
      'FE FE 68 10 78 56 34 12 00 00 00 C1 03 07 00 00',
    );
  });
});

describe('Modbus meter (Xintai register map)', () => {
  const m = meter({ protocol: 'modbus', address: '3', initialM3: 1234.5 });

  it('answers the worked read of 0x0001..0x0006', () => {
    // flow 0 here (dailyM3 0); the doc's frame has 0.545 m³/h in the last two registers
    const answer = m.answer(request('03 03 00 01 00 06 95 EA'), AT);
    expect(hex(answer?.subarray(0, 15))).toBe('03 03 0C 00 50 9A 44 00 00 00 00 00 00 00 00');
    expect(hex(answer)).toBe(hex(withCrc([...(answer as Buffer).subarray(0, 15)])));
  });

  it('reads the whole map with 04 too: unit id, meter time, battery, valve', () => {
    const answer = m.answer(request(hex(withCrc([3, 4, 0, 1, 0, 0x1c])) as string), AT) as Buffer;
    expect(answer.length).toBe(3 + 56 + 2);
    const reg = (addr: number) => answer.readUInt16BE(3 + 2 * (addr - 1));
    expect(reg(0x0e)).toBe(3);
    expect([reg(0x16), reg(0x17), reg(0x18), reg(0x19)]).toEqual([0x2024, 0x0315, 0x0830, 0x4500]);
    expect(reg(0x1c)).toBe(0x1);
    const battery = Buffer.from(answer.subarray(3 + 2 * (0x1a - 1), 3 + 2 * (0x1a + 1))).readFloatLE(0);
    expect(battery).toBeCloseTo(3.6, 5);
  });

  it('refuses illegal addresses and quantities with exceptions', () => {
    expect(hex(m.answer(request(hex(withCrc([3, 3, 0, 0, 0, 2])) as string), AT))).toBe(hex(withCrc([3, 0x83, 2])));
    expect(hex(m.answer(request(hex(withCrc([3, 3, 0, 0x1c, 0, 2])) as string), AT))).toBe(hex(withCrc([3, 0x83, 2])));
    expect(hex(m.answer(request(hex(withCrc([3, 4, 0, 1, 0, 0])) as string), AT))).toBe(hex(withCrc([3, 0x84, 3])));
  });

  it('closes the valve on 06 0x001C = 2 and reports it; battery low shows in the valve word', () => {
    const v = meter({ protocol: 'modbus', address: '1', deadBattery: true });
    expect(hex(v.answer(request('01 06 00 1C 00 02 C9 CD'), AT))).toBe('01 06 00 1C 00 02 C9 CD');
    expect(v.registers(AT)[0x1c - 1]).toBe(0x2 | 0x8);
  });

  it('answers only its own unit id (not 0, the broadcast)', () => {
    expect(m.answer(request('01 03 00 00 00 0A C5 CD'), AT)).toBeUndefined();
    expect(m.answer(request(hex(withCrc([0, 3, 0, 1, 0, 6])) as string), AT)).toBeUndefined();
  });
});

describe('line framer', () => {
  it('finds both protocols among FE bytes and noise, across chunk boundaries', () => {
    const stream = bytes(`00 13 ${EX1_2004} 68 77 03 03 00 01 00 06 95 EA FE 68 AA ${EX1_2018}`);
    const f = new LineFramer();
    const got: BusRequest[] = [];
    for (let i = 0; i < stream.length; i += 5) got.push(...f.push(stream.subarray(i, i + 5)));
    expect(got.map((r) => r.protocol)).toEqual(['cjt188', 'modbus', 'cjt188']);
    expect(got[1]).toMatchObject({ unit: 3, fc: 3, start: 1, quantity: 6 });
    expect(f.discarded).toBeGreaterThanOrEqual(4);
  });

  it('ignores a frame with a wrong checksum or CRC and meters answers (C bit 7)', () => {
    const f = new LineFramer();
    expect(f.push(bytes('68 10 78 56 34 12 00 00 00 01 03 90 1F 01 41 16'))).toEqual([]);
    expect(f.push(bytes('03 03 00 01 00 06 95 EB'))).toEqual([]);
    expect(f.push(bytes('68 10 12 00 00 00 00 00 00 83 03 81 0A 00 9B 16'))).toEqual([]);
  });
});
