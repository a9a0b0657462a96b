/** The simulated camera's pure pieces: SOAP reading, WS-UsernameToken and HTTP Digest checks, probes, pull points. */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  HttpDigestServer,
  parseDigestHeader,
  passwordDigest,
  UsernameTokenVerifier,
} from '../../../simulators/camera/auth.js';
import { isMatchingProbe } from '../../../simulators/camera/discovery.js';
import { notificationMessage } from '../../../simulators/camera/notifications.js';
import { PullPoints } from '../../../simulators/camera/pull-points.js';
import {
  elementAttribute,
  elementText,
  fault,
  onvifTime,
  operationOf,
  parseDuration,
  terminationTime,
  usernameToken,
  xmlEscape,
} from '../../../simulators/camera/soap.js';

// A request as npm onvif writes it: default namespaces, WS-Security header.
const NPM_REQUEST =
  '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing"><s:Header>' +
  '<Security s:mustUnderstand="1" xmlns="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"><UsernameToken>' +
  '<Username>admin</Username><Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest">' +
  'BX++cfKY6u0UYXPHJHQn2YLOfvM=</Password><Nonce EncodingType="...#Base64Binary">AAECAwQFBgcICQoLDA0ODw==</Nonce>' +
  '<Created xmlns="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd">2024-03-15T08:30:45.000Z</Created>' +
  '</UsernameToken></Security></s:Header><s:Body xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">' +
  '<GotoPreset xmlns="http://www.onvif.org/ver20/ptz/wsdl"><ProfileToken>Profile_1</ProfileToken><PresetToken>2</PresetToken>' +
  '<Speed><PanTilt x="0.5" y="0.5" xmlns="http://www.onvif.org/ver10/schema"/></Speed></GotoPreset></s:Body></s:Envelope>';

// libonvif style: prefixed elements.
const PREFIXED =
  '<SOAP-ENV:Envelope><SOAP-ENV:Body><trt:GetStreamUri><trt:ProfileToken>Profile_2</trt:ProfileToken></trt:GetStreamUri></SOAP-ENV:Body></SOAP-ENV:Envelope>';

describe('SOAP reading', () => {
  it('finds the operation with or without prefixes', () => {
    expect(operationOf(NPM_REQUEST)).toBe('GotoPreset');
    expect(operationOf(PREFIXED)).toBe('GetStreamUri');
    expect(operationOf('<s:Envelope><s:Body><GetSystemDateAndTime/></s:Body></s:Envelope>')).toBe(
      'GetSystemDateAndTime',
    );
    expect(operationOf('<html>no soap</html>')).toBeUndefined();
  });

  it('reads element texts and attributes by local name', () => {
    expect(elementText(NPM_REQUEST, 'PresetToken')).toBe('2');
    expect(elementText(PREFIXED, 'ProfileToken')).toBe('Profile_2');
    expect(elementAttribute(NPM_REQUEST, 'PanTilt', 'x')).toBe('0.5');
    expect(elementText('<a>x &amp; y</a>', 'a')).toBe('x & y');
    expect(elementText(NPM_REQUEST, 'Missing')).toBeUndefined();
  });

  it('reads the UsernameToken', () => {
    expect(usernameToken(NPM_REQUEST)).toEqual({
      username: 'admin',
      password: 'BX++cfKY6u0UYXPHJHQn2YLOfvM=',
      passwordType: 'PasswordDigest',
      nonce: 'AAECAwQFBgcICQoLDA0ODw==',
      created: '2024-03-15T08:30:45.000Z',
    });
    expect(usernameToken(PREFIXED)).toBeUndefined();
  });

  it('parses xsd durations and termination times', () => {
    expect(parseDuration('PT1M')).toBe(60_000);
    expect(parseDuration('PT0.5S')).toBe(500);
    expect(parseDuration('P1DT2H')).toBe(26 * 3_600_000);
    expect(parseDuration('PT')).toBeUndefined();
    expect(parseDuration('soon')).toBeUndefined();
    expect(terminationTime('PT2M', 1000)).toBe(121_000);
    expect(terminationTime('2024-03-15T08:30:45Z', 0)).toBe(Date.UTC(2024, 2, 15, 8, 30, 45));
  });

  it('writes UTC times without fractions and escapes text', () => {
    expect(onvifTime(Date.UTC(2024, 2, 15, 8, 30, 45, 123))).toBe('2024-03-15T08:30:45Z');
    expect(xmlEscape(`<a href="x">&'`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&apos;');
    expect(fault('Sender', 'ter:NotAuthorized', 'Sender not Authorized')).toContain(
      '<s:Subcode><s:Value>ter:NotAuthorized</s:Value></s:Subcode>',
    );
  });
});

describe('WS-UsernameToken PasswordDigest', () => {
  it('matches the worked examples of domain 5-onvif.md §5.2', () => {
    expect(passwordDigest('LKqI6G/AikKCQrN0zqZFlg==', '2010-09-16T07:50:45Z', 'userpassword')).toBe(
      'tuOSpGlFlIXsozq4HFNeeGeFLEI=',
    );
    expect(passwordDigest('AAECAwQFBgcICQoLDA0ODw==', '2024-03-15T08:30:45.000Z', 'admin123')).toBe(
      'BX++cfKY6u0UYXPHJHQn2YLOfvM=',
    );
  });

  it('accepts a good token (once, when replays are refused), and refuses a wrong password and a stale Created', () => {
    const v = new UsernameTokenVerifier({ username: 'admin', password: 'admin123' }, 5 * 60_000, true);
    const now = Date.parse('2024-03-15T08:31:00Z');
    const token = usernameToken(NPM_REQUEST);
    expect(v.verify(token, now)).toBe('ok');
    expect(v.verify(token, now)).toBe('replayed');
    // by default a repeated token passes, as onvif-util needs (one nonce per session)
    const lenient = new UsernameTokenVerifier({ username: 'admin', password: 'admin123' });
    expect(lenient.verify(token, now)).toBe('ok');
    expect(lenient.verify(token, now)).toBe('ok');
    expect(v.verify(token, now + 10 * 60_000)).toBe('stale');
    expect(new UsernameTokenVerifier({ username: 'admin', password: 'other' }).verify(token, now)).toBe(
      'wrong-password',
    );
    expect(new UsernameTokenVerifier({ username: 'root', password: 'admin123' }).verify(token, now)).toBe('wrong-user');
    expect(v.verify(undefined, now)).toBe('missing');
  });
});

describe('HTTP Digest (server side)', () => {
  const md5 = (s: string) => createHash('md5').update(s).digest('hex');

  it('accepts a response computed per RFC 7616 (qop=auth) and refuses a wrong password or an unknown nonce', () => {
    const server = new HttpDigestServer({ username: 'admin', password: 'pw' });
    const c = parseDigestHeader(server.challenge());
    expect(c).toMatchObject({ realm: 'citygrid-sim', qop: 'auth', algorithm: 'MD5' });
    const answer = (password: string, nonce = c.nonce) => {
      const ha1 = md5(`admin:${c.realm}:${password}`);
      const ha2 = md5('GET:/snapshot/Profile_1.jpg');
      const response = md5(`${ha1}:${nonce}:00000001:abcd:auth:${ha2}`);
      return `Digest username="admin", realm="${c.realm}", nonce="${nonce}", uri="/snapshot/Profile_1.jpg", qop=auth, nc=00000001, cnonce="abcd", response="${response}"`;
    };
    expect(server.check(answer('pw'), 'GET')).toBe(true);
    expect(server.check(answer('nope'), 'GET')).toBe(false);
    expect(server.check(answer('pw', 'deadbeef'), 'GET')).toBe(false);
    expect(server.check('Basic YWRtaW46cHc=', 'GET')).toBe(false);
  });
});

describe('WS-Discovery probe matching', () => {
  it('answers probes for NetworkVideoTransmitter, Device or any type, not others', () => {
    const probe = (types: string) =>
      `<Envelope><Header><MessageID>urn:uuid:1</MessageID></Header><Body><Probe xmlns="http://schemas.xmlsoap.org/ws/2005/04/discovery">${types}<Scopes/></Probe></Body></Envelope>`;
    expect(isMatchingProbe(probe('<Types>dn:NetworkVideoTransmitter</Types>'))).toBe(true);
    expect(isMatchingProbe(probe('<d:Types>dp0:Device</d:Types>'))).toBe(true);
    expect(isMatchingProbe(probe(''))).toBe(true);
    expect(isMatchingProbe(probe('<Types>wsdp:Printer</Types>'))).toBe(false);
    expect(isMatchingProbe('<Envelope><Body><Hello/></Body></Envelope>')).toBe(false);
  });
});

describe('pull points', () => {
  afterEach(() => vi.useRealTimers());

  it('holds a pull until a message comes, answers at once with queued ones, expires without renewal', async () => {
    vi.useFakeTimers({ now: 0 });
    const clock = { now: () => Date.now() };
    const pp = new PullPoints(clock, 60_000);
    const id = pp.create(120_000, [notificationMessage('motion', 'false', 0, 'Initialized')]);
    expect(await pp.pull(id, 60_000, 10)).toHaveLength(1);
    const waiting = pp.pull(id, 60_000, 10);
    vi.advanceTimersByTime(5_000);
    pp.publish(notificationMessage('motion', 'true', 5_000));
    const got = await waiting;
    expect(got?.[0]).toContain('Value="true"');
    const empty = pp.pull(id, 1_000, 10);
    vi.advanceTimersByTime(1_000);
    expect(await empty).toEqual([]);
    expect(pp.renew(id, Date.now() + 1_000)).toBe(true);
    vi.advanceTimersByTime(2_000);
    expect(await pp.pull(id, 1_000, 10)).toBeUndefined();
    expect(pp.stats).toMatchObject({ created: 1, renewed: 1, expired: 1 });
  });

  it('ends waiting pulls with "unknown" on a reboot (clear)', async () => {
    const pp = new PullPoints({ now: () => Date.now() }, 60_000);
    const id = pp.create(Date.now() + 60_000, []);
    const waiting = pp.pull(id, 60_000, 10);
    pp.clear();
    expect(await waiting).toBeUndefined();
    expect(pp.size).toBe(0);
  });
});
