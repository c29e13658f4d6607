// Accounts in real Chromium against the real server in demo mode. A new account from start to
// first use, through the two administrators who share the work (三员分立): the system administrator
// creates it and hands over the temporary password, the security administrator gives it a role and
// region, and the new user must set an own password before anything else. And two-factor
// authentication: enrolled from the user menu, then asked for at every sign-in.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as OTPAuth from 'otpauth';
import type { Page } from 'playwright-core';
import { awayFromPeriodEnd } from '../support/access.ts';
import {
  chooseOption,
  chooseUserMenuItem,
  DEMO_PASSWORD,
  openPage,
  signIn,
  signOut,
  startDemoSite,
  submitSignIn,
  type DemoSite,
} from './support.ts';

let site: DemoSite | null = null;

async function newPage(path: string): Promise<{ page: Page; errors: string[] }> {
  assert.ok(site);
  const context = await site.browser.newContext({ viewport: { width: 1366, height: 860 }, locale: 'zh-CN' });
  const opened = await openPage(context);
  await opened.page.goto(`${site.base}${path}`);
  return opened;
}

describe('a new account', () => {
  before(async () => {
    site = await startDemoSite();
  });

  after(async () => {
    await site?.close();
  });

  test('is created with a temporary password, given a role and region, and sets its own password first', async () => {
    const username = 'wang.fang';

    // The system administrator creates the account; the temporary password is shown once.
    const admin = await newPage('/admin/users');
    await signIn(admin.page, 'sysadmin');
    await admin.page.getByRole('button', { name: '新建用户' }).click();
    const dialog = admin.page.getByRole('dialog');
    await dialog.getByLabel('用户名', { exact: true }).fill(username);
    await dialog.getByLabel('姓名', { exact: true }).fill('王芳');
    await dialog.getByRole('button', { name: '新建用户' }).click();
    const secret = admin.page.getByTestId('shown-once-secret');
    await secret.waitFor();
    const temporaryPassword = ((await secret.textContent()) ?? '').trim();
    assert.ok(temporaryPassword.length >= 10, `temporary password "${temporaryPassword}"`);
    await admin.page.getByRole('button', { name: '我已记下，关闭' }).click();
    await admin.page.getByTestId('users-table').getByText(username).waitFor();
    assert.deepEqual(admin.errors, []);
    await admin.page.context().close();

    // Without a role the account cannot sign in yet, and says why.
    const user = await newPage('/');
    await submitSignIn(user.page, username, temporaryPassword);
    await user.page.getByTestId('sign-in-error').getByText('账户尚未分配角色').waitFor();

    // The security administrator makes it a county worker of 兰考县.
    const security = await newPage('/admin/roles');
    await signIn(security.page, 'secadmin');
    const row = security.page.getByTestId('roles-table').locator('tr').filter({ hasText: username });
    await row.getByRole('button', { name: '分配角色' }).click();
    const roleDialog = security.page.getByRole('dialog');
    // The list must be closed before the next click: its options would cover the region field.
    await chooseOption(
      security.page,
      roleDialog.getByLabel('角色', { exact: true }),
      '县级民政工作人员',
      roleDialog.getByTitle('县级民政工作人员', { exact: true }),
    );
    await roleDialog.getByTestId('scope-region').click();
    for (const name of ['河南省', '开封市', '兰考县'])
      await security.page.locator('.ant-cascader-menu-item').filter({ hasText: name }).click();
    await roleDialog.getByRole('button', { name: /保\s*存/ }).click();
    await row.getByText('县级民政工作人员').waitFor();
    assert.deepEqual(security.errors, []);
    await security.page.context().close();

    // At the first sign-in only the password change is possible; the server's policy speaks per field.
    await submitSignIn(user.page, username, temporaryPassword);
    await user.page.getByText('请先设置新密码').waitFor();
    assert.equal(await user.page.getByTestId('user-menu').count(), 0, 'no shell before the change');
    await user.page.getByLabel('当前密码', { exact: true }).fill(temporaryPassword);
    await user.page.getByLabel('新密码', { exact: true }).fill('short');
    await user.page.getByLabel('再次输入新密码', { exact: true }).fill('short');
    await user.page.locator('form button[type="submit"]').click();
    await user.page.getByText('密码至少 10 个字符').waitFor();

    const chosen = 'Lankao-Care-2027';
    await user.page.getByLabel('新密码', { exact: true }).fill(chosen);
    await user.page.getByLabel('再次输入新密码', { exact: true }).fill(chosen);
    await user.page.locator('form button[type="submit"]').click();
    await user.page.getByTestId('user-menu').waitFor();
    assert.equal(await user.page.getByTestId('user-name').textContent(), '王芳');
    assert.ok(((await user.page.getByTestId('user-role').textContent()) ?? '').includes('兰考县'));
    assert.deepEqual(user.errors, []);
    await user.page.context().close();
  });

  test('two-factor authentication is enrolled from the user menu and then asked for at sign-in', async () => {
    const { page, errors } = await newPage('/');
    await signIn(page, 'township');
    await chooseUserMenuItem(page, '双因素验证', page.getByTestId('totp-secret'));
    const secret = ((await page.getByTestId('totp-secret').textContent()) ?? '').replace(/\s/g, '');
    const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period: 30 });
    assert.equal(
      await page
        .getByTestId('totp-qr')
        .getAttribute('src')
        .then((src) => src?.slice(0, 22)),
      'data:image/png;base64,',
    );

    // The password is asked again, so a session alone cannot bind an authenticator.
    // Each code is taken with ten seconds of its period left, right before it is sent: a loaded
    // machine must not see the server's clock pass two periods between the code and its check.
    await awayFromPeriodEnd();
    await page.getByLabel('应用显示的 6 位验证码').fill(totp.generate());
    await page.getByLabel('登录密码', { exact: true }).fill('not-the-password');
    await page.getByRole('button', { name: '确认绑定' }).click();
    await page.getByText('当前密码不正确').waitFor();
    await awayFromPeriodEnd();
    await page.getByLabel('应用显示的 6 位验证码').fill(totp.generate());
    await page.getByLabel('登录密码', { exact: true }).fill(DEMO_PASSWORD);
    await page.getByRole('button', { name: '确认绑定' }).click();
    const codes = page.getByTestId('recovery-codes');
    await codes.waitFor();
    const recovery = (await codes.locator('span').allInnerTexts()).filter((text) =>
      /^[a-z0-9]{4}(-[a-z0-9]{4}){3}$/.test(text),
    );
    assert.equal(recovery.length, 10, `recovery codes: ${recovery}`);
    await page.getByText('我已妥善保存以上恢复码').click();
    await page.getByRole('button', { name: /完\s*成/ }).click();
    await page.getByText('已启用双因素验证').waitFor();

    // The next sign-in asks for the code; the one just used is spent, so take the next period's.
    await signOut(page);
    await submitSignIn(page, 'township', DEMO_PASSWORD);
    await page.getByLabel('6 位验证码').waitFor();
    await awayFromPeriodEnd();
    await page.getByLabel('6 位验证码').fill(totp.generate({ timestamp: Date.now() + 30_000 }));
    await page.locator('form button[type="submit"]').click();
    await page.getByTestId('user-menu').waitFor();

    // Without the phone, a recovery code works once instead.
    await signOut(page);
    await submitSignIn(page, 'township', DEMO_PASSWORD);
    await page.getByRole('button', { name: '改用恢复码' }).click();
    await page.getByLabel('恢复码', { exact: true }).fill(recovery[0] ?? '');
    await page.locator('form button[type="submit"]').click();
    await page.getByTestId('user-menu').waitFor();

    // The phone is lost: the security administrator resets the enrolment on 角色与范围; the next
    // sign-in needs the password only and leads straight to a new enrolment.
    const security = await newPage('/admin/roles');
    await signIn(security.page, 'secadmin');
    const row = security.page.getByTestId('roles-table').locator('tr').filter({ hasText: 'township' });
    await row.getByRole('button', { name: '重置双因素' }).click();
    await security.page.locator('.ant-popconfirm').getByRole('button', { name: '重置双因素' }).click();
    await row.getByText('待重新绑定').waitFor();
    assert.deepEqual(security.errors, []);
    await security.page.context().close();

    await page.reload();
    await submitSignIn(page, 'township', DEMO_PASSWORD);
    await page.getByText('请先绑定双因素验证').first().waitFor();
    assert.equal(await page.getByTestId('user-menu').count(), 0, 'nothing else before the new enrolment');
    assert.deepEqual(errors, []);
    await page.context().close();
  });
});
