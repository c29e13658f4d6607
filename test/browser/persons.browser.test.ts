// Persons and their care groups in real Chromium, against the real server with the demo county 兰考县
// (its generated registry evaluated at start). County staff filter the person list by group, see the
// group tags, open a member and read why the person is in the group; a village director does the
// same on a phone.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { chooseOption, openPage, signIn, startDemoSite, type DemoSite } from './support.ts';

let site: DemoSite | null = null;

/** Chooses a group in the list's group filter (an antd Select with several values). */
async function chooseGroup(page: Page, name: string): Promise<void> {
  const select = page.getByTestId('group-filter');
  await chooseOption(page, select, name, select.getByText(name).first());
}

describe('persons with their care groups', () => {
  before(async () => {
    site = await startDemoSite();
  });
  after(async () => {
    await site?.close();
  });

  test('county staff filter the list by group, then open a member and read the reasons', async () => {
    assert.ok(site);
    const context = await site.browser.newContext({
      viewport: { width: 1366, height: 900 },
      locale: 'zh-CN',
    });
    try {
      const { page, errors } = await openPage(context);
      await page.goto(`${site.base}/`);
      await signIn(page, 'county');
      await page.getByRole('menuitem', { name: '人员查询' }).click();
      await page.waitForURL(`${site.base}/persons`);
      const rows = page.locator('tbody tr.ant-table-row');
      await rows.first().waitFor();

      await chooseGroup(page, '农村留守儿童');
      await page.waitForURL(/\/persons\?group=left_behind_child$/);
      // Wait for the filtered answer: every row then carries the tag.
      const tagged = rows.filter({ has: page.locator('.ant-tag', { hasText: '农村留守儿童' }) });
      for (let i = 0; i < 100; i++) {
        const [all, withTag] = [await rows.count(), await tagged.count()];
        if (all > 0 && all === withTag) break;
        await page.waitForTimeout(100);
      }
      const count = await rows.count();
      assert.ok(count > 0, 'the demo county has left-behind children');
      assert.equal(await tagged.count(), count, 'every listed person is a left-behind child');

      // A second group widens the list (either group).
      await chooseGroup(page, '高龄老年人');
      await page.waitForURL(/group=left_behind_child%2Chigh_age_elderly$/);
      await rows
        .filter({ has: page.locator('.ant-tag', { hasText: '高龄老年人' }) })
        .first()
        .waitFor();

      const first = tagged.first().locator('a').first();
      const name = await first.innerText();
      await first.click();
      await page.waitForURL(/\/persons\/\d+$/);
      await page.getByRole('heading', { name }).waitFor();
      const groups = page.getByTestId('person-groups');
      await groups.locator('.ant-tag', { hasText: '农村留守儿童' }).waitFor();
      // The reasons name the rule's facts: the parents' migration.
      const reasons = await groups.locator('li').allInnerTexts();
      assert.ok(
        reasons.some((r) => r.includes('外出务工')),
        `reasons: ${reasons.join(' | ')}`,
      );
      // The tag by the title gives the same reasons on hover.
      await page.getByTestId('group-tags').locator('.ant-tag', { hasText: '农村留守儿童' }).hover();
      await page.locator('.ant-tooltip', { hasText: '外出务工' }).waitFor();
      // The hukou village reads by its township's and its own name, with the code beside.
      const hukou = page
        .locator('.ant-descriptions-item', {
          has: page.locator('.ant-descriptions-item-label', { hasText: /^户籍地$/ }),
        })
        .locator('.ant-descriptions-item-content');
      await hukou.locator('.ant-typography', { hasText: /^410225\d{6}$/ }).waitFor();
      assert.match(await hukou.innerText(), /^\p{Script=Han}+ \p{Script=Han}+ 410225\d{6}$/u);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('on a phone, the village director filters her list by group and opens a member', async () => {
    assert.ok(site);
    const context = await site.browser.newContext({
      viewport: { width: 390, height: 844 },
      locale: 'zh-CN',
      isMobile: true,
      hasTouch: true,
    });
    try {
      const { page, errors } = await openPage(context);
      await page.goto(`${site.base}/persons`);
      await signIn(page, 'director');
      await page.goto(`${site.base}/persons`);
      const rows = page.locator('tbody tr.ant-table-row');
      await rows.first().waitFor();
      // The filter spans the screen and the table fits it: nothing to scroll sideways.
      const filter = await page.getByTestId('group-filter').boundingBox();
      assert.ok(filter && filter.width > 300, `filter width ${filter?.width}`);
      assert.ok(
        await page.evaluate<boolean>('document.documentElement.scrollWidth <= window.innerWidth + 1'),
        'no sideways scrolling',
      );
      await chooseGroup(page, '农村留守儿童');
      await page.waitForURL(/\/persons\?group=left_behind_child$/);
      const tagged = rows.filter({ has: page.locator('.ant-tag', { hasText: '农村留守儿童' }) });
      await tagged.first().waitFor();
      for (let i = 0; i < 100 && (await rows.count()) !== (await tagged.count()); i++)
        await page.waitForTimeout(100);
      assert.equal(await rows.count(), await tagged.count());
      await tagged.first().locator('a').first().tap();
      await page.waitForURL(/\/persons\/\d+$/);
      const groups = page.getByTestId('person-groups');
      await groups.locator('.ant-tag', { hasText: '农村留守儿童' }).waitFor();
      assert.ok((await groups.locator('li').count()) > 0, 'the reasons are written out, not only on hover');
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});
