// The web app after review 20: a working region chosen in the header narrows the worklist, the home
// page's counts and the statistics too; only regions within the user's scope can be chosen, and a
// remembered region outside it falls back to the scope; a field's error goes when the field changes
// and when the next refusal answers; the export page's masked example is the real mask; on a phone
// the statistics page names the pie's groups in full, cuts no card title and keeps names on one line,
// and the region tree keeps its level tags in view; a running import shows "—" for counts it does
// not know yet and a bar only for a share it knows.
// Needs Chromium at /usr/bin/chromium and the built web app.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import type { BrowserContext, Page } from 'playwright-core';
import { makeIdNumber } from '../../src/modules/registry/registry.idnumber.ts';
import { maskIdNumber } from '../../src/platform/normalize.ts';
import { chooseOption, openPage, signIn, startDemoSite, type DemoSite } from './support.ts';

let site: DemoSite | null = null;
/** The village child director's village, its township, and the township's name. */
let village = '';
let villageName = '';
let township = '';
/** A township of the county with open worklist items, and its name. */
let busyTownship = '';
let busyTownshipName = '';

const PHONE = { width: 390, height: 844 };

async function phone(locale = 'zh-CN'): Promise<BrowserContext> {
  assert.ok(site);
  return site.browser.newContext({
    viewport: PHONE,
    locale,
    isMobile: true,
    hasTouch: true,
    deviceScaleFactor: 2,
  });
}

async function desktop(): Promise<BrowserContext> {
  assert.ok(site);
  return site.browser.newContext({ viewport: { width: 1366, height: 900 }, locale: 'zh-CN' });
}

/** Switches the interface to English (the choice the language menu stores) and reloads. */
async function english(page: Page): Promise<void> {
  await page.evaluate(() => localStorage.setItem('shouhu.lang', 'en'));
  await page.reload();
}

/** A GET of the API as the user signed in on this page. */
async function apiGet<T>(page: Page, url: string): Promise<T> {
  assert.ok(site);
  const response = await page.request.get(`${site.base}/api/v1${url}`);
  assert.ok(response.ok(), `GET ${url}: ${response.status()} ${await response.text()}`);
  return (await response.json()) as T;
}

/** The region the API was asked about in each request to `path` the page made, in order. */
function requestedRegions(page: Page, path: string): (string | null)[] {
  const seen: (string | null)[] = [];
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.pathname === `/api/v1${path}`) seen.push(url.searchParams.get('region'));
  });
  return seen;
}

/**
 * Waits until `check` (a browser-side expression, as a string: the tests' types have no DOM) is
 * true, asking every 100 ms for 5 s. (waitForFunction would evaluate the string with eval, which
 * the app's Content-Security-Policy forbids.)
 */
async function waitUntil(page: Page, check: string, what: string): Promise<void> {
  for (const end = Date.now() + 5000; Date.now() < end;) {
    if ((await page.evaluate(check)) === true) return;
    await page.waitForTimeout(100);
  }
  assert.fail(what);
}

/**
 * Waits until the element has finished its opening animation: no motion class of antd's any more,
 * and the same place on two looks 100 ms apart (a click during a drawer's or a list's slide can
 * land on what was under it).
 */
async function settled(page: Page, selector: string): Promise<void> {
  const look = `(() => {
    const element = document.querySelector(${JSON.stringify(selector)});
    if (!element || /-(appear|enter|leave)/.test(element.className)) return null;
    const box = element.getBoundingClientRect();
    return [box.left, box.top, box.width, box.height].join(',');
  })()`;
  let last: unknown = null;
  for (const end = Date.now() + 5000; Date.now() < end;) {
    const now = await page.evaluate(look);
    if (now !== null && now === last) return;
    last = now;
    await page.waitForTimeout(100);
  }
  assert.fail(`${selector} never settled`);
}

describe('web review 20', () => {
  before(async () => {
    site = await startDemoSite();
    const { db } = site.server.ctx;
    const director = await db
      .selectFrom('users')
      .select('region_code')
      .where('username', '=', 'director')
      .executeTakeFirstOrThrow();
    village = director.region_code!;
    township = village.slice(0, 9);
    villageName = (
      await db
        .selectFrom('regions')
        .select('name')
        .where('code', '=', village)
        .where('valid_to', 'is', null)
        .executeTakeFirstOrThrow()
    ).name;
    const busiest = await sql<{ township: string }>`
      SELECT substr(region_code, 1, 9) AS township FROM worklist_items
      WHERE acknowledged_at IS NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`.execute(db);
    busyTownship = busiest.rows[0]?.township ?? '';
    assert.ok(busyTownship, 'the demo county has open worklist items');
    busyTownshipName = (
      await db
        .selectFrom('regions')
        .select('name')
        .where('code', '=', busyTownship)
        .where('valid_to', 'is', null)
        .executeTakeFirstOrThrow()
    ).name;
  });
  after(async () => {
    await site?.close();
  });

  test('a working region narrows the worklist, the home page’s worklist count and the statistics', async () => {
    assert.ok(site);
    const context = await desktop();
    try {
      const { page, errors } = await openPage(context);
      const worklistRegions = requestedRegions(page, '/worklist');
      const statsRegions = requestedRegions(page, '/stats/groups');
      await page.goto(`${site.base}/`);
      await signIn(page, 'county');
      await page.goto(`${site.base}/regions/${busyTownship}`);
      await page.getByRole('button', { name: '设为当前区划' }).click();
      await page.getByTestId('region-details').getByText('当前区划', { exact: true }).waitFor();
      worklistRegions.length = 0;
      statsRegions.length = 0;

      // The worklist: the township's items only, and the title says where.
      await page.goto(`${site.base}/worklist`);
      const expected = await apiGet<{ items: { regionCode: string }[] }>(
        page,
        `/worklist?status=open&limit=50&region=${busyTownship}`,
      );
      assert.ok(expected.items.length > 0);
      assert.ok(expected.items.every((item) => item.regionCode.startsWith(busyTownship)));
      const rows = page.locator('.ant-table-tbody tr.ant-table-row');
      await rows.first().waitFor();
      assert.equal(await rows.count(), expected.items.length);
      assert.deepEqual(worklistRegions, [busyTownship]);
      await page.getByRole('heading', { name: `待办事项 · ${busyTownshipName}` }).waitFor();

      // The home page: the worklist count of the township, next to the township's group counts.
      await page.goto(`${site.base}/`);
      const open = await apiGet<{ items: unknown[]; nextCursor: string | null }>(
        page,
        `/worklist?status=open&limit=50&region=${busyTownship}`,
      );
      const card = page.getByTestId('home-worklist');
      await card.locator('.ant-statistic-content-value').waitFor();
      assert.equal(
        await card.locator('.ant-statistic-content-value').innerText(),
        `${open.items.length}${open.nextCursor ? '+' : ''}`,
      );
      assert.ok((await card.innerText()).includes(busyTownshipName));
      await page.getByTestId('home-groups').waitFor();

      // The statistics without a region in the address start at the working region.
      await page.goto(`${site.base}/stats/groups`);
      await page.getByRole('heading', { name: `关爱对象统计 · ${busyTownshipName}` }).waitFor();
      assert.deepEqual([...new Set(worklistRegions)], [busyTownship]);
      assert.deepEqual([...new Set(statsRegions)], [busyTownship]);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('a village director can choose only regions within the village, and a stored one outside falls back', async () => {
    assert.ok(site);
    const context = await phone();
    try {
      const { page, errors } = await openPage(context);
      await page.goto(`${site.base}/`);
      await signIn(page, 'director');

      // The region browser offers no working region above the village.
      await page.goto(`${site.base}/regions/${township}`);
      await page.getByTestId('region-code').getByText(township, { exact: true }).waitFor();
      assert.equal(await page.getByRole('button', { name: '设为当前区划' }).count(), 0);
      await page.goto(`${site.base}/regions/${village}`);
      await page.getByTestId('region-code').getByText(village, { exact: true }).waitFor();
      await page.getByRole('button', { name: '设为当前区划' }).waitFor();

      // The header's picker (in the drawer on a phone) starts at the village itself.
      await page.getByTestId('menu-button').click();
      await settled(page, '.ant-drawer-content-wrapper');
      await page.getByTestId('region-selector').click();
      const firstColumn = page.locator('.ant-cascader-dropdown .ant-cascader-menu').first();
      const villageItem = firstColumn.locator('.ant-cascader-menu-item', { hasText: villageName });
      await villageItem.waitFor();
      await settled(page, '.ant-cascader-dropdown');
      assert.deepEqual(
        (await firstColumn.locator('.ant-cascader-menu-item').allInnerTexts()).map((s) => s.trim()),
        [villageName],
      );
      await villageItem.click();
      // The chosen region keeps its whole path, the province first.
      await waitUntil(
        page,
        `(() => { const r = JSON.parse(sessionStorage.getItem('shouhu.workingRegion') ?? 'null');
          return r !== null && r.code === ${JSON.stringify(village)} && r.path.length === 5 && r.path[0].code === '41'; })()`,
        'the village is not the working region, with its path from the province',
      );
      assert.ok((await page.getByTestId('region-selector').innerText()).includes(`/ ${villageName}`));

      // A working region outside the scope, remembered from before (another role of the account):
      // the pages fall back to the village instead of showing the server's refusal.
      await page.evaluate(() =>
        sessionStorage.setItem(
          'shouhu.workingRegion',
          JSON.stringify({
            code: '41',
            name: '河南省',
            level: 'province',
            path: [{ code: '41', name: '河南省' }],
          }),
        ),
      );
      const statsRegions = requestedRegions(page, '/stats/groups');
      await page.goto(`${site.base}/`);
      await page.getByTestId('home-groups').waitFor();
      assert.equal(await page.getByText('无权执行此操作').count(), 0);
      assert.deepEqual([...new Set(statsRegions)], [village]);
      await waitUntil(
        page,
        `sessionStorage.getItem('shouhu.workingRegion') === null`,
        'the region outside the scope is forgotten',
      );
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('a field’s error goes when the field changes and when the next refusal answers', async () => {
    assert.ok(site);
    const context = await phone();
    try {
      const { page, errors } = await openPage(context);
      await page.goto(`${site.base}/`);
      await signIn(page, 'director');

      // Registering: a wrong check character, then the ID cleared for a reason there is none.
      await page.goto(`${site.base}/persons/new`);
      const form = page.getByTestId('person-form');
      await form.getByLabel('姓名', { exact: true }).fill('测试戊');
      const id = makeIdNumber('410225', '2019-05-30', 1);
      const wrong = id.slice(0, 17) + (id.endsWith('0') ? '1' : '0');
      await form.getByLabel('公民身份号码', { exact: true }).fill(wrong);
      await page.getByTestId('person-save').click();
      const idHelp = form.locator('#idNumber_help');
      await idHelp.getByText(/校验码/).waitFor();
      await form.getByLabel('公民身份号码', { exact: true }).fill('');
      await waitUntil(
        page,
        `!(document.querySelector('#idNumber_help')?.textContent ?? '').includes('校验码')`,
        'the ID number’s error stays after the number was cleared',
      );
      await form.getByLabel('无身份号码原因', { exact: true }).fill('未落户');
      await form.getByLabel('联系电话', { exact: true }).fill('12345');
      await page.getByTestId('person-save').click();
      await form.locator('#sex_help').getByText(/性别/).waitFor();
      assert.ok(!((await idHelp.count()) > 0 && (await idHelp.innerText()).includes('校验码')));

      // A server error on one field, then another field refused: only the new refusal shows.
      await form.getByLabel('公民身份号码', { exact: true }).fill(wrong);
      await page.getByTestId('person-save').click();
      await idHelp.getByText(/校验码/).waitFor();
      await waitUntil(
        page,
        `!(document.querySelector('#sex_help')?.textContent ?? '').includes('性别')`,
        'the sex field keeps the earlier refusal’s error',
      );

      // A new household: a bad income (the form's own check), corrected, then a number in use.
      const { db } = site.server.ctx;
      const existing = await db
        .selectFrom('households')
        .select('household_no')
        .where('hukou_region_code', '=', village)
        .orderBy('id')
        .executeTakeFirstOrThrow();
      await page.goto(`${site.base}/households/new`);
      const household = page.getByTestId('household-form');
      await household.getByLabel('户编号', { exact: true }).fill(existing.household_no);
      await household.getByLabel('家庭年收入（元）', { exact: true }).fill('-5');
      await page.getByTestId('household-save').click();
      const incomeHelp = household.locator('#annualIncome_help');
      await incomeHelp.getByText('请填写金额').waitFor();
      await household.getByLabel('家庭年收入（元）', { exact: true }).fill('5000');
      await waitUntil(
        page,
        `!(document.querySelector('#annualIncome_help')?.textContent ?? '').includes('请填写金额')`,
        'the income’s error stays under a valid income',
      );
      await page.getByTestId('household-save').click();
      await household
        .locator('#householdNo_help')
        .getByText(/户编号/)
        .waitFor();
      assert.ok(!((await incomeHelp.count()) > 0 && (await incomeHelp.innerText()).includes('请填写金额')));
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('the export page’s masked example is the mask the file holds', async () => {
    assert.ok(site);
    const context = await desktop();
    try {
      const { page, errors } = await openPage(context);
      await page.goto(`${site.base}/`);
      await signIn(page, 'director');
      await page.goto(`${site.base}/exports`);
      const notice = page.getByTestId('export-masking');
      await notice.getByText('掩码').first().waitFor();
      const mask = maskIdNumber(makeIdNumber('410225', '2010-01-01', 4));
      assert.equal(/4102[0-9*X]+/.exec(await notice.innerText())?.[0], mask);
      await english(page);
      await notice.getByText('masked').first().waitFor();
      assert.equal(/4102[0-9*X]+/.exec(await notice.innerText())?.[0], mask);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('on a phone the statistics name every group in full, cut no title and keep names on one line', async () => {
    assert.ok(site);
    const context = await phone();
    try {
      const { page, errors } = await openPage(context);
      await page.goto(`${site.base}/`);
      await signIn(page, 'director');
      const stats = await apiGet<{
        groups: { code: string; zh: string; en: string }[];
        total: { counts: Record<string, { value: number | null }> };
      }>(page, `/stats/groups?region=${village}`);
      // The groups with someone in them, as the server words them.
      const present = stats.groups.filter((g) => (stats.total.counts[g.code]?.value ?? 0) > 0);
      assert.ok(present.length > 0, 'the demo village has people in care');
      await page.goto(`${site.base}/stats/groups`);
      await page.getByRole('heading', { name: new RegExp(villageName) }).waitFor();

      // The list of a group with members: names and dates on one line (the grounds, long Chinese
      // text that may break anywhere, used to squeeze the name column to one character).
      const members = page
        .locator('.ant-card')
        .filter({ has: page.locator('.ant-card-head-title', { hasText: /^(名单|Persons)$/ }) });
      await members.waitFor();
      const group = present[0]!;
      const select = members.locator('.ant-select');
      await chooseOption(page, select, group.zh, select.getByText(group.zh).first());
      const firstRow = members.locator('.ant-table-tbody tr.ant-table-row').first();
      await firstRow.waitFor();
      const lines = await firstRow.locator('td').evaluateAll((cells) =>
        cells.slice(0, 4).map((cell) => {
          const range = cell.ownerDocument.createRange();
          range.selectNodeContents(cell);
          return new Set(Array.from(range.getClientRects(), (r: { top: number }) => Math.round(r.top))).size;
        }),
      );
      assert.deepEqual(lines, [1, 1, 1, 1], `name, ID, birth and since: ${await firstRow.innerText()}`);

      // In English: no card's title is cut (the members card's controls squeezed it to "P…").
      await english(page);
      await members.locator('.ant-card-head-title', { hasText: 'Persons' }).waitFor();
      const cut = await page.evaluate(`[...document.querySelectorAll('.ant-card-head-title')]
        .filter((e) => e.scrollWidth > e.clientWidth + 1).map((e) => e.textContent)`);
      assert.deepEqual(cut, []);

      // The pie's groups, each named in full under it.
      const legend = page.getByTestId('group-share-legend');
      await legend.locator('li').first().waitFor();
      const names = (await legend.locator('li').allInnerTexts()).map((s) => s.replace(/\s*\d+$/, '').trim());
      assert.deepEqual(names.sort(), present.map((g) => g.en).sort());
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('on a phone the region tree keeps every level tag inside its box', async () => {
    assert.ok(site);
    const context = await phone('en-US');
    try {
      const { page, errors } = await openPage(context);
      await page.goto(`${site.base}/`);
      await signIn(page, 'director');
      await english(page);
      const { db } = site.server.ctx;
      // The township of the county whose committee names are the longest.
      const longest = await sql<{ township: string }>`
        SELECT substr(code, 1, 9) AS township FROM regions
        WHERE level = 5 AND code LIKE '410225%' AND rural IS NOT NULL AND valid_to IS NULL
        ORDER BY length(name) DESC, code LIMIT 1`.execute(db);
      const target = longest.rows[0]?.township ?? township;
      await page.goto(`${site.base}/regions/${target}`);
      const tree = page.getByTestId('region-tree');
      await tree.locator(`[data-code="${target}"]`).waitFor();
      await tree.locator(`[data-code^="${target}"] .ant-tag`).first().waitFor();
      const outside = await page.evaluate(`(() => {
        const box = document.querySelector('[data-testid="region-tree"]').getBoundingClientRect();
        return [...document.querySelectorAll('[data-testid="region-tree"] .ant-tag')]
          .filter((tag) => tag.getBoundingClientRect().right > box.right + 0.5)
          .map((tag) => tag.closest('[data-code]').dataset.code);
      })()`);
      assert.deepEqual(outside, []);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('a running import shows "—" for the counts and a bar only for a share it knows', async () => {
    assert.ok(site);
    const context = await desktop();
    try {
      const { page, errors } = await openPage(context);
      const view = (
        id: number,
        status: string,
        progress: { done: number; total: number | null; message: string } | null,
        rows = 0,
      ) => ({
        id,
        fileName: 'big.csv',
        sha256: 'x'.repeat(64),
        kind: 'registry',
        dryRun: false,
        status,
        message: null,
        counts: { rows, inserted: 0, updated: 0, unchanged: rows, errors: 0 },
        progress,
        errorReport: null,
        review: null,
        jobId: 1,
        regionCode: '410225',
        createdAt: '2026-12-01T07:37:48.000Z',
        finishedAt: status === 'succeeded' ? '2026-12-01T07:38:48.000Z' : null,
      });
      await page.route(/\/api\/v1\/imports\/9100[123]$/, (route) => {
        const id = Number(/(\d+)$/.exec(route.request().url())?.[1]);
        const body =
          id === 91001
            ? view(id, 'running', { done: 15000, total: null, message: 'validating' })
            : id === 91002
              ? view(id, 'running', { done: 30000, total: 40000, message: 'writing persons' })
              : view(id, 'succeeded', { done: 40000, total: 40000, message: 'done' }, 20000);
        return route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(body) });
      });
      await page.goto(`${site.base}/`);
      await signIn(page, 'county');
      const counts = async () =>
        (await page.getByTestId('import-counts').locator('.ant-statistic-content-value').allInnerTexts()).map(
          (s) => s.trim(),
        );

      // The first pass reads rows of a file whose length is not known yet: no bar, no counts.
      await page.goto(`${site.base}/imports/91001`);
      await page.getByTestId('import-progress-text').getByText('已读 15000 行').waitFor();
      assert.deepEqual(await counts(), ['—', '—', '—', '—', '—']);
      assert.equal(await page.getByTestId('import-progress').count(), 0);
      await page.getByTestId('import-progress-open').waitFor();

      // The second pass: its own share, as its words say (10000 of 20000 rows).
      await page.goto(`${site.base}/imports/91002`);
      await page.getByTestId('import-progress-text').getByText('10000 / 20000 行').waitFor();
      assert.equal(
        await page.getByTestId('import-progress').locator('.ant-progress-indicator').innerText(),
        '50%',
      );
      assert.deepEqual(await counts(), ['—', '—', '—', '—', '—']);

      // Finished: the counts.
      await page.goto(`${site.base}/imports/91003`);
      await page.getByTestId('import-status').getByText('已完成').waitFor();
      assert.deepEqual(await counts(), ['20,000', '0', '0', '20,000', '0']);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});
