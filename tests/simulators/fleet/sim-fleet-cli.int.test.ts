/**
 * `citygrid sim fleet` as a user runs it, against a tiny JT/T 808 platform (tests/helpers): the
 * phones, plates and port come from a gateway config (one source of truth), a summary line per
 * period, synthetic trucks with --count in the 2019 layout, connection drops and re-auth, usage
 * errors, a clean stop on SIGTERM.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually, startCli } from '../../helpers/cli-process.js';
import { startJt808Platform } from '../../helpers/jt808-platform.js';

const dir = mkdtempSync(path.join(tmpdir(), 'cg-sim-fleet-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const phonesSeen = (platform: Awaited<ReturnType<typeof startJt808Platform>>, msgId: number) =>
  new Set(platform.of(msgId).map((r) => r.frame.header.phone.replace(/^0+/, '')));

describe('citygrid sim fleet', () => {
  it('drives the vehicles a gateway config lists, with its phones, plates and server port; stops on SIGTERM', async () => {
    const platform = await startJt808Platform();
    const gateway = path.join(dir, 'gw.yaml');
    writeFileSync(
      gateway,
      [
        'gateway: { id: gw-t, district: xihu }',
        'hub: { url: "mqtt://127.0.0.1:1", password: "${CITYGRID_PW_UNSET_FOR_THE_SIM}" }',
        `servers: [{ id: jt808, protocol: jt808, listen: { host: 127.0.0.1, port: ${platform.port} } }]`,
        'devices:',
        '  - { id: XH-SW01, kind: vehicle, driver: jt808-terminal, server: jt808, options: { phone: "013912340001", plate: 浙AD1001 } }',
        '  - { id: XH-PL01, kind: vehicle, driver: jt808-terminal, server: jt808, options: { phone: "013912340004" } }',
        '',
      ].join('\n'),
    );
    const sim = startCli(
      ['sim', 'fleet', '--gateway', gateway, '--speedup', '30', '--summary-every-s', '1', '--seed', '4'],
      { logFile: path.join(dir, 'sim1.log') },
    );
    try {
      await sim.waitFor(/2 trucks dialling 127\.0\.0\.1:\d+ \(JT\/T 808-2013\)/, 20_000);
      await sim.waitFor(/sim fleet: 2\/2 online/, 20_000);
      await eventually(async () => (phonesSeen(platform, 0x0200).size === 2 ? true : undefined), 10_000);
      expect(phonesSeen(platform, 0x0100)).toEqual(new Set(['13912340001', '13912340004']));
      const sweeper = platform.of(0x0100).find((r) => r.frame.header.phone.endsWith('13912340001'));
      expect(sweeper?.frame.body).toMatchObject({ kind: 'register', plate: '浙AD1001', province: 33, city: 106 });
      const code = await sim.stop('SIGTERM');
      expect(code).toBe(0);
      expect(sim.output()).toMatch(/reports.*; stopped/);
    } finally {
      await sim.stop('SIGKILL', 0);
      await platform.close();
    }
  });

  it('runs N synthetic trucks in the 2019 layout with --count; --drop-every cuts connections, the trucks authenticate again', async () => {
    const platform = await startJt808Platform();
    const sim = startCli(
      ['sim', 'fleet', '--count', '12', '--port', String(platform.port), '--version', '2019', '--speedup', '20'],
      { logFile: path.join(dir, 'sim2.log') },
    );
    // the drop timer starts with each terminal: by then it is connected, so every drop is a reconnect
    const dropping = startCli(
      [
        'sim',
        'fleet',
        '--vehicles',
        'GS-SW01',
        '--port',
        String(platform.port),
        '--drop-every',
        '1',
        '--summary-every-s',
        '1',
      ],
      { logFile: path.join(dir, 'sim2b.log') },
    );
    try {
      await eventually(
        async () =>
          [...phonesSeen(platform, 0x0200)].filter((p) => p.startsWith('139')).length === 12 ? true : undefined,
        20_000,
      );
      expect(platform.of(0x0100).filter((r) => r.frame.header.v2019)).toHaveLength(12);
      expect(phonesSeen(platform, 0x0200)).toContain('13900000012');
      // GS-SW01 is the 5th vehicle of the example city: phone 013800000005
      await eventually(async () => {
        const auths = platform.of(0x0102).filter((r) => r.frame.header.phone === '013800000005');
        return new Set(auths.map((r) => r.conn)).size >= 3 ? true : undefined;
      }, 20_000);
      expect(platform.of(0x0100).filter((r) => r.frame.header.phone === '013800000005')).toHaveLength(1);
      expect(await dropping.stop('SIGTERM')).toBe(0);
      expect(await sim.stop('SIGINT')).toBe(0);
    } finally {
      await sim.stop('SIGKILL', 0);
      await dropping.stop('SIGKILL', 0);
      await platform.close();
    }
  });

  it('refuses bad options with the usage', async () => {
    const sim = startCli(['sim', 'fleet', '--version', '2011'], { logFile: path.join(dir, 'sim3.log') });
    expect(await sim.exited).toBe(2);
    expect(sim.output()).toMatch(/--version must be 2013 or 2019[\s\S]*usage: citygrid sim fleet/);
    const unknown = startCli(['sim', 'fleet', '--misbehave', 'NOPE'], { logFile: path.join(dir, 'sim4.log') });
    expect(await unknown.exited).toBe(2);
    expect(unknown.output()).toContain('no vehicle NOPE in the city config');
  });
});
