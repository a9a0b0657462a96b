/**
 * A minimal NMEA 0183 encoder for the simulator. Deliberately independent of
 * drivers/nmea-gps/codec.ts, so a symmetric bug cannot cancel itself out (DESIGN §3).
 */

/** What a receiver knows at one epoch. */
export interface SimFix {
  /** UTC, ms since epoch. */
  time: number;
  lat: number;
  lon: number;
  speedKmh: number;
  courseDeg: number;
  altitudeM: number;
  geoidSeparationM: number;
  satellites: number;
  hdop: number;
  /** false: a receiver without a fix (RMC status V, mode N; GGA quality 0, empty position). */
  valid: boolean;
}

export interface EncodeOptions {
  /** Two-letter talker id. Default GN. */
  talker?: string;
  /** Write RMC field 13 (navigational status, NMEA 4.1). Default true. */
  nmea41?: boolean;
}

function xorChecksum(body: string): string {
  let sum = 0;
  for (const ch of body) sum ^= ch.charCodeAt(0);
  return sum.toString(16).toUpperCase().padStart(2, '0');
}

/** `$` + body + `*hh` + CR LF. */
export function sentence(body: string): string {
  return `$${body}*${xorChecksum(body)}\r\n`;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** hhmmss.ss of a UTC instant. */
function utcTime(ms: number): string {
  const d = new Date(ms);
  const cs = Math.floor(d.getUTCMilliseconds() / 10);
  return `${pad(d.getUTCHours(), 2)}${pad(d.getUTCMinutes(), 2)}${pad(d.getUTCSeconds(), 2)}.${pad(cs, 2)}`;
}

function utcDate(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCDate(), 2)}${pad(d.getUTCMonth() + 1, 2)}${pad(d.getUTCFullYear() % 100, 2)}`;
}

/** Degrees -> (d)ddmm.mmmmm with hemisphere letter. */
function angle(value: number, degreeDigits: number, pos: string, neg: string): [string, string] {
  const abs = Math.abs(value);
  let deg = Math.floor(abs);
  let minutes = Number(((abs - deg) * 60).toFixed(5));
  if (minutes >= 60) {
    deg += 1;
    minutes -= 60;
  }
  return [`${pad(deg, degreeDigits)}${minutes.toFixed(5).padStart(8, '0')}`, value < 0 ? neg : pos];
}

export function encodeRmc(fix: SimFix, opts: EncodeOptions = {}): string {
  const talker = opts.talker ?? 'GN';
  // mode indicator since NMEA 2.3; navigational status since 4.1
  const tail = [fix.valid ? 'A' : 'N', ...(opts.nmea41 === false ? [] : ['V'])];
  if (!fix.valid)
    return sentence(
      [`${talker}RMC`, utcTime(fix.time), 'V', '', '', '', '', '', '', utcDate(fix.time), '', '', ...tail].join(','),
    );
  const [lat, ns] = angle(fix.lat, 2, 'N', 'S');
  const [lon, ew] = angle(fix.lon, 3, 'E', 'W');
  const knots = fix.speedKmh / 1.852;
  return sentence(
    [
      `${talker}RMC`,
      utcTime(fix.time),
      'A',
      lat,
      ns,
      lon,
      ew,
      knots.toFixed(2),
      fix.courseDeg.toFixed(2),
      utcDate(fix.time),
      '',
      '',
      ...tail,
    ].join(','),
  );
}

export function encodeGga(fix: SimFix, opts: EncodeOptions = {}): string {
  const talker = opts.talker ?? 'GN';
  if (!fix.valid)
    return sentence(
      [`${talker}GGA`, utcTime(fix.time), '', '', '', '', '0', '00', '99.99', '', '', '', '', '', ''].join(','),
    );
  const [lat, ns] = angle(fix.lat, 2, 'N', 'S');
  const [lon, ew] = angle(fix.lon, 3, 'E', 'W');
  return sentence(
    [
      `${talker}GGA`,
      utcTime(fix.time),
      lat,
      ns,
      lon,
      ew,
      '1',
      pad(fix.satellites, 2),
      fix.hdop.toFixed(2),
      fix.altitudeM.toFixed(1),
      'M',
      fix.geoidSeparationM.toFixed(1),
      'M',
      '',
      '',
    ].join(','),
  );
}
