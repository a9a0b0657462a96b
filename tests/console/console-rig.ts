/**
 * What the console's browser tests and `npm run bench -- console` share: Debian's Chromium driven
 * by playwright-core (one browser per test file), a logged-in page per user, and screenshots kept as
 * artefacts under .ci/artifacts/console/ (gitignored).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { ROOT } from '../helpers/cli-process.js';
import type { TestConsoleUser } from '../helpers/console-session.js';

export const ARTIFACTS = path.join(ROOT, '.ci/artifacts/console');

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}

export interface ConsolePage {
  context: BrowserContext;
  page: Page;
  /** Errors the page threw (uncaught) or logged with console.error, except failed loads the test caused. */
  errors: string[];
}

/** A fresh browser context (its own cookies) at the console's login form. */
export async function openConsole(browser: Browser, hubUrl: string): Promise<ConsolePage> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, locale: 'zh-CN' });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${hubUrl}/`);
  return { context, page, errors };
}

/** Logs in through the form; resolves once the shell shows the user. */
export async function login(cp: ConsolePage, user: TestConsoleUser): Promise<void> {
  const { page } = cp;
  await page.locator('#login-username').fill(user.id);
  await page.locator('#login-password').fill(user.password);
  await page.locator('#login-submit').click();
  await page.locator('#current-user').waitFor();
}

/** Saves a screenshot under .ci/artifacts/console/ and prints its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file });
  process.stdout.write(`console screenshot: ${file}\n`);
  return file;
}
