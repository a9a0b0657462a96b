/**
 * The console's situation page (#/situation) in a real browser (Debian's chromium through
 * playwright-core, tests/console/console-rig.ts) against a real hub, logged in through the form:
 * the example city's underpasses listed, an incident opened from the form, shown live with its
 * level, then closed from its row; the hub's API agrees.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFreePort } from '../../bin/lib/ports.js';
import { type CliProcess, startCli } from '../helpers/cli-process.js';
import { TEST_SUPERVISOR } from '../helpers/console-session.js';
import { jsonApi } from '../helpers/json-api.js';
import { writeHubConfig } from '../helpers/system-configs.js';
import { launchChromium, login, openConsole, screenshot } from './console-rig.js';

const dir = mkdtempSync(path.join(tmpdir(), 'cg-situation-ui-'));
let hub: CliProcess;
let browser: Browser;
let httpUrl: string;
const api = jsonApi(() => httpUrl);

beforeAll(async () => {
  const httpPort = await findFreePort();
  const hubFile = writeHubConfig(dir, { mqtt: { mode: 'embedded', host: '127.0.0.1', port: 0 }, httpPort });
  hub = startCli(['hub', '--config', hubFile], { logFile: path.join(dir, 'hub.log') });
  await hub.waitFor(/Listening/, 60_000);
  httpUrl = `http://127.0.0.1:${httpPort}`;
  browser = await launchChromium();
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await hub?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('console situation page', () => {
  it('lists the underpasses, opens an incident from the form and closes it from its row', async () => {
    const cp = await openConsole(browser, httpUrl);
    await login(cp, TEST_SUPERVISOR);
    const { page } = cp;
    await page.goto(`${httpUrl}/#/situation`);
    await page.waitForSelector('#open-incident');
    // The example city's four underpasses, no depth yet.
    await page.waitForSelector('#underpass-table tbody tr');
    expect(await page.locator('#underpass-table tbody tr').count()).toBe(4);

    await page.selectOption('#new-type', 'flood');
    await page.selectOption('#new-scope', 'xihu');
    await page.selectOption('#new-level', 'III');
    await page.fill('#new-reason', '暴雨橙色预警');
    await page.click('#open-incident');
    const row = page.locator('[data-incident="INC-000001"][data-state="open"]');
    await row.waitFor();
    expect(await row.textContent()).toContain('III');
    await screenshot(page, 'situation-incident-open');
    const opened = await api<{ state: string; level: string; history: { by: string; reason: string }[] }>(
      'GET',
      '/api/incidents/INC-000001',
    );
    expect(opened.body).toMatchObject({ state: 'open', level: 'III', history: [{ reason: '暴雨橙色预警' }] });

    await row.locator('input.reason').fill('雨停');
    await row.locator('button.close').click();
    await page.locator('[data-incident="INC-000001"]').waitFor({ state: 'detached' });
    expect((await api<{ state: string }>('GET', '/api/incidents/INC-000001')).body.state).toBe('closed');
    expect(cp.errors).toEqual([]);
    await cp.context.close();
  }, 60_000);
});
