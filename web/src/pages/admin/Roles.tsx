// 角色与范围: the security administrator gives each account a role and the region it works in
// (a county worker the county, a village director the village), and decides whether a viewer
// above the county may see individual records. API tokens for other systems carry a role and a
// region the same way. Every change carries the version read, so two administrators cannot
// overwrite each other unnoticed.
import { useEffect, useState } from 'react';
import {
  Alert,
  App,
  Button,
  Form,
  Input,
  InputNumber,
  Modal,
  Popconfirm,
  Select,
  Switch,
  Table,
  Tabs,
  Tag,
  Tooltip,
  Typography,
} from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { PlusOutlined, ReloadOutlined } from '@ant-design/icons';
import { ApiError } from '../../api.ts';
import {
  ADMIN_ROLES,
  ASSIGNABLE_ROLES,
  ROLE_REGION_LENGTH,
  VIEWER_ROLES,
  fieldErrors,
  formatDateTime,
  roleLabel,
  tokensApi,
  usersApi,
  type Role,
  type TokenView,
  type UserView,
} from '../../access/access.ts';
import { RegionField } from '../../access/RegionField.tsx';
import { useRegionNames } from '../../access/region-names.ts';
import { RegionName } from '../../access/RegionName.tsx';
import { SecretModal, type Secret } from '../../access/SecretModal.tsx';
import { useUserList } from '../../access/use-user-list.ts';
import { defineMessages, useLang, useT, type Lang, type Translate } from '../../i18n.ts';
import { levelLabel, type RegionLevel } from '../../regions.ts';
import { useAppState } from '../../shell/app-state.tsx';
import { PageTitle } from '../../shell/PageTitle.tsx';

const messages = defineMessages(
  {
    title: '角色与范围',
    assignments: '用户角色',
    tokens: 'API 令牌',
    search: '按用户名或姓名搜索',
    refresh: '刷新',
    username: '用户名',
    displayName: '姓名',
    role: '角色',
    region: '管辖区域',
    individualAccess: '可查看个人信息',
    individualAccessHint: '市级及以上查看角色默认只能看汇总统计；开启后可查看辖区内个人记录（会被审计）。',
    status: '状态',
    disabled: '已停用',
    twoFactor: '双因素',
    twoFactorPending: '待重新绑定',
    resetTwoFactor: '重置双因素',
    confirmResetTwoFactor:
      '重置 {name} 的双因素验证？其验证器和恢复码将作废，现有登录立即失效，下次登录须重新绑定验证器。',
    twoFactorResetDone: '已重置 {name} 的双因素验证；其下次登录须重新绑定',
    noRole: '未分配',
    noRoleHint: '未分配角色的账户无法登录',
    actions: '操作',
    assign: '分配角色',
    change: '修改',
    consoleOnly: '三员账户只能在服务器控制台管理',
    notYourself: '不能修改自己的角色',
    loadMore: '加载更多',
    assignTitle: '分配角色与管辖区域：{name}',
    roleRequired: '请选择角色',
    regionRequired: '请选择{level}区划',
    regionLevel: '该角色须选择{level}区划',
    regionOptional: '可不选；选择后仅限该区域',
    assigned: '已为 {name} 分配角色；其现有登录已失效，需重新登录',
    conflict: '该用户已被他人修改，列表已刷新，请重新打开后再试。',
    save: '保存',
    cancel: '取消',
    yes: '是',
    no: '否',
    tokenName: '名称',
    tokenNameHint: '调用系统的名称和用途，如“县教育局学籍比对”',
    tokenNameRequired: '请输入名称',
    tokenRolesHint:
      '安全管理员只能签发不接触个人信息的令牌（统计查看、服务机构）；业务人员的接口令牌由本人创建（POST /api/v1/auth/tokens）',
    prefix: '令牌前缀',
    expiresAt: '到期时间',
    lastUsedAt: '最近使用',
    never: '从未使用',
    createdAt: '创建时间',
    tokenStatus: '状态',
    tokenActive: '有效',
    tokenRevoked: '已吊销',
    tokenExpired: '已过期',
    createToken: '新建令牌',
    createTokenTitle: '新建 API 令牌',
    expiresInDays: '有效期（天）',
    tokenCreated: 'API 令牌',
    tokenFor: '“{name}”的令牌（请在调用方以 Authorization: Bearer 令牌 的方式发送）：',
    revoke: '吊销',
    confirmRevoke: '吊销令牌“{name}”？使用它的系统将立即无法访问。',
    revoked: '已吊销令牌“{name}”',
    ok: '确定',
  },
  {
    title: 'Roles',
    assignments: 'User roles',
    tokens: 'API tokens',
    search: 'Search by username or name',
    refresh: 'Refresh',
    username: 'Username',
    displayName: 'Name',
    role: 'Role',
    region: 'Region',
    individualAccess: 'May see individuals',
    individualAccessHint:
      'Viewers above the county see aggregate statistics only; with this they may open individual records in their region (audited).',
    status: 'Status',
    disabled: 'Disabled',
    twoFactor: '2FA',
    twoFactorPending: 'Must enrol again',
    resetTwoFactor: 'Reset 2FA',
    confirmResetTwoFactor:
      "Reset {name}'s two-factor authentication? Their authenticator and recovery codes stop working, their sessions end, and they enrol again at the next sign-in.",
    twoFactorResetDone: "{name}'s two-factor authentication was reset; they enrol again at the next sign-in",
    noRole: 'None',
    noRoleHint: 'An account without a role cannot sign in',
    actions: 'Actions',
    assign: 'Assign role',
    change: 'Change',
    consoleOnly: 'Administrator accounts are managed on the server console only',
    notYourself: 'You cannot change your own role',
    loadMore: 'Load more',
    assignTitle: 'Role and region: {name}',
    roleRequired: 'Choose a role',
    regionRequired: 'Choose a region at {level} level',
    regionLevel: 'This role needs a region at {level} level',
    regionOptional: 'Optional; when chosen, limited to that region',
    assigned: 'Role assigned to {name}; their current sessions ended and they must sign in again',
    conflict: 'Someone else changed this user; the list was reloaded. Open it again and retry.',
    save: 'Save',
    cancel: 'Cancel',
    yes: 'Yes',
    no: 'No',
    tokenName: 'Name',
    tokenNameHint: 'The calling system and its purpose, e.g. “county education bureau enrolment check”',
    tokenNameRequired: 'Enter a name',
    tokenRolesHint:
      'The security administrator issues only tokens that reach no personal data (statistics viewers, service providers); a business user makes his own (POST /api/v1/auth/tokens)',
    prefix: 'Prefix',
    expiresAt: 'Expires',
    lastUsedAt: 'Last used',
    never: 'Never',
    createdAt: 'Created',
    tokenStatus: 'Status',
    tokenActive: 'Active',
    tokenRevoked: 'Revoked',
    tokenExpired: 'Expired',
    createToken: 'New token',
    createTokenTitle: 'New API token',
    expiresInDays: 'Valid for (days)',
    tokenCreated: 'API token',
    tokenFor: 'The token “{name}” (the caller sends it as Authorization: Bearer <token>):',
    revoke: 'Revoke',
    confirmRevoke: 'Revoke the token “{name}”? The system using it loses access at once.',
    revoked: 'Token “{name}” revoked',
    ok: 'OK',
  },
);
type Key = keyof typeof messages.zh;

const LEVEL_OF_LENGTH: Record<number, RegionLevel> = {
  2: 'province',
  4: 'prefecture',
  6: 'county',
  9: 'township',
  12: 'village',
};

function roleOptions(lang: Lang, roles: readonly Role[]) {
  return roles.map((role) => ({ value: role, label: roleLabel(role, lang) }));
}

/**
 * The roles the security administrator may give a token: none that reaches personal data (the server
 * refuses the others, access.service.ts createToken); a business user makes his own token.
 */
const TOKEN_ROLES: readonly Role[] = [...VIEWER_ROLES, 'service_provider'];

interface ScopeValues {
  role: Role;
  regionCode: string | null;
  individualAccess: boolean;
}

/** Role, region at the level the role needs, and individual access for viewers: for accounts and tokens. */
function ScopeFields({ t, lang, forToken = false }: { t: Translate<Key>; lang: Lang; forToken?: boolean }) {
  const form = Form.useFormInstance<ScopeValues>();
  const role = Form.useWatch('role', form);
  const length = role ? ROLE_REGION_LENGTH[role] : null;
  const level = length ? levelLabel(LEVEL_OF_LENGTH[length] ?? 'county', lang) : '';
  return (
    <>
      <Form.Item
        name="role"
        label={t('role')}
        {...(forToken ? { extra: t('tokenRolesHint') } : {})}
        rules={[{ required: true, message: t('roleRequired') }]}
      >
        <Select
          options={roleOptions(lang, forToken ? TOKEN_ROLES : ASSIGNABLE_ROLES)}
          showSearch={{ optionFilterProp: 'label' }}
          onChange={() => form.setFieldValue('regionCode', null)}
        />
      </Form.Item>
      <Form.Item
        name="regionCode"
        label={t('region')}
        extra={length ? t('regionLevel', { level }) : t('regionOptional')}
        rules={[
          {
            validator: (_rule, value: string | null | undefined) => {
              if (!length) return Promise.resolve();
              if (!value) return Promise.reject(new Error(t('regionRequired', { level })));
              return value.length === length
                ? Promise.resolve()
                : Promise.reject(new Error(t('regionLevel', { level })));
            },
          },
        ]}
      >
        <RegionField depth={length ?? 12} data-testid="scope-region" />
      </Form.Item>
      {role && VIEWER_ROLES.includes(role) && !forToken && (
        <Form.Item
          name="individualAccess"
          label={t('individualAccess')}
          extra={t('individualAccessHint')}
          valuePropName="checked"
        >
          <Switch />
        </Form.Item>
      )}
    </>
  );
}

function Assignments() {
  const t = useT(messages);
  const lang = useLang();
  const { me, can } = useAppState();
  const { message } = App.useApp();
  const [q, setQ] = useState('');
  const list = useUserList(q);
  const regionNames = useRegionNames(list.items.map((u) => u.regionCode));
  const [editing, setEditing] = useState<UserView | null>(null);
  const [busy, setBusy] = useState(false);
  const [form] = Form.useForm<ScopeValues>();

  useEffect(() => {
    if (editing)
      form.setFieldsValue({
        role: editing.role ?? undefined,
        regionCode: editing.regionCode,
        individualAccess: editing.individualAccess,
      });
  }, [editing, form]);

  const save = async (values: ScopeValues) => {
    if (!editing) return;
    setBusy(true);
    try {
      const updated = await usersApi.assignRole(editing.id, {
        role: values.role,
        regionCode: values.regionCode ?? null,
        individualAccess: VIEWER_ROLES.includes(values.role) ? (values.individualAccess ?? false) : false,
        version: editing.version,
      });
      list.replace(updated);
      setEditing(null);
      void message.success(t('assigned', { name: updated.displayName }));
    } catch (error) {
      const fields = fieldErrors(error);
      if (error instanceof ApiError && error.code === 'CONFLICT') {
        void message.warning(t('conflict'));
        setEditing(null);
        list.reload();
      } else if (fields.length)
        form.setFields(fields.map((f) => ({ ...f, name: f.name as keyof ScopeValues })));
      else void message.error((error as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const resetTwoFactor = (user: UserView) =>
    usersApi
      .resetTwoFactor(user.id)
      .then((updated) => {
        list.replace(updated);
        void message.success(t('twoFactorResetDone', { name: updated.displayName }));
      })
      .catch((error: unknown) => {
        if (error instanceof ApiError && error.code === 'CONFLICT') list.reload();
        void message.error((error as Error).message);
      });

  const columns: ColumnsType<UserView> = [
    {
      title: t('username'),
      dataIndex: 'username',
      width: 150,
      render: (username: string) => <Typography.Text code>{username}</Typography.Text>,
    },
    { title: t('displayName'), dataIndex: 'displayName', ellipsis: true },
    {
      title: t('role'),
      dataIndex: 'role',
      width: 160,
      render: (role: UserView['role']) =>
        role ? (
          roleLabel(role, lang)
        ) : (
          <Tooltip title={t('noRoleHint')}>
            <Tag color="orange">{t('noRole')}</Tag>
          </Tooltip>
        ),
    },
    {
      title: t('region'),
      dataIndex: 'regionCode',
      width: 180,
      render: (code: string | null) => <RegionName code={code} names={regionNames} />,
    },
    {
      title: t('individualAccess'),
      dataIndex: 'individualAccess',
      width: 120,
      render: (value: boolean, user) =>
        user.role && VIEWER_ROLES.includes(user.role) ? (value ? t('yes') : t('no')) : '',
    },
    {
      title: t('status'),
      key: 'status',
      width: 130,
      render: (_, user) => (
        <>
          {user.disabled && <Tag>{t('disabled')}</Tag>}
          {user.twoFactorEnabled && <Tag color="blue">{t('twoFactor')}</Tag>}
          {user.twoFactorResetPending && <Tag color="orange">{t('twoFactorPending')}</Tag>}
        </>
      ),
    },
    {
      title: t('actions'),
      key: 'actions',
      width: 190,
      fixed: 'right',
      render: (_, user) => {
        const why =
          user.role && ADMIN_ROLES.includes(user.role)
            ? t('consoleOnly')
            : user.id === me?.user.id
              ? t('notYourself')
              : null;
        return why ? (
          <Tooltip title={why}>
            <Typography.Text type="secondary">—</Typography.Text>
          </Tooltip>
        ) : (
          <>
            <Button type="link" size="small" onClick={() => setEditing(user)}>
              {user.role ? t('change') : t('assign')}
            </Button>
            {user.twoFactorEnabled && can('twofactor.reset') && (
              <Popconfirm
                title={t('confirmResetTwoFactor', { name: `${user.displayName}（${user.username}）` })}
                okText={t('resetTwoFactor')}
                okButtonProps={{ danger: true }}
                cancelText={t('cancel')}
                onConfirm={() => resetTwoFactor(user)}
              >
                <Button type="link" size="small" danger>
                  {t('resetTwoFactor')}
                </Button>
              </Popconfirm>
            )}
          </>
        );
      },
    },
  ];

  return (
    <>
      <div style={{ display: 'flex', gap: 8, marginBottom: 12, flexWrap: 'wrap' }}>
        <Input.Search
          allowClear
          placeholder={t('search')}
          onSearch={(value) => setQ(value.trim())}
          style={{ width: 240 }}
        />
        <Button icon={<ReloadOutlined />} onClick={list.reload} aria-label={t('refresh')} />
      </div>
      {list.error && <Alert type="error" showIcon title={list.error} style={{ marginBottom: 12 }} />}
      <Table<UserView>
        rowKey="id"
        size="small"
        data-testid="roles-table"
        columns={columns}
        dataSource={list.items}
        loading={list.loading}
        pagination={false}
        scroll={{ x: 900 }}
      />
      {list.nextCursor && (
        <div style={{ textAlign: 'center', marginTop: 12 }}>
          <Button onClick={list.loadMore} loading={list.loading}>
            {t('loadMore')}
          </Button>
        </div>
      )}
      <Modal
        open={editing !== null}
        title={editing ? t('assignTitle', { name: `${editing.displayName}（${editing.username}）` }) : ''}
        okText={t('save')}
        cancelText={t('cancel')}
        confirmLoading={busy}
        onOk={() => form.submit()}
        onCancel={() => setEditing(null)}
        destroyOnHidden
      >
        <Form
          form={form}
          layout="vertical"
          requiredMark={false}
          preserve={false}
          onFinish={(values) => void save(values)}
        >
          <ScopeFields t={t} lang={lang} />
        </Form>
      </Modal>
    </>
  );
}

function tokenState(token: TokenView): 'tokenActive' | 'tokenRevoked' | 'tokenExpired' {
  if (token.revokedAt) return 'tokenRevoked';
  return new Date(token.expiresAt).getTime() <= Date.now() ? 'tokenExpired' : 'tokenActive';
}

interface TokenValues extends ScopeValues {
  name: string;
  expiresInDays: number;
}

function Tokens() {
  const t = useT(messages);
  const lang = useLang();
  const { message } = App.useApp();
  const [items, setItems] = useState<TokenView[]>([]);
  const [loading, setLoading] = useState(true);
  const [generation, setGeneration] = useState(0);
  const [creating, setCreating] = useState(false);
  const [busy, setBusy] = useState(false);
  const [secret, setSecret] = useState<Secret | null>(null);
  const [form] = Form.useForm<TokenValues>();
  const regionNames = useRegionNames(items.map((token) => token.regionCode));

  useEffect(() => {
    let live = true;
    setLoading(true);
    tokensApi
      .list()
      .then((list) => live && setItems(list))
      .catch((error: unknown) => void message.error((error as Error).message))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [generation, message]);

  const create = async (values: TokenValues) => {
    setBusy(true);
    try {
      const created = await tokensApi.create({
        name: values.name.trim(),
        role: values.role,
        regionCode: values.regionCode ?? null,
        individualAccess: VIEWER_ROLES.includes(values.role) ? (values.individualAccess ?? false) : false,
        expiresInDays: values.expiresInDays,
      });
      setItems((current) => [created.item, ...current]);
      setCreating(false);
      setSecret({
        title: t('tokenCreated'),
        subject: t('tokenFor', { name: created.item.name }),
        secret: created.token,
      });
    } catch (error) {
      const fields = fieldErrors(error);
      if (fields.length) form.setFields(fields.map((f) => ({ ...f, name: f.name as keyof TokenValues })));
      else void message.error((error as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const revoke = (token: TokenView) =>
    tokensApi
      .revoke(token.id)
      .then((updated) => {
        setItems((current) => current.map((item) => (item.id === updated.id ? updated : item)));
        void message.success(t('revoked', { name: updated.name }));
      })
      .catch((error: unknown) => void message.error((error as Error).message));

  const columns: ColumnsType<TokenView> = [
    { title: t('tokenName'), dataIndex: 'name', ellipsis: true },
    {
      title: t('prefix'),
      dataIndex: 'prefix',
      width: 130,
      render: (prefix: string) => <Typography.Text code>{prefix}…</Typography.Text>,
    },
    { title: t('role'), dataIndex: 'role', width: 150, render: (role: Role) => roleLabel(role, lang) },
    {
      title: t('region'),
      dataIndex: 'regionCode',
      width: 160,
      render: (code: string | null) => (code ? (regionNames[code] ?? code) : '—'),
    },
    {
      title: t('tokenStatus'),
      key: 'status',
      width: 90,
      render: (_, token) => {
        const state = tokenState(token);
        return <Tag color={state === 'tokenActive' ? 'green' : 'default'}>{t(state)}</Tag>;
      },
    },
    { title: t('expiresAt'), dataIndex: 'expiresAt', width: 140, render: (at: string) => formatDateTime(at) },
    {
      title: t('lastUsedAt'),
      dataIndex: 'lastUsedAt',
      width: 140,
      render: (at: string | null) =>
        at ? formatDateTime(at) : <Typography.Text type="secondary">{t('never')}</Typography.Text>,
    },
    {
      title: t('actions'),
      key: 'actions',
      width: 80,
      fixed: 'right',
      render: (_, token) =>
        tokenState(token) === 'tokenActive' ? (
          <Popconfirm
            title={t('confirmRevoke', { name: token.name })}
            okText={t('revoke')}
            okButtonProps={{ danger: true }}
            cancelText={t('cancel')}
            onConfirm={() => revoke(token)}
          >
            <Button type="link" size="small" danger>
              {t('revoke')}
            </Button>
          </Popconfirm>
        ) : null,
    },
  ];

  return (
    <>
      <div style={{ display: 'flex', gap: 8, marginBottom: 12 }}>
        <Button
          type="primary"
          icon={<PlusOutlined />}
          onClick={() => {
            form.resetFields();
            setCreating(true);
          }}
        >
          {t('createToken')}
        </Button>
        <Button
          icon={<ReloadOutlined />}
          onClick={() => setGeneration((n) => n + 1)}
          aria-label={t('refresh')}
        />
      </div>
      <Table<TokenView>
        rowKey="id"
        size="small"
        data-testid="tokens-table"
        columns={columns}
        dataSource={items}
        loading={loading}
        pagination={{ pageSize: 20, hideOnSinglePage: true, size: 'small' }}
        scroll={{ x: 950 }}
      />
      <Modal
        open={creating}
        title={t('createTokenTitle')}
        okText={t('createToken')}
        cancelText={t('cancel')}
        confirmLoading={busy}
        onOk={() => form.submit()}
        onCancel={() => setCreating(false)}
        destroyOnHidden
      >
        <Form
          form={form}
          layout="vertical"
          requiredMark={false}
          preserve={false}
          initialValues={{ expiresInDays: 90, individualAccess: false }}
          onFinish={(values) => void create(values)}
        >
          <Form.Item
            name="name"
            label={t('tokenName')}
            extra={t('tokenNameHint')}
            rules={[{ required: true, whitespace: true, message: t('tokenNameRequired') }]}
          >
            <Input maxLength={100} />
          </Form.Item>
          <ScopeFields t={t} lang={lang} forToken />
          <Form.Item name="expiresInDays" label={t('expiresInDays')} rules={[{ required: true }]}>
            <InputNumber min={1} max={366} precision={0} style={{ width: 140 }} />
          </Form.Item>
        </Form>
      </Modal>
      <SecretModal secret={secret} onClose={() => setSecret(null)} />
    </>
  );
}

export default function Roles() {
  const t = useT(messages);
  const { can } = useAppState();
  return (
    <>
      <PageTitle title={t('title')} />
      <div style={{ background: '#fff', padding: '4px 16px 16px', borderRadius: 4 }}>
        <Tabs
          items={[
            { key: 'assignments', label: t('assignments'), children: <Assignments /> },
            ...(can('tokens.manage') ? [{ key: 'tokens', label: t('tokens'), children: <Tokens /> }] : []),
          ]}
        />
      </div>
    </>
  );
}
