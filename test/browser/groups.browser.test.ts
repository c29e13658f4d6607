// The care-group statistics and the worklist in real Chromium, against the real server with the demo
// county 兰考县 (its generated registry evaluated at start). County staff read the table with charts and
// go down to a township; the province viewer sees small counts suppressed; the village director
// acknowledges a worklist item.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openPage, signIn, startDemoSite, type DemoSite } from './support.ts';

let site: DemoSite | null = null;

describe('care group statistics and worklist', () => {
  before(async () => {
    site = await startDemoSite();
  });
  after(async () => {
    await site?.close();
  });

  test('county staff read the table and charts, then go down to a township', async () => {
    assert.ok(site);
    const context = await site.browser.newContext({
      viewport: { width: 1366, height: 900 },
      locale: 'zh-CN',
    });
    try {
      const { page, errors } = await openPage(context);
      await page.goto(`${site.base}/`);
      await signIn(page, 'county');
      await page.getByRole('menuitem', { name: '关爱对象统计' }).click();
      await page.waitForURL(`${site.base}/stats/groups`);
      await page.getByRole('columnheader', { name: '农村留守儿童' }).waitFor();
      await page.getByRole('cell', { name: '合计' }).waitFor();
      // ECharts arrives with the first chart and draws on a canvas.
      await page.locator('canvas').first().waitFor();
      const township = page.locator('tbody a').first();
      const name = await township.innerText();
      await township.click();
      await page.waitForURL(/\/stats\/groups\/410225\d{3}$/);
      await page.getByRole('heading', { name: new RegExp(name) }).waitFor();
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('the province viewer sees counts with small cells suppressed', async () => {
    assert.ok(site);
    const context = await site.browser.newContext({
      viewport: { width: 1366, height: 900 },
      locale: 'zh-CN',
    });
    try {
      const { page, errors } = await openPage(context);
      await page.goto(`${site.base}/`);
      await signIn(page, 'province');
      await page.goto(`${site.base}/stats/groups/410225`);
      await page.getByText('小于 5 的数字（含 0）显示为').waitFor();
      assert.ok((await page.getByRole('cell', { name: '<5' }).count()) > 0);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('the village director acknowledges a worklist item', async () => {
    assert.ok(site);
    const context = await site.browser.newContext({
      viewport: { width: 1366, height: 900 },
      locale: 'zh-CN',
    });
    try {
      const { page, errors } = await openPage(context);
      await page.goto(`${site.base}/`);
      await signIn(page, 'director');
      await page.getByRole('menuitem', { name: '待办事项' }).click();
      await page.waitForURL(`${site.base}/worklist`);
      const rows = page.locator('tbody tr.ant-table-row');
      await rows.first().waitFor();
      const before = await rows.count();
      await rows.first().getByRole('button', { name: '标为已阅' }).click();
      // The acknowledged item leaves the open list.
      for (let i = 0; i < 100 && (await rows.count()) === before; i++) await page.waitForTimeout(100);
      assert.equal(await rows.count(), before - 1);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});
