/**
 * The console's situation page (#/situation) in a real browser (Debian's chromium through
 * playwright-core) against a real hub: the example city's underpasses listed, an incident opened
 * from the form, shown live with its level, then closed from its row; the hub's API agrees.
 */
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFreePort } from '../../bin/lib/ports.js';
import { type CliProcess, startCli } from '../helpers/cli-process.js';
import { consoleLogin } from '../helpers/console-session.js';
import { jsonApi } from '../helpers/json-api.js';
import { writeHubConfig } from '../helpers/system-configs.js';

const dir = mkdtempSync(path.join(tmpdir(), 'cg-situation-ui-'));
let hub: CliProcess;
let browser: Browser;
let httpUrl: string;
const api = jsonApi(() => httpUrl);

/** The chromium binary on PATH (tests/setup/run-tests.sh installs Debian's). */
function chromiumPath(): string {
  for (const d of (process.env.PATH ?? '').split(path.delimiter))
    for (const name of ['chromium', 'chromium-browser']) {
      const file = path.join(d, name);
      try {
        accessSync(file, constants.X_OK);
        return file;
      } catch {
        // not here
      }
    }
  throw new Error('chromium is not on PATH (Debian package chromium; tests/setup/run-tests.sh installs it)');
}

beforeAll(async () => {
  const httpPort = await findFreePort();
  const hubFile = writeHubConfig(dir, { mqtt: { mode: 'embedded', host: '127.0.0.1', port: 0 }, httpPort });
  hub = startCli(['hub', '--config', hubFile], { logFile: path.join(dir, 'hub.log') });
  await hub.waitFor(/Listening/, 60_000);
  httpUrl = `http://127.0.0.1:${httpPort}`;
  browser = await chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox'] });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await hub?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('console situation page', () => {
  it('lists the underpasses, opens an incident from the form and closes it from its row', async () => {
    const context = await browser.newContext();
    const cookie = (await consoleLogin(httpUrl)).split('=');
    await context.addCookies([{ name: cookie[0] as string, value: cookie.slice(1).join('='), url: httpUrl }]);
    const page = await context.newPage();
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
    const opened = await api<{ state: string; level: string; history: { by: string; reason: string }[] }>(
      'GET',
      '/api/incidents/INC-000001',
    );
    expect(opened.body).toMatchObject({ state: 'open', level: 'III', history: [{ reason: '暴雨橙色预警' }] });

    await row.locator('input.reason').fill('雨停');
    await row.locator('button.close').click();
    await page.locator('[data-incident="INC-000001"]').waitFor({ state: 'detached' });
    expect((await api<{ state: string }>('GET', '/api/incidents/INC-000001')).body.state).toBe('closed');
    await context.close();
  }, 60_000);
});
