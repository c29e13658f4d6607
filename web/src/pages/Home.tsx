// The landing page, a workbench (工作台) for the signed-in user: who and where they are, a person
// search, their open worklist items, today's care-group counts in their region, and a large card
// for each capability they hold. Village child directors open it on a phone, so every part is a
// tap target and nothing needs a table.
import { useEffect, useState, type ReactNode } from 'react';
import { Alert, Card, Col, Descriptions, Input, Row, Skeleton, Statistic, Typography } from 'antd';
import { BellOutlined, EnvironmentOutlined } from '@ant-design/icons';
import { ApiError, isAbortError } from '../api.ts';
import { roleLabel } from '../access/access.ts';
import { todayIso } from '../dates.ts';
import { groupsApi, type StatsTable } from '../groups/groups.ts';
import { countText, groupName } from '../groups/labels.ts';
import { defineMessages, pick, useLang, useT } from '../i18n.ts';
import { levelLabel } from '../regions.ts';
import { navigate } from '../router.tsx';
import { useAppState, usesWorkingRegion } from '../shell/app-state.tsx';
import { MENU, visibleEntries } from '../shell/menu.tsx';
import { PageTitle } from '../shell/PageTitle.tsx';

const messages = defineMessages(
  {
    title: '首页',
    greeting: '{name}，您好',
    scope: '{role} · {region}',
    nationalScope: '全国',
    noScope: '无区划范围',
    search: '查人员',
    searchPlaceholder: '姓名、拼音首字母、身份证号后6位或电话',
    worklist: '待办事项',
    openItems: '未处理',
    openUnit: '条',
    worklistHint: '关爱对象的新增和退出，请逐条查看并标为已阅。',
    groups: '关爱对象',
    groupsOn: '{region} · {date}',
    groupsHint: '点击类别查看名单。',
    capabilities: '功能',
    workingRegion: '当前区划',
    noRegion: '未选择：各页面显示您的全部范围。可在页头选择区划，只看某个乡镇或村。',
    level: '层级',
    code: '区划代码',
    about:
      '守护是县级农村留守儿童和妇女、老年人关爱服务信息系统：记录关爱对象和家庭情况，安排走访与帮扶，统计汇总并按规定上报。',
  },
  {
    title: 'Home',
    greeting: 'Hello, {name}',
    scope: '{role} · {region}',
    nationalScope: 'National',
    noScope: 'No region scope',
    search: 'Find a person',
    searchPlaceholder: 'Name, pinyin initials, last 6 of the ID number, or phone',
    worklist: 'Worklist',
    openItems: 'Open',
    openUnit: 'items',
    worklistHint: 'People who entered or left a care group: look at each and mark it as seen.',
    groups: 'People in care',
    groupsOn: '{region} · {date}',
    groupsHint: 'Tap a group for its list.',
    capabilities: 'What you can do',
    workingRegion: 'Working region',
    noRegion:
      'None chosen: every page shows your whole scope. Choose a region in the header to see one township or village.',
    level: 'Level',
    code: 'Region code',
    about:
      'Shouhu is the county information system for the care of rural left-behind children, women and elderly: it records the people in care and their households, plans visits and support, and compiles the statistics to report.',
  },
);

/**
 * The open worklist items in `region` ('' = the user's whole scope) as a count: one page is asked
 * for, so a full page reads "50+".
 */
function useOpenWorklist(enabled: boolean, region: string): { count: string | null; error: string | null } {
  const [state, setState] = useState<{ count: string | null; error: string | null }>({
    count: null,
    error: null,
  });
  useEffect(() => {
    if (!enabled) return;
    const controller = new AbortController();
    setState({ count: null, error: null });
    groupsApi
      .worklist(region, 'open', null, controller.signal)
      .then((page) => setState({ count: `${page.items.length}${page.nextCursor ? '+' : ''}`, error: null }))
      .catch((e: unknown) => {
        if (isAbortError(e)) return;
        setState({ count: null, error: e instanceof ApiError ? e.message : String(e) });
      });
    return () => controller.abort();
  }, [enabled, region]);
  return state;
}

/** Today's counts per care group in `region` ('' = the user's whole scope). */
function useGroupCounts(
  enabled: boolean,
  region: string,
): { table: StatsTable | null; error: string | null } {
  const [state, setState] = useState<{ table: StatsTable | null; error: string | null }>({
    table: null,
    error: null,
  });
  useEffect(() => {
    if (!enabled) return;
    const controller = new AbortController();
    setState({ table: null, error: null });
    groupsApi
      .stats(region, todayIso(), controller.signal)
      .then((table) => setState({ table, error: null }))
      .catch((e: unknown) => {
        if (isAbortError(e)) return;
        setState({ table: null, error: e instanceof ApiError ? e.message : String(e) });
      });
    return () => controller.abort();
  }, [enabled, region]);
  return state;
}

function Section({ title, extra, children }: { title: ReactNode; extra?: ReactNode; children: ReactNode }) {
  return (
    <Card title={title} extra={extra} size="small">
      {children}
    </Card>
  );
}

export default function Home() {
  const t = useT(messages);
  const lang = useLang();
  const { workingRegion, can, me } = useAppState();
  const canSearch = can('persons.read');
  const canWorklist = can('worklist.read');
  const canStats = can('stats.read');
  // The working region (always within the scope), else the whole scope: the same for every card.
  const statsRegion = workingRegion?.code ?? me?.regionCode ?? '';
  const worklist = useOpenWorklist(canWorklist, workingRegion?.code ?? '');
  const groups = useGroupCounts(canStats, statsRegion);
  const capabilities = visibleEntries(MENU, can).filter((entry) => entry.key !== 'home');

  // Only the national viewer holds the whole country; administrators, reporters and service
  // providers hold no region at all.
  const scopeName = !me
    ? ''
    : me.regionCode !== ''
      ? (me.regionName ?? me.regionCode)
      : me.role === 'national_viewer'
        ? t('nationalScope')
        : t('noScope');

  const openGroup = (code: string) =>
    navigate(canSearch ? `/persons?group=${code}` : `/stats/groups/${statsRegion}`);

  return (
    <>
      <PageTitle title={t('title')} />
      <Row gutter={[12, 12]}>
        {me && (
          <Col xs={24}>
            <Typography.Title level={5} style={{ margin: 0 }}>
              {t('greeting', { name: me.user.displayName || me.user.username })}
            </Typography.Title>
            <Typography.Text type="secondary">
              {t('scope', { role: roleLabel(me.role, lang), region: scopeName })}
            </Typography.Text>
          </Col>
        )}

        {canSearch && (
          <Col xs={24} lg={12}>
            <Section title={t('search')}>
              <Input.Search
                aria-label={t('search')}
                placeholder={t('searchPlaceholder')}
                enterButton
                allowClear
                onSearch={(value) => {
                  const q = value.trim();
                  navigate(q ? `/persons?q=${encodeURIComponent(q)}` : '/persons');
                }}
              />
            </Section>
          </Col>
        )}

        {canWorklist && (
          <Col xs={24} lg={12}>
            <Card size="small" hoverable onClick={() => navigate('/worklist')} data-testid="home-worklist">
              {worklist.error ? (
                <Alert type="error" showIcon message={worklist.error} />
              ) : (
                <Statistic
                  title={
                    <span>
                      <BellOutlined style={{ marginInlineEnd: 8 }} />
                      {t('worklist')} · {t('openItems')}
                      {workingRegion && ` · ${workingRegion.name}`}
                    </span>
                  }
                  value={worklist.count ?? '…'}
                  suffix={t('openUnit')}
                  loading={worklist.count === null}
                />
              )}
              <Typography.Text type="secondary">{t('worklistHint')}</Typography.Text>
            </Card>
          </Col>
        )}

        {canStats && (
          <Col xs={24}>
            <Section
              title={t('groups')}
              extra={
                groups.table && (
                  <Typography.Text type="secondary">
                    {t('groupsOn', { region: groups.table.region.name, date: groups.table.asOf })}
                  </Typography.Text>
                )
              }
            >
              {groups.error ? (
                <Alert type="error" showIcon message={groups.error} />
              ) : !groups.table ? (
                <Skeleton active paragraph={{ rows: 2 }} />
              ) : (
                <>
                  <Row gutter={[8, 8]} data-testid="home-groups">
                    {groups.table.groups.map((group) => (
                      <Col xs={12} sm={8} lg={6} xl={4} key={group.code}>
                        <Card
                          size="small"
                          hoverable
                          onClick={() => openGroup(group.code)}
                          styles={{ body: { padding: 12 } }}
                        >
                          <Statistic
                            title={groupName(group.code, lang)}
                            value={countText(groups.table?.total.counts[group.code], lang)}
                          />
                        </Card>
                      </Col>
                    ))}
                  </Row>
                  <Typography.Text type="secondary">{t('groupsHint')}</Typography.Text>
                </>
              )}
            </Section>
          </Col>
        )}

        {capabilities.length > 0 && (
          <Col xs={24}>
            <Section title={t('capabilities')}>
              <Row gutter={[8, 8]}>
                {capabilities.map((entry) => (
                  <Col xs={12} sm={8} lg={6} key={entry.key}>
                    <Card
                      size="small"
                      hoverable
                      onClick={() => navigate(entry.path)}
                      styles={{ body: { padding: 12 } }}
                    >
                      <span style={{ fontSize: 20, color: '#1a4d8f', marginInlineEnd: 8 }}>{entry.icon}</span>
                      {pick(entry.label, lang)}
                    </Card>
                  </Col>
                ))}
              </Row>
            </Section>
          </Col>
        )}

        {usesWorkingRegion(can) && (
          <Col xs={24} lg={12}>
            <Section
              title={
                <span>
                  <EnvironmentOutlined style={{ marginInlineEnd: 8 }} />
                  {t('workingRegion')}
                </span>
              }
            >
              {workingRegion ? (
                <Descriptions
                  size="small"
                  column={1}
                  items={[
                    {
                      key: 'name',
                      label: t('workingRegion'),
                      children: workingRegion.path.map((s) => s.name).join(' / '),
                    },
                    { key: 'level', label: t('level'), children: levelLabel(workingRegion.level, lang) },
                    {
                      key: 'code',
                      label: t('code'),
                      children: <Typography.Text code>{workingRegion.code}</Typography.Text>,
                    },
                  ]}
                />
              ) : (
                <Typography.Text type="secondary">{t('noRegion')}</Typography.Text>
              )}
            </Section>
          </Col>
        )}

        <Col xs={24} lg={usesWorkingRegion(can) ? 12 : 24}>
          <Typography.Paragraph type="secondary" style={{ marginBottom: 0 }}>
            {t('about')}
          </Typography.Paragraph>
        </Col>
      </Row>
    </>
  );
}
