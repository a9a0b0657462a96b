/**
 * `citygrid sim structures` as a real process: one line per logger with its endpoint, registers
 * readable by mbpoll at the printed port, the rain hook driving an underpass's depth register
 * (sim time 600× real), and a clean stop: exit 0, no child process, every port closed.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPtyPair, type PtyPair } from '../../../simulators/common/pty.js';
import { type CliProcess, eventually, startCli } from '../../helpers/cli-process.js';

const run = promisify(execFile);

/** Register 0 of a UPS-WL-1 (water depth, mm) as mbpoll reads it. */
async function depthMm(port: number, unit: number): Promise<number> {
  const { stdout } = await run('mbpoll', [
    '-m',
    'tcp',
    '-p',
    String(port),
    '-a',
    String(unit),
    '-0',
    '-1',
    '-t',
    '3',
    '-r',
    '0',
    '-c',
    '1',
    '127.0.0.1',
  ]);
  const m = /^\[0\]:\s+(\d+)/m.exec(stdout);
  if (!m) throw new Error(`no value in mbpoll output: ${stdout}`);
  return Number(m[1]);
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
}

describe('citygrid sim structures', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cg-simstruct-'));
  let pty: PtyPair;
  let sim: CliProcess;
  let loggers: { id: string; model: string; port: number; unit: number }[] = [];
  let control = '';

  beforeAll(async () => {
    pty = await openPtyPair(dir);
    sim = startCli(
      [
        'sim',
        'structures',
        '--bridges',
        '1',
        '--tunnels',
        '1',
        '--underpasses',
        '2',
        '--road-weather',
        '1',
        '--rtu',
        pty.a,
        '--speedup',
        '600',
        '--seed',
        '3',
      ],
      { logFile: path.join(dir, 'sim.log') },
    );
    const ready = await sim.waitFor(/^sim structures: 5 loggers/, 20_000);
    control = (/control (http:\/\/127\.0\.0\.1:\d+)\/state/.exec(ready) as RegExpExecArray)[1] as string;
    loggers = [...sim.output().matchAll(/^(\S+)\s+(\S+)\s+modbus-tcp 127\.0\.0\.1:(\d+) unit (\d+)/gm)].map((m) => ({
      id: m[1] as string,
      model: m[2] as string,
      port: Number(m[3]),
      unit: Number(m[4]),
    }));
  }, 30_000);

  afterAll(async () => {
    await sim?.stop();
    await pty?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints one line per logger with its model, endpoint, unit and RTU line', () => {
    expect(loggers.map((l) => [l.id, l.model, l.unit])).toEqual([
      ['bridge-1', 'BRG-DL-1', 1],
      ['tunnel-1', 'TUN-ENV-1', 2],
      ['underpass-1', 'UPS-WL-1', 3],
      ['underpass-2', 'UPS-WL-1', 4],
      ['road-weather-1', 'RWS-1', 5],
    ]);
    expect(sim.output()).toContain(`rtu ${pty.a} unit 5`);
    expect(sim.output()).toMatch(/RTU on .* at 9600 8N1, speedup 600/);
  });

  it('the rain hook floods the underpasses, and mbpoll sees it in the depth register', async () => {
    const ups = loggers.find((l) => l.id === 'underpass-1') as (typeof loggers)[number];
    expect(await depthMm(ups.port, ups.unit)).toBe(0);
    const res = await fetch(`${control}/rain`, { method: 'POST', body: JSON.stringify({ mmh: 60 }) });
    expect(await res.json()).toEqual({ rainMmh: 60 });
    // 600× real time: ten sim minutes a second
    const depth = await eventually(
      async () => {
        const mm = await depthMm(ups.port, ups.unit);
        return mm > 100 ? mm : undefined;
      },
      30_000,
      'water in underpass-1',
    );
    expect(depth).toBeGreaterThan(100);
    const state = (await (await fetch(`${control}/state`)).json()) as {
      environment: { rainMmh: number };
      loggers: { id: string; values: Record<string, number> }[];
    };
    expect(state.environment.rainMmh).toBe(60);
    expect(state.loggers.find((l) => l.id === 'underpass-2')?.values.water_level_cm).toBeGreaterThan(0);
  });

  it('refuses a bad control request with 400 and keeps running', async () => {
    const res = await fetch(`${control}/rain`, { method: 'POST', body: JSON.stringify({ mmh: 'lots' }) });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: '"mmh" must be a number' });
    const spike = await fetch(`${control}/load-spike`, { method: 'POST', body: '{}' });
    expect(await spike.json()).toEqual({ bridge: 'bridge-1' });
    const post = (route: string, body: unknown) =>
      fetch(`${control}${route}`, { method: 'POST', body: JSON.stringify(body) });
    expect((await post('/tcp-fault', { logger: 'tunnel-1', mode: 'sideways' })).status).toBe(400);
    expect(await (await post('/tcp-fault', { logger: 'tunnel-1', mode: 'none' })).json()).toEqual({
      logger: 'tunnel-1',
      mode: 'none',
    });
    expect((await fetch(`${control}/nowhere`)).status).toBe(404);
  });

  it('stops cleanly on SIGTERM: exit 0, no process of its own left, every port closed', async () => {
    // the simulator starts no process; tsx may run an esbuild service, which must go with it
    const children = execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' })
      .split('\n')
      .map((line) => line.trim().split(/\s+/).map(Number))
      .filter(([, ppid]) => ppid === sim.pid)
      .map(([pid]) => pid as number);
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    expect(await sim.stop('SIGTERM')).toBe(0);
    expect(sim.output()).toMatch(/sim structures: stopped; \d+ TCP requests, \d+ RTU requests/);
    expect(alive(sim.pid)).toBe(false);
    await eventually(async () => (children.some(alive) ? undefined : true), 5000, 'its child processes to exit');
    for (const l of loggers) expect(await refused(l.port), l.id).toBe(true);
    expect(await refused(Number(new URL(control).port))).toBe(true);
  });
});
