// The header's signed-in user: name, role and region, and a menu to change the password, set up
// two-factor authentication, manage one's own API tokens, sign out, or sign out on every device.
import { App, Button, Dropdown, type MenuProps } from 'antd';
import {
  ApiOutlined,
  DownOutlined,
  KeyOutlined,
  LogoutOutlined,
  SafetyCertificateOutlined,
  StopOutlined,
  UserOutlined,
} from '@ant-design/icons';
import { defineMessages, useLang, useT } from '../i18n.ts';
import { navigate } from '../router.tsx';
import { useAppState } from '../shell/app-state.tsx';
import { roleLabel, type Me } from './access.ts';

const messages = defineMessages(
  {
    account: '账户',
    changePassword: '修改密码',
    twoFactor: '双因素验证',
    myTokens: '我的令牌',
    signOut: '退出登录',
    signOutEverywhere: '退出所有设备',
    confirmEverywhere: '退出所有设备上的登录？',
    confirmEverywhereHint: '包括本机和其他电脑、手机上的登录。之后需重新登录。',
    confirm: '全部退出',
    cancel: '取消',
    nationwide: '全国',
  },
  {
    account: 'Account',
    changePassword: 'Change password',
    twoFactor: 'Two-factor authentication',
    myTokens: 'My tokens',
    signOut: 'Sign out',
    signOutEverywhere: 'Sign out everywhere',
    confirmEverywhere: 'Sign out on every device?',
    confirmEverywhereHint: 'This computer and every other computer or phone. You will need to sign in again.',
    confirm: 'Sign out everywhere',
    cancel: 'Cancel',
    nationwide: 'Nationwide',
  },
);

/** The region under the role, e.g. 兰考县; nothing for roles that have none. */
export function scopeName(me: Me, nationwide: string): string | null {
  if (me.regionName) return me.regionName;
  return me.role === 'national_viewer' ? nationwide : null;
}

export function UserMenu({ compact = false }: { compact?: boolean }) {
  const t = useT(messages);
  const lang = useLang();
  const { me, signOut, can } = useAppState();
  const { message, modal } = App.useApp();
  if (!me) return null;

  const role = roleLabel(me.role, lang) || me.roleLabel;
  const region = scopeName(me, t('nationwide'));
  const failed = (error: unknown) => void message.error((error as Error).message);

  const items: MenuProps['items'] = [
    {
      key: 'who',
      type: 'group',
      label: (
        <div style={{ lineHeight: 1.5, paddingBlock: 4 }} data-testid="user-menu-who">
          <div style={{ color: 'rgba(0,0,0,0.88)', fontWeight: 500 }}>{me.user.displayName}</div>
          <div>
            {me.user.username} · {role}
          </div>
          {region && <div>{region}</div>}
        </div>
      ),
    },
    { type: 'divider' },
    { key: 'password', icon: <KeyOutlined />, label: t('changePassword') },
    { key: 'two-factor', icon: <SafetyCertificateOutlined />, label: t('twoFactor') },
    ...(can('tokens.own') ? [{ key: 'tokens', icon: <ApiOutlined />, label: t('myTokens') }] : []),
    { type: 'divider' },
    { key: 'sign-out', icon: <LogoutOutlined />, label: t('signOut') },
    { key: 'sign-out-everywhere', icon: <StopOutlined />, label: t('signOutEverywhere'), danger: true },
  ];

  const onClick: MenuProps['onClick'] = ({ key }) => {
    switch (key) {
      case 'password':
        navigate('/account/password');
        break;
      case 'two-factor':
        navigate('/account/two-factor');
        break;
      case 'tokens':
        navigate('/account/tokens');
        break;
      case 'sign-out':
        signOut()
          .then(() => navigate('/', { replace: true }))
          .catch(failed);
        break;
      case 'sign-out-everywhere':
        modal.confirm({
          title: t('confirmEverywhere'),
          content: t('confirmEverywhereHint'),
          okText: t('confirm'),
          okButtonProps: { danger: true },
          cancelText: t('cancel'),
          onOk: () =>
            signOut({ everywhere: true })
              .then(() => navigate('/', { replace: true }))
              .catch(failed),
        });
        break;
    }
  };

  return (
    <Dropdown menu={{ items, onClick }} trigger={['click']} placement="bottomRight">
      <Button
        type="text"
        data-testid="user-menu"
        aria-label={`${t('account')}: ${me.user.displayName}`}
        style={{ color: '#fff', height: 40, paddingInline: compact ? 8 : 10, maxWidth: compact ? 48 : 320 }}
      >
        <span style={{ display: 'flex', alignItems: 'center', gap: 8, minWidth: 0 }}>
          <span
            style={{
              display: 'inline-flex',
              alignItems: 'center',
              justifyContent: 'center',
              width: 28,
              height: 28,
              borderRadius: '50%',
              background: 'rgba(255,255,255,0.18)',
              flex: 'none',
            }}
          >
            <UserOutlined />
          </span>
          {!compact && (
            <span style={{ display: 'flex', flexDirection: 'column', alignItems: 'flex-start', minWidth: 0 }}>
              <span
                data-testid="user-name"
                style={{
                  fontSize: 13,
                  lineHeight: '16px',
                  fontWeight: 500,
                  maxWidth: 240,
                  overflow: 'hidden',
                  textOverflow: 'ellipsis',
                }}
              >
                {me.user.displayName}
              </span>
              <span
                data-testid="user-role"
                style={{
                  fontSize: 12,
                  lineHeight: '16px',
                  opacity: 0.8,
                  maxWidth: 240,
                  overflow: 'hidden',
                  textOverflow: 'ellipsis',
                }}
              >
                {region ? `${role} · ${region}` : role}
              </span>
            </span>
          )}
          {!compact && <DownOutlined style={{ fontSize: 10, opacity: 0.8 }} />}
        </span>
      </Button>
    </Dropdown>
  );
}
