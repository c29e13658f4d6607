// The care-group statistics dashboard: counts per group for a region and its child regions as of a
// date, with a bar chart by child region, the monthly trend and each group's share. A row leads down
// one level (county -> township -> village); at a village, readers who may see persons get the list.
// Viewers above the county see small counts as "<5" exactly as the server suppressed them.
// On a phone the pie's groups are named in a list under it (labels beside the slices would be cut
// to a few characters), a card's controls sit under its title, and the tables scroll sideways.
import { useEffect, useMemo, useState, type ReactNode } from 'react';
import { Alert, Button, Card, Col, Input, Row, Select, Space, Table, Tag, Typography } from 'antd';
import { DownloadOutlined } from '@ant-design/icons';
import { ApiError, isAbortError } from '../api.ts';
import { defineMessages, useLang, useT } from '../i18n.ts';
import { Link, navigate } from '../router.tsx';
import type { PageProps } from '../routes.ts';
import { useAppState } from '../shell/app-state.tsx';
import { PageTitle } from '../shell/PageTitle.tsx';
import { useIsPhone } from '../shell/responsive.ts';
import { Chart } from '../groups/Chart.tsx';
import {
  GROUP_CODES,
  groupsApi,
  type GroupCode,
  type Member,
  type MonthlySeries,
  type StatsRow,
  type StatsTable,
} from '../groups/groups.ts';
import { countText, groupName, subCategoryName } from '../groups/labels.ts';
import { todayIso } from '../dates.ts';

const messages = defineMessages(
  {
    title: '关爱对象统计',
    asOf: '统计日期',
    region: '地区',
    total: '合计',
    export: '导出 Excel',
    byRegion: '各下级地区人数',
    trend: '近12个月月末人数',
    share: '各类对象占比',
    group: '类别',
    suppressedNote: '小于 {threshold} 的数字（含 0）显示为 "<{threshold}"；"*" 为保护小数而隐藏的数字。',
    members: '名单',
    name: '姓名',
    idNumber: '身份证号',
    birthDate: '出生日期',
    since: '起始日期',
    reasons: '认定依据',
    more: '加载更多',
    noMembers: '该地区没有此类对象',
    up: '上一级',
    ownRegion: '返回本辖区统计',
  },
  {
    title: 'Care group statistics',
    asOf: 'As of',
    region: 'Region',
    total: 'Total',
    export: 'Export to Excel',
    byRegion: 'By child region',
    trend: 'Month-end counts, last 12 months',
    share: 'Share of each group',
    group: 'Group',
    suppressedNote:
      'Counts under {threshold}, zero included, show as "<{threshold}"; "*" hides a count to protect a small one.',
    members: 'Persons',
    name: 'Name',
    idNumber: 'ID number',
    birthDate: 'Birth date',
    since: 'Since',
    reasons: 'Grounds',
    more: 'Load more',
    noMembers: 'Nobody in this group here',
    up: 'Up one level',
    ownRegion: 'Back to my region’s statistics',
  },
);

function monthsBack(asOf: string, count: number): { from: string; to: string } {
  const [y, m] = asOf.split('-').map(Number) as [number, number];
  const index = y * 12 + (m - 1) - (count - 1);
  const from = `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, '0')}`;
  return { from, to: asOf.slice(0, 7) };
}

const numeric = (row: StatsRow | undefined, code: string) => row?.counts[code]?.value ?? null;

/** One colour per group, the same in the pie, its list and the trend. */
const GROUP_COLOR: Record<GroupCode, string> = {
  left_behind_child: '#5470c6',
  de_facto_unsupported_child: '#91cc75',
  orphan: '#fac858',
  distressed_child: '#ee6666',
  left_behind_elderly: '#73c0de',
  left_behind_woman: '#3ba272',
  high_age_elderly: '#fc8452',
  disabled_elderly: '#9a60b4',
  special_difficulty_elderly: '#ea7ccc',
};

const NO_WRAP = { style: { whiteSpace: 'nowrap' as const } };

/**
 * A card of the page. Its controls sit beside the title at a desk; on a phone they go under it, so
 * that the title is never cut to a letter or two.
 */
function StatsCard({
  title,
  controls,
  isPhone,
  children,
  testId,
}: {
  title: string;
  controls?: ReactNode;
  isPhone: boolean;
  children: ReactNode;
  testId?: string;
}) {
  return (
    <Card size="small" title={title} extra={isPhone ? undefined : controls} data-testid={testId}>
      {isPhone && controls && (
        <Space wrap size={8} style={{ marginBottom: 12 }}>
          {controls}
        </Space>
      )}
      {children}
    </Card>
  );
}

export default function GroupStats({ params }: PageProps) {
  const t = useT(messages);
  const lang = useLang();
  const isPhone = useIsPhone();
  const { me, can, workingRegion } = useAppState();
  // Without a region in the path: the working region (within the scope), else the whole scope.
  const code = params.code ?? workingRegion?.code ?? me?.regionCode ?? '';
  const [asOf, setAsOf] = useState(todayIso());
  const [group, setGroup] = useState<GroupCode>('left_behind_child');
  const [table, setTable] = useState<StatsTable | null>(null);
  const [monthly, setMonthly] = useState<MonthlySeries | null>(null);
  const [error, setError] = useState<string | null>(null);
  // The region's own figures failed (a region outside the scope, a bad code): the page has nothing
  // to show but the refusal, never empty tables that read as "nobody here".
  const [refusal, setRefusal] = useState<string | null>(null);
  const [members, setMembers] = useState<{ items: Member[]; next: string | null } | null>(null);
  const mayListPersons = can('persons.read') && !(me?.role ?? '').endsWith('_viewer');
  const isVillage = code.length === 12;

  useEffect(() => {
    const controller = new AbortController();
    setError(null);
    setRefusal(null);
    // Another region's figures are not this region's: nothing shows until this one's arrive.
    setTable((prev) => (prev?.region.code === code ? prev : null));
    const months = monthsBack(asOf, 12);
    Promise.all([
      groupsApi.stats(code, asOf, controller.signal),
      groupsApi.monthly(code, months.from, months.to, controller.signal),
    ])
      .then(([stats, series]) => {
        setTable(stats);
        setMonthly(series);
      })
      .catch((e: unknown) => {
        if (!isAbortError(e)) setRefusal(e instanceof Error ? e.message : String(e));
      });
    return () => controller.abort();
  }, [code, asOf]);

  useEffect(() => {
    setMembers(null);
    if (!isVillage || !mayListPersons || refusal) return;
    groupsApi
      .members(code, group, asOf)
      .then((page) => setMembers({ items: page.items, next: page.nextCursor }))
      .catch((e: unknown) => setError(e instanceof ApiError ? e.message : String(e)));
  }, [code, group, asOf, isVillage, mayListPersons, refusal]);

  // The page's own names: the headers and legends are worded before the table arrives (or when it
  // does not), never a raw code.
  const label = (c: string) => groupName(c, lang);

  const barOption = useMemo(
    () => ({
      tooltip: { trigger: 'axis' },
      grid: { left: 48, right: 16, top: 16, bottom: 64 },
      xAxis: {
        type: 'category',
        data: table?.rows.map((r) => r.regionName) ?? [],
        axisLabel: { rotate: 30 },
      },
      yAxis: { type: 'value', minInterval: 1 },
      series: [{ type: 'bar', name: label(group), data: table?.rows.map((r) => numeric(r, group)) ?? [] }],
    }),
    [table, group, lang],
  );
  const trendOption = useMemo(
    () => ({
      tooltip: { trigger: 'axis' },
      legend: { type: 'scroll', bottom: 0 },
      grid: { left: 48, right: 16, top: 16, bottom: 48 },
      xAxis: { type: 'category', data: monthly?.months.map((m) => m.month) ?? [] },
      yAxis: { type: 'value', minInterval: 1 },
      color: GROUP_CODES.map((c) => GROUP_COLOR[c]),
      series: GROUP_CODES.map((c) => ({
        type: 'line',
        name: label(c),
        data: monthly?.months.map((m) => m.counts[c]?.value ?? null) ?? [],
      })),
    }),
    [monthly, lang, table],
  );
  // The groups with someone in them (a suppressed count is no slice).
  const shares = useMemo(
    () =>
      GROUP_CODES.map((c) => ({ code: c, value: numeric(table?.total, c) ?? 0 })).filter((d) => d.value > 0),
    [table],
  );
  const pieOption = useMemo(
    () => ({
      tooltip: { trigger: 'item' },
      series: [
        {
          type: 'pie',
          radius: isPhone ? ['40%', '80%'] : ['35%', '65%'],
          // On a phone the names are in the list under the chart.
          label: { show: !isPhone },
          data: shares.map((d) => ({
            name: label(d.code),
            value: d.value,
            itemStyle: { color: GROUP_COLOR[d.code] },
          })),
        },
      ],
    }),
    [shares, lang, isPhone],
  );

  const cellColumn = (c: GroupCode) => ({
    key: c,
    title: label(c),
    align: 'right' as const,
    // A group's name on one line: the table scrolls sideways on a phone instead of stacking the
    // name one character per line.
    onHeaderCell: () => ({ style: { whiteSpace: 'nowrap' as const } }),
    render: (_: unknown, row: StatsRow) => {
      const cell = row.counts[c];
      return cell?.suppressed ? (
        <Typography.Text type="secondary">{cell.display}</Typography.Text>
      ) : (
        countText(cell, lang)
      );
    },
  });

  const rows = table ? [...table.rows, { ...table.total, regionName: `${t('total')}` }] : [];
  const parent = code.length > 2 ? code.slice(0, [2, 4, 6, 9].filter((n) => n < code.length).pop()) : null;

  if (refusal) {
    const own = workingRegion?.code ?? me?.regionCode ?? '';
    return (
      <>
        <PageTitle title={t('title')} />
        <Alert
          type="error"
          showIcon
          data-testid="stats-refused"
          message={refusal}
          action={
            own !== code ? (
              <Button size="small" onClick={() => navigate(own ? `/stats/groups/${own}` : '/stats/groups')}>
                {t('ownRegion')}
              </Button>
            ) : undefined
          }
          style={{ marginBottom: 12, flexWrap: 'wrap', rowGap: 8 }}
        />
      </>
    );
  }

  return (
    <>
      <PageTitle
        title={`${t('title')}${table ? ` · ${table.region.name}` : ''}`}
        extra={
          <Space wrap>
            {parent && me && parent.startsWith(me.regionCode) && (
              <Button onClick={() => navigate(`/stats/groups/${parent}`)}>{t('up')}</Button>
            )}
            <Input
              type="date"
              aria-label={t('asOf')}
              value={asOf}
              max={todayIso()}
              onChange={(e) => e.target.value && setAsOf(e.target.value)}
              style={{ width: 160 }}
            />
            <Button
              icon={<DownloadOutlined />}
              onClick={() =>
                void groupsApi
                  .exportXlsx(code, asOf)
                  .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)))
              }
            >
              {t('export')}
            </Button>
          </Space>
        }
      />
      {error && <Alert type="error" showIcon message={error} style={{ marginBottom: 12 }} />}
      {table?.suppressed && (
        <Alert
          type="info"
          showIcon
          message={t('suppressedNote', { threshold: table.threshold })}
          style={{ marginBottom: 12 }}
        />
      )}
      <Table<StatsRow>
        size="small"
        rowKey="regionCode"
        loading={!table && !error}
        dataSource={rows}
        pagination={false}
        scroll={{ x: 'max-content' }}
        columns={[
          {
            key: 'region',
            title: t('region'),
            fixed: 'left',
            render: (_: unknown, row: StatsRow) =>
              row.regionCode !== table?.total.regionCode ? (
                <Link to={`/stats/groups/${row.regionCode}`}>{row.regionName}</Link>
              ) : (
                <strong>{row.regionName}</strong>
              ),
          },
          ...GROUP_CODES.map(cellColumn),
        ]}
      />
      <Row gutter={[16, 16]} style={{ marginTop: 16 }}>
        {!isVillage && (
          <Col xs={24} xl={12}>
            <StatsCard
              isPhone={isPhone}
              title={t('byRegion')}
              controls={
                <Select<GroupCode>
                  size="small"
                  value={group}
                  onChange={setGroup}
                  style={{ width: 180 }}
                  options={GROUP_CODES.map((c) => ({ value: c, label: label(c) }))}
                  aria-label={t('group')}
                />
              }
            >
              <Chart option={barOption} label={t('byRegion')} />
            </StatsCard>
          </Col>
        )}
        <Col xs={24} xl={12}>
          <Card size="small" title={t('share')} data-testid="group-share">
            <Chart option={pieOption} label={t('share')} height={isPhone ? 220 : 280} />
            {isPhone && (
              <ul data-testid="group-share-legend" style={{ listStyle: 'none', margin: 0, padding: 0 }}>
                {shares.map((d) => (
                  <li
                    key={d.code}
                    style={{ display: 'flex', alignItems: 'baseline', gap: 8, padding: '2px 0' }}
                  >
                    <span
                      aria-hidden
                      style={{
                        flex: 'none',
                        width: 10,
                        height: 10,
                        borderRadius: 2,
                        background: GROUP_COLOR[d.code],
                      }}
                    />
                    <span style={{ flex: 1 }}>{label(d.code)}</span>
                    <span style={{ fontVariantNumeric: 'tabular-nums' }}>{d.value}</span>
                  </li>
                ))}
              </ul>
            )}
          </Card>
        </Col>
        <Col xs={24}>
          <StatsCard
            isPhone={isPhone}
            title={t('trend')}
            controls={
              <Button
                size="small"
                icon={<DownloadOutlined />}
                onClick={() => {
                  const months = monthsBack(asOf, 12);
                  void groupsApi
                    .exportMonthlyXlsx(code, months.from, months.to)
                    .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
                }}
              >
                {t('export')}
              </Button>
            }
          >
            <Chart option={trendOption} label={t('trend')} height={320} />
          </StatsCard>
        </Col>
        {isVillage && mayListPersons && (
          <Col xs={24}>
            <StatsCard
              isPhone={isPhone}
              title={t('members')}
              testId="group-members"
              controls={
                <>
                  <Select<GroupCode>
                    size="small"
                    value={group}
                    onChange={setGroup}
                    style={{ width: 180 }}
                    options={GROUP_CODES.map((c) => ({ value: c, label: label(c) }))}
                    aria-label={t('group')}
                  />
                  <Button
                    size="small"
                    icon={<DownloadOutlined />}
                    onClick={() =>
                      void groupsApi
                        .exportMembersXlsx(code, group, asOf)
                        .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)))
                    }
                  >
                    {t('export')}
                  </Button>
                </>
              }
            >
              {/* Names, numbers and dates on one line; the grounds wrap in a column of their own
                  width, and the table scrolls sideways on a phone as the counts table does. */}
              <Table<Member>
                size="small"
                rowKey="personId"
                loading={members === null}
                dataSource={members?.items ?? []}
                pagination={false}
                scroll={{ x: 'max-content' }}
                locale={{ emptyText: t('noMembers') }}
                columns={[
                  { key: 'name', title: t('name'), dataIndex: 'name', onCell: () => NO_WRAP },
                  { key: 'id', title: t('idNumber'), dataIndex: 'idNumberMasked', onCell: () => NO_WRAP },
                  { key: 'birth', title: t('birthDate'), dataIndex: 'birthDate', onCell: () => NO_WRAP },
                  { key: 'since', title: t('since'), dataIndex: 'since', onCell: () => NO_WRAP },
                  {
                    key: 'reasons',
                    title: t('reasons'),
                    render: (_: unknown, m: Member) => (
                      <div style={{ minWidth: 200, maxWidth: 360 }}>
                        <Space size={[4, 4]} wrap>
                          {m.subCategory && <Tag>{subCategoryName(m.subCategory, lang)}</Tag>}
                          <span>{m.reasons[lang].join('; ')}</span>
                        </Space>
                      </div>
                    ),
                  },
                ].map((column) => ({ ...column, onHeaderCell: () => NO_WRAP }))}
              />
              {members?.next && (
                <Button
                  style={{ marginTop: 8 }}
                  onClick={() =>
                    void groupsApi.members(code, group, asOf, members.next).then((page) =>
                      setMembers((prev) => ({
                        items: [...(prev?.items ?? []), ...page.items],
                        next: page.nextCursor,
                      })),
                    )
                  }
                >
                  {t('more')}
                </Button>
              )}
            </StatsCard>
          </Col>
        )}
      </Row>
    </>
  );
}
