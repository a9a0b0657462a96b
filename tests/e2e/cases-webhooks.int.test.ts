/**
 * Case notifications and the rule profile switch (issue 7) with a real hub process:
 *
 *   hotline report -> accept -> file -> dispatch through the API -> cases.db outbox
 *     -> signed POST to a node:http receiver on 127.0.0.1 that answers 500 first, then 200
 *
 * Checked: the delivery carries X-Citygrid-Delivery and an X-Citygrid-Signature that verifies with
 * the secret over the raw body; the failed attempt is retried (same delivery id) until a 2xx; the
 * metrics count one failed and one ok attempt and nothing stays pending. A notification still
 * failing when the hub stops is delivered by the next hub process. PUT /api/profile is
 * reported by GET, announced on the stream's log, and still in force after a hub restart.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { findFreePort } from '../../bin/lib/ports.js';
import { type CliProcess, eventually, startCli } from '../helpers/cli-process.js';
import { TEST_SUPERVISOR, testUser } from '../helpers/console-session.js';
import { jsonApi } from '../helpers/json-api.js';
import { writeHubConfig } from '../helpers/system-configs.js';

const dir = mkdtempSync(path.join(tmpdir(), 'cg-webhooks-'));
const secret = randomBytes(16).toString('hex');
const env = { CG_HOOK_SECRET: secret };

interface Received {
  body: string;
  signature: string | undefined;
  delivery: string | undefined;
  status: number;
}
const received: Received[] = [];
/** While true, the receiver answers every delivery with a 500. */
let receiverDown = false;
let receiver: Server;
let hub: CliProcess;
let httpUrl: string;
let hubRuns = 0;

function startHub(): CliProcess {
  hubRuns += 1;
  return startCli(['hub', '--config', path.join(dir, 'hub.yaml')], {
    env,
    logFile: path.join(dir, `hub-${hubRuns}.log`),
  });
}

const api = jsonApi(() => httpUrl);
const commander = testUser('cmd-xh', 'district_commander', { district: 'xihu' });
const asCommander = jsonApi(() => httpUrl, commander);

const verifies = (signature: string | undefined, body: string): boolean => {
  const want = Buffer.from(`sha256=${createHmac('sha256', secret).update(body).digest('hex')}`);
  const got = Buffer.from(signature ?? '');
  return got.length === want.length && timingSafeEqual(got, want);
};

beforeAll(async () => {
  // The receiver: the first delivery attempt gets a 500, every later one a 200.
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = receiverDown || received.length === 0 ? 500 : 200;
      received.push({
        body: Buffer.concat(chunks).toString('utf8'),
        signature: req.headers['x-citygrid-signature'] as string | undefined,
        delivery: req.headers['x-citygrid-delivery'] as string | undefined,
        status,
      });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

  const httpPort = await findFreePort();
  httpUrl = `http://127.0.0.1:${httpPort}`;
  const file = writeHubConfig(dir, {
    hubId: 'hub-webhooks',
    mqtt: { mode: 'embedded', host: '127.0.0.1', port: await findFreePort() },
    httpPort,
    consoleUsers: [TEST_SUPERVISOR, commander],
  });
  const config = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  config.cases = { webhooks: [{ url: hookUrl, secret: '${CG_HOOK_SECRET}', events: ['dispatched', 'closed'] }] };
  writeFileSync(file, stringify(config));
  hub = startHub();
  await hub.waitFor(/Listening/, 20_000);
}, 40_000);

afterAll(async () => {
  await hub?.stop();
  await new Promise<void>((resolve) => receiver?.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

describe('case webhooks', () => {
  it('sends a signed notification of a dispatch, retried after a 500 until a 200', async () => {
    const opened = await api<{ effect: string; case: { id: string; state: string } }>('POST', '/api/reports', {
      text: '北山街下立交积水',
      category: 'event:0406',
      asset: 'UP-XH-001',
    });
    expect(opened.status).toBe(201);
    const caseId = opened.body.case.id;
    for (const [action, call] of [
      ['accept', api],
      ['file', api],
      ['dispatch', asCommander],
    ] as const) {
      const r = await call<{ state: string }>('POST', `/api/cases/${caseId}/transitions`, { action });
      expect(r.status, `${action}: ${JSON.stringify(r.body)}`).toBe(200);
    }
    expect(received.filter((r) => r.status === 200)).toHaveLength(0);

    await eventually(async () => (received.some((r) => r.status === 200) ? true : undefined), 15_000, 'a 2xx delivery');
    expect(received.map((r) => r.status)).toEqual([500, 200]);
    const [first, second] = received as [Received, Received];
    expect(second.delivery).toBe(first.delivery);
    expect(second.body).toBe(first.body);
    expect(verifies(second.signature, second.body)).toBe(true);
    expect(verifies(second.signature, `${second.body} `)).toBe(false);
    const body = JSON.parse(second.body);
    expect(body).toMatchObject({ id: second.delivery, event: 'dispatched', caseId });
    expect(body.case).toMatchObject({ id: caseId, state: 'dispatched' });
    expect(typeof body.at).toBe('number');

    await eventually(async () => {
      const metrics = await (await fetch(`${httpUrl}/metrics`)).text();
      expect(metrics).toMatch(/citygrid_cases_webhook_deliveries_total\{[^}]*result="ok"[^}]*\} 1/);
      expect(metrics).toMatch(/citygrid_cases_webhook_deliveries_total\{[^}]*result="failed"[^}]*\} 1/);
      expect(metrics).toMatch(/citygrid_cases_webhook_pending 0/);
      return true;
    }, 5_000);
  });

  it('delivers a notification still pending when the hub stopped after it starts again', async () => {
    receiverDown = true;
    const opened = await api<{ case: { id: string } }>('POST', '/api/reports', {
      text: '莫干山路下立交积水，已自行消退',
      category: 'event:0406',
      asset: 'UP-GS-001',
    });
    expect(opened.status).toBe(201);
    const caseId = opened.body.case.id;
    const rejected = await api<{ state: string }>('POST', `/api/cases/${caseId}/transitions`, {
      action: 'reject',
      note: '重复上报',
    });
    expect(rejected.status, JSON.stringify(rejected.body)).toBe(200);
    const isClose = (r: Received) => JSON.parse(r.body).event === 'closed';
    await eventually(async () => (received.some(isClose) ? true : undefined), 10_000, 'a failed close delivery');
    await hub.stop();
    const failed = received.filter(isClose);
    expect(failed.every((r) => r.status === 500)).toBe(true);

    receiverDown = false;
    hub = startHub();
    await hub.waitFor(/Listening/, 20_000);
    await eventually(
      async () => (received.some((r) => isClose(r) && r.status === 200) ? true : undefined),
      15_000,
      'the close delivered after the restart',
    );
    const ok = received.filter((r) => isClose(r) && r.status === 200);
    expect(ok).toHaveLength(1);
    expect(ok[0]?.delivery).toBe(failed[0]?.delivery);
    expect(verifies(ok[0]?.signature, ok[0]?.body ?? '')).toBe(true);
    expect(JSON.parse(ok[0]?.body ?? '{}')).toMatchObject({ event: 'closed', caseId, case: { state: 'not_filed' } });
  }, 60_000);

  it('switches the rule profile, records who and why, and keeps it across a restart', async () => {
    const before = await api<{ profile: string }>('GET', '/api/profile');
    expect(before.body.profile).toBe('normal');
    const bad = await api<{ error: string }>('PUT', '/api/profile', { profile: 'typhoon' });
    expect(bad.status).toBe(400);
    const put = await api<Record<string, unknown>>('PUT', '/api/profile', {
      profile: 'flood',
      note: '暴雨红色预警',
    });
    expect(put.status).toBe(200);
    // The actor is the session's user.
    expect(put.body).toMatchObject({ profile: 'flood', actor: TEST_SUPERVISOR.id, note: '暴雨红色预警' });
    const bySomeoneElse = await asCommander<{ error: string }>('PUT', '/api/profile', { profile: 'normal' });
    expect(bySomeoneElse).toMatchObject({ status: 403, body: { error: 'forbidden' } });

    await hub.stop();
    hub = startHub();
    await hub.waitFor(/Listening/, 20_000);
    const after = await api<Record<string, unknown>>('GET', '/api/profile');
    expect(after.body).toEqual(put.body);
  }, 40_000);
});
