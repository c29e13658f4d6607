// A person's links, each with its dates (the person file and its edit page). On the edit page
// (`onChanged` given) a current link other than a biological parent's can be ended on a date
// (POST /persons/{id}/relations/{relationId}/end): a divorce, an entrusted care or a guardianship that
// ended. The link stays on the file with its end.
import { useState } from 'react';
import { Alert, Button, Input, List, Space, Typography } from 'antd';
import { ApiError } from '../api.ts';
import { defineMessages, useLang, useT } from '../i18n.ts';
import { Link } from '../router.tsx';
import { errorText } from './form-errors.tsx';
import { RELATION_WORDS, personEditApi } from './person-edit.ts';
import type { Relation } from './persons.ts';

const messages = defineMessages(
  {
    none: '—',
    since: '自 {date}',
    until: '至 {date}',
    end: '结束',
    endOn: '结束日期（当日起不再成立）',
    confirm: '确认结束',
    cancel: '取消',
    required: '必填',
  },
  {
    none: '—',
    since: 'since {date}',
    until: 'until {date}',
    end: 'End',
    endOn: 'Ends on (the first day it no longer holds)',
    confirm: 'End the link',
    cancel: 'Cancel',
    required: 'Required',
  },
);

const endable = (r: Relation) => r.validTo === null && !(r.kind === 'parent' && r.subtype === 'biological');

export function RelationsList({
  personId,
  relations,
  onChanged,
}: {
  personId: number;
  relations: readonly Relation[];
  /** Where links may be ended: called after one is. */
  onChanged?: () => void;
}) {
  const t = useT(messages);
  const lang = useLang();
  const [ending, setEnding] = useState<number | null>(null);
  const [to, setTo] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const end = async (relationId: number) => {
    if (!to) {
      setError(t('required'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await personEditApi.endRelation(personId, relationId, to);
      setEnding(null);
      setTo('');
      onChanged?.();
    } catch (e) {
      // A field error (an end before the start, after today) names the field; show its reason.
      const detail = e instanceof ApiError ? e.details.find((d) => d.path.includes('to')) : undefined;
      setError(detail?.message ?? errorText(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <List
      size="small"
      dataSource={[...relations]}
      locale={{ emptyText: t('none') }}
      data-testid="relations-list"
      renderItem={(r) => (
        <List.Item
          actions={
            onChanged && endable(r) && ending !== r.id
              ? [
                  <Button
                    key="end"
                    size="small"
                    onClick={() => {
                      setEnding(r.id);
                      setTo('');
                      setError(null);
                    }}
                  >
                    {t('end')}
                  </Button>,
                ]
              : []
          }
        >
          <Space orientation="vertical" size={4} style={{ width: '100%' }}>
            <Space size={8} wrap>
              <Link to={`/persons/${r.personId}`}>{r.name}</Link>
              <Typography.Text type="secondary">
                {RELATION_WORDS[r.role]?.[lang] ?? r.role}
                {r.subtype ? ` (${RELATION_WORDS[r.subtype]?.[lang] ?? r.subtype})` : ''}
              </Typography.Text>
              {r.validFrom && (
                <Typography.Text type="secondary">{t('since', { date: r.validFrom })}</Typography.Text>
              )}
              {r.validTo && (
                <Typography.Text type="secondary">{t('until', { date: r.validTo })}</Typography.Text>
              )}
            </Space>
            {ending === r.id && (
              <Space wrap align="start" data-testid="relation-end-form">
                <Input
                  type="date"
                  aria-label={t('endOn')}
                  value={to}
                  onChange={(e) => setTo(e.target.value)}
                  style={{ width: 170 }}
                />
                <Button type="primary" loading={busy} onClick={() => void end(r.id)}>
                  {t('confirm')}
                </Button>
                <Button onClick={() => setEnding(null)}>{t('cancel')}</Button>
                {error && <Alert type="error" showIcon title={error} />}
              </Space>
            )}
          </Space>
        </List.Item>
      )}
    />
  );
}
