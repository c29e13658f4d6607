// Two-factor authentication (TOTP, RFC 6238) enrolment: scan the QR code with an authenticator
// app (or type the secret), confirm with a code, then write down the ten recovery codes, which
// are shown this once. Forced for administrators before anything else; open to every user from
// the user menu.
import { useEffect, useRef, useState } from 'react';
import { Alert, App, Button, Checkbox, Form, Input, Result, Spin, Steps, Typography } from 'antd';
import { CopyOutlined, DownloadOutlined, SafetyCertificateOutlined } from '@ant-design/icons';
import { ApiError } from '../api.ts';
import { defineMessages, useT } from '../i18n.ts';
import { navigate } from '../router.tsx';
import { useAppState } from '../shell/app-state.tsx';
import { PageTitle } from '../shell/PageTitle.tsx';
import { useIsPhone } from '../shell/responsive.ts';
import { authApi, copyText, fieldErrors, type TotpEnrollment } from './access.ts';
import { SignOutLink } from './SignOutLink.tsx';
import { AccountNameForPasswordManager } from './AccountNameForPasswordManager.tsx';
import { AuthFrame } from './AuthFrame.tsx';

const messages = defineMessages(
  {
    title: '双因素验证',
    forcedTitle: '请先绑定双因素验证',
    forcedHint:
      '本账户登录时除密码外还须输入手机验证器上的动态验证码（管理员账户必须启用；安全管理员重置后须重新绑定）。请完成绑定后再使用系统。',
    stepScan: '扫描二维码',
    stepConfirm: '输入验证码',
    stepSave: '保存恢复码',
    scanHint:
      '在手机上打开验证器应用（如 Microsoft Authenticator、Google 身份验证器、FreeOTP），添加账户并扫描下方二维码。',
    qrAlt: '双因素验证二维码',
    manual: '无法扫描时，在应用中选择“手动输入”，账户名填 {username}，密钥为：',
    code: '应用显示的 6 位验证码',
    codeRequired: '请输入 6 位数字验证码',
    password: '登录密码',
    passwordHint: '为防止他人借用已登录的会话绑定自己的手机，请再次输入本账户的密码。',
    passwordRequired: '请输入密码',
    confirm: '确认绑定',
    savedWarning:
      '恢复码只显示这一次。请抄写或打印后妥善保管，不要存放在手机上。手机丢失时，每个恢复码可代替验证码登录一次。',
    copyAll: '复制全部',
    copied: '已复制恢复码',
    copyFailed: '无法自动复制，请手动抄写',
    download: '下载为文本文件',
    acknowledge: '我已妥善保存以上恢复码',
    finish: '完成',
    enabled: '已启用双因素验证',
    enabledHint: '登录时须输入验证器上的 6 位验证码。如手机丢失，请使用恢复码登录，并联系安全管理员。',
    backHome: '返回首页',
    signOut: '退出登录',
    fileHeader: '守护 双因素验证恢复码（每个只能使用一次）',
    retry: '重试',
  },
  {
    title: 'Two-factor authentication',
    forcedTitle: 'Set up two-factor authentication first',
    forcedHint:
      'This account signs in with a code from an authenticator app as well as the password (required for administrators; after a reset by the security administrator, set it up again). Set it up to continue.',
    stepScan: 'Scan the QR code',
    stepConfirm: 'Enter a code',
    stepSave: 'Save recovery codes',
    scanHint:
      'Open an authenticator app on your phone (Microsoft Authenticator, Google Authenticator, FreeOTP…), add an account and scan this code.',
    qrAlt: 'QR code for two-factor authentication',
    manual: 'If you cannot scan it, choose “enter manually” in the app, account {username}, key:',
    code: '6-digit code from the app',
    codeRequired: 'Enter the 6-digit code',
    password: 'Password',
    passwordHint:
      'Enter this account’s password again, so that nobody using a signed-in session can bind their own phone.',
    passwordRequired: 'Enter the password',
    confirm: 'Confirm',
    savedWarning:
      'These recovery codes are shown only this once. Write them down or print them and keep them safe, not on the phone. Each code signs you in once if the phone is lost.',
    copyAll: 'Copy all',
    copied: 'Recovery codes copied',
    copyFailed: 'Could not copy; write them down instead',
    download: 'Download as a text file',
    acknowledge: 'I have stored these recovery codes safely',
    finish: 'Finish',
    enabled: 'Two-factor authentication is on',
    enabledHint:
      'You sign in with the 6-digit code from the authenticator. If the phone is lost, use a recovery code and tell the security administrator.',
    backHome: 'Back to home',
    signOut: 'Sign out',
    fileHeader: 'Shouhu two-factor recovery codes (each works once)',
    retry: 'Retry',
  },
);

type ConfirmValues = { code: string; password: string };

type State =
  | { kind: 'starting' }
  | { kind: 'failed'; message: string }
  | { kind: 'scan'; enrollment: TotpEnrollment }
  | { kind: 'codes'; codes: string[] };

function TwoFactorSetup({ onFinished }: { onFinished: () => void }) {
  const t = useT(messages);
  const { me } = useAppState();
  const { message } = App.useApp();
  const isPhone = useIsPhone();
  const [state, setState] = useState<State>({ kind: 'starting' });
  const [form] = Form.useForm<ConfirmValues>();
  const [busy, setBusy] = useState(false);
  const [acknowledged, setAcknowledged] = useState(false);
  const started = useRef(false);

  const start = () => {
    setState({ kind: 'starting' });
    authApi
      .enrollTotp()
      .then((enrollment) => setState({ kind: 'scan', enrollment }))
      .catch((error: unknown) => setState({ kind: 'failed', message: (error as Error).message }));
  };

  // Each start makes a new secret on the server; start once even when effects run twice.
  useEffect(() => {
    if (started.current) return;
    started.current = true;
    start();
  }, []);

  const confirm = async ({ code, password }: ConfirmValues) => {
    setBusy(true);
    try {
      const { recoveryCodes } = await authApi.confirmTotp(code.trim(), password);
      setState({ kind: 'codes', codes: recoveryCodes });
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      const fields = fieldErrors(error).filter((f) => f.name === 'code' || f.name === 'password');
      if (fields.length) form.setFields(fields.map((f) => ({ ...f, name: f.name as keyof ConfirmValues })));
      else form.setFields([{ name: 'code', errors: [error.message] }]);
    } finally {
      setBusy(false);
    }
  };

  const step = state.kind === 'codes' ? 2 : 0;
  const steps = (
    <Steps
      size="small"
      current={step}
      orientation={isPhone ? 'vertical' : 'horizontal'}
      style={{ marginBottom: 20 }}
      items={[{ title: t('stepScan') }, { title: t('stepConfirm') }, { title: t('stepSave') }]}
    />
  );

  if (state.kind === 'starting')
    return (
      <div style={{ textAlign: 'center', padding: 48 }}>
        <Spin />
      </div>
    );
  if (state.kind === 'failed')
    return (
      <Alert
        type="error"
        showIcon
        title={state.message}
        action={
          <Button size="small" onClick={start}>
            {t('retry')}
          </Button>
        }
      />
    );

  if (state.kind === 'codes') {
    const text = `${t('fileHeader')}\n${me?.user.username ?? ''}\n\n${state.codes.join('\n')}\n`;
    return (
      <div data-testid="recovery-codes">
        {steps}
        <Alert type="warning" showIcon title={t('savedWarning')} style={{ marginBottom: 16 }} />
        <div
          style={{
            display: 'grid',
            gridTemplateColumns: 'repeat(2, minmax(0, 1fr))',
            gap: '6px 16px',
            padding: 16,
            background: '#f7f8fa',
            border: '1px dashed #bfc7d3',
            borderRadius: 4,
            fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace',
            fontSize: 15,
            textAlign: 'center',
          }}
        >
          {state.codes.map((code) => (
            <span key={code}>{code}</span>
          ))}
        </div>
        <div style={{ display: 'flex', gap: 8, marginTop: 12, flexWrap: 'wrap' }}>
          <Button
            icon={<CopyOutlined />}
            onClick={() =>
              void copyText(state.codes.join('\n')).then((ok) =>
                ok ? message.success(t('copied')) : message.warning(t('copyFailed')),
              )
            }
          >
            {t('copyAll')}
          </Button>
          <Button
            icon={<DownloadOutlined />}
            onClick={() => {
              const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
              const anchor = document.createElement('a');
              anchor.href = url;
              anchor.download = `shouhu-recovery-codes-${me?.user.username ?? 'user'}.txt`;
              anchor.click();
              setTimeout(() => URL.revokeObjectURL(url), 10_000);
            }}
          >
            {t('download')}
          </Button>
        </div>
        <Checkbox
          checked={acknowledged}
          onChange={(event) => setAcknowledged(event.target.checked)}
          style={{ marginTop: 16 }}
        >
          {t('acknowledge')}
        </Checkbox>
        <Button type="primary" block disabled={!acknowledged} onClick={onFinished} style={{ marginTop: 16 }}>
          {t('finish')}
        </Button>
      </div>
    );
  }

  const { enrollment } = state;
  const secret = enrollment.secret.match(/.{1,4}/g)?.join(' ') ?? enrollment.secret;
  return (
    <div>
      {steps}
      <Typography.Paragraph>{t('scanHint')}</Typography.Paragraph>
      <div style={{ textAlign: 'center' }}>
        <img
          src={enrollment.qrCodeDataUrl}
          alt={t('qrAlt')}
          width={180}
          height={180}
          data-testid="totp-qr"
          style={{ border: '1px solid #e5e8ed', borderRadius: 4, imageRendering: 'pixelated' }}
        />
      </div>
      <Typography.Paragraph type="secondary" style={{ marginTop: 12, marginBottom: 4, fontSize: 13 }}>
        {t('manual', { username: me?.user.username ?? '' })}
      </Typography.Paragraph>
      <Typography.Paragraph
        copyable={{ text: enrollment.secret }}
        code
        data-testid="totp-secret"
        style={{ fontSize: 14, wordBreak: 'break-all' }}
      >
        {secret}
      </Typography.Paragraph>
      <Form form={form} layout="vertical" requiredMark={false} onFinish={(values) => void confirm(values)}>
        <AccountNameForPasswordManager />
        <Form.Item
          name="code"
          label={t('code')}
          rules={[{ required: true, pattern: /^\s*\d{6}\s*$/, message: t('codeRequired') }]}
        >
          <Input
            inputMode="numeric"
            autoComplete="one-time-code"
            maxLength={6}
            placeholder="000000"
            style={{ letterSpacing: 6, maxWidth: 200 }}
          />
        </Form.Item>
        <Form.Item
          name="password"
          label={t('password')}
          extra={t('passwordHint')}
          rules={[{ required: true, message: t('passwordRequired') }]}
        >
          <Input.Password autoComplete="current-password" style={{ maxWidth: 320 }} />
        </Form.Item>
        <Button type="primary" htmlType="submit" loading={busy} block={isPhone}>
          {t('confirm')}
        </Button>
      </Form>
    </div>
  );
}

/** The whole screen of an administrator's session limited to enrolling TOTP. */
export function ForcedTwoFactorEnrollment() {
  const t = useT(messages);
  const { refreshMe } = useAppState();
  return (
    <AuthFrame title={t('forcedTitle')} width={560}>
      <Typography.Title level={4} style={{ marginTop: 0 }}>
        <SafetyCertificateOutlined style={{ marginInlineEnd: 8, color: '#1a4d8f' }} />
        {t('forcedTitle')}
      </Typography.Title>
      <Typography.Paragraph type="secondary">{t('forcedHint')}</Typography.Paragraph>
      <TwoFactorSetup onFinished={() => void refreshMe()} />
      <SignOutLink label={t('signOut')} />
    </AuthFrame>
  );
}

/** The page behind the user menu's 双因素验证. */
export default function TwoFactorPage() {
  const t = useT(messages);
  const { me, refreshMe } = useAppState();
  const [enabledNow, setEnabledNow] = useState(false);
  const enabled = me?.twoFactorEnabled === true || enabledNow;
  return (
    <>
      <PageTitle title={t('title')} />
      <div style={{ maxWidth: 560, background: '#fff', padding: 24, borderRadius: 4 }}>
        {enabled ? (
          <Result
            status="success"
            title={t('enabled')}
            subTitle={t('enabledHint')}
            extra={
              <Button type="primary" onClick={() => navigate('/')}>
                {t('backHome')}
              </Button>
            }
          />
        ) : (
          <TwoFactorSetup
            onFinished={() => {
              setEnabledNow(true);
              void refreshMe();
            }}
          />
        )}
      </div>
    </>
  );
}
