// The registry's writing pages in real Chromium, against the real server with the demo county 兰考县
// and its job worker running: county staff upload a registry template and watch the import reach the
// end with its counts; a file with a bad row gives the error report to download; a household opens
// with its members; a person registered with a wrong check character gets the server's reason next
// to the ID number field; two clerks editing one household - the later save is refused as stale; and
// on a phone (375 px) the pages keep to the screen's width.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { makeIdNumber } from '../../src/modules/registry/registry.idnumber.ts';
import { makeFixtures } from '../fixtures/registry/make-fixtures.ts';
import { menuLabels, openPage, signIn, startDemoSite, type DemoSite } from './support.ts';

let site: DemoSite | null = null;
let village = '';
const HEADERS = ['户编号', '姓名', '公民身份号码', '与户主关系', '户籍地代码'];

/** An ID number of 兰考县 born on `birthDate` that no demo person has. */
async function freshId(birthDate: string): Promise<string> {
  assert.ok(site);
  for (let sequence = 900; sequence < 1000; sequence++) {
    const id = makeIdNumber('410225', birthDate, sequence);
    const taken = await site.server.ctx.db
      .selectFrom('persons')
      .select('id')
      .where('id_number', '=', id)
      .executeTakeFirst();
    if (!taken) return id;
  }
  throw new Error(`no free ID number for ${birthDate}`);
}

function wrongCheck(id: string): string {
  return id.slice(0, 17) + (id.endsWith('0') ? '1' : '0');
}

function csv(rows: string[][]): Buffer {
  return Buffer.from([HEADERS, ...rows].map((r) => r.join(',')).join('\r\n') + '\r\n', 'utf8');
}

async function desktop(): Promise<BrowserContext> {
  assert.ok(site);
  return site.browser.newContext({
    viewport: { width: 1366, height: 900 },
    locale: 'zh-CN',
    acceptDownloads: true,
  });
}

/** Uploads a file on the imports page and waits for the import to finish; returns its id. */
async function importFile(page: Page, name: string, content: Buffer): Promise<number> {
  assert.ok(site);
  await page.goto(`${site.base}/imports`);
  await page.getByTestId('import-file').locator('input[type=file]').setInputFiles({
    name,
    mimeType: 'text/csv',
    buffer: content,
  });
  await page.getByTestId('import-start').click();
  await page.waitForURL(/\/imports\/\d+$/);
  // The status follows the job through the worker to its end, polled by the page.
  await page
    .getByTestId('import-status')
    .filter({ hasText: /已完成|已拒绝|失败/ })
    .waitFor({ timeout: 60_000 });
  return Number(/\/imports\/(\d+)$/.exec(page.url())?.[1]);
}

async function count(page: Page, key: string): Promise<number> {
  const text = await page.getByTestId(`count-${key}`).locator('.ant-statistic-content-value').innerText();
  return Number(text.replace(/,/g, ''));
}

/** Opens an antd Select and chooses the option with this text. */
async function choose(page: Page, select: Locator, option: string): Promise<void> {
  await select.click();
  // A long list renders only the options in view; a searchable one is narrowed by typing.
  if ((await select.locator('input').getAttribute('readonly')) === null) await page.keyboard.type(option);
  await page
    .locator('.ant-select-dropdown:visible .ant-select-item-option', { hasText: option })
    .first()
    .click();
}

/** A call to the API as the user signed in on this page (the session cookie and the CSRF token). */
async function apiPost(page: Page, url: string, data: unknown): Promise<{ id: number }> {
  const csrf = (await page.context().cookies()).find((c) => c.name === 'shouhu_csrf')?.value ?? '';
  const response = await page.request.post(url, { data, headers: { 'x-shouhu-csrf': csrf } });
  assert.equal(response.status(), 201, await response.text());
  return (await response.json()) as { id: number };
}

async function noSidewaysScroll(page: Page): Promise<boolean> {
  return page.evaluate<boolean>('document.documentElement.scrollWidth <= window.innerWidth');
}

describe('registry pages', () => {
  let householdNo = '';
  let headName = '';
  let importId = 0;

  before(async () => {
    site = await startDemoSite();
    // The shared demo site starts without the job worker; imports need it.
    site.server.ctx.jobs.start();
    const row = await site.server.ctx.db
      .selectFrom('regions')
      .select('code')
      .where('code', 'like', '410225%')
      .where('level', '=', 5)
      .where('valid_to', 'is', null)
      .orderBy('code')
      .executeTakeFirstOrThrow();
    village = row.code;
  });
  after(async () => {
    await site?.close();
  });

  test('county staff import a registry template and watch it reach the end with its counts', async () => {
    assert.ok(site);
    const context = await desktop();
    try {
      const { page, errors } = await openPage(context);
      await page.goto(`${site.base}/`);
      await signIn(page, 'county');
      const labels = await menuLabels(page);
      assert.ok(labels.includes('数据导入') && labels.includes('疑似重复人员'), labels.join(' | '));
      await page.getByRole('menuitem', { name: '数据导入' }).click();
      await page.waitForURL(`${site.base}/imports`);

      householdNo = `WEB-${Date.now() % 100000}`;
      headName = '网页导入户主';
      const file = csv([
        [householdNo, headName, await freshId('1978-05-06'), '户主', village],
        [householdNo, '网页导入子女', await freshId('2015-09-10'), '子', village],
      ]);
      importId = await importFile(page, 'web-import.csv', file);
      assert.equal(await page.getByTestId('import-status').innerText(), '已完成');
      const progress = page.getByTestId('import-progress');
      assert.ok(
        (await progress.getAttribute('class'))?.includes('ant-progress-status-success'),
        'the progress bar ends complete',
      );
      assert.equal(await count(page, 'rows'), 2);
      assert.equal(await count(page, 'inserted'), 2);
      assert.equal(await count(page, 'errors'), 0);
      assert.equal(await page.getByTestId('error-report').count(), 0, 'no error report without errors');
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('a file with a bad row shows the error, and the error report downloads with 错误原因', async () => {
    assert.ok(site);
    const context = await desktop();
    try {
      const { page, errors } = await openPage(context);
      await page.goto(`${site.base}/imports`);
      await signIn(page, 'county');
      const file = csv([
        [`WEB-B${Date.now() % 100000}`, '好行户主', await freshId('1966-01-02'), '户主', village],
        [`WEB-C${Date.now() % 100000}`, '坏号户主', wrongCheck(await freshId('1970-07-08')), '户主', village],
      ]);
      await importFile(page, 'web-bad-row.csv', file);
      assert.equal(await count(page, 'rows'), 2);
      assert.equal(await count(page, 'inserted'), 1);
      assert.equal(await count(page, 'errors'), 1);
      const report = page.getByTestId('error-report');
      await report.waitFor();

      const [csvDownload] = await Promise.all([
        page.waitForEvent('download'),
        report.getByRole('link', { name: /\.csv/ }).click(),
      ]);
      assert.match(csvDownload.suggestedFilename(), /errors\.csv$/);
      const text = fs.readFileSync((await csvDownload.path()) ?? '', 'utf8');
      assert.match(text, /错误原因/);
      assert.match(text, /坏号户主/);
      assert.match(text, /校验码/);

      const [xlsxDownload] = await Promise.all([
        page.waitForEvent('download'),
        report.getByRole('link', { name: /\.xlsx/ }).click(),
      ]);
      assert.match(xlsxDownload.suggestedFilename(), /errors\.xlsx$/);
      const xlsx = fs.readFileSync((await xlsxDownload.path()) ?? '');
      assert.equal(xlsx.subarray(0, 2).toString(), 'PK', 'an xlsx (zip) file');
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('a household opens from a member’s file with its members; a wrong check character is refused at the field', async () => {
    assert.ok(site && householdNo);
    const context = await desktop();
    try {
      const { page, errors } = await openPage(context);
      await page.goto(`${site.base}/persons?q=${encodeURIComponent(headName)}`);
      await signIn(page, 'county');
      await page.locator('tbody tr.ant-table-row a', { hasText: headName }).first().click();
      await page.waitForURL(/\/persons\/\d+$/);
      await page.getByRole('link', { name: householdNo }).click();
      await page.waitForURL(/\/households\/\d+$/);
      await page.getByRole('heading', { name: `户编号 ${householdNo}` }).waitFor();
      const members = page.getByTestId('household-members');
      await members.getByRole('link', { name: headName }).waitFor();
      await members.getByRole('link', { name: '网页导入子女' }).waitFor();
      assert.equal(await members.locator('tbody tr.ant-table-row').count(), 2);

      // Add a member with a mistyped ID number: the server's reason shows under the field.
      await page.getByTestId('add-member').click();
      await page.waitForURL(/\/persons\/new\?household=\d+$/);
      const form = page.getByTestId('person-form');
      await form.getByLabel('姓名', { exact: true }).fill('错号成员');
      const bad = wrongCheck(await freshId('2012-03-04'));
      await form.getByLabel('公民身份号码', { exact: true }).fill(bad);
      await page.getByTestId('person-save').click();
      const fieldError = form
        .locator('.ant-form-item')
        .filter({ has: page.getByLabel('公民身份号码', { exact: true }) })
        .locator('.ant-form-item-explain-error');
      await fieldError.waitFor();
      assert.match(await fieldError.innerText(), /校验码错误/);
      assert.match(page.url(), /\/persons\/new/, 'nothing was registered');

      // Corrected, the member is registered into the household.
      await form.getByLabel('公民身份号码', { exact: true }).fill(await freshId('2012-03-04'));
      await form.getByLabel('与户主关系', { exact: true }).fill('孙子');
      await page.getByTestId('person-save').click();
      await page.waitForURL(/\/persons\/\d+$/);
      await page.getByRole('heading', { name: '错号成员' }).waitFor();
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('facts are recorded with their period and retracted, relatives linked, and a stale person save refused', async () => {
    assert.ok(site && headName);
    const child = await site.server.ctx.db
      .selectFrom('persons')
      .select('id')
      .where('name', '=', '网页导入子女')
      .executeTakeFirstOrThrow();
    const first = await desktop();
    const second = await desktop();
    try {
      const { page, errors } = await openPage(first);
      await page.goto(`${site.base}/persons/${child.id}`);
      await signIn(page, 'county');
      await page.getByTestId('edit-person').click();
      await page.waitForURL(new RegExp(`/persons/${child.id}/edit$`));

      // A fact: the child's schooling from 2021-09-01, open-ended.
      const facts = page.getByTestId('facts-editor');
      await page.getByTestId('add-fact').click();
      const factForm = page.getByTestId('fact-form');
      await choose(page, factForm.locator('.ant-form-item:has(label[for="kind"]) .ant-select'), '就学');
      await factForm.getByLabel('开始日期').fill('2021-09-01');
      await choose(page, factForm.locator('.ant-form-item:has(label[for="data_stage"]) .ant-select'), '小学');
      await factForm.getByLabel('学校名称').fill('兰考县第一小学');
      await factForm.getByRole('button', { name: /保\s*存/ }).click();
      const row = facts.locator('tbody tr.ant-table-row').filter({ hasText: '兰考县第一小学' });
      await row.waitFor();
      assert.match(await row.innerText(), /就学[\s\S]*2021-09-01 – 至今[\s\S]*就学阶段: 小学/);

      // Retracted, it stays in the timeline, struck through.
      await row.getByRole('button', { name: /撤\s*回/ }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel('撤回原因').fill('学校填错');
      await dialog.getByRole('button', { name: /撤\s*回/ }).click();
      // The retraction re-evaluates the person's groups before it answers: under a loaded CI run it
      // took longer than the default 15 s once (session 12).
      await row.locator('.ant-tag', { hasText: '已撤回' }).waitFor({ timeout: 30_000 });

      // A relation: the head of the household is the child's parent.
      await page.getByRole('button', { name: '添加关系' }).click();
      const relationForm = page.getByTestId('relation-form');
      await relationForm.getByLabel('对方', { exact: true }).fill(headName);
      await page.locator('.ant-select-dropdown .ant-select-item-option', { hasText: headName }).click();
      await relationForm.getByRole('button', { name: '添加关系' }).click();
      await page.locator('.ant-list-item', { hasText: headName }).getByText('父母').waitFor();

      // Another clerk saves first; this page's save is refused as stale.
      const other = await openPage(second);
      await other.page.goto(`${site.base}/persons/${child.id}/edit`);
      await signIn(other.page, 'approver');
      await other.page.getByTestId('person-form').getByLabel('民族').fill('回族');
      await other.page.getByTestId('person-save').click();
      await other.page.waitForURL(new RegExp(`/persons/${child.id}$`));
      await page.getByTestId('person-form').getByLabel('民族').fill('汉族');
      await page.getByTestId('person-save').click();
      await page.getByTestId('stale-version').getByText('此记录已被他人修改').waitFor();
      assert.deepEqual([...errors, ...other.errors], []);
    } finally {
      await first.close();
      await second.close();
    }
  });

  test('an ongoing fact is ended on a date picked in a dialog; a date before its start is refused there', async () => {
    assert.ok(site && headName);
    const head = await site.server.ctx.db
      .selectFrom('persons')
      .select('id')
      .where('name', '=', headName)
      .executeTakeFirstOrThrow();
    const context = await desktop();
    try {
      const { page, errors } = await openPage(context);
      await page.goto(`${site.base}/persons/${head.id}/edit`);
      await signIn(page, 'county');
      await apiPost(page, `${site.base}/api/v1/persons/${head.id}/facts`, {
        kind: 'migration',
        from: '2024-03-01',
        data: { destination: '江苏省苏州市' },
      });
      await page.reload();
      const row = page
        .getByTestId('facts-editor')
        .locator('tbody tr.ant-table-row')
        .filter({ hasText: '江苏省苏州市' });
      await row.waitFor();
      assert.match(await row.innerText(), /2024-03-01 – 至今/);

      await row.getByRole('button', { name: /结\s*束/ }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel('结束日期').fill('2024-02-01');
      await dialog.getByRole('button', { name: /结\s*束/ }).click();
      await dialog.getByText('结束日期必须晚于开始日期 2024-03-01').waitFor();

      await dialog.getByLabel('结束日期').fill('2026-10-01');
      await dialog.getByRole('button', { name: /结\s*束/ }).click();
      await row.filter({ hasText: '2024-03-01 – 2026-10-01' }).waitFor();
      // Ended, not retracted: no strike-through, and no second end.
      assert.equal(await row.locator('.ant-tag', { hasText: '已撤回' }).count(), 0);
      assert.equal(await row.getByRole('button', { name: /结\s*束/ }).count(), 0);
      const stored = await site.server.ctx.db
        .selectFrom('person_facts')
        .select(['valid_to', 'retracted_at'])
        .where('person_id', '=', head.id)
        .where('kind', '=', 'migration')
        .executeTakeFirstOrThrow();
      assert.deepEqual(stored, { valid_to: '2026-10-01', retracted_at: null });
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('a marriage is ended on its day from the edit page; an end before its start is refused at the field', async () => {
    assert.ok(site && headName);
    const head = await site.server.ctx.db
      .selectFrom('persons')
      .select('id')
      .where('name', '=', headName)
      .executeTakeFirstOrThrow();
    const context = await desktop();
    try {
      const { page, errors } = await openPage(context);
      await page.goto(`${site.base}/persons/${head.id}/edit`);
      await signIn(page, 'county');
      const wife = await apiPost(page, `${site.base}/api/v1/persons`, {
        name: '网页离婚妻',
        noIdReason: '未落户',
        sex: 2,
        birthDate: '1990-01-01',
        hukouRegionCode: village,
      });
      await apiPost(page, `${site.base}/api/v1/persons/${head.id}/relations`, {
        relatedPersonId: wife.id,
        kind: 'spouse',
        validFrom: '2015-05-01',
      });
      await page.reload();
      const item = page.getByTestId('relations-list').locator('.ant-list-item', { hasText: '网页离婚妻' });
      await item.getByText('自 2015-05-01').waitFor();

      await item.getByRole('button', { name: /结\s*束/ }).click();
      const form = item.getByTestId('relation-end-form');
      await form.getByLabel('结束日期（当日起不再成立）').fill('2015-01-01');
      await form.getByRole('button', { name: '确认结束' }).click();
      await form.getByText('结束日期必须晚于关系开始日期 2015-05-01').waitFor();

      await form.getByLabel('结束日期（当日起不再成立）').fill('2026-10-01');
      await form.getByRole('button', { name: '确认结束' }).click();
      await item.getByText('至 2026-10-01').waitFor();
      // Ended, kept on the file; no second end.
      assert.equal(await item.getByRole('button', { name: /结\s*束/ }).count(), 0);
      const stored = await site.server.ctx.db
        .selectFrom('person_relations')
        .select(['valid_from', 'valid_to'])
        .where('kind', '=', 'spouse')
        .where('person_id', 'in', [head.id, wife.id])
        .where('related_person_id', 'in', [head.id, wife.id])
        .execute();
      assert.deepEqual(stored, [{ valid_from: '2015-05-01', valid_to: '2026-10-01' }]);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('the imports page lists past imports, newest first, each opening its own page', async () => {
    assert.ok(site && importId);
    const context = await desktop();
    try {
      const { page, errors } = await openPage(context);
      await page.goto(`${site.base}/imports`);
      await signIn(page, 'county');
      const history = page.getByTestId('import-history');
      const rows = history.locator('tbody tr.ant-table-row');
      await rows.first().waitFor();
      const texts = await rows.allInnerTexts();
      const first = texts.findIndex((text) => text.includes('web-import.csv'));
      const second = texts.findIndex((text) => text.includes('web-bad-row.csv'));
      assert.ok(first >= 0 && second >= 0, texts.join(' | '));
      assert.ok(second < first, 'newest first');
      assert.match(texts[second] ?? '', /户籍人口模板[\s\S]*已完成[\s\S]*2[\s\S]*1[\s\S]*0[\s\S]*1/);
      await history.getByRole('link', { name: 'web-import.csv' }).click();
      await page.waitForURL(`${site.base}/imports/${importId}`);
      assert.equal(await page.getByTestId('import-status').innerText(), '已完成');
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('two clerks edit one household: the later save is refused as changed by someone else', async () => {
    assert.ok(site && householdNo);
    const household = await site.server.ctx.db
      .selectFrom('households')
      .select('id')
      .where('household_no', '=', householdNo)
      .executeTakeFirstOrThrow();
    const first = await desktop();
    const second = await desktop();
    try {
      const a = await openPage(first);
      await a.page.goto(`${site.base}/households/${household.id}/edit`);
      await signIn(a.page, 'county');
      const b = await openPage(second);
      await b.page.goto(`${site.base}/households/${household.id}/edit`);
      await signIn(b.page, 'approver');
      for (const { page } of [a, b]) await page.getByTestId('household-form').getByLabel('住址').waitFor();

      await b.page.getByTestId('household-form').getByLabel('住址').fill('兰考县某村二组');
      await b.page.getByTestId('household-save').click();
      await b.page.waitForURL(new RegExp(`/households/${household.id}$`));
      await b.page.getByText('兰考县某村二组').waitFor();

      await a.page.getByTestId('household-form').getByLabel('住址').fill('兰考县某村三组');
      await a.page.getByTestId('household-save').click();
      const stale = a.page.getByTestId('stale-version');
      await stale.getByText('此记录已被他人修改').waitFor();
      // Reloading shows the other clerk's change, and saving then goes through.
      await stale.getByRole('button', { name: '重新加载' }).click();
      const address = a.page.getByTestId('household-form').getByLabel('住址');
      for (let i = 0; i < 50 && (await address.inputValue()) !== '兰考县某村二组'; i++)
        await a.page.waitForTimeout(100);
      assert.equal(await address.inputValue(), '兰考县某村二组');
      await address.fill('兰考县某村三组');
      await a.page.getByTestId('household-save').click();
      await a.page.waitForURL(new RegExp(`/households/${household.id}$`));
      await a.page.getByText('兰考县某村三组').waitFor();
      assert.deepEqual([...a.errors, ...b.errors], []);
    } finally {
      await first.close();
      await second.close();
    }
  });

  test('a clerk merges two records of one person after a confirmation naming both', async () => {
    assert.ok(site);
    const context = await desktop();
    try {
      const { page, errors } = await openPage(context);
      await page.goto(`${site.base}/`);
      await signIn(page, 'county');
      // The same child registered twice without an ID number (未落户), in one village.
      const child = {
        name: '重复的孩子',
        noIdReason: '未落户',
        sex: 2,
        birthDate: '2019-02-03',
        hukouRegionCode: village,
      };
      const first = await apiPost(page, `${site.base}/api/v1/persons`, child);
      const second = await apiPost(page, `${site.base}/api/v1/persons`, child);

      await page.getByRole('menuitem', { name: '疑似重复人员' }).click();
      await page.waitForURL(`${site.base}/persons/duplicates`);
      const group = page
        .getByTestId('duplicate-groups')
        .locator('.ant-card')
        .filter({ has: page.getByRole('link', { name: '重复的孩子' }) });
      await group.first().waitFor();
      assert.equal(await group.getByRole('link', { name: '重复的孩子' }).count(), 2);
      // The first is kept unless another is chosen; the other one merges into it.
      await group
        .getByRole('button', { name: /合\s*并/ })
        .first()
        .click();
      const confirmText = page.getByTestId('merge-confirm-text');
      await confirmText.waitFor();
      const text = await confirmText.innerText();
      assert.match(
        text,
        /将“重复的孩子”（2019-02-03, 无身份号码.*）合并到“重复的孩子”（2019-02-03, 无身份号码.*）/,
      );
      await page
        .locator('.ant-modal-confirm')
        .getByRole('button', { name: /合\s*并/ })
        .click();
      await page.locator('.ant-message').getByText('已将 重复的孩子 合并到 重复的孩子').waitFor();
      await group.first().waitFor({ state: 'detached' });

      const rows = await site.server.ctx.db
        .selectFrom('persons')
        .select(['id', 'merged_into'])
        .where('id', 'in', [first.id, second.id])
        .orderBy('id')
        .execute();
      assert.deepEqual(
        rows.map((r) => r.merged_into),
        [null, first.id],
        'the second record points to the first, which is kept',
      );
      const audited = await site.server.ctx.db
        .selectFrom('audit_log')
        .select('action')
        .where('entity_id', '=', String(second.id))
        .where('action', '=', 'person.merge')
        .execute();
      assert.equal(audited.length, 1, 'the merge is in the audit trail');
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('a child ledger import lists the rows whose answers disagree with the rules, with their download', async () => {
    assert.ok(site);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shouhu-ledger-'));
    const context = await desktop();
    try {
      await makeFixtures(dir);
      const { page, errors } = await openPage(context);
      await page.goto(`${site.base}/imports`);
      await signIn(page, 'county');
      await page.getByText('留守儿童台账').click();
      await page
        .getByTestId('import-file')
        .locator('input[type=file]')
        .setInputFiles(path.join(dir, 'ledger.xlsx'));
      await page.getByTestId('import-start').click();
      await page.waitForURL(/\/imports\/\d+$/);
      await page.getByTestId('import-status').filter({ hasText: '已完成' }).waitFor({ timeout: 60_000 });
      const review = page.getByTestId('ledger-review');
      await review.waitFor();
      const rows = review.locator('tbody tr.ant-table-row');
      assert.ok((await rows.count()) > 0, 'the disagreements are listed');
      assert.match(await rows.first().innerText(), /规则判定|台账填写/);
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        review.getByRole('link', { name: /\.csv/ }).click(),
      ]);
      assert.match(download.suggestedFilename(), /review\.csv$/);
      assert.ok(fs.readFileSync((await download.path()) ?? '', 'utf8').length > 0);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('on a phone (375 px) the imports, household and person pages fit the screen', async () => {
    assert.ok(site && importId);
    const context = await site.browser.newContext({
      viewport: { width: 375, height: 812 },
      locale: 'zh-CN',
      isMobile: true,
      hasTouch: true,
    });
    try {
      const { page, errors } = await openPage(context);
      await page.goto(`${site.base}/imports`);
      await signIn(page, 'county');
      await page.goto(`${site.base}/imports`);
      await page.getByTestId('import-start').waitFor();
      assert.ok(await noSidewaysScroll(page), 'imports page: no sideways scrolling');

      await page.goto(`${site.base}/imports/${importId}`);
      await page.getByTestId('import-counts').waitFor();
      assert.ok(await noSidewaysScroll(page), 'an import: no sideways scrolling');

      const household = await site.server.ctx.db
        .selectFrom('households')
        .select('id')
        .where('household_no', '=', householdNo)
        .executeTakeFirstOrThrow();
      await page.goto(`${site.base}/households/${household.id}`);
      await page.getByTestId('household-members').getByRole('link', { name: headName }).waitFor();
      assert.ok(await noSidewaysScroll(page), 'household page: no sideways scrolling');

      await page.goto(`${site.base}/persons/new?household=${household.id}`);
      await page.getByTestId('person-form').waitFor();
      assert.ok(await noSidewaysScroll(page), 'person form: no sideways scrolling');
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('a village director sees neither imports nor duplicates in the menu, and the page refuses', async () => {
    assert.ok(site);
    const context = await desktop();
    try {
      const { page, errors } = await openPage(context);
      await page.goto(`${site.base}/`);
      await signIn(page, 'director');
      const labels = await menuLabels(page);
      assert.ok(labels.includes('人员查询'), labels.join(' | '));
      assert.ok(!labels.includes('数据导入') && !labels.includes('疑似重复人员'), labels.join(' | '));
      await page.goto(`${site.base}/imports`);
      await page.getByText('无权访问此页面').waitFor();
      assert.equal(await page.getByTestId('import-start').count(), 0);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});
