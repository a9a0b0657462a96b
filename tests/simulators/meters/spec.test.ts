/** Meter lists from the command line: --meters, --count/--protocol and the per-meter modes. */
import { describe, expect, it } from 'vitest';
import { applyMode, generateMeters, parseMeterList } from '../../../simulators/meters/spec.js';

describe('meter lists', () => {
  it('parses --meters and pads CJ/T 188 addresses to 14 digits', () => {
    expect(parseMeterList('cjt188:1, modbus:07,cjt188:00000012345678')).toEqual([
      { protocol: 'cjt188', address: '00000000000001' },
      { protocol: 'modbus', address: '7' },
      { protocol: 'cjt188', address: '00000012345678' },
    ]);
    expect(() => parseMeterList('dlt645:1')).toThrow(/not "cjt188/);
    expect(() => parseMeterList('modbus:248')).toThrow(/1..247/);
    expect(() => parseMeterList('cjt188:123456789012345')).toThrow(/14 digits/);
  });

  it('generates a mixed bus alternating the protocols', () => {
    expect(generateMeters(3, 'mix').map((m) => `${m.protocol}:${m.address}`)).toEqual([
      'cjt188:00000000000001',
      'modbus:2',
      'cjt188:00000000000003',
    ]);
    expect(() => generateMeters(0, 'modbus')).toThrow(/count/);
  });

  it('applies modes by protocol-qualified or bare address, and refuses an unknown meter', () => {
    const meters = parseMeterList('cjt188:1,modbus:1,modbus:2');
    applyMode(meters, '1', 'leak', 0.05);
    applyMode(meters, 'modbus:2', 'silent');
    applyMode(meters, 'cjt188:00000000000001', 'deadBattery');
    expect(meters.map((m) => [m.leakM3h, m.silent, m.deadBattery])).toEqual([
      [0.05, undefined, true],
      [0.05, undefined, undefined],
      [undefined, true, undefined],
    ]);
    expect(() => applyMode(meters, 'modbus:9', 'reverse')).toThrow(/no meter "modbus:9"/);
  });
});
