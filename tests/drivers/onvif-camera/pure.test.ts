/** Pure pieces of the onvif-camera driver: JPEG checks, ffmpeg command lines, stamp text, event mapping, Digest answers. */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { classifyOnvifError } from '../../../drivers/onvif-camera/errors.js';
import { mapNotification } from '../../../drivers/onvif-camera/event-map.js';
import {
  chooseFfmpeg,
  clipArgs,
  frameArgs,
  redactUrl,
  withCredentials,
} from '../../../drivers/onvif-camera/ffmpeg-args.js';
import { checkJpeg } from '../../../drivers/onvif-camera/jpeg.js';
import { digestAuthorization, parseChallenge } from '../../../drivers/onvif-camera/snapshot-fetch.js';
import { escapeSvgText, stampLabel, stampSvg } from '../../../drivers/onvif-camera/stamp.js';
import { HttpDigestServer } from '../../../simulators/camera/auth.js';

const code = (fn: () => unknown) => {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return (e as { code?: string }).code;
  }
};

describe('checkJpeg', () => {
  it('accepts a complete JPEG and reads its size', async () => {
    const jpeg = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#336699' } })
      .jpeg()
      .toBuffer();
    expect(checkJpeg(jpeg)).toEqual({ width: 64, height: 48 });
    // padding after EOI (some firmwares) is fine
    expect(checkJpeg(Buffer.concat([jpeg, Buffer.alloc(16)]))).toEqual({ width: 64, height: 48 });
  });

  it('refuses HTML as not a JPEG, and a JPEG cut short as truncated', async () => {
    const jpeg = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#336699' } })
      .jpeg()
      .toBuffer();
    expect(code(() => checkJpeg(Buffer.from('<!DOCTYPE html><html>login</html>'), 'text/html'))).toBe(
      'SNAPSHOT_NOT_JPEG',
    );
    expect(code(() => checkJpeg(Buffer.alloc(0)))).toBe('SNAPSHOT_NOT_JPEG');
    expect(code(() => checkJpeg(jpeg.subarray(0, Math.floor(jpeg.length / 2))))).toBe('SNAPSHOT_TRUNCATED');
    // SOI + EOI with nothing in between: no frame header
    expect(code(() => checkJpeg(Buffer.from([0xff, 0xd8, 0xff, 0xd9])))).toBe('SNAPSHOT_TRUNCATED');
  });
});

describe('ffmpeg command lines', () => {
  it('grabs one frame over RTSP/TCP with the fast-start flags, to a pipe', () => {
    const a = frameArgs('rtsp://u:p@127.0.0.1:8554/cam');
    expect(a.join(' ')).toContain(
      '-rtsp_transport tcp -fpsprobesize 0 -analyzeduration 0 -probesize 32 -i rtsp://u:p@127.0.0.1:8554/cam',
    );
    expect(a.slice(-7)).toEqual(['-frames:v', '1', '-f', 'image2pipe', '-c:v', 'mjpeg', 'pipe:1']);
  });

  it('records a clip as fragmented MP4 with the codec copied', () => {
    const a = clipArgs('rtsp://h/cam', 7).join(' ');
    expect(a).toContain('-t 7');
    expect(a).toContain('-c copy -movflags frag_keyframe+empty_moov+default_base_moof -f mp4 pipe:1');
  });

  it('chooses config > FFMPEG_PATH > ffmpeg-static > PATH', () => {
    expect(chooseFfmpeg('/opt/ff', { FFMPEG_PATH: '/e' }, '/s')).toEqual({ path: '/opt/ff', source: 'config' });
    expect(chooseFfmpeg(undefined, { FFMPEG_PATH: '/e' }, '/s')).toEqual({ path: '/e', source: 'FFMPEG_PATH' });
    expect(chooseFfmpeg(undefined, {}, '/s')).toEqual({ path: '/s', source: 'ffmpeg-static' });
    expect(chooseFfmpeg(undefined, {}, null)).toEqual({ path: 'ffmpeg', source: 'PATH' });
  });

  it('puts credentials into an RTSP URL that has none, and redacts them for logs', () => {
    const u = withCredentials('rtsp://127.0.0.1:8554/cam', 'admin', 'p@ss:w/rd');
    expect(u).toBe('rtsp://admin:p%40ss%3Aw%2Frd@127.0.0.1:8554/cam');
    expect(withCredentials('rtsp://x:y@h/cam', 'a', 'b')).toBe('rtsp://x:y@h/cam');
    expect(redactUrl(u)).toBe('rtsp://admin:***@127.0.0.1:8554/cam');
  });
});

describe('stamp', () => {
  it('escapes XML specials in the SVG text', () => {
    expect(escapeSvgText(`BR<1> & "deck" 'n'`)).toBe('BR&lt;1&gt; &amp; &quot;deck&quot; &apos;n&apos;');
    const svg = stampSvg('CAM&<x>', 320);
    expect(svg).toContain('>CAM&amp;&lt;x&gt;</text>');
    expect(svg).not.toContain('CAM&<');
  });

  it('writes the time as the city reads it, with camera, asset and preset', () => {
    const ts = Date.UTC(2024, 2, 15, 8, 30, 45);
    expect(
      stampLabel({ ts, timeZone: 'Asia/Shanghai', camera: 'XH-CAM01', asset: 'BR-XH-001', preset: 'Bridge deck' }),
    ).toBe('2024-03-15 16:30:45 Asia/Shanghai  XH-CAM01  BR-XH-001  preset Bridge deck');
    expect(stampLabel({ ts, timeZone: 'UTC', camera: 'C' })).toBe('2024-03-15 08:30:45 UTC  C');
  });
});

// Notifications as the onvif package hands them to us (linerase: "true" -> true, ...Z -> Date).
const note = (topic: string, items: Record<string, unknown>, operation = 'Changed') => ({
  topic: { _: topic, $: { Dialect: 'http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet' } },
  message: {
    message: {
      $: { UtcTime: new Date(Date.UTC(2024, 2, 15, 8, 30, 45)), PropertyOperation: operation },
      source: {
        simpleItem: [
          { $: { Name: 'VideoSourceConfigurationToken', Value: 'VSC_1' } },
          { $: { Name: 'Rule', Value: 'R1' } },
        ],
      },
      data: { simpleItem: Object.entries(items).map(([Name, Value]) => ({ $: { Name, Value } })) },
    },
  },
});

describe('mapNotification', () => {
  it('maps motion, tamper and analytics topics with severities by state', () => {
    expect(mapNotification(note('tns1:RuleEngine/CellMotionDetector/Motion', { IsMotion: true }))).toMatchObject({
      type: 'camera.motion',
      severity: 'warning',
      ts: Date.UTC(2024, 2, 15, 8, 30, 45),
      data: { active: true, topic: 'RuleEngine/CellMotionDetector/Motion', source: { Rule: 'R1' } },
    });
    expect(mapNotification(note('tns1:VideoSource/MotionAlarm', { State: false }))).toMatchObject({
      type: 'camera.motion',
      severity: 'info',
      data: { active: false },
    });
    expect(mapNotification(note('tns1:RuleEngine/TamperDetector/Tamper', { IsTamper: 'true' }))?.severity).toBe(
      'critical',
    );
    expect(mapNotification(note('tns1:VideoSource/GlobalSceneChange/ImagingService', { State: true }))?.type).toBe(
      'camera.tamper',
    );
    expect(mapNotification(note('tns1:RuleEngine/LineDetector/Crossed', { ObjectId: 17 }))).toMatchObject({
      type: 'camera.analytics',
      severity: 'warning',
      data: { items: { ObjectId: 17 } },
    });
  });

  it('reports Initialized only when active, and ignores other topics', () => {
    expect(
      mapNotification(note('tns1:RuleEngine/TamperDetector/Tamper', { IsTamper: false }, 'Initialized')),
    ).toBeUndefined();
    expect(
      mapNotification(note('tns1:RuleEngine/TamperDetector/Tamper', { IsTamper: true }, 'Initialized'))?.type,
    ).toBe('camera.tamper');
    expect(mapNotification(note('tns1:Device/Trigger/Relay', { LogicalState: 'active' }))).toBeUndefined();
    expect(mapNotification({})).toBeUndefined();
  });
});

describe('errors from the onvif package', () => {
  it('are classified by message', () => {
    expect(classifyOnvifError(new Error('ONVIF SOAP Fault: Sender not Authorized')).code).toBe('CAMERA_AUTH_FAILED');
    expect(classifyOnvifError(new Error('ONVIF SOAP Fault: no preset "9"')).code).toBe('CAMERA_FAULT');
    expect(classifyOnvifError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })).code).toBe(
      'CAMERA_UNREACHABLE',
    );
  });
});

describe('Digest answers (driver client against the simulator server, two implementations)', () => {
  it('are accepted with the right password and refused with a wrong one', () => {
    const server = new HttpDigestServer({ username: 'admin', password: 'pw' });
    const challenge = parseChallenge(server.challenge());
    const ok = digestAuthorization(challenge, { username: 'admin', password: 'pw' }, 'GET', '/snapshot/Profile_1.jpg');
    const bad = digestAuthorization(challenge, { username: 'admin', password: 'x' }, 'GET', '/snapshot/Profile_1.jpg');
    expect(server.check(ok, 'GET')).toBe(true);
    expect(server.check(bad, 'GET')).toBe(false);
  });
});
