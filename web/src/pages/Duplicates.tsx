// Possible duplicates (疑似重复人员) for a clerk: persons without an ID number who share a name and
// birth date within a township, or the pinyin and birth date. Merging names both persons in a
// confirmation; the server keeps both histories (the duplicate's facts and links move to the person
// kept, the duplicate's row stays with a pointer) and audits the merge.
import { useCallback, useEffect, useRef, useState } from 'react';
import { Alert, App, Button, Card, Empty, List, Radio, Space, Tag, Typography } from 'antd';
import { MergeCellsOutlined } from '@ant-design/icons';
import { ApiError, isAbortError } from '../api.ts';
import { defineMessages, useT } from '../i18n.ts';
import { Link } from '../router.tsx';
import { useAppState } from '../shell/app-state.tsx';
import { PageTitle } from '../shell/PageTitle.tsx';
import type { HouseholdMember } from '../registry/households.ts';
import { personEditApi, type DuplicateGroup } from '../registry/person-edit.ts';

const messages = defineMessages(
  {
    title: '疑似重复人员',
    hint: '以下人员没有身份号码，且在同一乡镇同名同出生日期，或拼音与出生日期相同。核实为同一人后，选择保留的一方并合并。',
    sameName: '同乡镇同名同出生日期',
    samePinyin: '拼音与出生日期相同',
    keep: '保留',
    merge: '合并',
    confirmTitle: '确认合并？',
    confirmText: '将“{dup}”（{dupDetail}）合并到“{kept}”（{keptDetail}）。',
    confirmHint:
      '合并后两人的事实记录与家庭关系都归于“{kept}”，“{dup}”的档案保留并指向“{kept}”。此操作记入审计日志，不能在此撤销。',
    merged: '已将 {dup} 合并到 {kept}',
    conflict: '其中一人已被他人修改或合并，列表已刷新，请重新核对。',
    empty: '没有疑似重复人员',
    failed: '未能读取疑似重复人员：请重试',
    retry: '重试',
    more: '加载更多',
    noId: '无身份号码',
    household: '户 {no}',
    none: '—',
  },
  {
    title: 'Possible duplicates',
    hint: 'These persons have no ID number and share a name and birth date within a township, or the pinyin and birth date. Once you have checked they are one person, choose the one to keep and merge.',
    sameName: 'Same name and birth date in a township',
    samePinyin: 'Same pinyin and birth date',
    keep: 'Keep',
    merge: 'Merge',
    confirmTitle: 'Merge these persons?',
    confirmText: 'Merge “{dup}” ({dupDetail}) into “{kept}” ({keptDetail}).',
    confirmHint:
      'Both histories are kept: the facts and links of “{dup}” move to “{kept}”, and the file of “{dup}” stays, pointing to “{kept}”. The merge is audited and cannot be undone here.',
    merged: '{dup} merged into {kept}',
    conflict: 'One of them was changed or merged by someone else; the list was reloaded. Check again.',
    empty: 'No possible duplicates',
    failed: 'The possible duplicates could not be read: retry',
    retry: 'Retry',
    more: 'Load more',
    noId: 'no ID number',
    household: 'household {no}',
    none: '—',
  },
);

export default function Duplicates() {
  const t = useT(messages);
  const { message, modal } = App.useApp();
  const { workingRegion } = useAppState();
  const region = workingRegion?.code;
  const [groups, setGroups] = useState<DuplicateGroup[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  // The person kept in each group, by the group's index; the first one unless chosen.
  const [kept, setKept] = useState<Record<number, number>>({});
  const [busy, setBusy] = useState(false);
  // The first page failed: the list is unknown, not empty (offer 重试, not 加载更多).
  const [firstFailed, setFirstFailed] = useState(false);
  // The region a page answers: a page of an earlier region (a slow 加载更多) is dropped.
  const asked = useRef(0);

  // The first page, or the page after `cursor` added below the groups shown.
  const load = useCallback(
    (signal?: AbortSignal, cursor?: string) => {
      const mine = asked.current;
      return personEditApi
        .duplicates(region, cursor, signal)
        .then((page) => {
          if (mine !== asked.current) return;
          setGroups((current) => (cursor ? [...(current ?? []), ...page.items] : page.items));
          setNext(page.nextCursor);
          if (!cursor) setKept({});
          setFirstFailed(false);
          setError(null);
        })
        .catch((e: unknown) => {
          if (isAbortError(e) || mine !== asked.current) return;
          if (!cursor) {
            // Nothing of this list is known: no groups (the earlier ones may be merged or of another
            // region), no cursor (it would skip every group before it), and a retry of the first page.
            setGroups([]);
            setNext(null);
            setKept({});
            setFirstFailed(true);
          }
          setError(e instanceof ApiError ? e.message : String(e));
        });
    },
    [region],
  );

  useEffect(() => {
    const controller = new AbortController();
    asked.current += 1;
    setGroups(null);
    setNext(null);
    setFirstFailed(false);
    void load(controller.signal);
    return () => controller.abort();
  }, [load]);

  const detail = (p: HouseholdMember) =>
    [p.birthDate, p.idNumber ?? t('noId'), p.householdNo ? t('household', { no: p.householdNo }) : null]
      .filter(Boolean)
      .join(', ');

  const merge = async (dup: HouseholdMember, into: HouseholdMember) => {
    setBusy(true);
    try {
      // The merge carries the duplicate's version, read now.
      const current = await personEditApi.get(dup.id);
      await personEditApi.merge(dup.id, into.id, current.version);
      void message.success(t('merged', { dup: dup.name, kept: into.name }));
      await load();
    } catch (e) {
      if (e instanceof ApiError && e.code === 'CONFLICT') {
        void message.warning(t('conflict'));
        await load();
      } else void message.error(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  const confirm = (dup: HouseholdMember, into: HouseholdMember) =>
    modal.confirm({
      title: t('confirmTitle'),
      content: (
        <>
          <Typography.Paragraph data-testid="merge-confirm-text">
            {t('confirmText', {
              dup: dup.name,
              dupDetail: detail(dup),
              kept: into.name,
              keptDetail: detail(into),
            })}
          </Typography.Paragraph>
          <Typography.Paragraph type="secondary">
            {t('confirmHint', { dup: dup.name, kept: into.name })}
          </Typography.Paragraph>
        </>
      ),
      okText: t('merge'),
      okButtonProps: { danger: true },
      onOk: () => merge(dup, into),
    });

  return (
    <>
      <PageTitle title={t('title')} />
      <Typography.Paragraph type="secondary">{t('hint')}</Typography.Paragraph>
      {error && <Alert type="error" showIcon title={error} style={{ marginBottom: 12 }} />}
      {groups === null ? (
        <Card loading size="small" />
      ) : groups.length === 0 ? (
        firstFailed ? (
          <Empty description={t('failed')} data-testid="duplicates-failed">
            <Button onClick={() => void load()}>{t('retry')}</Button>
          </Empty>
        ) : (
          <Empty description={t('empty')} />
        )
      ) : (
        <Space orientation="vertical" size={12} style={{ width: '100%' }} data-testid="duplicate-groups">
          {groups.map((group, index) => {
            const keptId = kept[index] ?? group.persons[0]?.id;
            const into = group.persons.find((p) => p.id === keptId);
            return (
              <Card
                key={`${group.reason}:${group.persons.map((p) => p.id).join(',')}`}
                size="small"
                title={
                  <Space wrap size={4}>
                    <Tag color={group.reason === 'same_name_birth_township' ? 'red' : 'orange'}>
                      {group.reason === 'same_name_birth_township' ? t('sameName') : t('samePinyin')}
                    </Tag>
                    <Typography.Text type="secondary">{group.birthDate}</Typography.Text>
                  </Space>
                }
              >
                <Radio.Group
                  value={keptId}
                  onChange={(e) => setKept((current) => ({ ...current, [index]: e.target.value as number }))}
                  style={{ width: '100%' }}
                >
                  <List
                    size="small"
                    dataSource={group.persons}
                    renderItem={(p) => (
                      <List.Item
                        actions={
                          into && p.id !== into.id
                            ? [
                                <Button
                                  key="merge"
                                  size="small"
                                  icon={<MergeCellsOutlined />}
                                  disabled={busy}
                                  onClick={() => confirm(p, into)}
                                >
                                  {t('merge')}
                                </Button>,
                              ]
                            : []
                        }
                      >
                        <Space orientation="vertical" size={0}>
                          <Radio value={p.id}>
                            <Link to={`/persons/${p.id}`} onClick={(e) => e.stopPropagation()}>
                              {p.name}
                            </Link>
                            {p.id === keptId && (
                              <Tag color="green" style={{ marginInlineStart: 8 }}>
                                {t('keep')}
                              </Tag>
                            )}
                          </Radio>
                          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                            {detail(p)}
                          </Typography.Text>
                        </Space>
                      </List.Item>
                    )}
                  />
                </Radio.Group>
              </Card>
            );
          })}
          {next && (
            <Button onClick={() => void load(undefined, next)} disabled={busy}>
              {t('more')}
            </Button>
          )}
        </Space>
      )}
    </>
  );
}
