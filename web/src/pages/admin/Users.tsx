// 用户管理: the system administrator's accounts. Create an account (its temporary password is
// shown once), disable or enable it, reset its password. Roles and regions are the security
// administrator's (角色与范围); the three administrator accounts are managed on the server console.
import { useState } from 'react';
import {
  Alert,
  App,
  Button,
  Form,
  Input,
  Modal,
  Popconfirm,
  Space,
  Table,
  Tag,
  Tooltip,
  Typography,
} from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { PlusOutlined, ReloadOutlined } from '@ant-design/icons';
import { ApiError } from '../../api.ts';
import {
  ADMIN_ROLES,
  fieldErrors,
  formatDateTime,
  roleLabel,
  usersApi,
  type UserView,
} from '../../access/access.ts';
import { useRegionNames } from '../../access/region-names.ts';
import { RegionName } from '../../access/RegionName.tsx';
import { SecretModal, type Secret } from '../../access/SecretModal.tsx';
import { useUserList } from '../../access/use-user-list.ts';
import { defineMessages, useLang, useT } from '../../i18n.ts';
import { useAppState } from '../../shell/app-state.tsx';
import { PageTitle } from '../../shell/PageTitle.tsx';

const messages = defineMessages(
  {
    title: '用户管理',
    search: '按用户名或姓名搜索',
    create: '新建用户',
    refresh: '刷新',
    username: '用户名',
    displayName: '姓名',
    role: '角色',
    region: '管辖区域',
    status: '状态',
    createdAt: '创建时间',
    actions: '操作',
    noRole: '未分配',
    active: '正常',
    disabled: '已停用',
    locked: '已锁定',
    mustChange: '待改密码',
    twoFactor: '双因素',
    disable: '停用',
    enable: '启用',
    resetPassword: '重置密码',
    confirmDisable: '停用 {name}？该用户将立即被退出登录，且无法再登录。',
    confirmEnable: '启用 {name}？',
    confirmReset: '为 {name} 生成新的临时密码？该用户将被退出登录，下次登录须修改密码。',
    ok: '确定',
    cancel: '取消',
    consoleOnly: '三员账户只能在服务器控制台管理',
    notYourself: '不能对自己的账户执行此操作',
    loadMore: '加载更多',
    createTitle: '新建用户',
    createHint: '新用户须由安全管理员在“角色与范围”中分配角色和管辖区域后才能登录。',
    usernameRule: '3–64 位字母、数字、点、短横线或下划线，以字母或数字开头',
    displayNameRule: '请输入姓名或岗位名称',
    created: '已创建用户 {name}',
    temporaryPassword: '临时密码',
    passwordFor: '{name}（{username}）的临时密码：',
    firstSignIn: '首次登录后须立即修改密码。',
    disabledDone: '已停用 {name}',
    enabledDone: '已启用 {name}',
    conflict: '该用户已被他人修改，列表已刷新，请重试。',
  },
  {
    title: 'Users',
    search: 'Search by username or name',
    create: 'New user',
    refresh: 'Refresh',
    username: 'Username',
    displayName: 'Name',
    role: 'Role',
    region: 'Region',
    status: 'Status',
    createdAt: 'Created',
    actions: 'Actions',
    noRole: 'None yet',
    active: 'Active',
    disabled: 'Disabled',
    locked: 'Locked',
    mustChange: 'Must change password',
    twoFactor: '2FA',
    disable: 'Disable',
    enable: 'Enable',
    resetPassword: 'Reset password',
    confirmDisable: 'Disable {name}? They are signed out at once and cannot sign in.',
    confirmEnable: 'Enable {name}?',
    confirmReset:
      'Give {name} a new temporary password? They are signed out and must change it at the next sign-in.',
    ok: 'OK',
    cancel: 'Cancel',
    consoleOnly: 'Administrator accounts are managed on the server console only',
    notYourself: 'You cannot do this to your own account',
    loadMore: 'Load more',
    createTitle: 'New user',
    createHint:
      'The security administrator assigns a role and region under “Roles” before the new user can sign in.',
    usernameRule: '3–64 letters, digits, dots, dashes or underscores, starting with a letter or digit',
    displayNameRule: 'Enter a name or post',
    created: 'User {name} created',
    temporaryPassword: 'Temporary password',
    passwordFor: 'Temporary password of {name} ({username}):',
    firstSignIn: 'It must be changed at the first sign-in.',
    disabledDone: '{name} disabled',
    enabledDone: '{name} enabled',
    conflict: 'Someone else changed this user; the list was reloaded. Try again.',
  },
);

const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$/;

export default function Users() {
  const t = useT(messages);
  const lang = useLang();
  const { me } = useAppState();
  const { message } = App.useApp();
  const [q, setQ] = useState('');
  const list = useUserList(q);
  const regionNames = useRegionNames(list.items.map((u) => u.regionCode));
  const [creating, setCreating] = useState(false);
  const [busy, setBusy] = useState(false);
  const [secret, setSecret] = useState<Secret | null>(null);
  const [form] = Form.useForm<{ username: string; displayName: string }>();

  const failed = (error: unknown) => {
    if (error instanceof ApiError && error.code === 'CONFLICT') {
      void message.warning(t('conflict'));
      list.reload();
    } else void message.error((error as Error).message);
  };

  const create = async (values: { username: string; displayName: string }) => {
    setBusy(true);
    try {
      const created = await usersApi.create({
        username: values.username.trim(),
        displayName: values.displayName.trim(),
      });
      list.prepend(created.user);
      setCreating(false);
      form.resetFields();
      void message.success(t('created', { name: created.user.displayName }));
      showPassword(created.user, created.temporaryPassword);
    } catch (error) {
      const fields = fieldErrors(error);
      if (fields.length) form.setFields(fields.map((f) => ({ ...f, name: f.name as 'username' })));
      else if (error instanceof ApiError && error.code === 'CONFLICT')
        form.setFields([{ name: 'username', errors: [error.message] }]);
      else failed(error);
    } finally {
      setBusy(false);
    }
  };

  const showPassword = (user: UserView, password: string) =>
    setSecret({
      title: t('temporaryPassword'),
      subject: t('passwordFor', { name: user.displayName, username: user.username }),
      secret: password,
      hint: t('firstSignIn'),
    });

  const setDisabled = (user: UserView, disabled: boolean) =>
    usersApi
      .setDisabled(user, disabled)
      .then((updated) => {
        list.replace(updated);
        void message.success(t(disabled ? 'disabledDone' : 'enabledDone', { name: updated.displayName }));
      })
      .catch(failed);

  const resetPassword = (user: UserView) =>
    usersApi
      .resetPassword(user.id)
      .then((result) => {
        list.replace(result.user);
        showPassword(result.user, result.temporaryPassword);
      })
      .catch(failed);

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
      width: 150,
      render: (role: UserView['role']) =>
        role ? roleLabel(role, lang) : <Typography.Text type="secondary">{t('noRole')}</Typography.Text>,
    },
    {
      title: t('region'),
      dataIndex: 'regionCode',
      width: 170,
      render: (code: string | null) => <RegionName code={code} names={regionNames} />,
    },
    {
      title: t('status'),
      key: 'status',
      width: 170,
      render: (_, user) => (
        <Space size={4} wrap>
          {user.disabled ? (
            <Tag color="default">{t('disabled')}</Tag>
          ) : (
            <Tag color="green">{t('active')}</Tag>
          )}
          {user.locked && <Tag color="red">{t('locked')}</Tag>}
          {user.mustChangePassword && <Tag color="orange">{t('mustChange')}</Tag>}
          {user.twoFactorEnabled && <Tag color="blue">{t('twoFactor')}</Tag>}
        </Space>
      ),
    },
    {
      title: t('createdAt'),
      dataIndex: 'createdAt',
      width: 140,
      render: (at: string) => formatDateTime(at),
    },
    {
      title: t('actions'),
      key: 'actions',
      width: 150,
      fixed: 'right',
      render: (_, user) => {
        const why =
          user.role && ADMIN_ROLES.includes(user.role)
            ? t('consoleOnly')
            : user.id === me?.user.id
              ? t('notYourself')
              : null;
        const name = `${user.displayName}（${user.username}）`;
        if (why)
          return (
            <Tooltip title={why}>
              <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                —
              </Typography.Text>
            </Tooltip>
          );
        return (
          <Space size={0}>
            <Popconfirm
              title={t(user.disabled ? 'confirmEnable' : 'confirmDisable', { name })}
              okText={t('ok')}
              cancelText={t('cancel')}
              okButtonProps={{ danger: !user.disabled }}
              onConfirm={() => setDisabled(user, !user.disabled)}
            >
              <Button type="link" size="small" danger={!user.disabled}>
                {t(user.disabled ? 'enable' : 'disable')}
              </Button>
            </Popconfirm>
            <Popconfirm
              title={t('confirmReset', { name })}
              okText={t('ok')}
              cancelText={t('cancel')}
              onConfirm={() => resetPassword(user)}
            >
              <Button type="link" size="small">
                {t('resetPassword')}
              </Button>
            </Popconfirm>
          </Space>
        );
      },
    },
  ];

  return (
    <>
      <PageTitle
        title={t('title')}
        extra={
          <Space wrap>
            <Input.Search
              allowClear
              placeholder={t('search')}
              onSearch={(value) => setQ(value.trim())}
              style={{ width: 240 }}
            />
            <Button icon={<ReloadOutlined />} onClick={list.reload} aria-label={t('refresh')} />
            <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)}>
              {t('create')}
            </Button>
          </Space>
        }
      />
      {list.error && <Alert type="error" showIcon title={list.error} style={{ marginBottom: 12 }} />}
      <Table<UserView>
        rowKey="id"
        size="small"
        data-testid="users-table"
        columns={columns}
        dataSource={list.items}
        loading={list.loading}
        pagination={false}
        scroll={{ x: 1000 }}
        style={{ background: '#fff' }}
      />
      {list.nextCursor && (
        <div style={{ textAlign: 'center', marginTop: 12 }}>
          <Button onClick={list.loadMore} loading={list.loading}>
            {t('loadMore')}
          </Button>
        </div>
      )}
      <Modal
        open={creating}
        title={t('createTitle')}
        okText={t('create')}
        cancelText={t('cancel')}
        confirmLoading={busy}
        onOk={() => form.submit()}
        onCancel={() => setCreating(false)}
        destroyOnHidden
      >
        <Alert type="info" showIcon title={t('createHint')} style={{ marginBottom: 16 }} />
        <Form
          form={form}
          layout="vertical"
          requiredMark={false}
          preserve={false}
          onFinish={(values) => void create(values)}
        >
          <Form.Item
            name="username"
            label={t('username')}
            extra={t('usernameRule')}
            rules={[{ required: true, pattern: USERNAME, message: t('usernameRule') }]}
          >
            <Input autoComplete="off" autoCapitalize="none" spellCheck={false} maxLength={64} />
          </Form.Item>
          <Form.Item
            name="displayName"
            label={t('displayName')}
            rules={[{ required: true, whitespace: true, message: t('displayNameRule') }]}
          >
            <Input maxLength={100} />
          </Form.Item>
        </Form>
      </Modal>
      <SecretModal secret={secret} onClose={() => setSecret(null)} />
    </>
  );
}
