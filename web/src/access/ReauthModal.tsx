// The session ended while a clerk was typing a form: a sign-in over the page, for the same user, so
// that what was typed stays (in memory only) and can be saved once signed in again. The page behind
// is covered, not shown through: on a shared phone the next person must not read the form. Another
// person signs in on the sign-in page, and the kept input goes.
import { useState } from 'react';
import { Alert, Button, Form, Input, Modal, Typography } from 'antd';
import { LockOutlined, SafetyOutlined } from '@ant-design/icons';
import { ApiError } from '../api.ts';
import { defineMessages, useT } from '../i18n.ts';
import { useAppState } from '../shell/app-state.tsx';
import { authApi, type LoginInput } from './access.ts';

const messages = defineMessages(
  {
    title: '登录已过期',
    hint: '您填写的内容仍保留在本页面上，尚未保存。请重新输入 {username} 的密码，登录后再次点击“保存”。',
    password: '密码',
    passwordRequired: '请输入密码',
    signIn: '登录并返回页面',
    code: '验证码或恢复码',
    codeHint: '请输入验证器应用当前显示的 6 位验证码，或一个未用过的恢复码。',
    codeRequired: '请输入验证码',
    badPassword: '密码不正确',
    badCode: '验证码不正确或已使用',
    otherUser: '换其他用户登录（放弃未保存的内容）',
  },
  {
    title: 'Your session has expired',
    hint: 'What you typed is still on this page, not saved yet. Enter the password of {username} again, then press Save again.',
    password: 'Password',
    passwordRequired: 'Enter your password',
    signIn: 'Sign in and return to the page',
    code: 'Code or recovery code',
    codeHint: 'Enter the 6-digit code your authenticator app shows now, or an unused recovery code.',
    codeRequired: 'Enter the code',
    badPassword: 'Wrong password',
    badCode: 'The code is wrong or was already used',
    otherUser: 'Sign in as someone else (drops what is not saved)',
  },
);

export function ReauthModal() {
  const t = useT(messages);
  const { me, reauthRequired, signedIn, abandonKeptPage } = useAppState();
  const [form] = Form.useForm<{ password: string; code?: string }>();
  const [needCode, setNeedCode] = useState(false);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  if (!me) return null;
  const username = me.user.username;

  const attempt = async (values: { password: string; code?: string }) => {
    setBusy(true);
    setProblem(null);
    const code = values.code?.trim();
    const input: LoginInput = { username, password: values.password };
    if (needCode && code) {
      if (/^\d{6}$/.test(code)) input.totpCode = code;
      else input.recoveryCode = code;
    }
    try {
      const again = await authApi.login(input);
      // The same account only: anyone else gets the sign-in page and never this user's form.
      if (again.user.id !== me.user.id) {
        abandonKeptPage();
        return;
      }
      form.resetFields();
      setNeedCode(false);
      signedIn(again);
    } catch (error) {
      if (!(error instanceof ApiError)) setProblem((error as Error).message);
      else if (error.code === 'TWO_FACTOR_REQUIRED') setNeedCode(true);
      else if (error.code === 'UNAUTHENTICATED') {
        setProblem(needCode ? t('badCode') : t('badPassword'));
        form.setFieldValue(needCode ? 'code' : 'password', '');
      } else setProblem(error.message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal
      open={reauthRequired}
      title={t('title')}
      closable={false}
      maskClosable={false}
      keyboard={false}
      footer={null}
      destroyOnHidden
      // Opaque: the form behind holds personal data, and the phone may be in other hands now.
      styles={{ mask: { background: '#f2f4f7' } }}
      data-testid="reauth-modal"
    >
      <Typography.Paragraph>{t('hint', { username })}</Typography.Paragraph>
      {problem && (
        <Alert
          type="error"
          showIcon
          title={problem}
          style={{ marginBottom: 12 }}
          data-testid="reauth-error"
        />
      )}
      <Form form={form} layout="vertical" requiredMark={false} onFinish={(values) => void attempt(values)}>
        {/* For the password manager: the account the password belongs to. */}
        <input type="hidden" name="username" autoComplete="username" value={username} readOnly />
        <Form.Item
          name="password"
          label={t('password')}
          rules={[{ required: true, message: t('passwordRequired') }]}
        >
          <Input.Password prefix={<LockOutlined />} autoComplete="current-password" autoFocus />
        </Form.Item>
        {needCode && (
          <Form.Item
            name="code"
            label={t('code')}
            extra={t('codeHint')}
            rules={[{ required: true, whitespace: true, message: t('codeRequired') }]}
          >
            <Input prefix={<SafetyOutlined />} autoComplete="one-time-code" spellCheck={false} autoFocus />
          </Form.Item>
        )}
        <Button type="primary" htmlType="submit" block loading={busy} data-testid="reauth-submit">
          {t('signIn')}
        </Button>
      </Form>
      <Button
        type="link"
        style={{ paddingInline: 0, marginTop: 8, whiteSpace: 'normal' }}
        onClick={abandonKeptPage}
      >
        {t('otherUser')}
      </Button>
    </Modal>
  );
}
