// What every browser test needs: the real server with the demo county 兰考县 and its demo accounts
// in an embedded database in a temporary folder (one per test file), Chromium, and signing in
// through the sign-in page as a user would.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import type { CommandIO } from '../../src/cli/command.ts';
import { prepareDemo } from '../../src/cli/demo.ts';
import { DEMO_PASSWORD } from '../../src/modules/access/access.demo.ts';
import { loadConfig } from '../../src/platform/config.ts';
import { startServer, type RunningServer } from '../../src/server.ts';

export { DEMO_PASSWORD };

const ROOT = path.resolve(import.meta.dirname, '../..');
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

const quiet: CommandIO = { print: () => {}, error: () => {}, progress: () => {} };

export interface DemoSite {
  base: string;
  server: RunningServer;
  browser: Browser;
  close(): Promise<void>;
}

/** Starts the server in demo mode (the demo accounts may sign in) and Chromium. */
export async function startDemoSite(): Promise<DemoSite> {
  // The server serves web/dist only if it exists when the server starts.
  if (!fs.existsSync(path.join(ROOT, 'web/dist/index.html'))) {
    const { build } = await import('vite');
    await build({ configFile: path.join(ROOT, 'web/vite.config.ts'), logLevel: 'warn' });
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'shouhu-browser-'));
  const config = loadConfig(process.env, {
    dataDir: tmp,
    databaseUrl: null,
    port: 0,
    host: '127.0.0.1',
    logLevel: 'warn',
    runJobs: false,
    demoMode: true,
  });
  let server: RunningServer | null = null;
  let browser: Browser | null = null;
  try {
    server = await startServer(config, { beforeListen: (ctx) => prepareDemo(ctx, quiet, { persons: 600 }) });
    const address = server.app.server.address();
    assert.ok(address && typeof address === 'object');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const running = server;
    const chromiumRef = browser;
    return {
      base: `http://127.0.0.1:${address.port}`,
      server: running,
      browser: chromiumRef,
      close: async () => {
        await chromiumRef.close();
        await running.stop();
        fs.rmSync(tmp, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await browser?.close();
    await server?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
    throw error;
  }
}

/** A page that records uncaught errors, so every test can assert the app never threw. */
export async function openPage(context: BrowserContext): Promise<{ page: Page; errors: string[] }> {
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  return { page, errors };
}

/** Fills the sign-in form and submits it; does not wait for the outcome. */
export async function submitSignIn(page: Page, username: string, password: string): Promise<void> {
  await page.getByLabel('用户名', { exact: true }).fill(username);
  await page.getByLabel('密码', { exact: true }).fill(password);
  await page.locator('form button[type="submit"]').click();
}

/**
 * Chooses an item of the user menu and waits for what it leads to. Right after a sign-in the shell
 * can re-render while the menu opens, which closes it: then the menu is opened again.
 */
export async function chooseUserMenuItem(page: Page, item: string, leadsTo: Locator): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await page.getByTestId('user-menu').click();
      await page.getByRole('menuitem', { name: item }).click({ timeout: 5000 });
      await leadsTo.waitFor({ timeout: 5000 });
      return;
    } catch (error) {
      if (await leadsTo.isVisible()) return;
      if (attempt === 3) throw error;
    }
  }
}

/** Signs out from the user menu and waits for the sign-in form. */
export async function signOut(page: Page): Promise<void> {
  await chooseUserMenuItem(page, '退出登录', page.getByLabel('用户名', { exact: true }));
}

/** Signs in through the sign-in page showing at the current address and waits for the shell. */
export async function signIn(page: Page, username: string, password = DEMO_PASSWORD): Promise<void> {
  await submitSignIn(page, username, password);
  await page.getByTestId('user-menu').waitFor();
}

/** The labels of the side menu, in order. */
export async function menuLabels(page: Page): Promise<string[]> {
  const items = page.locator('.ant-layout-sider').getByRole('menuitem');
  await items.first().waitFor();
  return (await items.allInnerTexts()).map((text) => text.trim());
}

/**
 * Chooses the option `text` in the antd Select that `opener` opens, waits until `chosen` (where the
 * choice shows) appears, and leaves the list closed. On a busy machine a click can land while the list
 * is still opening and choose nothing: the option is only highlighted and the list stays open. Then the
 * option is clicked again, up to three times.
 */
export async function chooseOption(
  page: Page,
  opener: Locator,
  text: string,
  chosen: Locator,
): Promise<void> {
  const list = page.locator('.ant-select-dropdown:not(.ant-select-dropdown-hidden)');
  const option = list.locator('.ant-select-item-option', { hasText: text }).first();
  for (let attempt = 1; ; attempt++) {
    if (!(await option.isVisible())) await opener.click();
    await option.click();
    try {
      await chosen.waitFor({ timeout: 5000 });
      break;
    } catch (error) {
      if (await chosen.isVisible()) break;
      if (attempt === 3) throw error;
    }
  }
  // A single choice closes the list itself; a list of several choices stays open until Escape.
  try {
    await list.waitFor({ state: 'hidden', timeout: 2000 });
  } catch {
    await page.keyboard.press('Escape');
    await list.waitFor({ state: 'hidden' });
  }
}
