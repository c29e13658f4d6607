// A dated fact in words, as the person file and its edit page show it: the kind in the interface
// language, the period, the data that matter (where a migrant works, a disability's category and
// grade, the school), and for a retracted fact who retracted it, when and why - the retract dialog
// promises that the history keeps them.
import { Space, Tag, Typography } from 'antd';
import { formatDateTime } from '../access/access.ts';
import { defineMessages, useLang, useT } from '../i18n.ts';
import { useAppState } from '../shell/app-state.tsx';
import { describeFactData, factLabel } from './person-edit.ts';
import type { Fact } from './persons.ts';

const messages = defineMessages(
  {
    openEnded: '至今',
    retracted: '已撤回',
    retraction: '{who}于 {when} 撤回；{why}',
    reason: '原因：{reason}',
    noReason: '未填写原因',
    you: '您（{name}）',
    user: '用户 #{id}',
    system: '系统',
  },
  {
    openEnded: 'ongoing',
    retracted: 'Retracted',
    retraction: 'Retracted by {who} on {when}; {why}',
    reason: 'Reason: {reason}',
    noReason: 'no reason given',
    you: 'you ({name})',
    user: 'user #{id}',
    system: 'the system',
  },
);

/** "由谁、何时、为何撤回" of a retracted fact; nothing for a fact in force. */
export function FactRetraction({ fact }: { fact: Fact }) {
  const t = useT(messages);
  const { me } = useAppState();
  if (!fact.retractedAt) return null;
  // The person file names the user by id only; the signed-in user knows their own name.
  const who =
    fact.retractedBy === null
      ? t('system')
      : me && me.user.id === fact.retractedBy
        ? t('you', { name: me.user.displayName })
        : t('user', { id: fact.retractedBy });
  return (
    <Typography.Text type="secondary" style={{ fontSize: 12 }} data-testid={`fact-retraction-${fact.id}`}>
      {t('retraction', {
        who,
        when: formatDateTime(fact.retractedAt),
        why: fact.retractionReason ? t('reason', { reason: fact.retractionReason }) : t('noReason'),
      })}
    </Typography.Text>
  );
}

/** One fact of the person file: kind, period, details and, if retracted, the retraction. */
export function FactSummary({ fact }: { fact: Fact }) {
  const t = useT(messages);
  const lang = useLang();
  const label = factLabel(fact.kind, lang);
  const details = describeFactData(fact.kind, fact.data, lang);
  return (
    <Space orientation="vertical" size={2} style={{ width: '100%' }} data-testid={`fact-${fact.id}`}>
      <Space size={[8, 4]} wrap>
        <Typography.Text strong delete={fact.retractedAt !== null}>
          {label}
        </Typography.Text>
        {fact.retractedAt && <Tag style={{ marginInlineEnd: 0 }}>{t('retracted')}</Tag>}
        <Typography.Text type="secondary">
          {fact.from} – {fact.to ?? t('openEnded')}
        </Typography.Text>
      </Space>
      {details && <Typography.Text>{details}</Typography.Text>}
      <FactRetraction fact={fact} />
    </Space>
  );
}
