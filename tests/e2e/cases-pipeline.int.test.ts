/**
 * Cases through the real pipeline (issue 7), across real processes:
 *
 *   responder process (UPS-WL-1 register bank the test rewrites) -> loopback Modbus TCP
 *     -> citygrid edge (modbus-tcp-logger, device XH-UP01 on underpass UP-XH-001)
 *     -> MQTT -> citygrid hub -> rule engine -> case in cases.db -> /api/cases and /api/stream
 *
 * The example city with its catalogue; the rules are the shipped underpass rule with a 1 s minimum
 * duration (the shipped 1 min would make the test slow). Checked: a flooded underpass opens one
 * case (filed: high-confidence rule) seen on the API and the stream; a hotline report on the asset
 * joins it; a transition through the API, a refused one (409 with the workflow's reason), and one
 * through `citygrid cases`; the hub SIGKILLed with the case open comes back with it, its history
 * and its deadline, and new readings join it instead of opening another.
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { findFreePort } from '../../bin/lib/ports.js';
import { type CliProcess, eventually, ROOT, startCli } from '../helpers/cli-process.js';
import { consoleLogin, TEST_SUPERVISOR, type TestConsoleUser, testUser } from '../helpers/console-session.js';
import { jsonApi } from '../helpers/json-api.js';
import { type RegisterBank, type ResponderProcess, startModbusTcpResponder } from '../helpers/modbus-tcp-responder.js';
import { type FollowedStream, followStream, type StreamEvent } from '../helpers/sse-follow.js';
import { writeFloodGatewayConfig, writeHubConfig } from '../helpers/system-configs.js';

const dir = mkdtempSync(path.join(tmpdir(), 'cg-cases-'));
const password = randomBytes(12).toString('base64url');
const bankFile = path.join(dir, 'bank.json');
const env = { CG_CASES_PW: password };

/** UPS-WL-1: depth in mm, rain 0.1 mm/h, total 0.1 mm as u32 CDAB. */
const bank = (waterMm: number): RegisterBank => ({
  values: { '4:0': waterMm, '4:1': 55, '4:2': 1234, '4:3': 0, '4:4': 0 },
});

let responder: ResponderProcess;
let hub: CliProcess;
let edge: CliProcess;
let httpUrl: string;
let hubRuns = 0;
let followed: FollowedStream | undefined;
const stream = (): StreamEvent[] => followed?.events ?? [];

type Case = Record<string, unknown> & { id: string; state: string; history: Record<string, unknown>[] };

function startHub(): CliProcess {
  hubRuns += 1;
  return startCli(['hub', '--config', path.join(dir, 'hub.yaml')], {
    env,
    logFile: path.join(dir, `hub-${hubRuns}.log`),
  });
}

const commander = testUser('xihu-commander', 'district_commander', { district: 'xihu' });
const handler = testUser('handler-1', 'unit_handler', { unit: 'beishan-street' });
const api = jsonApi(() => httpUrl);
const as = (user: TestConsoleUser) => jsonApi(() => httpUrl, user);

/** Follows /api/stream as the supervisor until stopped. */
async function follow(): Promise<void> {
  const cookie = await consoleLogin(httpUrl);
  followed = await followStream(`${httpUrl}/api/stream`, { headers: { cookie } });
}

async function cli(
  args: string[],
  user: TestConsoleUser = TEST_SUPERVISOR,
): Promise<{ code: number | null; out: string }> {
  const p = startCli(['cases', ...args, '--hub', httpUrl, '--user', user.id], {
    env: { CITYGRID_PASSWORD: user.password },
    logFile: path.join(dir, 'cli.log'),
  });
  const code = await p.exited;
  return { code, out: p.output() };
}

const openCasesOnAsset = async () =>
  (await api<{ items: Case[] }>('GET', '/api/cases?open=true&category=event:0406')).body.items.filter(
    (c) => c.asset === 'UP-XH-001',
  );

beforeAll(async () => {
  const httpPort = await findFreePort();
  httpUrl = `http://127.0.0.1:${httpPort}`;
  const mqttPort = await findFreePort();
  writeHubConfig(dir, {
    hubId: 'hub-cases',
    mqtt: { mode: 'embedded', host: '127.0.0.1', port: mqttPort },
    httpPort,
    gateways: { 'gw-xh-01': '${CG_CASES_PW}' },
    consoleUsers: [TEST_SUPERVISOR, commander, handler],
  });
  copyFileSync(path.join(ROOT, 'config/examples/catalogue.yaml'), path.join(dir, 'catalogue.yaml'));
  const shipped = readFileSync(path.join(ROOT, 'config/examples/rules.yaml'), 'utf8');
  expect(shipped).toContain('id: underpass-waterlogging');
  writeFileSync(
    path.join(dir, 'rules.yaml'),
    stringify({
      rules: [
        {
          id: 'underpass-waterlogging',
          type: 'threshold',
          category: 'event:0406',
          match: { deviceKinds: ['flood'], assetKinds: ['underpass'] },
          field: 'water_level_cm',
          levels: {
            normal: [
              { at: 15, urgency: 'urgent' },
              { at: 25, urgency: 'critical' },
            ],
          },
          hysteresis: 5,
          minDuration: '1s',
          hold: '10m',
          autoFile: true,
        },
      ],
    }),
  );
  writeFileSync(bankFile, JSON.stringify(bank(120)));
  responder = await startModbusTcpResponder({ count: 1, bank: bankFile });
  writeFloodGatewayConfig(dir, {
    hubUrl: `mqtt://127.0.0.1:${mqttPort}`,
    password: '${CG_CASES_PW}',
    gaugePort: responder.ports[0] as number,
  });
  hub = startHub();
  await hub.waitFor(/Listening/, 20_000);
  await follow();
  edge = startCli(['edge', '--config', path.join(dir, 'gw.yaml')], { env, logFile: path.join(dir, 'edge.log') });
}, 40_000);

afterAll(async () => {
  followed?.stop();
  await Promise.all([edge?.stop(), hub?.stop(), responder?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('a flooded underpass becomes a case and runs through its workflow', () => {
  let caseId: string;

  it('opens no case while the water is low, one filed case once it floods (API and stream)', async () => {
    await eventually(
      async () => {
        const latest = (await api<Record<string, unknown>[]>('GET', '/api/readings/latest?device=XH-UP01')).body;
        return latest[0]?.fields ? latest : undefined;
      },
      20_000,
      'a reading of XH-UP01',
    );
    expect(await openCasesOnAsset()).toEqual([]);
    writeFileSync(bankFile, JSON.stringify(bank(300))); // 30 cm: past 15 and 25
    const [c] = await eventually(
      async () => {
        const open = await openCasesOnAsset();
        return open.length > 0 ? open : undefined;
      },
      20_000,
      'a case on UP-XH-001',
    );
    caseId = (c as Case).id;
    expect(c).toMatchObject({ source: 'sensor', state: 'filed', district: 'xihu', unit: 'beishan-street' });
    const opened = await eventually(
      async () => stream().find((s) => s.event === 'case' && s.data.id === caseId && s.data.effect === 'opened'),
      5_000,
      'the case on /api/stream',
    );
    expect(opened.data).toMatchObject({ category: 'event:0406', asset: 'UP-XH-001' });
    // More readings over the limit join it: still one open case on the asset.
    await new Promise((r) => setTimeout(r, 1500));
    expect((await openCasesOnAsset()).map((x) => x.id)).toEqual([caseId]);
    const detail = (await api<Case>('GET', `/api/cases/${caseId}`)).body;
    expect(detail.signalCount as number).toBeGreaterThanOrEqual(1);
    // 30 cm is critical: 道路积水 (event:0406) at critical is to be dispatched at once (0m), so the
    // hub's clock finds the dispatch stage overdue on its next tick.
    expect(detail.urgency).toBe('critical');
    expect((detail.deadlines as { dispatch?: { dueAt?: number } }).dispatch?.dueAt).toBe(detail.reportedAt);
    const overdue = await eventually(
      async () => {
        const r = await api<{ items: Case[] }>('GET', '/api/cases?overdue=true&district=xihu');
        return r.body.items.some((x) => x.id === caseId) ? r.body.items : undefined;
      },
      15_000,
      'the case listed as overdue',
    );
    expect(overdue.find((x) => x.id === caseId)?.overdue).toBe(true);
    // …and the clock records it (history entry, on the stream) on its next tick.
    await eventually(
      async () => stream().find((s) => s.event === 'case' && s.data.id === caseId && s.data.effect === 'mark_overdue'),
      12_000,
      'mark_overdue on /api/stream',
    );
    // The asset's camera (XH-CAM02) is on no running gateway: the request is recorded with its error and retried.
    expect(detail.capture).toMatchObject({ asset: 'UP-XH-001' });
    expect(String((detail.capture as { error?: string }).error)).toMatch(/XH-CAM02/);
  }, 40_000);

  it('joins a hotline report on the asset to the open case', async () => {
    const r = await api<{ effect: string; case: Case }>('POST', '/api/reports', {
      text: '北山街下立交积水，车辆无法通行',
      category: 'event:0406',
      asset: 'UP-XH-001',
      reporter: '12319 caller 138****0000',
    });
    expect(r.status).toBe(200);
    expect(r.body.effect).toBe('joined');
    expect(r.body.case.id).toBe(caseId);
    expect(r.body.case.repeatCount as number).toBeGreaterThanOrEqual(1);
    const bad = await api<{ error: string; message: string }>('POST', '/api/reports', {
      text: 'x',
      category: 'event:0406',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/asset or a point/);
  });

  it('dispatches through the API, refuses an illegal transition with 409, starts it through the CLI', async () => {
    // Not yet dispatched to the handler's unit: the case is not theirs to see, let alone act on.
    expect((await as(handler)('POST', `/api/cases/${caseId}/transitions`, { action: 'start' })).status).toBe(404);
    const refused = await as(commander)<{ error: string; message: string }>(
      'POST',
      `/api/cases/${caseId}/transitions`,
      { action: 'pass' },
    );
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ error: 'transition-refused' });
    expect(refused.body.message).toMatch(/cannot pass a case in state filed as district_commander/);

    const dispatched = await as(commander)<Case>('POST', `/api/cases/${caseId}/transitions`, {
      action: 'dispatch',
      note: '派西湖区城管局',
    });
    expect(dispatched.status).toBe(200);
    expect(dispatched.body).toMatchObject({ state: 'dispatched', unit: 'beishan-street' });
    await eventually(
      async () => stream().find((s) => s.event === 'case' && s.data.id === caseId && s.data.effect === 'dispatch'),
      5_000,
      'the dispatch on /api/stream',
    );

    const started = await cli(['transition', caseId, 'start'], handler);
    expect(started.out).toContain(`${caseId}: start -> processing`);
    expect(started.code).toBe(0);
    const denied = await cli(['transition', caseId, 'evaluate'], handler);
    expect(denied.code).toBe(1);
    expect(denied.out).toMatch(/409 transition-refused/);

    const list = await cli(['list', '--state', 'processing']);
    expect(list.code).toBe(0);
    expect(list.out).toMatch(new RegExp(`${caseId}\\tprocessing\\t\\w+\\tevent:0406\\tUP-XH-001\\txihu`));
    const show = await cli(['show', caseId]);
    expect(show.out).toMatch(/dispatch filed -> dispatched by xihu-commander \(district_commander\): 派西湖区城管局/);
    expect(show.out).toMatch(/start dispatched -> processing by handler-1 \(unit_handler\)/);
  }, 30_000);

  it('brings the open case, its history and its handling deadline back after kill -9 of the hub', async () => {
    const before = (await api<Case>('GET', `/api/cases/${caseId}`)).body;
    const handleDue = (before.deadlines as { handle?: { dueAt?: number } }).handle?.dueAt;
    expect(handleDue).toBeGreaterThan(Date.now());
    followed?.stop();
    await hub.stop('SIGKILL');
    hub = startHub();
    await hub.waitFor(/Listening/, 20_000);
    const after = (await api<Case>('GET', `/api/cases/${caseId}`)).body;
    expect(after).toMatchObject({ state: 'processing', unit: 'beishan-street', repeatCount: before.repeatCount });
    expect((after.deadlines as { handle?: { dueAt?: number } }).handle?.dueAt).toBe(handleDue);
    expect(after.history.map((h) => h.action)).toEqual(before.history.map((h) => h.action));
    // The evidence request is recorded in cases.db too (still failing: no gateway has XH-CAM02).
    expect(after.capture).toMatchObject({ asset: 'UP-XH-001', error: expect.stringMatching(/XH-CAM02/) });
    // The edge reconnects and the water is still high: readings stored after the restart join the
    // restored case (rule state came back too) instead of opening another.
    const restartedAt = Date.now();
    await eventually(
      async () => {
        const latest = (await api<{ receivedAt: number }[]>('GET', '/api/readings/latest?device=XH-UP01')).body;
        return latest.filter((r) => r.receivedAt > restartedAt + 1500).length > 0 ? latest : undefined;
      },
      20_000,
      'readings of XH-UP01 after the restart',
    );
    expect((await openCasesOnAsset()).map((x) => x.id)).toEqual([caseId]);
  }, 40_000);
});
