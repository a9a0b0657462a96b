/**
 * The structure simulators' own Modbus layers: MBAP encode/decode, the PDU answers (03/04/06/16
 * and exceptions), the value encoder's word orders, and the RTU request framer, checked against
 * the domain doc's worked frames (../shared/domain/2-modbus.md).
 */
import { describe, expect, it } from 'vitest';
import { encodeMbap, MbapFramer, MbapFramingError } from '../../../simulators/structures/mbap.js';
import { answerPdu, type ModbusSlave } from '../../../simulators/structures/modbus-pdu.js';
import { encodeValue } from '../../../simulators/structures/register-encoding.js';
import { RtuRequestFramer } from '../../../simulators/structures/rtu-slaves.js';

const hex = (h: string) => Buffer.from(h.replace(/\s+/g, ''), 'hex');
const show = (b: Buffer) => b.toString('hex').replace(/(..)(?!$)/g, '$1 ');

/** Ten input registers 0..9 holding 0x1000 + address; holding registers 0x100..0x101 writable. */
function fakeSlave() {
  const holding = new Map([
    [0x100, 1],
    [0x101, 2],
  ]);
  const slave: ModbusSlave = {
    read(table, start, quantity) {
      const out: number[] = [];
      for (let a = start; a < start + quantity; a++) {
        const v = table === 'input' ? (a < 10 ? 0x1000 + a : undefined) : holding.get(a);
        if (v === undefined) return undefined;
        out.push(v);
      }
      return out;
    },
    write(start, values) {
      if (values.some((_, i) => !holding.has(start + i))) return 0x02;
      if (values.some((v) => v > 1000)) return 0x03;
      values.forEach((v, i) => {
        holding.set(start + i, v);
      });
      return undefined;
    },
  };
  return { slave, holding };
}

describe('MBAP', () => {
  it('encodes the header: transaction id, protocol 0, length = 1 + PDU, unit', () => {
    expect(show(encodeMbap(0x1234, 0x11, hex('04 02 00 2a')))).toBe('12 34 00 00 00 05 11 04 02 00 2a');
  });

  it('decodes frames split across chunks and several in one chunk', () => {
    const framer = new MbapFramer();
    const a = encodeMbap(1, 1, hex('03 00 00 00 02'));
    const b = encodeMbap(2, 7, hex('04 00 10 00 10'));
    const stream = Buffer.concat([a, b, a]);
    expect(framer.push(stream.subarray(0, 5))).toEqual([]);
    const frames = [...framer.push(stream.subarray(5, 20)), ...framer.push(stream.subarray(20))];
    expect(frames.map((f) => [f.transactionId, f.unitId, show(f.pdu)])).toEqual([
      [1, 1, '03 00 00 00 02'],
      [2, 7, '04 00 10 00 10'],
      [1, 1, '03 00 00 00 02'],
    ]);
    expect(framer.pending).toBe(0);
  });

  it('refuses a stream that is not Modbus TCP: a protocol id other than 0, a length outside 2..254', () => {
    expect(() => new MbapFramer().push(hex('00 01 00 01 00 06 01 03 00 00 00 01'))).toThrow(MbapFramingError);
    expect(() => new MbapFramer().push(hex('00 01 00 00 00 01 01'))).toThrow(/length 1/);
    expect(() => new MbapFramer().push(hex('00 01 00 00 01 00 01'))).toThrow(/length 256/);
  });
});

describe('PDU answers', () => {
  it('03/04 read holding and input registers', () => {
    const { slave } = fakeSlave();
    expect(show(answerPdu(slave, { fc: 4, data: hex('00 08 00 02') }))).toBe('04 04 10 08 10 09');
    expect(show(answerPdu(slave, { fc: 3, data: hex('01 00 00 02') }))).toBe('03 04 00 01 00 02');
  });

  it('06 writes one register and echoes the request; 16 writes several and answers start and quantity', () => {
    const { slave, holding } = fakeSlave();
    expect(show(answerPdu(slave, { fc: 6, data: hex('01 01 00 2a') }))).toBe('06 01 01 00 2a');
    expect(holding.get(0x101)).toBe(42);
    expect(show(answerPdu(slave, { fc: 0x10, data: hex('01 00 00 02 04 00 05 00 06') }))).toBe('10 01 00 00 02');
    expect([holding.get(0x100), holding.get(0x101)]).toEqual([5, 6]);
  });

  it('answers exceptions: 01 unknown function, 02 bad address, 03 bad quantity or refused value', () => {
    const { slave } = fakeSlave();
    const ask = (fc: number, data: string) => show(answerPdu(slave, { fc, data: hex(data) }));
    expect(ask(0x2b, '0e 01 00')).toBe('ab 01');
    expect(ask(4, '00 08 00 03')).toBe('84 02'); // register 10 does not exist
    expect(ask(3, '00 00 00 01')).toBe('83 02'); // an input address is no holding register
    expect(ask(4, '00 00 00 00')).toBe('84 03');
    expect(ask(4, '00 00 00 7e')).toBe('84 03'); // 126 > 125
    expect(ask(6, '02 00 00 01')).toBe('86 02');
    expect(ask(6, '01 00 27 10')).toBe('86 03');
    expect(ask(0x10, '01 00 00 02 02 00 05')).toBe('90 03'); // byte count does not match the quantity
  });
});

describe('value encoding', () => {
  it('places 123456.0 (47 F1 20 00) in the four word orders of the domain doc', () => {
    const words = (order: 'ABCD' | 'CDAB' | 'BADC' | 'DCBA') =>
      encodeValue({ type: 'f32', order }, 123456).map((w) => w.toString(16).padStart(4, '0'));
    expect(words('ABCD')).toEqual(['47f1', '2000']);
    expect(words('CDAB')).toEqual(['2000', '47f1']);
    expect(words('BADC')).toEqual(['f147', '0020']);
    expect(words('DCBA')).toEqual(['0020', 'f147']);
  });

  it('scales, offsets, rounds and saturates integers', () => {
    expect(encodeValue({ type: 'u16', scale: 0.1 }, 12.34)).toEqual([123]);
    expect(encodeValue({ type: 's16', scale: 0.1 }, -5)).toEqual([0xffce]);
    expect(encodeValue({ type: 'u16', scale: 1, offset: -40 }, 20)).toEqual([60]);
    expect(encodeValue({ type: 'u16' }, -3)).toEqual([0]);
    expect(encodeValue({ type: 's16' }, 40_000)).toEqual([0x7fff]);
    expect(encodeValue({ type: 'u32', order: 'CDAB', scale: 0.1 }, 7000.5)).toEqual([0x1175, 0x0001]); // 70005 = 0x00011175
    expect(encodeValue({ type: 'bcd16' }, 1234)).toEqual([0x1234]);
  });
});

describe('RTU request framer', () => {
  it('takes the worked requests by length and CRC, skipping noise in front', () => {
    const framer = new RtuRequestFramer();
    const out = framer.push(hex('ff 00 01 04 00 10 00 10 f0 03 02 04 00 00 00 0a 70 3e'));
    expect(out.map((r) => [r.unit, r.fc, show(r.data)])).toEqual([
      [1, 4, '00 10 00 10'],
      [2, 4, '00 00 00 0a'],
    ]);
    expect(framer.discarded).toBe(2);
  });

  it('takes a 16 once its byte count has arrived', () => {
    const framer = new RtuRequestFramer();
    const frame = hex('01 10 00 64 00 02 04 41 20 00 00 e1 82');
    expect(framer.push(frame.subarray(0, 6))).toEqual([]);
    expect(framer.push(frame.subarray(6)).map((r) => show(r.data))).toEqual(['00 64 00 02 04 41 20 00 00']);
  });

  it('takes a function it cannot size at the silence after it, when its CRC is right', () => {
    const framer = new RtuRequestFramer();
    // 01 2B 0E 01 00 + CRC (read device identification)
    expect(framer.push(hex('01 2b 0e 01 00 70 77'))).toEqual([]);
    expect(framer.endOfFrame().map((r) => [r.unit, r.fc, show(r.data)])).toEqual([[1, 0x2b, '0e 01 00']]);
  });

  it('drops a request with a bad CRC', () => {
    const framer = new RtuRequestFramer();
    expect(framer.push(hex('01 04 00 10 00 10 f0 04'))).toEqual([]);
    expect(framer.endOfFrame()).toEqual([]);
    expect(framer.discarded).toBe(8);
  });
});
