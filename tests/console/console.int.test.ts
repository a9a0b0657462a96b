/**
 * The operator console in a real browser (Debian's Chromium through playwright-core) against a real
 * hub, edge, Modbus responder and simulated ONVIF camera:
 *
 *   responder (UPS-WL-1 register bank the test rewrites) -> citygrid edge (XH-UP01 on underpass
 *   UP-XH-001, and camera XH-CAM02 at the same asset) -> MQTT -> citygrid hub -> console
 *
 * Checked: login as each role and only what the role may see; a live value changing on the page
 * while the simulator changes it; a threshold crossing making a new case appear in the queue
 * without a reload; the case's evidence image from the camera the hub asked; a dispatch by the
 * district commander showing in the history; API calls the role may not make refused from the
 * page's own context. Screenshots of the main views go to .ci/artifacts/console/.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { findFreePort } from '../../bin/lib/ports.js';
import { SimulatedCamera } from '../../simulators/camera/camera.js';
import { type CliProcess, eventually, startCli } from '../helpers/cli-process.js';
import { consoleFetch, TEST_SUPERVISOR, testUser } from '../helpers/console-session.js';
import { type RegisterBank, type ResponderProcess, startModbusTcpResponder } from '../helpers/modbus-tcp-responder.js';
import { writeFloodGatewayConfig, writeHubConfig } from '../helpers/system-configs.js';
import { type ConsolePage, launchChromium, login, openConsole, screenshot } from './console-rig.js';

const dir = mkdtempSync(path.join(tmpdir(), 'cg-console-'));
const bankFile = path.join(dir, 'bank.json');
const env = { CG_UI_GW_PW: randomBytes(12).toString('base64url'), CG_UI_CAM_PW: randomBytes(9).toString('base64url') };

const supervisor = TEST_SUPERVISOR;
const xihuCommander = testUser('xihu-commander', 'district_commander', { district: 'xihu' });
const gongshuCommander = testUser('gongshu-commander', 'district_commander', { district: 'gongshu' });
const beishanHandler = testUser('beishan-handler', 'unit_handler', { unit: 'beishan-street' });

/** UPS-WL-1: depth in mm, rain 0.1 mm/h, total 0.1 mm as u32 CDAB. */
const bank = (waterMm: number): RegisterBank => ({
  values: { '4:0': waterMm, '4:1': 55, '4:2': 1234, '4:3': 0, '4:4': 0 },
});

let responder: ResponderProcess;
let camera: SimulatedCamera;
let hub: CliProcess;
let edge: CliProcess;
let hubUrl: string;
let browser: Browser;
const pages: ConsolePage[] = [];
let gongshuCaseId: string;
let floodCaseId: string;
let unitPage: ConsolePage;

async function consoleAs(user: typeof supervisor): Promise<ConsolePage> {
  const cp = await openConsole(browser, hubUrl);
  pages.push(cp);
  await login(cp, user);
  return cp;
}

/** The case ids in the queue's rendered rows. */
const queueIds = (cp: ConsolePage) =>
  cp.page.locator('#case-list [data-case]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-case')));

beforeAll(async () => {
  const mqttPort = await findFreePort();
  const httpPort = await findFreePort();
  hubUrl = `http://127.0.0.1:${httpPort}`;
  writeHubConfig(dir, {
    hubId: 'hub-console',
    mqtt: { mode: 'embedded', host: '127.0.0.1', port: mqttPort },
    httpPort,
    gateways: { 'gw-xh-01': '${CG_UI_GW_PW}' },
    consoleUsers: [supervisor, xihuCommander, gongshuCommander, beishanHandler],
  });
  // The shipped underpass rule with a 1 s minimum duration (the shipped 1 min would make the test slow).
  expect(readFileSync(path.join(dir, 'rules.yaml'), 'utf8')).toContain('id: underpass-waterlogging');
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
          levels: { normal: [{ at: 15, urgency: 'urgent' }] },
          hysteresis: 5,
          minDuration: '1s',
          hold: '10m',
          autoFile: true,
        },
      ],
    }),
  );
  writeFileSync(bankFile, JSON.stringify(bank(80)));
  responder = await startModbusTcpResponder({ count: 1, bank: bankFile });
  camera = await SimulatedCamera.start({
    name: 'XH-CAM02',
    scene: 'UP-XH-001 underpass',
    username: 'citygrid',
    password: env.CG_UI_CAM_PW,
    snapshot: 'jpeg',
    moveMs: 200,
    maxPullHoldMs: 1000,
  });
  writeFloodGatewayConfig(dir, {
    hubUrl: `mqtt://127.0.0.1:${mqttPort}`,
    password: '${CG_UI_GW_PW}',
    gaugePort: responder.ports[0] as number,
    extraDevices: [
      {
        id: 'XH-CAM02',
        kind: 'camera',
        driver: 'onvif-camera',
        asset: 'UP-XH-001',
        options: {
          url: camera.deviceUrl,
          username: 'citygrid',
          password: '${CG_UI_CAM_PW}',
          connectTimeout: '5s',
          snapshotTimeout: '5s',
          settlePoll: '50ms',
          events: false,
          timeZone: 'Asia/Shanghai',
        },
      },
    ],
  });
  hub = startCli(['hub', '--config', path.join(dir, 'hub.yaml')], { env, logFile: path.join(dir, 'hub.log') });
  await hub.waitFor(/"msg":"Listening"/, 30_000);
  edge = startCli(['edge', '--config', path.join(dir, 'gw.yaml')], { env, logFile: path.join(dir, 'edge.log') });
  // A hotline case in the other district, for the scoping checks.
  const api = consoleFetch(hubUrl, supervisor);
  const report = await api('/api/reports', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text: '莫干山路下立交积水', category: 'event:0406', asset: 'UP-GS-001' }),
  });
  expect(report.status).toBe(201);
  gongshuCaseId = ((await report.json()) as { case: { id: string } }).case.id;
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  for (const cp of pages) await cp.context.close().catch(() => undefined);
  await browser?.close();
  await Promise.all([edge?.stop(), hub?.stop(), responder?.stop(), camera?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('the operator console in a browser', () => {
  let sup: ConsolePage;

  it('refuses a wrong password and logs the supervisor in; the map draws the city', async () => {
    const cp = await openConsole(browser, hubUrl);
    pages.push(cp);
    await cp.page.locator('#login-username').fill(supervisor.id);
    await cp.page.locator('#login-password').fill('wrong-password');
    await cp.page.locator('#login-submit').click();
    await expect.poll(() => cp.page.locator('#login-error').textContent()).not.toBe('');
    await login(cp, supervisor);
    sup = cp;
    expect(await cp.page.locator('#current-user').getAttribute('data-role')).toBe('city_supervisor');
    await cp.page.locator('#map-summary [data-assets]').waitFor();
    expect(Number(await cp.page.locator('#map-summary [data-assets]').getAttribute('data-assets'))).toBeGreaterThan(10);
    await screenshot(cp.page, 'map');
  });

  it('shows a live value changing while the simulator changes it', async () => {
    const { page } = sup;
    await page.goto(`${hubUrl}/#/telemetry/XH-UP01`);
    const value = page.locator('#live-values .live-value[data-field="water_level_cm"]');
    await expect.poll(() => value.textContent(), { timeout: 20_000 }).toBe('8');
    writeFileSync(bankFile, JSON.stringify(bank(120)));
    await expect.poll(() => value.textContent(), { timeout: 10_000 }).toBe('12');
    await page.locator('#telemetry-chart canvas').first().waitFor();
    // The chart holds history from /api/telemetry and draws the rule's 15 cm limit from /api/rules.
    const chart = page.locator('#telemetry-chart .chart');
    await expect.poll(() => chart.getAttribute('data-limits'), { timeout: 10_000 }).toBe('15');
    await expect.poll(async () => Number(await chart.getAttribute('data-points'))).toBeGreaterThan(1);
    await screenshot(page, 'telemetry');
  });

  it('a threshold crossing makes a new case appear in the queue without a reload', async () => {
    const { page } = sup;
    await page.goto(`${hubUrl}/#/cases`);
    await page.locator(`#case-list [data-case="${gongshuCaseId}"]`).waitFor();
    await page.evaluate(() => {
      (window as unknown as { __sameDocument: boolean }).__sameDocument = true;
    });
    const before = await queueIds(sup);
    writeFileSync(bankFile, JSON.stringify(bank(300))); // 30 cm, past the 15 cm limit
    const row = page.locator('#case-list .case-row.fresh').first();
    await row.waitFor({ timeout: 20_000 });
    floodCaseId = (await row.getAttribute('data-case')) as string;
    expect(before).not.toContain(floodCaseId);
    expect(await row.textContent()).toContain('UP-XH-001');
    expect(await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(true);
    await screenshot(page, 'cases');
  });

  it('the district commander opens it, sees the evidence image, dispatches it and sees the history', async () => {
    const cp = await consoleAs(xihuCommander);
    const { page } = cp;
    await page.goto(`${hubUrl}/#/cases`);
    const ids = await eventually(async () => {
      const list = await queueIds(cp);
      return list.includes(floodCaseId) ? list : undefined;
    });
    expect(ids).not.toContain(gongshuCaseId); // the other district's case is not in a commander's queue
    await page.locator(`#case-list [data-case="${floodCaseId}"]`).click();
    await page.locator('#case-detail[data-state="filed"]').waitFor();
    const img = page.locator('#case-evidence img').first();
    await img.waitFor({ timeout: 30_000 });
    await expect
      .poll(() => img.evaluate((el) => (el as HTMLImageElement).naturalWidth), { timeout: 10_000 })
      .toBeGreaterThan(0);
    const offered = await page
      .locator('#case-actions form.action')
      .evaluateAll((fs) => fs.map((f) => f.getAttribute('data-action')));
    expect(offered).toContain('dispatch');
    expect(offered).not.toContain('accept'); // the supervision centre's, not the command centre's
    expect(offered).not.toContain('report_handled'); // the unit's
    const form = page.locator('#case-actions form[data-action="dispatch"]');
    // the dispatch choice lists the city's units by name, the proposed unit chosen
    expect(await form.locator('select[name="unit"]').inputValue()).toBe('beishan-street');
    expect(await form.locator('select[name="unit"] option:checked').textContent()).toBe('北山街道 (beishan-street)');
    await form.locator('input[name="note"]').fill('请北山街道立即处置');
    await form.locator('button').click();
    const entry = page.locator('#case-history li[data-action="dispatch"]');
    await entry.waitFor({ timeout: 10_000 });
    expect(await entry.textContent()).toContain('请北山街道立即处置');
    expect(await entry.textContent()).toContain('xihu-commander');
    expect(await page.locator('#case-unit').textContent()).toBe('北山街道');
    expect(await page.locator('#case-unit').getAttribute('data-unit')).toBe('beishan-street');
    await screenshot(page, 'case-detail');
    // English labels from the case model and the catalogue; the choice survives a reload.
    expect(await page.locator('#case-state').textContent()).toBe('派遣');
    await page.locator('#lang-switch').click();
    await expect.poll(() => page.locator('#case-state').textContent()).toBe('Dispatched');
    expect(await page.locator('#case-category').textContent()).toContain('Waterlogged road');
    await page.reload();
    await expect.poll(() => page.locator('#case-state').textContent()).toBe('Dispatched');
    await page.locator('#lang-switch').click();
    await expect.poll(() => page.locator('#case-state').textContent()).toBe('派遣');
  });

  it('each role sees only what it may: the unit its dispatched case and only its actions, the other district nothing of Xihu', async () => {
    const unit = await consoleAs(beishanHandler);
    unitPage = unit;
    await unit.page.goto(`${hubUrl}/#/cases`);
    await eventually(async () => ((await queueIds(unit)).includes(floodCaseId) ? true : undefined));
    await unit.page.goto(`${hubUrl}/#/cases/${floodCaseId}`);
    await unit.page.locator('#case-detail[data-state="dispatched"]').waitFor();
    const offered = await unit.page
      .locator('#case-actions form.action')
      .evaluateAll((fs) => fs.map((f) => f.getAttribute('data-action')));
    expect(offered.sort()).toEqual(['request_extension', 'return', 'start']);

    expect(await queueIds(unit)).not.toContain(gongshuCaseId);

    const gongshu = await consoleAs(gongshuCommander);
    await gongshu.page.goto(`${hubUrl}/#/cases`);
    const gsIds = await eventually(async () => {
      const list = await queueIds(gongshu);
      return list.includes(gongshuCaseId) ? list : undefined;
    });
    expect(gsIds).not.toContain(floodCaseId);
    await gongshu.page.goto(`${hubUrl}/#/cases/${floodCaseId}`);
    await expect.poll(() => gongshu.page.locator('#case-error').textContent()).toMatch(/^40[34] /);

    await sup.page.goto(`${hubUrl}/#/gateways`);
    const gw = sup.page.locator('#gateway-table tr[data-gateway="gw-xh-01"] td.on');
    await gw.waitFor();
    // the outbox column comes from the gateway's health report (.../health on connect)
    const held = sup.page.locator('#gateway-table tr[data-gateway="gw-xh-01"] td:nth-child(5)');
    await expect.poll(() => held.textContent(), { timeout: 15_000 }).toMatch(/^\d+$/);
    expect(await held.getAttribute('title')).toMatch(/taken while offline/);
    await screenshot(sup.page, 'gateways');
    for (const cp of pages) expect(cp.errors).toEqual([]);
  });

  it('refuses API calls the role may not make, from the page itself', async () => {
    const unit = unitPage;
    const status = (page: ConsolePage['page'], url: string, method = 'GET') =>
      page.evaluate(
        async ([u, m]) =>
          (
            await fetch(u as string, {
              method: m,
              headers: { 'content-type': 'application/json' },
              body: m === 'GET' ? undefined : '{"profile":"flood"}',
            })
          ).status,
        [url, method],
      );
    expect(await status(unit.page, '/api/evaluation')).toBe(403);
    expect(await status(unit.page, '/api/profile', 'PUT')).toBe(403);
    const anonymous = await openConsole(browser, hubUrl);
    pages.push(anonymous);
    await anonymous.page.locator('#login-form').waitFor();
    expect(await status(anonymous.page, '/api/cases')).toBe(401);
    await sup.page.locator('#logout').click();
    await sup.page.locator('#login-form').waitFor();
    expect(await status(sup.page, '/api/cases')).toBe(401);
  });
});
