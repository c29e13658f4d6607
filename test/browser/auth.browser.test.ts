// Signing in and out in real Chromium against the real server in demo mode: what a county worker
// and the audit administrator see after signing in, what a wrong password says, and that signing
// out or an ended session leads back to the sign-in page.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { BrowserContext, Page } from 'playwright-core';
import {
  DEMO_PASSWORD,
  menuLabels,
  openPage,
  signIn,
  startDemoSite,
  submitSignIn,
  type DemoSite,
  signOut,
} from './support.ts';

const ADMIN_ENTRIES = ['用户管理', '角色与范围', '审计日志'];

let site: DemoSite | null = null;

async function withPage(
  run: (page: Page, context: BrowserContext) => Promise<void>,
  viewport = { width: 1366, height: 860 },
): Promise<void> {
  assert.ok(site);
  const context = await site.browser.newContext({ viewport, locale: 'zh-CN' });
  try {
    const { page, errors } = await openPage(context);
    await page.goto(`${site.base}/`);
    await run(page, context);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
}

describe('signing in', () => {
  before(async () => {
    site = await startDemoSite();
  });

  after(async () => {
    await site?.close();
  });

  test('a wrong password and an unknown username get the same generic message', async () => {
    await withPage(async (page) => {
      await submitSignIn(page, 'county', 'not-the-password');
      const error = page.getByTestId('sign-in-error');
      await error.waitFor();
      const wrongPassword = (await error.textContent())?.trim();
      assert.equal(wrongPassword, '用户名或密码不正确');
      assert.equal(
        await page.getByLabel('密码', { exact: true }).inputValue(),
        '',
        'the password is cleared',
      );

      await submitSignIn(page, 'nobody-here', DEMO_PASSWORD);
      await page.getByTestId('sign-in-error').getByText('用户名或密码不正确').waitFor();
      assert.equal(await page.getByTestId('user-menu').count(), 0, 'still on the sign-in page');
    });
  });

  test('the county staff sees the header with name, role and region, its menu entries and no administration', async () => {
    await withPage(async (page) => {
      await signIn(page, 'county');
      assert.equal(await page.getByTestId('user-name').textContent(), '兰考县民政局');
      const role = (await page.getByTestId('user-role').textContent()) ?? '';
      assert.ok(role.includes('县级民政工作人员') && role.includes('兰考县'), `header reads "${role}"`);

      const labels = await menuLabels(page);
      for (const entry of ['首页', '行政区划'])
        assert.ok(labels.includes(entry), `menu lacks ${entry}: ${labels}`);
      for (const entry of ADMIN_ENTRIES) assert.ok(!labels.includes(entry), `menu shows ${entry}: ${labels}`);
      assert.equal(await page.getByTestId('region-selector').isVisible(), true);

      // Typing the address of an administration page gets a refusal, not the page.
      await page.goto(`${site?.base}/admin/audit`);
      await page.getByText('无权访问此页面').waitFor();
      assert.equal(await page.getByTestId('audit-table').count(), 0);
    });
  });

  test('the audit administrator sees the audit log and none of the business or other administrators’ pages', async () => {
    await withPage(async (page) => {
      await signIn(page, 'auditor');
      const role = (await page.getByTestId('user-role').textContent()) ?? '';
      assert.ok(role.includes('安全审计员'), `header reads "${role}"`);
      // Region reference data stays readable; nothing about people, nothing of the other two administrators.
      assert.deepEqual(await menuLabels(page), ['首页', '行政区划', '审计日志']);
      assert.equal(await page.getByTestId('region-selector').count(), 0, 'no working region to choose');

      await page.getByRole('menuitem', { name: '审计日志' }).click();
      await page.waitForURL(`${site?.base}/admin/audit`);
      const table = page.getByTestId('audit-table');
      // Its own sign-in is in the trail.
      const ownSignIn = table.locator('tr').filter({ hasText: 'auth.login' }).filter({ hasText: 'auditor' });
      await ownSignIn.first().waitFor();
      assert.equal(await page.getByTestId('audit-export').isVisible(), true);

      // Narrowing to the county staff's failed sign-ins finds only denied entries.
      await page.getByLabel('用户名', { exact: true }).fill('county');
      await page.getByTestId('audit-filters').locator('button[type="submit"]').click();
      // The unfiltered rows stay on the page until the filtered answer arrives: read the table until it
      // has been replaced (or 10 s have passed), then judge what it shows.
      const onlyCounty = (texts: string[]) =>
        texts.length > 0 && texts.every((text) => text.trim() === 'county');
      const cells = table.locator('tbody tr.ant-table-row td:nth-child(3)');
      let actors = await cells.allInnerTexts();
      for (const deadline = Date.now() + 10_000; !onlyCounty(actors) && Date.now() < deadline;) {
        await page.waitForTimeout(100);
        actors = await cells.allInnerTexts();
      }
      assert.ok(onlyCounty(actors), `users: ${actors}`);
    });
  });

  test('signing out returns to the sign-in page, and the session is gone on reload', async () => {
    await withPage(async (page) => {
      await signIn(page, 'county');
      await signOut(page);
      await page.getByText('您已退出登录').waitFor();
      assert.equal(await page.getByTestId('user-menu').count(), 0);

      await page.reload();
      await page.getByLabel('用户名', { exact: true }).waitFor();
      assert.equal(await page.getByTestId('user-menu').count(), 0);
    });
  });

  test('a session that ended on the server returns to the sign-in page at the next request', async () => {
    await withPage(async (page, context) => {
      await signIn(page, 'county');
      // The home page's own requests finish first: on a busy machine one of them could otherwise be
      // the request that finds the session gone, before the menu is clicked.
      await page.getByTestId('home-groups').locator('.ant-card').first().waitFor();
      await page.getByTestId('home-worklist').locator('.ant-statistic-content-value').waitFor();
      await page.waitForLoadState('networkidle');
      // As after the idle timeout: the server no longer knows the session.
      await context.clearCookies();
      await page.getByRole('menuitem', { name: '行政区划' }).click();
      await page.getByText('登录已过期，请重新登录').waitFor();

      // Signing in again continues where the user was.
      await signIn(page, 'county');
      assert.equal(new URL(page.url()).pathname, '/regions');
    });
  });

  test('a late answer to a request of the ended session does not end the session signed in since', async () => {
    await withPage(async (page, context) => {
      await signIn(page, 'county');
      await page.getByRole('menuitem', { name: '行政区划' }).click();
      await page.getByRole('heading', { name: '行政区划' }).waitFor();
      await page.waitForLoadState('networkidle');
      await context.clearCookies();

      // The home page asks for the worklist and the group counts. The worklist's 401 is held back
      // until the user has signed in again; the counts' 401 returns the user to the sign-in page.
      let release = (): void => {};
      const released = new Promise<void>((resolve) => (release = resolve));
      let delivered: Promise<void> | null = null;
      await context.route('**/api/v1/worklist?*', async (route) => {
        if (delivered) return route.continue();
        const answer = route.fetch();
        delivered = (async () => {
          const response = await answer;
          await released;
          await route.fulfill({ response });
        })();
        await delivered;
      });
      await page.getByRole('menuitem', { name: '首页' }).click();
      await page.getByText('登录已过期，请重新登录').waitFor();
      await signIn(page, 'county');
      assert.ok(delivered, 'the worklist was asked for under the ended session');

      release();
      await delivered;
      // The stale 401 has reached the page; the user is still signed in and can go on.
      await page.waitForTimeout(500);
      await page.getByRole('menuitem', { name: '行政区划' }).click();
      await page.getByRole('heading', { name: '行政区划' }).waitFor();
      assert.equal(await page.getByTestId('user-menu').count(), 1);
      assert.equal(await page.getByText('登录已过期，请重新登录').count(), 0);
    });
  });
});
