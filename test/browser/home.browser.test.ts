// The home page as a workbench (工作台) in real Chromium against the demo county 兰考县: the village
// child director on a phone sees their open worklist items and today's care-group counts for their
// village (the same figures the API gives), taps a group to its list and searches from the home page;
// a mandatory reporter, who holds no region, sees none of it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { APIRequestContext } from 'playwright-core';
import { openPage, signIn, startDemoSite, type DemoSite } from './support.ts';

let site: DemoSite | null = null;

const PHONE = {
  viewport: { width: 390, height: 844 },
  isMobile: true,
  hasTouch: true,
  locale: 'zh-CN',
  timezoneId: 'Asia/Shanghai',
} as const;

async function getJson<T>(request: APIRequestContext, url: string): Promise<T> {
  const response = await request.get(url);
  assert.equal(response.status(), 200, `${url}: ${await response.text()}`);
  return (await response.json()) as T;
}

interface StatsAnswer {
  region: { name: string };
  groups: { code: string; zh: string }[];
  total: { counts: Record<string, { display: string; value: number | null }> };
}

describe('home page workbench', () => {
  before(async () => {
    site = await startDemoSite();
  });
  after(async () => {
    await site?.close();
  });

  test('the village director on a phone sees the worklist and group counts of the village, as the API gives them', async () => {
    assert.ok(site);
    const context = await site.browser.newContext(PHONE);
    try {
      const { page, errors } = await openPage(context);
      await page.goto(`${site.base}/`);
      await signIn(page, 'director');
      await page.getByText('五爷庙村儿童主任，您好').waitFor();
      await page.getByText('儿童主任 · 五爷庙村').waitFor();

      // The worklist card counts the open items (a full page of 50 reads "50+").
      const open = await getJson<{ items: unknown[]; nextCursor: string | null }>(
        page.request,
        `${site.base}/api/v1/worklist?status=open&limit=50`,
      );
      assert.ok(open.items.length > 0, 'the demo village has open worklist items');
      const worklist = page.getByTestId('home-worklist');
      await worklist
        .locator('.ant-statistic-content-value')
        .getByText(`${open.items.length}${open.nextCursor ? '+' : ''}`, { exact: true })
        .waitFor();

      // Each group's tile shows the village total for the date the card names.
      const tiles = page.getByTestId('home-groups').locator('.ant-card');
      await tiles.first().waitFor();
      const heading = await page.getByText(/^五爷庙村 · \d{4}-\d{2}-\d{2}$/).innerText();
      const asOf = heading.slice(-10);
      const stats = await getJson<StatsAnswer>(
        page.request,
        `${site.base}/api/v1/stats/groups?region=410225001213&asOf=${asOf}`,
      );
      assert.equal(await tiles.count(), stats.groups.length);
      for (const group of stats.groups) {
        const tile = tiles.filter({ hasText: group.zh });
        const value = await tile.locator('.ant-statistic-content-value').innerText();
        assert.equal(value, stats.total.counts[group.code]?.display, group.code);
      }

      // Tapping a group opens the person list filtered to it.
      const withMembers = stats.groups.find((g) => (stats.total.counts[g.code]?.value ?? 0) > 0);
      assert.ok(withMembers, 'some group has members in the demo village');
      await tiles.filter({ hasText: withMembers.zh }).click();
      await page.waitForURL(`${site.base}/persons?group=${withMembers.code}`);
      await page.locator('.ant-tag', { hasText: withMembers.zh }).first().waitFor();

      // The search on the home page lands on the person list with the query.
      await page.goto(`${site.base}/`);
      const search = page.getByRole('searchbox', { name: '查人员' });
      await search.fill('wu');
      await search.press('Enter');
      await page.waitForURL(`${site.base}/persons?q=wu`);

      await page.goto(`${site.base}/`);
      await tiles.first().waitFor();
      assert.ok(
        await page.evaluate<boolean>('document.documentElement.scrollWidth <= window.innerWidth + 1'),
        'the home page fits the phone without sideways scrolling',
      );
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('on a phone the worklist is a list of cards: acknowledge one, open a person from another', async () => {
    assert.ok(site);
    const context = await site.browser.newContext(PHONE);
    try {
      const { page, errors } = await openPage(context);
      await page.goto(`${site.base}/`);
      await signIn(page, 'supervisor');
      await page.getByTestId('home-worklist').click();
      await page.waitForURL(`${site.base}/worklist`);
      const cards = page.getByTestId('worklist-cards').locator('.ant-card');
      await cards.first().waitFor();
      assert.equal(await page.locator('table').count(), 0, 'no table on a phone');
      const before = await cards.count();
      const firstText = await cards.first().locator('.ant-typography').last().innerText();
      await cards.first().getByRole('button', { name: '标为已阅' }).click();
      // Polled from here: waitForFunction's polling of a string is code the app's CSP refuses to run.
      for (let tries = 0; tries < 100 && (await cards.count()) !== before - 1; tries++)
        await page.waitForTimeout(100);
      assert.equal(await cards.count(), before - 1);
      assert.notEqual(await cards.first().locator('.ant-typography').last().innerText(), firstText);
      // The acknowledged item is now listed under 全部 as 已处理.
      await page.getByText('全部', { exact: true }).click();
      await cards.filter({ hasText: firstText }).getByText('已处理', { exact: true }).waitFor();

      assert.ok(
        await page.evaluate<boolean>('document.documentElement.scrollWidth <= window.innerWidth + 1'),
        'the worklist fits the phone',
      );
      await cards.first().getByRole('link', { name: '查看人员' }).click();
      await page.waitForURL(/\/persons\/\d+$/);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('a mandatory reporter sees no search, worklist or counts, and only what the role may open', async () => {
    assert.ok(site);
    const context = await site.browser.newContext(PHONE);
    try {
      const { page, errors } = await openPage(context);
      await page.goto(`${site.base}/`);
      await signIn(page, 'reporter');
      await page.getByText('强制报告责任人 · 无区划范围').waitFor();
      await page.getByText('功能', { exact: true }).waitFor();
      assert.equal(await page.getByRole('searchbox', { name: '查人员' }).count(), 0);
      assert.equal(await page.getByTestId('home-worklist').count(), 0);
      assert.equal(await page.getByText('关爱对象', { exact: true }).count(), 0);
      for (const label of ['人员查询', '待办事项', '关爱对象统计', '数据导入', '用户管理', '审计日志'])
        assert.equal(await page.getByText(label, { exact: true }).count(), 0, label);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('in English the workbench speaks English', async () => {
    assert.ok(site);
    const context = await site.browser.newContext(PHONE);
    try {
      const { page, errors } = await openPage(context);
      await page.goto(`${site.base}/`);
      await signIn(page, 'county');
      await page.getByTestId('language-switch').getByText('English', { exact: true }).click();
      await page.getByText('Hello, 兰考县民政局').waitFor();
      await page.getByText('People in care', { exact: true }).waitFor();
      await page.getByText('What you can do', { exact: true }).waitFor();
      await page.getByText('Tap a group for its list.').waitFor();
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});
