/** `citygrid config validate` as a user runs it: a real process, real files. */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'bin/citygrid.mjs');
const run = promisify(execFile);
const dir = mkdtempSync(path.join(tmpdir(), 'cg-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function validate(...files: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const r = await run(process.execPath, [CLI, 'config', 'validate', ...files], {
      cwd: ROOT,
      env: {
        ...process.env,
        CITYGRID_PW_GW_XH_01: 'a',
        CITYGRID_PW_GW_GS_01: 'b',
        CITYGRID_PW_INTEGRATOR: 'c',
        CITYGRID_PW_CAMERAS_XH: 'd',
        CITYGRID_PW_CAMERAS_GS: 'e',
        ...Object.fromEntries(
          ['SUPERVISOR', 'XIHU_COMMANDER', 'GONGSHU_COMMANDER', 'BEISHAN_HANDLER'].map((u) => [
            `CITYGRID_CONSOLE_HASH_${u}`,
            `scrypt$00$${'00'.repeat(32)}`,
          ]),
        ),
      },
    });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, out: x.stdout, err: x.stderr };
  }
}

describe('citygrid config validate', () => {
  it('accepts the shipped examples', async () => {
    const r = await validate(
      'config/examples/city.yaml',
      'config/examples/hub.yaml',
      'config/examples/gateways/gw-xh-01.yaml',
      'config/examples/gateways/gw-gs-01.yaml',
    );
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('config/examples/hub.yaml: ok (hub config)');
  }, 30_000);

  it('reports all three mistakes of a gateway config, each with file, line, path and what was expected', async () => {
    const file = path.join(dir, 'gw-bad.yaml');
    writeFileSync(
      file,
      [
        'gateway: { id: gw-xh-01, district: xihu }',
        'hub:',
        '  url: http://not-mqtt',
        '  password: secret',
        'devices:',
        '  - id: XH-GP001',
        '    kind: truck',
        '    driver: nmea-gps',
        '    transport: { type: serial, path: /dev/ttyUSB0, baudRat: 9600 }',
        '',
      ].join('\n'),
    );
    const r = await validate(file);
    expect(r.code).toBe(1);
    const lines = r.err.split('\n').filter((l) => l.startsWith('  '));
    expect(r.err).toContain('3 problems');
    expect(lines).toHaveLength(3);
    expect(lines.find((l) => l.includes('hub.url'))).toMatch(/gw-bad\.yaml:3: hub\.url: an MQTT URL/);
    expect(lines.find((l) => l.includes('devices[0].kind'))).toMatch(
      /gw-bad\.yaml:7: devices\[0\]\.kind: expected one of .*"vehicle"/,
    );
    expect(lines.find((l) => l.includes('devices[0].transport'))).toMatch(
      /gw-bad\.yaml:9: devices\[0\]\.transport: unknown key "baudRat"/,
    );
  }, 30_000);

  it('reports cross-reference mistakes in a city config', async () => {
    const file = path.join(dir, 'city-bad.yaml');
    writeFileSync(
      file,
      [
        'city: { id: c, name: C }',
        'districts:',
        '  - { id: xihu, name: X, adminCode: "330106", boundary: [[120, 30], [121, 30], [121, 31]] }',
        'assets:',
        '  - { id: BR-1, name: B, kind: bridge, district: gongshu }',
        '  - { id: BR-1, name: B, kind: bridge, district: xihu, grid: "999" }',
        '',
      ].join('\n'),
    );
    const r = await validate(file);
    expect(r.code).toBe(1);
    expect(r.err).toContain('assets[0].district: unknown district "gongshu"');
    expect(r.err).toContain('assets[1].id: duplicate id "BR-1"');
    expect(r.err).toContain('assets[1].grid: unknown grid cell "999"');
  }, 30_000);

  it('names a missing environment variable and the path that needs it', async () => {
    const file = path.join(dir, 'gw-env.yaml');
    writeFileSync(
      file,
      'gateway: { id: g1, district: d1 }\nhub: { url: "mqtt://127.0.0.1:1883", password: "${CG_TEST_SURELY_UNSET}" }\n',
    );
    const r = await validate(file);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/gw-env\.yaml:2: hub\.password: environment variable CG_TEST_SURELY_UNSET is not set/);
  }, 30_000);

  it('reports schema and driver-option mistakes together, in one run', async () => {
    const file = path.join(dir, 'gw-mixed.yaml');
    writeFileSync(
      file,
      [
        'gateway: { id: g1, district: d1 }',
        'hub: { url: "mqtt://127.0.0.1:1883", password: p, keepAlive: 30 }',
        'devices:',
        '  - { id: D1, kind: vehicle, driver: nmea-gps, transport: { type: serial, path: /dev/x }, options: { maxHdop: "five" } }',
        '  - { id: D2, kind: vehicle, driver: nmea-gsp, transport: { type: serial, path: /dev/y } }',
      ].join('\n'),
    );
    const r = await validate(file);
    expect(r.code).toBe(1);
    expect(r.err).toContain('3 problems');
    expect(r.err).toMatch(/gw-mixed\.yaml:2: hub: unknown key "keepAlive"/);
    expect(r.err).toMatch(/gw-mixed\.yaml:4: devices\[0\]\.options\.maxHdop: expected number, got "five"/);
    expect(r.err).toMatch(/gw-mixed\.yaml:5: devices\[1\]\.driver: unknown driver "nmea-gsp"/);
  }, 30_000);

  it('refuses driver options the driver does not know', async () => {
    const file = path.join(dir, 'gw-opts.yaml');
    writeFileSync(
      file,
      [
        'gateway: { id: g1, district: d1 }',
        'hub: { url: "mqtt://127.0.0.1:1883", password: p }',
        'devices:',
        '  - { id: D1, kind: vehicle, driver: nmea-gps, transport: { type: serial, path: /dev/x }, options: { minIntervall: 1s } }',
        '  - { id: D2, kind: vehicle, driver: no-such-driver, transport: { type: serial, path: /dev/y } }',
      ].join('\n'),
    );
    const r = await validate(file);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/devices\[0\]\.options: unknown key "minIntervall"/);
    expect(r.err).toMatch(/devices\[1\]\.driver: .*no-such-driver/);
  }, 30_000);
});
