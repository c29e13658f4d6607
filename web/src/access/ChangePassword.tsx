// Changing the own password: forced at first sign-in with a temporary password (the only thing
// the session may do until then), and from the user menu at any time. The policy is shown as a
// checklist that fills in while typing; the server checks it again, with the password history.
import { useState } from 'react';
import { Alert, App, Button, Form, Input, Result, Typography } from 'antd';
import { CheckCircleFilled, MinusCircleOutlined } from '@ant-design/icons';
import { ApiError } from '../api.ts';
import { defineMessages, useT, type Translate } from '../i18n.ts';
import { navigate } from '../router.tsx';
import { useAppState } from '../shell/app-state.tsx';
import { PageTitle } from '../shell/PageTitle.tsx';
import { authApi, fieldErrors } from './access.ts';
import { SignOutLink } from './SignOutLink.tsx';
import { AccountNameForPasswordManager } from './AccountNameForPasswordManager.tsx';
import { AuthFrame } from './AuthFrame.tsx';

const messages = defineMessages(
  {
    title: '修改密码',
    forcedTitle: '请先设置新密码',
    forcedHint: '您正在使用临时密码登录（{name}）。设置新密码后才能使用系统。',
    currentPassword: '当前密码',
    currentHintForced: '即管理员提供的临时密码',
    newPassword: '新密码',
    confirmPassword: '再次输入新密码',
    required: '请输入',
    mismatch: '两次输入的新密码不一致',
    policy: '密码要求',
    ruleLength: '至少 10 位',
    ruleClasses: '包含大写字母、小写字母、数字、符号中的至少 3 类',
    ruleUsername: '不能包含用户名',
    ruleHistory: '不能与最近 5 次使用过的密码相同',
    submit: '修改密码',
    signOut: '退出登录',
    done: '密码已修改',
    doneHint: '其他设备上的登录已全部退出。下次登录请使用新密码。',
    backHome: '返回首页',
  },
  {
    title: 'Change password',
    forcedTitle: 'Set a new password first',
    forcedHint: 'You signed in with a temporary password ({name}). Set your own password to continue.',
    currentPassword: 'Current password',
    currentHintForced: 'The temporary password you were given',
    newPassword: 'New password',
    confirmPassword: 'New password again',
    required: 'Required',
    mismatch: 'The two new passwords differ',
    policy: 'Password rules',
    ruleLength: 'At least 10 characters',
    ruleClasses: 'At least 3 of: upper-case letters, lower-case letters, digits, symbols',
    ruleUsername: 'Does not contain the username',
    ruleHistory: 'Differs from your last 5 passwords',
    submit: 'Change password',
    signOut: 'Sign out',
    done: 'Password changed',
    doneHint: 'Every other session has been signed out. Use the new password next time.',
    backHome: 'Back to home',
  },
);
type Key = keyof typeof messages.zh;

interface Values {
  currentPassword: string;
  newPassword: string;
  confirmPassword: string;
}

/** The rules the browser can check; null when not decidable yet (nothing typed). */
function ruleStates(password: string, username: string) {
  const typed = password.length > 0;
  const classes = [/[A-Z]/, /[a-z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((re) => re.test(password)).length;
  return {
    ruleLength: typed ? [...password].length >= 10 : null,
    ruleClasses: typed ? classes >= 3 : null,
    ruleUsername: typed
      ? username.length < 3 || !password.toLowerCase().includes(username.toLowerCase())
      : null,
    ruleHistory: null,
  } satisfies Partial<Record<Key, boolean | null>>;
}

function PolicyChecklist({
  password,
  username,
  t,
}: {
  password: string;
  username: string;
  t: Translate<Key>;
}) {
  const states = ruleStates(password, username);
  return (
    <div
      data-testid="password-policy"
      style={{ background: '#f7f8fa', borderRadius: 4, padding: '8px 12px', marginBottom: 16, fontSize: 13 }}
    >
      <div style={{ fontWeight: 500, marginBottom: 4 }}>{t('policy')}</div>
      {(Object.keys(states) as (keyof typeof states)[]).map((rule) => {
        const state = states[rule];
        return (
          <div key={rule} style={{ display: 'flex', gap: 8, alignItems: 'center', lineHeight: '22px' }}>
            {state === true ? (
              <CheckCircleFilled style={{ color: '#389e0d' }} />
            ) : (
              <MinusCircleOutlined style={{ color: state === false ? '#cf1322' : '#8c8c8c' }} />
            )}
            <span style={{ color: state === false ? '#cf1322' : undefined }}>{t(rule)}</span>
          </div>
        );
      })}
    </div>
  );
}

function ChangePasswordForm({ forced, onDone }: { forced: boolean; onDone: () => void }) {
  const t = useT(messages);
  const { me } = useAppState();
  const [form] = Form.useForm<Values>();
  const newPassword = Form.useWatch('newPassword', form) ?? '';
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);

  const submit = async (values: Values) => {
    setBusy(true);
    setProblem(null);
    try {
      await authApi.changePassword(values.currentPassword, values.newPassword);
      form.resetFields();
      onDone();
    } catch (error) {
      const fields = fieldErrors(error).filter(
        (f) => f.name === 'currentPassword' || f.name === 'newPassword',
      );
      if (fields.length) form.setFields(fields.map((f) => ({ ...f, name: f.name as keyof Values })));
      else if (error instanceof ApiError) setProblem(error.message);
      else throw error;
    } finally {
      setBusy(false);
    }
  };

  return (
    <Form form={form} layout="vertical" requiredMark={false} onFinish={(values) => void submit(values)}>
      {problem && <Alert type="error" showIcon title={problem} style={{ marginBottom: 16 }} />}
      <AccountNameForPasswordManager />
      <Form.Item
        name="currentPassword"
        label={t('currentPassword')}
        extra={forced ? t('currentHintForced') : undefined}
        rules={[{ required: true, message: t('required') }]}
      >
        <Input.Password autoComplete="current-password" />
      </Form.Item>
      <Form.Item
        name="newPassword"
        label={t('newPassword')}
        rules={[{ required: true, message: t('required') }]}
      >
        <Input.Password autoComplete="new-password" />
      </Form.Item>
      <PolicyChecklist password={newPassword} username={me?.user.username ?? ''} t={t} />
      <Form.Item
        name="confirmPassword"
        label={t('confirmPassword')}
        dependencies={['newPassword']}
        rules={[
          { required: true, message: t('required') },
          ({ getFieldValue }) => ({
            validator: (_rule, value: string | undefined) =>
              !value || value === getFieldValue('newPassword')
                ? Promise.resolve()
                : Promise.reject(new Error(t('mismatch'))),
          }),
        ]}
      >
        <Input.Password autoComplete="new-password" />
      </Form.Item>
      <Button type="primary" htmlType="submit" loading={busy} block={forced}>
        {t('submit')}
      </Button>
    </Form>
  );
}

/** The whole screen of a session limited to changing its password. */
export function ForcedPasswordChange() {
  const t = useT(messages);
  const { me, refreshMe } = useAppState();
  const { message } = App.useApp();
  return (
    <AuthFrame title={t('forcedTitle')} width={440}>
      <Typography.Title level={4} style={{ marginTop: 0 }}>
        {t('forcedTitle')}
      </Typography.Title>
      <Typography.Paragraph type="secondary">
        {t('forcedHint', { name: me ? `${me.user.displayName} · ${me.user.username}` : '' })}
      </Typography.Paragraph>
      <ChangePasswordForm
        forced
        onDone={() => {
          void message.success(t('done'));
          void refreshMe();
        }}
      />
      <SignOutLink label={t('signOut')} />
    </AuthFrame>
  );
}

/** The page behind the user menu's 修改密码. */
export default function ChangePasswordPage() {
  const t = useT(messages);
  const [done, setDone] = useState(false);
  return (
    <>
      <PageTitle title={t('title')} />
      <div style={{ maxWidth: 440, background: '#fff', padding: 24, borderRadius: 4 }}>
        {done ? (
          <Result
            status="success"
            title={t('done')}
            subTitle={t('doneHint')}
            extra={
              <Button type="primary" onClick={() => navigate('/')}>
                {t('backHome')}
              </Button>
            }
          />
        ) : (
          <ChangePasswordForm forced={false} onDone={() => setDone(true)} />
        )}
      </div>
    </>
  );
}
