// The worklist (待办): who entered or left a care group in the reader's region (the working region
// when one is chosen), newest first, to be acknowledged once someone has looked at it. On a phone each item is a card (the table's text column
// would be a few characters wide); each item links to the person's file.
import { useCallback, useEffect, useState } from 'react';
import { Alert, Button, Card, Empty, Segmented, Space, Spin, Table, Tag, Typography } from 'antd';
import { ApiError, isAbortError } from '../api.ts';
import { defineMessages, useLang, useT } from '../i18n.ts';
import { Link } from '../router.tsx';
import { useAppState } from '../shell/app-state.tsx';
import { PageTitle } from '../shell/PageTitle.tsx';
import { PHONE_TAP_TARGET, useIsPhone } from '../shell/responsive.ts';
import { groupsApi, type WorklistItem } from '../groups/groups.ts';

const messages = defineMessages(
  {
    title: '待办事项',
    open: '未处理',
    all: '全部',
    entered: '新增',
    left: '退出',
    date: '日期',
    item: '事项',
    acknowledge: '标为已阅',
    acknowledged: '已处理',
    more: '加载更多',
    empty: '没有待办事项',
    person: '查看人员',
  },
  {
    title: 'Worklist',
    open: 'Open',
    all: 'All',
    entered: 'Entered',
    left: 'Left',
    date: 'Date',
    item: 'Item',
    acknowledge: 'Acknowledge',
    acknowledged: 'Acknowledged',
    more: 'Load more',
    empty: 'Nothing to do',
    person: 'Open person',
  },
);

export default function Worklist() {
  const t = useT(messages);
  const lang = useLang();
  const isPhone = useIsPhone();
  const { workingRegion } = useAppState();
  const region = workingRegion?.code ?? '';
  const [status, setStatus] = useState<'open' | 'all'>('open');
  const [items, setItems] = useState<WorklistItem[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(
    (cursor: string | null, signal?: AbortSignal) =>
      groupsApi
        .worklist(region, status, cursor, signal)
        .then((page) => {
          setItems((prev) => (cursor ? [...(prev ?? []), ...page.items] : page.items));
          setNext(page.nextCursor);
        })
        .catch((e: unknown) => {
          if (!isAbortError(e)) setError(e instanceof ApiError ? e.message : String(e));
        }),
    [region, status],
  );

  useEffect(() => {
    const controller = new AbortController();
    setItems(null);
    setNext(null);
    setError(null);
    void load(null, controller.signal);
    return () => controller.abort();
  }, [load]);

  const acknowledge = (id: number) =>
    void groupsApi
      .acknowledge(id)
      .then((done) =>
        setItems((prev) =>
          status === 'open'
            ? (prev ?? []).filter((i) => i.id !== id)
            : (prev ?? []).map((i) => (i.id === id ? done : i)),
        ),
      )
      .catch((e: unknown) => setError(e instanceof ApiError ? e.message : String(e)));

  const kindTag = (i: WorklistItem) =>
    i.kind === 'group_entered' ? <Tag color="orange">{t('entered')}</Tag> : <Tag>{t('left')}</Tag>;
  const action = (i: WorklistItem) =>
    i.acknowledgedAt ? (
      <Tag color="green">{t('acknowledged')}</Tag>
    ) : (
      <Button size="small" onClick={() => acknowledge(i.id)}>
        {t('acknowledge')}
      </Button>
    );
  // On a phone a thumb's target: the link is at least 44 px high.
  const personLink = (i: WorklistItem) => (
    <Link to={`/persons/${i.personId}`} style={isPhone ? PHONE_TAP_TARGET : undefined}>
      {t('person')}
    </Link>
  );

  return (
    <>
      <PageTitle
        title={workingRegion ? `${t('title')} · ${workingRegion.name}` : t('title')}
        extra={
          <Segmented
            value={status}
            onChange={(v) => setStatus(v as 'open' | 'all')}
            options={[
              { value: 'open', label: t('open') },
              { value: 'all', label: t('all') },
            ]}
          />
        }
      />
      {error && <Alert type="error" showIcon message={error} style={{ marginBottom: 12 }} />}
      {isPhone ? (
        items === null ? (
          <Spin style={{ display: 'block', margin: '24px auto' }} />
        ) : items.length === 0 ? (
          <Empty description={t('empty')} />
        ) : (
          <Space orientation="vertical" style={{ width: '100%' }} size={8} data-testid="worklist-cards">
            {items.map((i) => (
              <Card size="small" key={i.id}>
                <Space style={{ width: '100%', justifyContent: 'space-between' }}>
                  <span>
                    {kindTag(i)}
                    <Typography.Text type="secondary">{i.onDate}</Typography.Text>
                  </span>
                  {action(i)}
                </Space>
                <Typography.Paragraph style={{ margin: '8px 0 4px' }}>{i.text[lang]}</Typography.Paragraph>
                {personLink(i)}
              </Card>
            ))}
          </Space>
        )
      ) : (
        <Table<WorklistItem>
          size="small"
          rowKey="id"
          loading={items === null}
          dataSource={items ?? []}
          pagination={false}
          locale={{ emptyText: t('empty') }}
          columns={[
            {
              key: 'kind',
              title: '',
              width: 72,
              render: (_: unknown, i: WorklistItem) => kindTag(i),
            },
            { key: 'date', title: t('date'), dataIndex: 'onDate', width: 110 },
            { key: 'text', title: t('item'), render: (_: unknown, i: WorklistItem) => i.text[lang] },
            { key: 'person', title: '', width: 90, render: (_: unknown, i: WorklistItem) => personLink(i) },
            {
              key: 'action',
              title: '',
              width: 110,
              render: (_: unknown, i: WorklistItem) => action(i),
            },
          ]}
        />
      )}
      {next && (
        <Space style={{ marginTop: 8 }}>
          <Button onClick={() => void load(next)}>{t('more')}</Button>
        </Space>
      )}
    </>
  );
}
