/**
 * `citygrid demo` as a user runs it: one command, embedded defaults, moving trucks (NMEA and the
 * JT/T 808 sanitation fleet) on /api/stream, Ctrl-C leaves no child process behind.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { findFreePort } from '../../bin/lib/ports.js';
import { eventually, startCli } from '../helpers/cli-process.js';
import { type ConsoleFetch, consoleFetch } from '../helpers/console-session.js';

const dir = mkdtempSync(path.join(tmpdir(), 'cg-demo-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** PIDs whose parent is `pid` (from /proc). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(name));
    } catch {}
  }
  return out;
}

/** A process that still runs (a zombie waiting to be reaped does not count). */
const alive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
};

const commandLine = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return '(gone)';
  }
};

interface StreamReading {
  device: string;
  kind: string;
  ts: number;
  fields: Record<string, number | boolean | string>;
}

/** Reads `/api/stream` until `enough` says stop; returns the readings seen. */
async function readStream(
  get: ConsoleFetch,
  url: string,
  enough: (r: StreamReading[]) => boolean,
  timeoutMs: number,
): Promise<StreamReading[]> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  const seen: StreamReading[] = [];
  try {
    const res = await get(url, { signal: ac.signal });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = res.body!.getReader();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += Buffer.from(value).toString('utf8');
      let end = buf.indexOf('\n\n');
      while (end >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        end = buf.indexOf('\n\n');
        if (!/^event: reading$/m.test(block)) continue;
        const data = block.split('\n').find((l) => l.startsWith('data: '));
        if (data) seen.push(JSON.parse(data.slice(6)) as StreamReading);
      }
      if (enough(seen)) break;
    }
  } catch (err) {
    if (!ac.signal.aborted) throw err;
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
  return seen;
}

describe('citygrid demo', () => {
  it('shows moving trucks on /api/stream and stops cleanly on Ctrl-C', async () => {
    const httpPort = await findFreePort();
    const mqttPort = await findFreePort();
    const started = Date.now();
    const demo = startCli(['demo', '--http-port', String(httpPort), '--mqtt-port', String(mqttPort)], {
      logFile: path.join(dir, 'demo.out'),
    });
    try {
      await demo.waitFor(/Ctrl-C stops everything/, 30_000);
      expect(demo.output()).toContain(`http://127.0.0.1:${httpPort}/`);
      expect(demo.output()).toContain(`mqtt://127.0.0.1:${mqttPort}`);
      const password = /user "integrator", password "([^"]+)"/.exec(demo.output())?.[1];
      expect(password).toMatch(/^[A-Za-z0-9_-]{16}$/);
      // One console user per role, printed once; the API refuses anyone without a session.
      const supervisorPw = /user "supervisor" \(city_supervisor\) password "([^"]+)"/.exec(demo.output())?.[1];
      expect(supervisorPw).toMatch(/^[A-Za-z0-9_-]{16}$/);
      expect(demo.output()).toMatch(/user "xihu-commander" \(district_commander xihu\)/);
      expect(demo.output()).toMatch(/user "beishan-handler" \(unit_handler beishan-street\)/);
      const usersFile = /also in (\S+console-users\.txt), mode 0600/.exec(demo.output())?.[1] as string;
      expect(statSync(usersFile).mode & 0o777).toBe(0o600);
      expect(readFileSync(usersFile, 'utf8')).toContain(`password "${supervisorPw}"`);
      expect((await fetch(`http://127.0.0.1:${httpPort}/api/devices`)).status).toBe(401);
      const authed = consoleFetch(`http://127.0.0.1:${httpPort}`, {
        id: 'supervisor',
        role: 'city_supervisor',
        password: supervisorPw as string,
      });

      // Both trucks "move": each device shows at least two different positions; and the meters on the
      // Gongshu RS-485 bus are read (the district meter over Modbus, the households over CJ/T 188).
      const METERS = ['GS-WM001', 'GS-WM011', 'GS-WM012', 'GS-WM013', 'GS-WM014', 'GS-WM015'];
      // Each district's structure loggers over Modbus TCP, the bridges with their reduced vibration too.
      const STRUCTURES = ['BR001', 'TN001', 'UP001', 'UP002', 'RW001'].flatMap((d) => [`XH-${d}`, `GS-${d}`]);
      // The NMEA trucks and the sanitation fleet's JT/T 808 terminals (city vehicles, via each gateway's jt808 server).
      const FLEET = ['XH-SW01', 'XH-WS01', 'XH-GB01', 'XH-PL01', 'GS-SW01', 'GS-WS01', 'GS-GB01', 'GS-SP01'];
      const VEHICLES = ['XH-GP001', 'GS-GP001', ...FLEET];
      const vibration = (rs: StreamReading[]) => rs.filter((r) => r.fields.accel_freq_hz !== undefined);
      const structuresRead = (rs: StreamReading[]) => {
        const devices = new Set(rs.map((r) => r.device));
        return STRUCTURES.every((d) => devices.has(d)) && new Set(vibration(rs).map((r) => r.device)).size === 2;
      };
      const moved = (rs: StreamReading[]) => {
        const meters = new Set(rs.filter((r) => r.kind === 'water_meter').map((r) => r.device));
        if (!METERS.every((m) => meters.has(m))) return false;
        const byDevice = new Map<string, Set<string>>();
        for (const r of rs) {
          if (r.kind !== 'vehicle') continue;
          const set = byDevice.get(r.device) ?? new Set();
          set.add(`${r.fields.lat},${r.fields.lon}`);
          byDevice.set(r.device, set);
        }
        return VEHICLES.every((v) => (byDevice.get(v)?.size ?? 0) >= 2);
      };
      let movedAfterS: number | undefined;
      const enough = (rs: StreamReading[]) => {
        if (movedAfterS === undefined && moved(rs)) movedAfterS = (Date.now() - started) / 1000;
        return movedAfterS !== undefined && structuresRead(rs);
      };
      const readings = await readStream(authed, `http://127.0.0.1:${httpPort}/api/stream`, enough, 40_000);
      expect(moved(readings)).toBe(true);
      expect(structuresRead(readings)).toBe(true);
      expect(new Set(readings.filter((r) => r.kind === 'vehicle').map((r) => r.device))).toEqual(new Set(VEHICLES));
      // the terminals send their work state (item 0xE1) and odometer; the banner names the fleet
      const sweeper = readings.find((r) => r.device === 'XH-SW01' && r.fields.lat !== undefined);
      expect(typeof sweeper?.fields.working).toBe('boolean');
      expect(sweeper?.fields.mileage_km).toBeGreaterThan(0);
      expect(demo.output()).toMatch(/fleet +8 trucks with JT\/T 808 terminals/);
      const districtMeter = readings.find((r) => r.device === 'GS-WM001');
      expect(districtMeter?.fields).toMatchObject({ valve_open: true, pressure_mpa: 0.32 });
      expect(districtMeter?.fields.volume_m3).toBeGreaterThan(0);
      expect(demo.output()).toMatch(/structures +10 Modbus TCP loggers/);
      // the simulated bridges' first bending modes are 2.2..3.8 Hz
      for (const r of vibration(readings)) expect(r.fields.accel_freq_hz).toBeGreaterThan(2);
      expect(readings.find((r) => r.device === 'XH-UP001')?.fields).toMatchObject({
        water_level_cm: 0,
        rain_intensity_mmh: 0,
      });
      // Reported, not asserted: the issue asks for a moving truck within 10 s of start.
      console.log(JSON.stringify({ demo_moving_truck_after_s: movedAfterS }));

      // The cameras at the bridges and underpasses come online, and a capture on one becomes evidence.
      const api = `http://127.0.0.1:${httpPort}`;
      const CAMERAS = ['CAM01', 'CAM02', 'CAM03'].flatMap((c) => [`XH-${c}`, `GS-${c}`]);
      expect(demo.output()).toMatch(/cameras +6 simulated ONVIF cameras/);
      expect(demo.output()).toContain(`curl -b jar -X POST ${api}/api/cameras/`);
      await eventually(
        async () => {
          const devices = (await (await authed(`${api}/api/devices`)).json()) as { id: string; online: boolean }[];
          const online = new Set(devices.filter((d) => d.online).map((d) => d.id));
          return CAMERAS.every((c) => online.has(c)) ? true : undefined;
        },
        20_000,
        'every example camera online at the hub',
      );
      const captureAt = Date.now();
      const posted = await authed(`${api}/api/cameras/XH-CAM01/capture`, {
        method: 'POST',
        body: JSON.stringify({ mode: 'snapshot', preset: '2' }),
      });
      expect(posted.status).toBe(202);
      const { commandId } = (await posted.json()) as { commandId: string };
      const evidenceId = await eventually(
        async () => {
          const view = (await (await authed(`${api}/api/commands/${commandId}`)).json()) as {
            state: string;
            evidence: string[];
            result?: { preset?: string };
          };
          if (view.state === 'error') throw new Error(`capture failed: ${JSON.stringify(view)}`);
          return view.state === 'ok' && view.evidence[0] ? view.evidence[0] : undefined;
        },
        20_000,
        'evidence of the capture',
      );
      // Reported, not asserted: includes the simulated PTZ head's 1.5 s move to the preset.
      console.log(JSON.stringify({ demo_capture_to_evidence_ms: Date.now() - captureAt }));
      const evidence = await authed(`${api}/api/evidence/${evidenceId}`);
      expect(evidence.status).toBe(200);
      expect(evidence.headers.get('content-type')).toBe('image/jpeg');
      const jpeg = Buffer.from(await evidence.arrayBuffer());
      expect((await sharp(jpeg).metadata()).format).toBe('jpeg');
      const records = (await (await authed(`${api}/api/evidence?command=${commandId}`)).json()) as unknown[];
      expect(records[0]).toMatchObject({ id: evidenceId, device: 'XH-CAM01', asset: 'BR-XH-001', gateway: 'gw-xh-01' });

      // The socat pty pairs: two trucks and one meter bus (and nothing else), with their command lines for the failure message.
      const children = new Map(childrenOf(demo.pid).map((pid) => [pid, commandLine(pid)]));
      expect([...children.values()].filter((c) => c.startsWith('socat')).length).toBe(3);
      expect(await demo.stop('SIGINT', 15_000)).toBe(0);
      expect(demo.output()).toContain('Stopped.');
      const left = [...children]
        .filter(([pid]) => alive(pid))
        .map(([pid, cmd]) => `${pid} ${cmd} (now: ${commandLine(pid)})`);
      expect(left).toEqual([]);
    } finally {
      await demo.stop('SIGKILL');
    }
  }, 90_000);
});
