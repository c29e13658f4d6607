// A secret the server shows once (a temporary password, an API token): large, copyable, with the
// warning that it cannot be shown again. Closing needs a deliberate click.
import { Alert, App, Button, Modal, Typography } from 'antd';
import { CopyOutlined } from '@ant-design/icons';
import { defineMessages, useT } from '../i18n.ts';
import { copyText } from './access.ts';

const messages = defineMessages(
  {
    once: '只显示这一次，关闭后无法再次查看。请立即复制并通过安全渠道交给使用人。',
    copy: '复制',
    copied: '已复制',
    copyFailed: '无法自动复制，请手动抄写',
    close: '我已记下，关闭',
  },
  {
    once: 'Shown only this once; it cannot be seen again after closing. Copy it now and hand it over securely.',
    copy: 'Copy',
    copied: 'Copied',
    copyFailed: 'Could not copy; write it down instead',
    close: 'I have it, close',
  },
);

export interface Secret {
  title: string;
  /** Who or what the secret is for, e.g. "张三 (zhangsan)". */
  subject: string;
  secret: string;
  hint?: string;
}

export function SecretModal({ secret, onClose }: { secret: Secret | null; onClose: () => void }) {
  const t = useT(messages);
  const { message } = App.useApp();
  return (
    <Modal
      open={secret !== null}
      title={secret?.title}
      onCancel={onClose}
      maskClosable={false}
      keyboard={false}
      destroyOnHidden
      footer={
        <Button type="primary" onClick={onClose}>
          {t('close')}
        </Button>
      }
    >
      {secret && (
        <>
          <Typography.Paragraph style={{ marginBottom: 8 }}>{secret.subject}</Typography.Paragraph>
          <div
            style={{
              display: 'flex',
              alignItems: 'center',
              gap: 8,
              padding: '10px 12px',
              background: '#f7f8fa',
              border: '1px solid #e5e8ed',
              borderRadius: 4,
              marginBottom: 12,
            }}
          >
            <code
              data-testid="shown-once-secret"
              style={{ flex: 1, fontSize: 16, wordBreak: 'break-all', userSelect: 'all' }}
            >
              {secret.secret}
            </code>
            <Button
              icon={<CopyOutlined />}
              onClick={() =>
                void copyText(secret.secret).then((ok) =>
                  ok ? message.success(t('copied')) : message.warning(t('copyFailed')),
                )
              }
            >
              {t('copy')}
            </Button>
          </div>
          <Alert type="warning" showIcon title={t('once')} description={secret.hint} />
        </>
      )}
    </Modal>
  );
}
