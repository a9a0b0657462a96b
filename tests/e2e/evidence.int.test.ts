/**
 * The evidence path across real processes (issue 5 item 3, issue 6's evidence item):
 *
 *   POST /api/cameras/<device>/capture -> hub publishes cmd/capture -> edge process (test camera
 *   driver) -> evidence into the durable outbox -> cg/v1/.../media through a TCP proxy -> hub
 *   ingest -> content-addressed store -> GET /api/evidence/<id>, /thumbnail, /api/commands/<id>
 *
 * with an uplink outage, a SIGKILL of the edge holding evidence the hub has not acknowledged, an
 * item above the edge's maximum, and typed errors for an unknown camera / evidence / offline gateway.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { findFreePort } from '../../bin/lib/ports.js';
import { type CliProcess, eventually, ROOT, startCli, startTsScript } from '../helpers/cli-process.js';
import { supervisorFetch } from '../helpers/console-session.js';
import { writeHubConfig } from '../helpers/system-configs.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

const dir = mkdtempSync(path.join(tmpdir(), 'cg-evidence-'));
const shots = path.join(dir, 'shots');
const password = randomBytes(12).toString('base64url');
const EDGE_SCRIPT = path.join(ROOT, 'tests/e2e/evidence/edge-with-test-camera.ts');
const CAMERA = 'XH-CAM01';

let hub: CliProcess;
let edge: CliProcess | undefined;
let proxy: TcpProxy;
let api: string;
let edgeHttp: string;

function startEdge(): CliProcess {
  return startTsScript(EDGE_SCRIPT, ['--config', path.join(dir, 'gw-xh-01.yaml')], {
    env: { CG_EV_GW_PW: password },
    logFile: path.join(dir, 'edge.log'),
  });
}

async function metric(base: string, line: RegExp): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const found = text.split('\n').find((l) => line.test(l));
  return found ? Number(found.split(' ').pop()) : 0;
}

async function capture(body: Record<string, unknown>): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await supervisorFetch(`${api}/api/cameras/${CAMERA}/capture`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

interface CommandView {
  state: string;
  evidence: string[];
  error?: string;
}

async function command(id: string): Promise<CommandView> {
  return (await (await supervisorFetch(`${api}/api/commands/${id}`)).json()) as CommandView;
}

/** Waits until the command has `n` evidence ids; returns them. */
function evidenceOf(id: string, n = 1, timeoutMs = 20_000): Promise<string[]> {
  return eventually(
    async () => {
      const view = await command(id);
      return view.evidence.length >= n ? view.evidence : undefined;
    },
    timeoutMs,
    `evidence of command ${id}`,
  );
}

async function expectServedAsShot(evidenceId: string, commandId: string): Promise<void> {
  const res = await supervisorFetch(`${api}/api/evidence/${evidenceId}`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('image/jpeg');
  expect(res.headers.get('etag')).toBe(`"${evidenceId}"`);
  const served = Buffer.from(await res.arrayBuffer());
  expect(served.equals(readFileSync(path.join(shots, `${commandId}.jpg`)))).toBe(true);
}

beforeAll(async () => {
  mkdirSync(shots);
  const mqttPort = await findFreePort();
  const httpPort = await findFreePort();
  const edgePort = await findFreePort();
  writeHubConfig(dir, {
    hubId: 'hub-evidence',
    mqtt: { mode: 'embedded', host: '127.0.0.1', port: mqttPort },
    httpPort,
    gateways: { 'gw-xh-01': '${CG_EV_GW_PW}' },
  });
  // The bridge names our camera at a preset (联动), for POST /api/assets/<id>/capture.
  const cityFile = path.join(dir, 'city.yaml');
  const city = parse(readFileSync(cityFile, 'utf8')) as { assets: { id: string; cameras?: unknown }[] };
  const bridge = city.assets.find((a) => a.id === 'BR-XH-001');
  if (!bridge) throw new Error('example city has no BR-XH-001');
  bridge.cameras = [{ device: CAMERA, preset: 'deck-view' }, { device: 'XH-CAM99' }];
  writeFileSync(cityFile, stringify(city));
  proxy = await startTcpProxy({ port: mqttPort });
  writeFileSync(
    path.join(dir, 'gw-xh-01.yaml'),
    stringify({
      gateway: { id: 'gw-xh-01', district: 'xihu' },
      hub: { url: `mqtt://127.0.0.1:${proxy.port}`, password: '${CG_EV_GW_PW}', reconnectPeriod: '250ms' },
      dataDir: './edge-data',
      delivery: { resendAfter: '2s', maxEvidenceBytes: '10MB' },
      http: { host: '127.0.0.1', port: edgePort },
      devices: [{ id: CAMERA, kind: 'camera', driver: 'test-camera', asset: 'BR-XH-001', options: { outDir: shots } }],
    }),
  );
  api = `http://127.0.0.1:${httpPort}`;
  edgeHttp = `http://127.0.0.1:${edgePort}`;
  hub = startCli(['hub', '--config', path.join(dir, 'hub.yaml')], {
    env: { CG_EV_GW_PW: password },
    logFile: path.join(dir, 'hub.log'),
  });
  await hub.waitFor(/"msg":"Listening"/);
  edge = startEdge();
  await edge.waitFor(/"msg":"Connected"/);
  // The capture route needs the gateway's birth inventory.
  await eventually(async () => ((await capture({ preset: 'probe' })).status === 202 ? true : undefined));
}, 60_000);

afterAll(async () => {
  await edge?.stop('SIGTERM', 5000);
  await hub?.stop('SIGTERM', 5000);
  await proxy?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('evidence from a camera to the hub', () => {
  it('POST capture -> cmd/capture -> evidence with the command id, byte-identical, with its thumbnail', async () => {
    const { status, json } = await capture({ mode: 'snapshot', preset: 'deck' });
    expect(status).toBe(202);
    const commandId = json.commandId as string;
    const [evidenceId] = await evidenceOf(commandId);
    if (!evidenceId) throw new Error('no evidence id');
    const view = await command(commandId);
    expect(view).toMatchObject({ state: 'ok', device: CAMERA, gateway: 'gw-xh-01', args: { preset: 'deck' } });
    await expectServedAsShot(evidenceId, commandId);
    const listed = (await (await supervisorFetch(`${api}/api/evidence?command=${commandId}`)).json()) as Record<
      string,
      unknown
    >[];
    expect(listed).toEqual([
      expect.objectContaining({
        id: evidenceId,
        device: CAMERA,
        asset: 'BR-XH-001',
        gateway: 'gw-xh-01',
        mediaType: 'image/jpeg',
        commandId,
        meta: { preset: 'deck', mode: 'snapshot' },
      }),
    ]);
    const thumb = await supervisorFetch(`${api}/api/evidence/${evidenceId}/thumbnail`);
    expect(thumb.headers.get('content-type')).toBe('image/jpeg');
    const info = await sharp(Buffer.from(await thumb.arrayBuffer())).metadata();
    expect([info.format, info.width]).toEqual(['jpeg', 80]);
    const again = await supervisorFetch(`${api}/api/evidence/${evidenceId}`, {
      headers: { 'if-none-match': `"${evidenceId}"` },
    });
    expect(again.status).toBe(304);
  });

  it("POST /api/assets/<id>/capture asks the asset's cameras at their presets, and names the one it cannot reach", async () => {
    const res = await supervisorFetch(`${api}/api/assets/BR-XH-001/capture`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(202);
    const body = (await res.json()) as { commands: { device: string; commandId?: string; error?: string }[] };
    expect(body.commands.map((c) => [c.device, c.error?.split(':')[0]])).toEqual([
      [CAMERA, undefined],
      ['XH-CAM99', 'unknown-camera'],
    ]);
    const commandId = body.commands[0]?.commandId as string;
    const [evidenceId] = await evidenceOf(commandId);
    const [record] = (await (await supervisorFetch(`${api}/api/evidence?command=${commandId}`)).json()) as {
      id: string;
      meta: Record<string, unknown>;
    }[];
    expect(record).toMatchObject({ id: evidenceId, meta: { preset: 'deck-view' } });
    const unknown = await supervisorFetch(`${api}/api/assets/NO-ASSET/capture`, { method: 'POST', body: '{}' });
    expect([unknown.status, ((await unknown.json()) as { error: string }).error]).toEqual([404, 'unknown-asset']);
  });

  it('answers unknown evidence, an unknown camera and a bad body with typed JSON errors', async () => {
    const missing = await supervisorFetch(`${api}/api/evidence/${'0'.repeat(64)}`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: 'unknown-evidence' });
    const unknown = await supervisorFetch(`${api}/api/cameras/NO-SUCH-CAM/capture`, { method: 'POST', body: '{}' });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: 'unknown-camera' });
    const bad = await capture({ mode: 'panorama' });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ error: 'bad-request' });
    const noCommand = await supervisorFetch(`${api}/api/commands/nope`);
    expect(noCommand.status).toBe(404);
  });

  it('refuses an item above the edge maximum with a typed error and a counter; the command still answers', async () => {
    const refusedBefore = await metric(edgeHttp, /^citygrid_edge_evidence_refused_total\{.*too-large/);
    const { json } = await capture({ preset: 'pad-12000000' });
    const commandId = json.commandId as string;
    await eventually(async () => ((await command(commandId)).state === 'ok' ? true : undefined));
    await eventually(async () =>
      (await metric(edgeHttp, /^citygrid_edge_evidence_refused_total\{.*too-large/)) === refusedBefore + 1
        ? true
        : undefined,
    );
    expect(edge?.output()).toMatch(/evidence-too-large/);
    // A capture after it goes through: the refusal stopped nothing.
    const next = await capture({ preset: 'after-refusal' });
    await evidenceOf(next.json.commandId as string);
    expect((await command(commandId)).evidence).toEqual([]);
  });

  it('sends a 9 MB item in parts of one message each and the hub assembles it byte for byte', async () => {
    const { json } = await capture({ preset: 'pad-9000000', mode: 'clip' });
    const commandId = json.commandId as string;
    const [evidenceId] = await evidenceOf(commandId, 1, 30_000);
    await expectServedAsShot(evidenceId as string, commandId);
    expect(await metric(edgeHttp, /^citygrid_edge_messages_sent_total\{channel="media"\}/)).toBeGreaterThanOrEqual(3);
    const thumb = await supervisorFetch(`${api}/api/evidence/${evidenceId}/thumbnail`);
    expect(thumb.status).toBe(200);
  });

  it('keeps evidence taken during an uplink outage and delivers it once the link is back', async () => {
    const { json } = await capture({ preset: 'delay-2500' });
    const commandId = json.commandId as string;
    await eventually(async () => ((await command(commandId)).state === 'ok' ? true : undefined));
    proxy.cut('blackhole');
    const taken = await metric(edgeHttp, /^citygrid_edge_outbox_taken_total\{type="media"\}/);
    await eventually(async () =>
      (await metric(edgeHttp, /^citygrid_edge_outbox_taken_total\{type="media"\}/)) > taken ? true : undefined,
    );
    await new Promise((r) => setTimeout(r, 1000));
    expect((await command(commandId)).evidence).toEqual([]);
    proxy.restore();
    const [evidenceId] = await evidenceOf(commandId, 1, 30_000);
    await expectServedAsShot(evidenceId as string, commandId);
  });

  it('loses nothing and stores nothing twice when the edge is SIGKILLed holding unacknowledged evidence', async () => {
    const storedBefore = await metric(api, /^citygrid_hub_evidence_stored_total\{/);
    const { json } = await capture({ preset: 'delay-2000' });
    const commandId = json.commandId as string;
    await eventually(async () => ((await command(commandId)).state === 'ok' ? true : undefined));
    proxy.cut('blackhole');
    const taken = await metric(edgeHttp, /^citygrid_edge_outbox_taken_total\{type="media"\}/);
    await eventually(async () =>
      (await metric(edgeHttp, /^citygrid_edge_outbox_taken_total\{type="media"\}/)) > taken ? true : undefined,
    );
    // Taken means committed (fsync) to outbox.db; give the uplink a moment to compose and try to send it.
    await new Promise((r) => setTimeout(r, 300));
    await edge?.stop('SIGKILL');
    proxy.restore();
    edge = startEdge();
    await edge.waitFor(/Outbox resumes what an earlier boot left/);
    const [evidenceId] = await evidenceOf(commandId, 1, 30_000);
    await expectServedAsShot(evidenceId as string, commandId);
    const listed = (await (await supervisorFetch(`${api}/api/evidence?command=${commandId}`)).json()) as unknown[];
    expect(listed).toHaveLength(1);
    await eventually(async () =>
      (await metric(api, /^citygrid_hub_evidence_stored_total\{/)) === storedBefore + 1 ? true : undefined,
    );
    expect(await metric(api, /^citygrid_hub_evidence_duplicates_total\{/)).toBe(0);
  });

  it("answers 409 with a reason when the camera's gateway is offline", async () => {
    await edge?.stop('SIGTERM', 5000);
    edge = undefined;
    await eventually(async () => {
      const { status, json } = await capture({});
      return status === 409 ? json : undefined;
    }).then((json) => expect(json).toMatchObject({ error: 'gateway-offline' }));
  });
});
