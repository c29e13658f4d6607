// The region browser in real Chromium, against the real server with the demo county 兰考县 loaded
// into an embedded database in a temporary folder. What a county or village worker would do: sign
// in as the demo county staff, open the tree level by level down to a village and read its code
// and committee type; on a phone, open the menu from the header button.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Locator, Page } from 'playwright-core';
import { DEMO_COUNTY } from '../../src/cli/demo.ts';
import { openPage, signIn, startDemoSite, type DemoSite } from './support.ts';

let site: DemoSite | null = null;
let base = '';

function treeNode(tree: Locator, page: Page, name: string): Locator {
  return tree.locator('.ant-tree-treenode').filter({ has: page.getByText(name, { exact: true }) });
}

async function expand(tree: Locator, page: Page, name: string): Promise<void> {
  await treeNode(tree, page, name).locator('.ant-tree-switcher').click();
}

describe('region browser', () => {
  before(async () => {
    site = await startDemoSite();
    base = site.base;
  });

  after(async () => {
    await site?.close();
  });

  test('opens the tree from the province down to a village and shows its code and committee type', async () => {
    assert.ok(site);
    const context = await site.browser.newContext({
      viewport: { width: 1366, height: 860 },
      locale: 'zh-CN',
    });
    try {
      const { page, errors } = await openPage(context);
      await page.goto(`${base}/`);
      await signIn(page, 'county');
      await page.getByRole('menuitem', { name: '行政区划' }).click();
      await page.waitForURL(`${base}/regions`);

      const tree = page.getByTestId('region-tree');
      await expand(tree, page, '河南省');
      await expand(tree, page, '开封市');
      await expand(tree, page, '兰考县');

      // A township (乡镇) rather than a street office, so its villages are villagers' committees.
      const township = treeNode(tree, page, '堌阳镇');
      const townshipCode = await township.locator('[data-code]').getAttribute('data-code');
      assert.match(townshipCode ?? '', new RegExp(`^${DEMO_COUNTY}\\d{3}$`));
      await township.getByText('堌阳镇', { exact: true }).click();

      // Selecting the township opens it; its villages are the nodes with 12-digit codes under it.
      const villages = tree.locator(`[data-code^="${townshipCode}"]`);
      await villages.nth(1).waitFor();
      const codes = await villages.evaluateAll((nodes) =>
        nodes.map((node) => node.getAttribute('data-code') ?? ''),
      );
      const villageCode = codes.find((code) => code.length === 12);
      assert.ok(villageCode, `no village under ${townshipCode}: ${codes.join(', ')}`);

      await tree.locator(`[data-code="${villageCode}"]`).click();
      await page.waitForURL(`${base}/regions/${villageCode}`);
      const code = page.getByTestId('region-code').filter({ hasText: villageCode });
      await code.waitFor();
      assert.equal((await code.textContent())?.trim(), villageCode);
      assert.match(villageCode, new RegExp(`^${DEMO_COUNTY}\\d{6}$`));

      const village = await page.evaluate(
        async (code) => (await (await fetch(`/api/v1/regions/${code}`)).json()) as { rural: boolean },
        villageCode,
      );
      const committee = await page.getByTestId('region-committee').textContent();
      assert.ok(
        committee?.includes(village.rural ? '村委会' : '居委会'),
        `committee cell reads "${committee}"`,
      );
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('speaks English when switched, including the server’s messages, and remembers the choice', async () => {
    assert.ok(site);
    const context = await site.browser.newContext({
      viewport: { width: 1366, height: 860 },
      locale: 'zh-CN',
    });
    try {
      const { page, errors } = await openPage(context);
      await page.goto(`${base}/regions/410225999999`);
      await signIn(page, 'county');
      await page.getByText('行政区划 410225999999 不存在').waitFor();

      await page.getByTestId('language-switch').getByText('English', { exact: true }).click();
      await page.getByRole('menuitem', { name: 'Regions' }).waitFor();
      await page.reload();
      await page.getByText('Region 410225999999 does not exist').waitFor();
      assert.equal(await page.locator('html').getAttribute('lang'), 'en');
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('on a phone the menu opens from the header button as a drawer, above the page', async () => {
    assert.ok(site);
    const context = await site.browser.newContext({
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
      locale: 'zh-CN',
    });
    try {
      const { page, errors } = await openPage(context);
      await page.goto(`${base}/regions`);
      // Village directors sign in on their phones; the page asked for comes after.
      await signIn(page, 'county');
      await page.getByTestId('region-tree').waitFor();
      const regionsEntry = page.getByRole('menuitem', { name: '行政区划' });
      assert.equal(await regionsEntry.isVisible(), false, 'the menu is hidden until the button is pressed');

      await page.getByTestId('menu-button').click();
      const drawer = page.getByRole('dialog');
      await drawer.getByRole('menuitem', { name: '行政区划' }).waitFor();
      await drawer.getByRole('menuitem', { name: '首页' }).click();
      await page.waitForURL(`${base}/`);
      await drawer.waitFor({ state: 'hidden' });
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});
