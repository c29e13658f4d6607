// A business user's own API tokens (我的令牌): for a script or another system that acts as him, with
// his role and region. He lists them, makes one (his password asked again; the token shown once)
// and revokes one. Laid out as a list, not a wide table: the village director has a phone.
import { useEffect, useState } from 'react';
import {
  Alert,
  App,
  Button,
  Form,
  Input,
  InputNumber,
  List,
  Modal,
  Popconfirm,
  Space,
  Tag,
  Typography,
} from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { ApiError } from '../api.ts';
import { defineMessages, useT } from '../i18n.ts';
import { PageTitle } from '../shell/PageTitle.tsx';
import { showFieldErrors } from '../registry/form-errors.tsx';
import { formatDateTime, ownTokensApi, type TokenView } from './access.ts';
import { SecretModal, type Secret } from './SecretModal.tsx';

const messages = defineMessages(
  {
    title: '我的令牌',
    intro:
      '接口令牌供脚本或其他系统以您的身份、角色和辖区调用本系统接口（以 Authorization: Bearer 令牌 的方式发送）。不再使用时请立即吊销。',
    create: '新建令牌',
    createTitle: '新建我的 API 令牌',
    name: '名称',
    nameHint: '用途，如“村委会报表脚本”',
    nameRequired: '请输入名称',
    expiresInDays: '有效期（天）',
    password: '登录密码',
    passwordHint: '为确认是您本人，请再次输入密码',
    passwordRequired: '请输入密码',
    cancel: '取消',
    none: '您还没有令牌',
    active: '有效',
    revokedState: '已吊销',
    expired: '已过期',
    expiresAt: '到期',
    lastUsedAt: '最近使用',
    never: '从未使用',
    revoke: '吊销',
    confirmRevoke: '吊销令牌“{name}”？使用它的脚本或系统将立即无法访问。',
    revoked: '已吊销令牌“{name}”',
    tokenCreated: '我的 API 令牌',
    tokenFor: '“{name}”的令牌（请在调用方以 Authorization: Bearer 令牌 的方式发送）：',
  },
  {
    title: 'My tokens',
    intro:
      'An API token lets a script or another system call this system as you, with your role and region (sent as Authorization: Bearer <token>). Revoke it as soon as it is no longer used.',
    create: 'New token',
    createTitle: 'New API token of mine',
    name: 'Name',
    nameHint: 'Its purpose, e.g. “village committee report script”',
    nameRequired: 'Enter a name',
    expiresInDays: 'Valid for (days)',
    password: 'Your password',
    passwordHint: 'Enter your password again to confirm it is you',
    passwordRequired: 'Enter your password',
    cancel: 'Cancel',
    none: 'You have no tokens yet',
    active: 'Active',
    revokedState: 'Revoked',
    expired: 'Expired',
    expiresAt: 'Expires',
    lastUsedAt: 'Last used',
    never: 'never',
    revoke: 'Revoke',
    confirmRevoke: 'Revoke the token “{name}”? The script or system using it loses access at once.',
    revoked: 'Token “{name}” revoked',
    tokenCreated: 'My API token',
    tokenFor: 'The token “{name}” (the caller sends it as Authorization: Bearer <token>):',
  },
);

interface Values {
  name: string;
  expiresInDays: number;
  password: string;
}

const FIELDS = ['name', 'expiresInDays', 'password'];

function tokenState(token: TokenView): 'active' | 'revokedState' | 'expired' {
  if (token.revokedAt) return 'revokedState';
  return new Date(token.expiresAt).getTime() <= Date.now() ? 'expired' : 'active';
}

export default function MyTokens() {
  const t = useT(messages);
  const { message } = App.useApp();
  const [items, setItems] = useState<TokenView[]>([]);
  const [loading, setLoading] = useState(true);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const [busy, setBusy] = useState(false);
  const [formError, setFormError] = useState<string[]>([]);
  const [secret, setSecret] = useState<Secret | null>(null);
  const [form] = Form.useForm<Values>();

  useEffect(() => {
    let live = true;
    ownTokensApi
      .list()
      .then((list) => live && setItems(list))
      .catch((error: unknown) => live && setLoadError((error as Error).message))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, []);

  const create = async (values: Values) => {
    setBusy(true);
    setFormError([]);
    try {
      const created = await ownTokensApi.create({
        name: values.name.trim(),
        expiresInDays: values.expiresInDays,
        password: values.password,
      });
      setItems((current) => [created.item, ...current]);
      setCreating(false);
      setSecret({
        title: t('tokenCreated'),
        subject: t('tokenFor', { name: created.item.name }),
        secret: created.token,
      });
    } catch (error) {
      if (error instanceof ApiError) setFormError(showFieldErrors(form, error, FIELDS));
      else setFormError([(error as Error).message]);
    } finally {
      setBusy(false);
    }
  };

  const revoke = (token: TokenView) =>
    ownTokensApi
      .revoke(token.id)
      .then((updated) => {
        setItems((current) => current.map((item) => (item.id === updated.id ? updated : item)));
        void message.success(t('revoked', { name: updated.name }));
      })
      .catch((error: unknown) => void message.error((error as Error).message));

  return (
    <>
      <PageTitle
        title={t('title')}
        extra={
          <Button
            type="primary"
            icon={<PlusOutlined />}
            data-testid="my-token-create"
            onClick={() => {
              form.resetFields();
              setFormError([]);
              setCreating(true);
            }}
          >
            {t('create')}
          </Button>
        }
      />
      <Typography.Paragraph type="secondary">{t('intro')}</Typography.Paragraph>
      {loadError && <Alert type="error" showIcon title={loadError} style={{ marginBottom: 12 }} />}
      <List<TokenView>
        data-testid="my-tokens"
        bordered
        loading={loading}
        dataSource={items}
        locale={{ emptyText: t('none') }}
        style={{ background: '#fff' }}
        renderItem={(token) => {
          const state = tokenState(token);
          return (
            <List.Item
              data-testid="my-token"
              actions={
                state === 'active'
                  ? [
                      <Popconfirm
                        key="revoke"
                        title={t('confirmRevoke', { name: token.name })}
                        okText={t('revoke')}
                        okButtonProps={{ danger: true }}
                        cancelText={t('cancel')}
                        onConfirm={() => revoke(token)}
                      >
                        <Button danger size="small">
                          {t('revoke')}
                        </Button>
                      </Popconfirm>,
                    ]
                  : []
              }
              style={{ flexWrap: 'wrap', rowGap: 8 }}
            >
              <List.Item.Meta
                title={
                  <Space wrap size={8}>
                    <span style={{ wordBreak: 'break-all' }}>{token.name}</span>
                    <Tag color={state === 'active' ? 'green' : 'default'}>{t(state)}</Tag>
                  </Space>
                }
                description={
                  <Space wrap size={[12, 0]}>
                    <Typography.Text code>{token.prefix}…</Typography.Text>
                    <span>
                      {t('expiresAt')} {formatDateTime(token.expiresAt)}
                    </span>
                    <span>
                      {t('lastUsedAt')} {token.lastUsedAt ? formatDateTime(token.lastUsedAt) : t('never')}
                    </span>
                  </Space>
                }
              />
            </List.Item>
          );
        }}
      />
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
        {formError.map((text) => (
          <Alert key={text} type="error" showIcon title={text} style={{ marginBottom: 12 }} />
        ))}
        <Form<Values>
          form={form}
          layout="vertical"
          requiredMark={false}
          preserve={false}
          initialValues={{ expiresInDays: 90 }}
          onFinish={(values) => void create(values)}
          data-testid="my-token-form"
        >
          <Form.Item
            name="name"
            label={t('name')}
            extra={t('nameHint')}
            rules={[{ required: true, whitespace: true, message: t('nameRequired') }]}
          >
            <Input maxLength={100} autoComplete="off" />
          </Form.Item>
          <Form.Item name="expiresInDays" label={t('expiresInDays')} rules={[{ required: true }]}>
            <InputNumber min={1} max={366} precision={0} style={{ width: 140 }} />
          </Form.Item>
          <Form.Item
            name="password"
            label={t('password')}
            extra={t('passwordHint')}
            rules={[{ required: true, message: t('passwordRequired') }]}
          >
            <Input.Password autoComplete="current-password" maxLength={256} />
          </Form.Item>
        </Form>
      </Modal>
      <SecretModal secret={secret} onClose={() => setSecret(null)} />
    </>
  );
}
