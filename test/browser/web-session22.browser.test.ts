// The web app after the session-22 probe: a refused request (400 VALIDATION_FAILED) shows the
// server's reasons, each naming its field, not only "请求数据不符合要求"; the person form shows every
// field error that comes at once; a statistics link to a region outside the scope shows the refusal
// alone, with a way back; a session that expires under a typed form keeps the input (a sign-in over
// the page, then save again); a business user manages his own API tokens (我的令牌).
// Needs Chromium at /usr/bin/chromium and the built web app.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import {
  DEMO_PASSWORD,
  chooseUserMenuItem,
  openPage,
  signIn,
  startDemoSite,
  type DemoSite,
} from './support.ts';

let site: DemoSite | null = null;

before(async () => {
  site = await startDemoSite();
});
after(async () => {
  await site?.close();
});

async function withPage(
  user: string,
  path: string,
  run: (page: Page) => Promise<void>,
  viewport = { width: 1366, height: 900 },
): Promise<void> {
  assert.ok(site);
  const context = await site.browser.newContext({ viewport, locale: 'zh-CN' });
  try {
    const { page, errors } = await openPage(context);
    await page.goto(`${site.base}${path}`);
    await signIn(page, user);
    await run(page);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
}

/** The id of a person the signed-in user may edit. */
async function somePersonId(page: Page): Promise<number> {
  const id = await page.evaluate(async () => {
    const response = await fetch('/api/v1/persons?limit=1', { credentials: 'same-origin' });
    const body = (await response.json()) as { items: { id: number }[] };
    return body.items[0]?.id ?? null;
  });
  assert.ok(typeof id === 'number');
  return id;
}

describe('a refused request shows the server’s reasons', () => {
  test('the person list names the field and says why, not only “request data invalid”', async () => {
    const long = '张'.repeat(61);
    await withPage('county', `/persons?q=${encodeURIComponent(long)}`, async (page) => {
      const alert = page.locator('.ant-alert-error').first();
      await alert.waitFor();
      const text = await alert.innerText();
      assert.match(text, /请求数据不符合要求/);
      assert.match(text, /搜索内容：/, `the field is named: ${text}`);
      assert.match(text, /60/, `the reason (at most 60 characters) is given: ${text}`);
    });
  });

  test('the person form puts every detail on its field at once, and names a field it does not have', async () => {
    await withPage('county', '/', async (page) => {
      const id = await somePersonId(page);
      await page.goto(`${site!.base}/persons/${id}/edit`);
      const form = page.getByTestId('person-form');
      await form.waitFor();
      // The server's validator answers as it does for several fields at once (schema errors come
      // together); here one answer carries three fields of the form and one it does not have.
      await page.route(
        (url) => url.pathname === `/api/v1/persons/${id}`,
        async (route) => {
          if (route.request().method() !== 'PATCH') return route.fallback();
          await route.fulfill({
            status: 400,
            contentType: 'application/json',
            body: JSON.stringify({
              error: {
                code: 'VALIDATION_FAILED',
                message: '请求数据不符合要求',
                details: [
                  { path: 'idNumber', message: '校验码不正确' },
                  { path: 'birthDate', message: '不是有效的日期' },
                  { path: 'phone', message: '不是有效的电话号码' },
                  { path: 'householdId', message: '户不存在' },
                ],
              },
            }),
          });
        },
      );
      await form.getByLabel('公民身份号码').fill('410225201503021239');
      await form.getByLabel('联系电话').fill('12');
      await page.getByTestId('person-save').click();
      const fieldErrors = form.locator('.ant-form-item-explain-error');
      await fieldErrors.nth(2).waitFor();
      const shown = await fieldErrors.allInnerTexts();
      assert.deepEqual(shown.sort(), ['不是有效的日期', '不是有效的电话号码', '校验码不正确'].sort());
      const above = page.locator('.ant-alert-error', { hasText: '户不存在' });
      await above.waitFor();
      assert.match(await above.innerText(), /户：户不存在/);
    });
  });
});

describe('statistics of a region outside the scope', () => {
  test('show the refusal alone, with a way back to the user’s own region', async () => {
    await withPage(
      'county',
      '/stats/groups/410221',
      async (page) => {
        const refused = page.getByTestId('stats-refused');
        await refused.waitFor();
        assert.equal(await page.locator('.ant-table').count(), 0, 'no empty table under the refusal');
        assert.equal(await page.locator('.ant-card').count(), 0, 'no empty charts either');
        await refused.getByRole('button', { name: '返回本辖区统计' }).click();
        await page.waitForURL(/\/stats\/groups\/410225$/);
        await page.locator('tbody tr.ant-table-row').first().waitFor();
        assert.equal(await page.getByTestId('stats-refused').count(), 0);
      },
      { width: 390, height: 844 },
    );
  });
});

describe('a session that expires while a form is typed', () => {
  test('keeps the input: sign in again over the page, then save', async () => {
    await withPage(
      'county',
      '/',
      async (page) => {
        const id = await somePersonId(page);
        await page.goto(`${site!.base}/persons/${id}/edit`);
        const form = page.getByTestId('person-form');
        await form.waitFor();
        const ethnicity = form.getByLabel('民族');
        await ethnicity.fill('回族');
        // The session ends on the server side of things: the next request goes without it.
        await page.context().clearCookies({ name: 'shouhu_session' });
        await page.getByTestId('person-save').click();
        const modal = page.getByTestId('reauth-modal');
        await modal.getByLabel('密码').waitFor();
        assert.equal(await page.getByLabel('用户名', { exact: true }).count(), 0, 'no sign-in page');
        const stored = await page.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }));
        assert.doesNotMatch(stored, /回族/, 'the typed input is never stored');
        // A wrong password says so and keeps the page.
        await modal.getByLabel('密码').fill('wrong-password');
        await page.getByTestId('reauth-submit').click();
        await page.getByTestId('reauth-error').waitFor();
        await modal.getByLabel('密码').fill(DEMO_PASSWORD);
        await page.getByTestId('reauth-submit').click();
        await modal.waitFor({ state: 'hidden' });
        assert.equal(await ethnicity.inputValue(), '回族', 'the typed input is still there');
        await page.getByTestId('person-save').click();
        await page.waitForURL(new RegExp(`/persons/${id}$`));
        const saved = await page.evaluate(async (personId) => {
          const response = await fetch(`/api/v1/persons/${personId}`, { credentials: 'same-origin' });
          return ((await response.json()) as { ethnicity: string | null }).ethnicity;
        }, id);
        assert.equal(saved, '回族');
      },
      { width: 390, height: 844 },
    );
  });

  test('with nothing typed, the sign-in page as before', async () => {
    await withPage('county', '/persons', async (page) => {
      await page.locator('tbody tr.ant-table-row').first().waitFor();
      await page.context().clearCookies({ name: 'shouhu_session' });
      await page.getByRole('searchbox').fill('王');
      await page.getByRole('searchbox').press('Enter');
      await page.getByLabel('用户名', { exact: true }).waitFor();
      assert.equal(await page.getByTestId('reauth-modal').count(), 0);
    });
  });
});

describe('my own API tokens', () => {
  test('are listed, made (the password asked again, the token shown once) and revoked', async () => {
    await withPage(
      'county',
      '/',
      async (page) => {
        const list = page.getByTestId('my-tokens');
        await chooseUserMenuItem(page, '我的令牌', list);
        await page.getByText('您还没有令牌').waitFor();
        await page.getByTestId('my-token-create').click();
        const form = page.getByTestId('my-token-form');
        await form.getByLabel('名称').fill('村委会报表脚本');
        await form.getByLabel('登录密码').fill('wrong-password');
        await page.getByRole('button', { name: '新建令牌' }).last().click();
        const passwordError = form.locator('.ant-form-item-explain-error', { hasText: '当前密码不正确' });
        await passwordError.waitFor();
        await form.getByLabel('登录密码').fill(DEMO_PASSWORD);
        await page.getByRole('button', { name: '新建令牌' }).last().click();
        const secret = page.getByTestId('shown-once-secret');
        await secret.waitFor();
        const token = (await secret.innerText()).trim();
        assert.ok(token.length > 20, token);
        await page.getByRole('button', { name: '我已记下，关闭' }).click();
        await secret.waitFor({ state: 'detached' });
        const row = page.getByTestId('my-token').filter({ hasText: '村委会报表脚本' });
        await row.getByText('有效').waitFor();
        assert.equal(await page.getByText(token).count(), 0, 'the token is not shown again');

        // The token works as the user until revoked.
        const status = (bearer: string) =>
          page.evaluate(async (value) => {
            const response = await fetch('/api/v1/auth/me', {
              headers: { authorization: `Bearer ${value}` },
              credentials: 'omit',
            });
            return response.status;
          }, bearer);
        assert.equal(await status(token), 200);
        // antd spaces a two-character label: 吊 销
        await row.getByRole('button', { name: /^吊\s*销$/ }).click();
        await page
          .locator('.ant-popconfirm')
          .getByRole('button', { name: /^吊\s*销$/ })
          .click();
        await row.getByText('已吊销').waitFor();
        assert.equal(await status(token), 401);
      },
      { width: 390, height: 844 },
    );
  });

  test('are not offered to a user without the permission', async () => {
    await withPage('sysadmin', '/', async (page) => {
      await page.getByTestId('user-menu').click();
      await page.getByRole('menuitem', { name: '修改密码' }).waitFor();
      assert.equal(await page.getByRole('menuitem', { name: '我的令牌' }).count(), 0);
    });
  });
});
