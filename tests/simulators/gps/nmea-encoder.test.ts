import { describe, expect, it } from 'vitest';
import { encodeGga, encodeRmc, type SimFix, sentence } from '../../../simulators/gps/nmea-encoder.js';

// The hub fixtures of 3-nmea0183.md §3.6: the truck at Tiananmen, 2024-03-15 08:30:45 UTC.
const TIANANMEN: SimFix = {
  time: Date.UTC(2024, 2, 15, 8, 30, 45),
  lat: 39.908692,
  lon: 116.397477,
  speedKmh: 35.595,
  courseDeg: 90,
  altitudeM: 50,
  geoidSeparationM: -8.2,
  satellites: 14,
  hdop: 0.78,
  valid: true,
};

describe('simulator NMEA encoder', () => {
  it('writes the classic GGA checksum', () => {
    expect(sentence('GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,')).toBe(
      '$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47\r\n',
    );
  });

  it('encodes the Tiananmen fix exactly as the domain doc', () => {
    expect(encodeRmc(TIANANMEN)).toBe('$GNRMC,083045.00,A,3954.52152,N,11623.84862,E,19.22,90.00,150324,,,A,V*3D\r\n');
    expect(encodeGga(TIANANMEN)).toBe('$GNGGA,083045.00,3954.52152,N,11623.84862,E,1,14,0.78,50.0,M,-8.2,M,,*6D\r\n');
  });

  it('encodes the BeiDou talker without NMEA 4.1 nav status as the domain doc', () => {
    expect(encodeRmc(TIANANMEN, { talker: 'BD', nmea41: false })).toBe(
      '$BDRMC,083045.00,A,3954.52152,N,11623.84862,E,19.22,90.00,150324,,,A*48\r\n',
    );
  });

  it('encodes no fix as the domain doc (RMC V mode N, GGA quality 0)', () => {
    const noFix = { ...TIANANMEN, time: Date.UTC(2024, 2, 15, 8, 31, 0), valid: false };
    expect(encodeRmc(noFix)).toBe('$GNRMC,083100.00,V,,,,,,,150324,,,N,V*12\r\n');
    expect(encodeGga(noFix)).toBe('$GNGGA,083100.00,,,,,0,00,99.99,,,,,,*72\r\n');
  });

  it('writes southern and western hemispheres', () => {
    const s = encodeRmc({ ...TIANANMEN, lat: -33.8688, lon: -70.6693 });
    expect(s).toContain(',3352.12800,S,07040.15800,W,');
  });
});
