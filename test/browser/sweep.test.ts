// A sweep of the whole app as its users meet it: every demo role that has a menu signs in on a
// phone (375×812, Chinese, as a village child director would) and at a desk (1280×800, English),
// opens every entry of its own menu as read from the page, and each page must load without a
// console error, an uncaught error or a server error, fit the phone's width, and show no raw
// message key, "undefined", "NaN" or "[object Object]"; in English, the menu and the headings
// carry no leftover Chinese (names of people and regions are data and stay Chinese). Last, each
// role types the paths of the other roles' menu entries and gets the refusal page, not a crash.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { openPage, signIn, startDemoSite, type DemoSite } from './support.ts';

// The demo accounts (access.demo.ts) of the roles that have a web menu. The demo accounts need no
// first password change and, in demo mode, no TOTP for the administrators (access.service.ts).
const ACCOUNTS = [
  { role: 'village_child_director', username: 'director' },
  { role: 'township_supervisor', username: 'supervisor' },
  { role: 'county_staff', username: 'county' },
  { role: 'province_viewer', username: 'province' },
  { role: 'system_admin', username: 'sysadmin' },
  { role: 'security_admin', username: 'secadmin' },
  { role: 'audit_admin', username: 'auditor' },
] as const;

type Setting = { name: string; viewport: { width: number; height: number }; lang: 'zh' | 'en' };
const PHONE: Setting = { name: 'phone, Chinese', viewport: { width: 375, height: 812 }, lang: 'zh' };
const DESK: Setting = { name: 'desk, English', viewport: { width: 1280, height: 800 }, lang: 'en' };

const HAN = /\p{Script=Han}/u;
const BROKEN_TEXT = /\bundefined\b|\bNaN\b|\[object Object\]/;
// A message key that reached the screen untranslated: useT falls back to the key itself, and the
// keys are camelCase words (pageNotFound, forbiddenHint), which no user-facing text contains.
const RAW_KEY = /\b[a-z]+(?:[A-Z][a-z0-9]*)+\b/;
// A chart naming a care group by its code (left_behind_child) instead of its label. Only charts: the
// audit log shows action and object codes (auth.logout_all, worklist_item) on purpose.
const RAW_CODE = /\b[a-z]+(?:_[a-z]+)+\b/;

let site: DemoSite | null = null;
/** The path each menu entry led to, per role, as found by the sweep. */
const menuPaths = new Map<string, string[]>();

// Still loading: a spinner, a skeleton, a page not yet arrived, a chart not yet drawn.
const BUSY =
  '.ant-spin-spinning, .ant-skeleton-active, [data-testid="page-loading"], div[role="img"]:not(:has(canvas))';

/** The names (of people, regions, groups) in an API answer: data, which stays as it was entered. */
function collectNames(value: unknown, into: Set<string>): void {
  if (Array.isArray(value)) for (const item of value) collectNames(item, into);
  else if (typeof value === 'object' && value !== null)
    for (const [key, item] of Object.entries(value)) {
      if (typeof item === 'string' && /name/i.test(key) && HAN.test(item)) into.add(item);
      else collectNames(item, into);
    }
}

/** What went wrong on the page since the last `take()`, and the names the server sent. */
function watch(page: Page) {
  let problems: string[] = [];
  const names = new Set<string>();
  const reading: Promise<void>[] = [];
  const pending = new Set<string>();
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('request', (request) => {
    if (new URL(request.url()).pathname.startsWith('/api/')) pending.add(request.url() + request.method());
  });
  const done = (request: { url(): string; method(): string }) =>
    pending.delete(request.url() + request.method());
  page.on('requestfinished', done);
  page.on('requestfailed', done);
  page.on('response', (response) => {
    if (!new URL(response.url()).pathname.startsWith('/api/')) return;
    if (response.status() >= 500)
      problems.push(`HTTP ${response.status()} from ${response.request().method()} ${response.url()}`);
    if (response.headers()['content-type']?.startsWith('application/json'))
      reading.push(
        response.json().then(
          (body: unknown) => collectNames(body, names),
          () => {}, // the page went on before the body was read; nothing to learn from it
        ),
      );
  });
  return {
    names,
    take(): string[] {
      const taken = problems;
      problems = [];
      return taken;
    },
    /** Waits until the page's API calls have answered and no spinner or skeleton shows for a moment. */
    async settle(): Promise<void> {
      const deadline = Date.now() + 15_000;
      let quietSince = 0;
      while (Date.now() < deadline) {
        const busy = pending.size > 0 || (await page.locator(BUSY).count()) > 0;
        if (busy) quietSince = 0;
        else if (!quietSince) quietSince = Date.now();
        else if (Date.now() - quietSince >= 400) {
          await Promise.all(reading.splice(0));
          return;
        }
        await page.waitForTimeout(100);
      }
      throw new Error(`${page.url()} still loading after 15 s`);
    },
  };
}

async function texts(locator: Locator): Promise<string[]> {
  return (await locator.allInnerTexts()).map((text) => text.trim()).filter(Boolean);
}

/** The menu as the user sees it: the side bar at a desk, the drawer (opened and closed) on a phone. */
function menu(page: Page, setting: Setting): Locator {
  return page.locator(setting === PHONE ? '.ant-drawer' : '.ant-layout-sider').getByRole('menuitem');
}

async function openMenu(page: Page, setting: Setting): Promise<void> {
  if (setting === PHONE) {
    await page.getByTestId('menu-button').click();
    await page.locator('.ant-drawer-open').waitFor();
  }
  await menu(page, setting).first().waitFor();
}

/** Everything wrong with the page now showing. */
async function inspect(page: Page, setting: Setting, names: ReadonlySet<string>): Promise<string[]> {
  const found: string[] = [];
  const width = await page.evaluate<{ scroll: number; inner: number }>(
    '({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth })',
  );
  if (setting === PHONE && width.scroll > width.inner + 1)
    found.push(`wider than the phone: ${width.scroll} px in ${width.inner} px`);
  // A chart draws on a canvas; what it shows is in its aria-label (ECharts' aria component).
  const charts = await page
    .locator('[role="img"]:has(canvas)')
    .evaluateAll((elements) => elements.map((element) => element.getAttribute('aria-label') ?? ''));
  const text = [await page.locator('body').innerText(), ...charts].join('\n');
  const broken = BROKEN_TEXT.exec(text);
  if (broken)
    found.push(`shows "${broken[0]}" in …${text.slice(Math.max(0, broken.index - 60), broken.index + 40)}…`);
  const key = RAW_KEY.exec(text);
  if (key) found.push(`shows the raw message key "${key[0]}"`);
  for (const chart of charts) {
    const code = RAW_CODE.exec(chart);
    if (code) found.push(`a chart shows the code "${code[0]}": ${chart.slice(0, 120)}…`);
  }
  if (setting.lang === 'en') {
    const headings = await texts(
      page.locator(
        'h1, h2, h3, h4, h5, .ant-card-head-title, .ant-result-title, .ant-table-thead th, .ant-statistic-title, .ant-tabs-tab, .ant-descriptions-item-label, .ant-form-item-label',
      ),
    );
    const byLength = [...names].sort((a, b) => b.length - a.length);
    const withoutNames = (text: string) => byLength.reduce((rest, name) => rest.replaceAll(name, ''), text);
    for (const heading of [...headings, ...charts, await page.title()])
      if (HAN.test(withoutNames(heading))) found.push(`Chinese in the heading "${heading}"`);
  }
  return found;
}

async function sweep(context: BrowserContext, username: string, setting: Setting): Promise<string[]> {
  assert.ok(site);
  const { page } = await openPage(context);
  const watcher = watch(page);
  const problems: string[] = [];
  const note = (where: string, found: string[]) => problems.push(...found.map((p) => `${where}: ${p}`));

  await page.goto(`${site.base}/`);
  await signIn(page, username);
  if (setting.lang === 'en') {
    await page.getByTestId('language-switch').getByText('English', { exact: true }).click();
    await page.locator('html[lang="en"]').waitFor();
  }
  await watcher.settle();
  note('after sign-in', watcher.take());

  await openMenu(page, setting);
  const labels = await texts(menu(page, setting));
  assert.ok(labels.length > 0, `${username} has no menu`);
  if (setting.lang === 'en')
    for (const label of labels) if (HAN.test(label)) problems.push(`menu: Chinese in the entry "${label}"`);
  if (setting === PHONE) await page.keyboard.press('Escape');

  const paths: string[] = [];
  for (const label of labels) {
    await openMenu(page, setting);
    await menu(page, setting).filter({ hasText: label }).first().click();
    if (setting === PHONE) await page.locator('.ant-drawer-open').waitFor({ state: 'detached' });
    await watcher.settle();
    const path = new URL(page.url()).pathname;
    paths.push(path);
    note(`${label} (${path})`, [...watcher.take(), ...(await inspect(page, setting, watcher.names))]);
  }
  if (setting === PHONE) menuPaths.set(username, paths);
  else
    assert.deepEqual(
      paths,
      menuPaths.get(username),
      `${username}: the same menu in both languages and sizes`,
    );
  await page.close();
  return problems;
}

describe('every role on every page of its menu', () => {
  before(async () => {
    site = await startDemoSite();
  });

  after(async () => {
    await site?.close();
  });

  for (const { role, username } of ACCOUNTS) {
    test(`${role} (${username}) on a phone in Chinese and at a desk in English`, async () => {
      assert.ok(site);
      const problems: string[] = [];
      for (const setting of [PHONE, DESK]) {
        const context = await site.browser.newContext({ viewport: setting.viewport, locale: 'zh-CN' });
        try {
          problems.push(...(await sweep(context, username, setting)).map((p) => `${setting.name}, ${p}`));
        } finally {
          await context.close();
        }
      }
      assert.deepEqual(problems, []);
    });
  }

  test('a typed path outside the own menu gets the refusal page, not a crash', async () => {
    assert.ok(site);
    const everyPath = new Set([...menuPaths.values()].flat());
    assert.equal(menuPaths.size, ACCOUNTS.length, 'every role was swept first');
    const problems: string[] = [];
    const context = await site.browser.newContext({ viewport: DESK.viewport, locale: 'zh-CN' });
    try {
      for (const { username } of ACCOUNTS) {
        const { page } = await openPage(context);
        const watcher = watch(page);
        await page.goto(`${site.base}/`);
        await signIn(page, username);
        const own = menuPaths.get(username) ?? [];
        const foreign = [...everyPath].filter((path) => !own.includes(path));
        assert.ok(foreign.length > 0, `${username} has every page`);
        for (const path of foreign) {
          await page.goto(`${site.base}${path}`);
          await page.getByText('无权访问此页面').waitFor();
          await watcher.settle();
          problems.push(...watcher.take().map((p) => `${username} at ${path}: ${p}`));
        }
        await page.close();
        await context.clearCookies();
      }
    } finally {
      await context.close();
    }
    assert.deepEqual(problems, []);
  });
});
