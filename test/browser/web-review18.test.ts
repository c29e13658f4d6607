// The web app as a village child director and a county clerk meet it, review 18: the person file
// names each fact in the user's language with its details and, for a retracted one, who retracted
// it, when and why; on a phone a refused save shows its reason in view (a stale version, a field the
// server or the form refuses); the registry export has a page, limited to the user's region, that
// says whether ID numbers come masked; the import page says its step in words, counts each pass's
// own rows and writes times the same whatever the browser's locale; relations to the head are in
// English in the English interface; an address that names no person says so; a group in the address
// that does not exist is named; and on a phone the links that open a person are thumb-sized.
// Needs Chromium at /usr/bin/chromium and the built web app.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';
import { makeIdNumber } from '../../src/modules/registry/registry.idnumber.ts';
import { menuLabels, openPage, signIn, startDemoSite, type DemoSite } from './support.ts';

let site: DemoSite | null = null;
let village = '';
let township = '';
/** A person of the director's village who heads a household. */
let head: { id: number; household_id: number } | null = null;

const PHONE = { width: 390, height: 844 };

async function phone(): Promise<BrowserContext> {
  assert.ok(site);
  return site.browser.newContext({
    viewport: PHONE,
    locale: 'zh-CN',
    isMobile: true,
    hasTouch: true,
    deviceScaleFactor: 2,
  });
}

async function desktop(locale = 'zh-CN'): Promise<BrowserContext> {
  assert.ok(site);
  return site.browser.newContext({ viewport: { width: 1366, height: 900 }, locale, acceptDownloads: true });
}

/** Switches the interface to English (the choice the language menu stores) and reloads. */
async function english(page: Page): Promise<void> {
  await page.evaluate(() => localStorage.setItem('shouhu.lang', 'en'));
  await page.reload();
}

/** A call to the API as the user signed in on this page (the session cookie and the CSRF token). */
async function api(page: Page, method: 'POST' | 'PATCH', url: string, data: unknown): Promise<unknown> {
  assert.ok(site);
  const csrf = (await page.context().cookies()).find((c) => c.name === 'shouhu_csrf')?.value ?? '';
  const response = await page.request.fetch(`${site.base}/api/v1${url}`, {
    method,
    data,
    headers: { 'x-shouhu-csrf': csrf },
  });
  assert.ok(response.ok(), `${method} ${url}: ${response.status()} ${await response.text()}`);
  return response.json();
}

/**
 * An expression true when the element is on screen and not under the sticky header: the point near
 * its top belongs to it, and it lies within the window. (A string: the tests' types have no DOM.)
 */
function inView(selector: string): string {
  return `(() => {
    const element = document.querySelector(${JSON.stringify(selector)});
    if (!element) return false;
    const box = element.getBoundingClientRect();
    if (box.height === 0 || box.top < 0 || box.bottom > window.innerHeight) return false;
    const hit = document.elementFromPoint(box.left + box.width / 2, box.top + Math.min(box.height / 2, 10));
    return hit !== null && (element.contains(hit) || hit.contains(element));
  })()`;
}

/**
 * Waits until the element is in view (a scroll may still be under way); fails if it never is. Polled
 * from here with page.evaluate: waitForFunction's own polling of a string runs it as code in the page,
 * which the app's Content-Security-Policy refuses, so it failed at once whenever the first look came
 * before the scroll had ended.
 */
async function waitInView(page: Page, selector: string, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    if (await page.evaluate(inView(selector)).catch(() => false)) return;
    await page.waitForTimeout(100);
  }
  assert.fail(`${what} is not on screen`);
}

describe('web review 18', () => {
  before(async () => {
    site = await startDemoSite();
    const { db } = site.server.ctx;
    const director = await db
      .selectFrom('users')
      .select('region_code')
      .where('username', '=', 'director')
      .executeTakeFirstOrThrow();
    village = director.region_code!;
    const supervisor = await db
      .selectFrom('users')
      .select('region_code')
      .where('username', '=', 'township')
      .executeTakeFirstOrThrow();
    township = supervisor.region_code!;
    head = (await db
      .selectFrom('persons')
      .select(['id', 'household_id'])
      .where('hukou_region_code', '=', village)
      .where('relation_to_head', '=', '户主')
      .where('household_id', 'is not', null)
      .where('merged_into', 'is', null)
      .orderBy('id')
      .executeTakeFirstOrThrow()) as { id: number; household_id: number };
  });
  after(async () => {
    await site?.close();
  });

  test('the person file names each fact with its details, and a retracted one with who, when and why', async () => {
    assert.ok(site && head);
    const context = await phone();
    try {
      const { page, errors } = await openPage(context);
      await page.goto(`${site.base}/`);
      await signIn(page, 'director');
      const id = head.id;
      await api(page, 'POST', `/persons/${id}/facts`, {
        kind: 'disability',
        from: '2020-03-01',
        data: { category: 4, grade: 2 },
      });
      await api(page, 'POST', `/persons/${id}/facts`, {
        kind: 'schooling',
        from: '2021-09-01',
        data: { stage: 'primary', school: '兰考县第一小学' },
      });
      const migration = (await api(page, 'POST', `/persons/${id}/facts`, {
        kind: 'migration',
        from: '2022-02-01',
        data: { destination: '郑州' },
      })) as { id: number };
      await api(page, 'POST', `/persons/${id}/facts/${migration.id}/retract`, {
        reason: '录入错误，计划未成行',
      });

      await page.goto(`${site.base}/persons/${id}`);
      const facts = page.getByTestId('person-facts');
      await facts.getByText('外出务工', { exact: true }).waitFor();
      const text = await facts.innerText();
      for (const words of [
        '残疾',
        '残疾类别: 肢体',
        '残疾等级: 二级',
        '就学',
        '就学阶段: 小学',
        '学校名称: 兰考县第一小学',
      ])
        assert.ok(text.includes(words), `the facts lack ${words}: ${text}`);
      assert.ok(text.includes('外出务工地: 郑州'), text);
      for (const code of ['migration', 'disability', 'schooling'])
        assert.ok(!text.includes(code), `a raw kind code ${code}: ${text}`);
      const retraction = await page.getByTestId(`fact-retraction-${migration.id}`).innerText();
      assert.match(retraction, /您（.+）于 \d{4}-\d{2}-\d{2} \d{2}:\d{2} 撤回；原因：录入错误，计划未成行/);

      await english(page);
      await facts.getByText('Migration for work', { exact: true }).waitFor();
      const en = await facts.innerText();
      for (const words of [
        'Disability',
        'Category: physical',
        'Grade: grade 2',
        'Stage: primary school',
        'Destination: 郑州',
      ])
        assert.ok(en.includes(words), `the English facts lack ${words}: ${en}`);
      assert.match(
        await page.getByTestId(`fact-retraction-${migration.id}`).innerText(),
        /Retracted by you \(.+\) on \d{4}-\d{2}-\d{2} \d{2}:\d{2}; Reason: 录入错误，计划未成行/,
      );
      // The edit page's timeline says the same of the retraction.
      await page.goto(`${site.base}/persons/${id}/edit`);
      await page.getByTestId('facts-editor').getByTestId(`fact-retraction-${migration.id}`).waitFor();
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('on a phone a stale save brings its message into view, and form errors are scrolled to', async () => {
    assert.ok(site && head);
    const context = await phone();
    try {
      const { page, errors } = await openPage(context);
      await page.goto(`${site.base}/`);
      await signIn(page, 'director');
      await page.goto(`${site.base}/persons/${head.id}/edit`);
      const form = page.getByTestId('person-form');
      await form.getByLabel('民族', { exact: true }).waitFor();
      // Someone else saves the person meanwhile.
      const now = (await (await page.request.get(`${site.base}/api/v1/persons/${head.id}`)).json()) as {
        version: number;
      };
      await api(page, 'PATCH', `/persons/${head.id}`, { version: now.version, ethnicity: '回族' });
      await form.getByLabel('民族', { exact: true }).fill('满族');
      await page.getByTestId('person-save').click();
      const stale = page.getByTestId('stale-version');
      await stale.waitFor();
      await waitInView(page, '[data-testid="stale-version"]', 'the stale-version message');

      // Registering: the form's own check (an empty name) and the server's (a wrong check character).
      await page.goto(`${site.base}/persons/new`);
      const newForm = page.getByTestId('person-form');
      const id = makeIdNumber('410225', '2016-04-05', 977);
      const wrong = id.slice(0, 17) + (id.endsWith('0') ? '1' : '0');
      await newForm.getByLabel('公民身份号码', { exact: true }).fill(wrong);
      await page.getByTestId('person-save').click();
      const nameError = newForm.locator('#name_help');
      await nameError.getByText('必填').waitFor();
      await waitInView(page, '#name_help', 'the empty name’s error');

      await newForm.getByLabel('姓名', { exact: true }).fill('滚动测试');
      await page.getByTestId('person-save').click();
      const idError = newForm.locator('#idNumber_help');
      await idError.getByText(/校验码/).waitFor();
      await waitInView(page, '#idNumber_help', 'the server’s reason under the ID number');
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('the registry export: a page in the menu, the region limited to the scope, masked numbers said and delivered', async () => {
    assert.ok(site);
    const context = await desktop();
    try {
      const { page, errors } = await openPage(context);
      await page.goto(`${site.base}/`);
      await signIn(page, 'township');
      const labels = await menuLabels(page);
      assert.ok(labels.includes('数据导出'), labels.join(' | '));
      await page.getByRole('menuitem', { name: '数据导出' }).click();
      await page.waitForURL(`${site.base}/exports`);
      const card = page.getByTestId('registry-export');
      await card.getByTestId('export-masking').getByText('身份证号和电话将以掩码导出').waitFor();

      // The picker starts at the township itself: nothing above or beside it to choose.
      await card.getByTestId('export-region').click();
      const firstColumn = page.locator('.ant-cascader-dropdown:visible .ant-cascader-menu').first();
      await firstColumn.locator('.ant-cascader-menu-item').first().waitFor();
      const townshipName = (
        await site.server.ctx.db
          .selectFrom('regions')
          .select('name')
          .where('code', '=', township)
          .where('valid_to', 'is', null)
          .executeTakeFirstOrThrow()
      ).name;
      // The dropdown can re-render once its regions arrive: read its items once they stand.
      let items: string[] = [];
      for (let tries = 0; tries < 50 && items.length === 0; tries++) {
        items = (await firstColumn.locator('.ant-cascader-menu-item').allInnerTexts()).map((s) => s.trim());
        if (items.length === 0) await page.waitForTimeout(100);
      }
      assert.deepEqual(items, [townshipName]);
      await page.keyboard.press('Escape');

      await card.getByText('CSV（.csv，UTF-8）').click();
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        card.getByTestId('export-download').click(),
      ]);
      assert.equal(download.suggestedFilename(), `registry-${township}.csv`);
      const file = fs.readFileSync(await download.path(), 'utf8');
      assert.match(file.split(/\r?\n/)[0] ?? '', /公民身份号码/);
      assert.match(file, /\d{4}\*{14}/, 'ID numbers masked for a role that may not reveal');
      await card.getByTestId('export-saved').waitFor();
      // Beside the file, what it leaves out (GET /exports/registry/gaps): nothing, or who and why.
      const gapsNote = await card.getByTestId('export-gaps').innerText();
      assert.match(gapsNote, /该区划全部人员均已导出|名人员未导出|条亲属或照护关系未写入文件/);

      // English menu and page.
      await english(page);
      assert.ok((await menuLabels(page)).includes('Export'));
      await card.getByText('ID numbers and phones are exported masked').waitFor();
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
    // County staff may reveal: the page says the file holds the whole numbers.
    const county = await desktop();
    try {
      const { page } = await openPage(county);
      await page.goto(`${site.base}/exports`);
      await signIn(page, 'county');
      await page.getByTestId('export-masking').getByText('文件含完整的身份证号和电话').waitFor();
    } finally {
      await county.close();
    }
    // A role without exports.run has no such entry and is refused the page.
    const province = await desktop();
    try {
      const { page } = await openPage(province);
      await page.goto(`${site.base}/`);
      await signIn(page, 'province');
      assert.ok(!(await menuLabels(page)).includes('数据导出'));
      await page.goto(`${site.base}/exports`);
      await page.getByText('无权访问此页面').waitFor();
    } finally {
      await province.close();
    }
  });

  test('the import page says its step in words, counts a pass’s own rows, and writes times alike in any locale', async () => {
    assert.ok(site);
    // A browser set to German: the times must not follow it.
    const context = await desktop('de-DE');
    try {
      const { page, errors } = await openPage(context);
      // Imports of a few rows end within a second; the page is shown one that is still running, as
      // the server reports it (registry.import.ts: one counter over both passes, twice the rows).
      const running = (id: number, progress: { done: number; total: number | null; message: string }) => ({
        id,
        fileName: 'reg.csv',
        sha256: '0'.repeat(64),
        kind: 'registry',
        dryRun: false,
        status: 'running',
        message: null,
        counts: { rows: 0, inserted: 0, updated: 0, unchanged: 0, errors: 0 },
        progress,
        errorReport: null,
        review: null,
        jobId: 1,
        regionCode: '410225',
        createdAt: '2026-12-01T07:37:48.000Z',
        finishedAt: null,
      });
      await page.route(/\/api\/v1\/imports\/9000[12]$/, (route) => {
        const id = Number(/(\d+)$/.exec(route.request().url())?.[1]);
        const body =
          id === 90001
            ? running(id, { done: 12, total: 16, message: 'writing persons' })
            : running(id, { done: 5, total: null, message: 'validating' });
        return route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(body) });
      });
      await page.goto(`${site.base}/`);
      await signIn(page, 'county');
      await page.goto(`${site.base}/imports/90001`);
      const progress = page.getByTestId('import-progress-text');
      await progress.waitFor();
      assert.equal(await progress.innerText(), '写入中 · 第 2 遍（共 2 遍） · 4 / 8 行');
      await page.goto(`${site.base}/imports/90002`);
      await progress.getByText('校验中').waitFor();
      assert.equal(await progress.innerText(), '校验中 · 第 1 遍（共 2 遍） · 已读 5 行');

      await english(page);
      await progress.getByText('Validating').waitFor();
      assert.equal(await progress.innerText(), 'Validating · pass 1 of 2 · 5 rows read');
      await page.goto(`${site.base}/imports/90001`);
      await progress.getByText('Writing').waitFor();
      assert.equal(await progress.innerText(), 'Writing · pass 2 of 2 · 4 of 8 rows');
      // One row called File, one File type.
      const labels = (await page.locator('.ant-descriptions-item-label').allInnerTexts()).map((s) =>
        s.trim(),
      );
      assert.equal(labels.filter((l) => l === 'File').length, 1, labels.join(' | '));
      assert.ok(labels.includes('File type'), labels.join(' | '));
      const started = await page
        .locator('.ant-descriptions-item')
        .filter({ hasText: 'Started' })
        .locator('.ant-descriptions-item-content')
        .innerText();
      assert.match(started, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/, started);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('English relations to the head; an address that names no person or no group says so', async () => {
    assert.ok(site && head);
    const context = await phone();
    try {
      const { page, errors } = await openPage(context);
      await page.goto(`${site.base}/`);
      await signIn(page, 'director');
      await english(page);
      await page.goto(`${site.base}/persons/${head.id}`);
      const relation = page
        .locator('.ant-descriptions-item')
        .filter({ hasText: 'Relation to head' })
        .locator('.ant-descriptions-item-content');
      await relation.waitFor();
      assert.equal((await relation.innerText()).trim(), 'head');
      await page.goto(`${site.base}/households/${head.household_id}`);
      const members = page.getByTestId('household-members');
      await members.locator('tbody tr.ant-table-row').first().waitFor();
      const memberText = await members.innerText();
      assert.ok(memberText.includes('head'), memberText);
      assert.ok(
        !/户主|配偶/.test(memberText),
        `Chinese relation words in the English members: ${memberText}`,
      );

      // Not a person number: no request for another person, a clear message.
      const asked: string[] = [];
      page.on('request', (request) => {
        if (/\/api\/v1\/persons\/\d+/.test(request.url())) asked.push(request.url());
      });
      for (const bad of ['1e3', 'abc', '-1', '0']) {
        await page.goto(`${site.base}/persons/${bad}`);
        await page.getByTestId('no-such-person').getByText('No such person').waitFor();
      }
      await page.goto(`${site.base}/persons/1e3/edit`);
      await page.getByTestId('no-such-person').waitFor();
      assert.deepEqual(asked, []);

      await page.goto(`${site.base}/persons?group=nonsense`);
      await page
        .getByTestId('unknown-group')
        .getByText(/"nonsense"/)
        .waitFor();
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('on a phone a person in the search results and on a worklist card is a thumb-sized target', async () => {
    assert.ok(site && head);
    const { db } = site.server.ctx;
    const context = await phone();
    try {
      const { page, errors } = await openPage(context);
      await page.goto(`${site.base}/`);
      await signIn(page, 'director');
      await page.goto(`${site.base}/persons`);
      const firstRow = page.locator('tbody tr.ant-table-row').first();
      await firstRow.waitFor();
      const link = firstRow.locator('a').first();
      const box = await link.boundingBox();
      assert.ok(box && box.height >= 44, `the name link is ${box?.height} px high`);
      // The whole row opens the person, not only the name.
      const href = await link.getAttribute('href');
      const cells = firstRow.locator('td');
      await cells.last().tap();
      await page.waitForURL(`${site.base}${href}`);

      const items = await db
        .selectFrom('worklist_items')
        .select('id')
        .where('region_code', 'like', `${village}%`)
        .execute();
      assert.ok(items.length > 0, 'the demo village has worklist items');
      await page.goto(`${site.base}/worklist`);
      await page.locator('.ant-segmented-item', { hasText: '全部' }).click();
      const open = page.getByTestId('worklist-cards').getByRole('link', { name: '查看人员' }).first();
      await open.waitFor();
      const openBox = await open.boundingBox();
      assert.ok(openBox && openBox.height >= 44, `查看人员 is ${openBox?.height} px high`);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});
