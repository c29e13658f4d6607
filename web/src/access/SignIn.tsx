// The sign-in page: username and password, then, when the account uses two-factor
// authentication, a code from the authenticator app or one of the recovery codes. Failures say
// what the user can do about them without telling a stranger whether a username exists.
import { useState } from 'react';
import { Alert, Button, Form, Input, Typography } from 'antd';
import { KeyOutlined, LockOutlined, SafetyOutlined, UserOutlined } from '@ant-design/icons';
import { ApiError } from '../api.ts';
import { defineMessages, useT } from '../i18n.ts';
import { useAppState } from '../shell/app-state.tsx';
import { authApi, fieldErrors, type LoginInput } from './access.ts';
import { AuthFrame } from './AuthFrame.tsx';

const messages = defineMessages(
  {
    title: '登录',
    username: '用户名',
    password: '密码',
    usernameRequired: '请输入用户名',
    passwordRequired: '请输入密码',
    signIn: '登录',
    expired: '登录已过期，请重新登录',
    signedOut: '您已退出登录',
    badCredentials: '用户名或密码不正确',
    locked: '登录失败次数过多，账户已暂时锁定。请稍后再试，或联系系统管理员解锁。',
    rateLimited: '登录尝试过于频繁，请稍等一分钟后再试。',
    secondFactorTitle: '双因素验证',
    secondFactorHint: '请打开手机上的验证器应用，输入“守护”账户 {username} 当前显示的 6 位验证码。',
    recoveryHint: '无法使用验证器时，可输入一个未用过的恢复码。每个恢复码只能使用一次。',
    totpCode: '6 位验证码',
    totpRequired: '请输入 6 位数字验证码',
    recoveryCode: '恢复码',
    recoveryRequired: '请输入恢复码',
    badCode: '验证码不正确或已使用，请输入新的验证码',
    badRecoveryCode: '恢复码不正确或已使用',
    useRecovery: '改用恢复码',
    useTotp: '改用验证器验证码',
    verify: '验证并登录',
    back: '返回',
    forgot: '忘记密码或账户被锁定，请联系本单位系统管理员重置。',
  },
  {
    title: 'Sign in',
    username: 'Username',
    password: 'Password',
    usernameRequired: 'Enter your username',
    passwordRequired: 'Enter your password',
    signIn: 'Sign in',
    expired: 'Your session has expired. Please sign in again.',
    signedOut: 'You have signed out.',
    badCredentials: 'Wrong username or password',
    locked:
      'Too many failed sign-ins: the account is locked for a while. Try again later, or ask the system administrator to unlock it.',
    rateLimited: 'Too many sign-in attempts. Wait a minute and try again.',
    secondFactorTitle: 'Two-factor verification',
    secondFactorHint:
      'Open the authenticator app on your phone and enter the 6-digit code shown for {username}.',
    recoveryHint: 'Without the authenticator, enter one of your unused recovery codes. Each works once.',
    totpCode: '6-digit code',
    totpRequired: 'Enter the 6-digit code',
    recoveryCode: 'Recovery code',
    recoveryRequired: 'Enter a recovery code',
    badCode: 'The code is wrong or was already used; enter a new one',
    badRecoveryCode: 'The recovery code is wrong or was already used',
    useRecovery: 'Use a recovery code instead',
    useTotp: 'Use the authenticator code instead',
    verify: 'Verify and sign in',
    back: 'Back',
    forgot: 'Forgot the password or locked out? Ask your system administrator to reset it.',
  },
);

type Step = { kind: 'password' } | { kind: 'second-factor'; username: string; password: string };

export function SignIn() {
  const t = useT(messages);
  const { signedIn, signInReason } = useAppState();
  const [form] = Form.useForm<{ username: string; password: string }>();
  const [codeForm] = Form.useForm<{ code: string }>();
  const [step, setStep] = useState<Step>({ kind: 'password' });
  const [useRecovery, setUseRecovery] = useState(false);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [notice, setNotice] = useState(signInReason);

  const attempt = async (input: LoginInput) => {
    setBusy(true);
    setProblem(null);
    setNotice(null);
    try {
      signedIn(await authApi.login(input));
    } catch (error) {
      const secondStep = input.totpCode !== undefined || input.recoveryCode !== undefined;
      if (!(error instanceof ApiError)) throw error;
      switch (error.code) {
        case 'TWO_FACTOR_REQUIRED':
          setStep({ kind: 'second-factor', username: input.username, password: input.password });
          break;
        case 'UNAUTHENTICATED':
          if (secondStep) {
            setProblem(input.recoveryCode ? t('badRecoveryCode') : t('badCode'));
            codeForm.resetFields();
          } else {
            setProblem(t('badCredentials'));
            form.setFieldValue('password', '');
          }
          break;
        case 'ACCOUNT_LOCKED':
          setProblem(t('locked'));
          break;
        case 'RATE_LIMITED':
          setProblem(t('rateLimited'));
          break;
        case 'VALIDATION_FAILED':
          if (secondStep) setProblem(error.message);
          else form.setFields(fieldErrors(error).map((f) => ({ ...f, name: f.name as 'username' })));
          break;
        default:
          setProblem(error.message);
      }
    } finally {
      setBusy(false);
    }
  };

  const back = () => {
    setStep({ kind: 'password' });
    setProblem(null);
    setUseRecovery(false);
    form.setFieldValue('password', '');
  };

  const alerts = (
    <>
      {notice === 'expired' && (
        <Alert type="warning" showIcon title={t('expired')} style={{ marginBottom: 16 }} />
      )}
      {notice === 'signed-out' && (
        <Alert type="success" showIcon title={t('signedOut')} style={{ marginBottom: 16 }} />
      )}
      {problem && (
        <Alert
          type="error"
          showIcon
          title={problem}
          data-testid="sign-in-error"
          style={{ marginBottom: 16 }}
        />
      )}
    </>
  );

  if (step.kind === 'second-factor') {
    return (
      <AuthFrame title={t('secondFactorTitle')}>
        <Typography.Title level={4} style={{ marginTop: 0 }}>
          <SafetyOutlined style={{ marginInlineEnd: 8, color: '#1a4d8f' }} />
          {t('secondFactorTitle')}
        </Typography.Title>
        <Typography.Paragraph type="secondary">
          {useRecovery ? t('recoveryHint') : t('secondFactorHint', { username: step.username })}
        </Typography.Paragraph>
        {alerts}
        <Form
          form={codeForm}
          layout="vertical"
          requiredMark={false}
          onFinish={({ code }) =>
            void attempt({
              username: step.username,
              password: step.password,
              ...(useRecovery ? { recoveryCode: code.trim() } : { totpCode: code.trim() }),
            })
          }
        >
          {useRecovery ? (
            <Form.Item
              key="recovery"
              name="code"
              label={t('recoveryCode')}
              rules={[{ required: true, whitespace: true, message: t('recoveryRequired') }]}
            >
              <Input
                size="large"
                prefix={<KeyOutlined />}
                autoComplete="off"
                autoCapitalize="none"
                spellCheck={false}
                placeholder="xxxx-xxxx-xxxx-xxxx"
                autoFocus
              />
            </Form.Item>
          ) : (
            <Form.Item
              key="totp"
              name="code"
              label={t('totpCode')}
              rules={[{ required: true, pattern: /^\s*\d{6}\s*$/, message: t('totpRequired') }]}
            >
              <Input
                size="large"
                inputMode="numeric"
                autoComplete="one-time-code"
                maxLength={6}
                placeholder="000000"
                autoFocus
                style={{ letterSpacing: 6, fontVariantNumeric: 'tabular-nums' }}
              />
            </Form.Item>
          )}
          <Button type="primary" htmlType="submit" size="large" block loading={busy}>
            {t('verify')}
          </Button>
        </Form>
        <div style={{ display: 'flex', justifyContent: 'space-between', marginTop: 12, flexWrap: 'wrap' }}>
          <Button type="link" style={{ paddingInline: 0 }} onClick={back}>
            {t('back')}
          </Button>
          <Button
            type="link"
            style={{ paddingInline: 0 }}
            onClick={() => {
              setUseRecovery(!useRecovery);
              setProblem(null);
              codeForm.resetFields();
            }}
          >
            {useRecovery ? t('useTotp') : t('useRecovery')}
          </Button>
        </div>
      </AuthFrame>
    );
  }

  return (
    <AuthFrame title={t('title')}>
      <Typography.Title level={4} style={{ marginTop: 0, marginBottom: 20, textAlign: 'center' }}>
        {t('title')}
      </Typography.Title>
      {alerts}
      <Form
        form={form}
        layout="vertical"
        requiredMark={false}
        onFinish={(values) => void attempt({ username: values.username.trim(), password: values.password })}
      >
        <Form.Item
          name="username"
          label={t('username')}
          rules={[{ required: true, whitespace: true, message: t('usernameRequired') }]}
        >
          <Input
            size="large"
            prefix={<UserOutlined />}
            autoComplete="username"
            autoCapitalize="none"
            spellCheck={false}
            autoFocus
          />
        </Form.Item>
        <Form.Item
          name="password"
          label={t('password')}
          rules={[{ required: true, message: t('passwordRequired') }]}
        >
          <Input.Password size="large" prefix={<LockOutlined />} autoComplete="current-password" />
        </Form.Item>
        <Button type="primary" htmlType="submit" size="large" block loading={busy} style={{ marginTop: 4 }}>
          {t('signIn')}
        </Button>
      </Form>
      <Typography.Paragraph type="secondary" style={{ marginTop: 16, marginBottom: 0, fontSize: 12 }}>
        {t('forgot')}
      </Typography.Paragraph>
    </AuthFrame>
  );
}
