// The person list (人员查询): search by name, pinyin, ID number or phone within the working region,
// filter by care group (several at once), and see each person's groups today as tags. The filters
// live in the address (?q=&group=a,b) so a list can be bookmarked or sent. On a phone the table
// keeps the name and the groups only.
import { useCallback, useEffect, useRef, useState } from 'react';
import { Alert, Button, Input, Select, Space, Table, Tag, Typography } from 'antd';
import { HomeOutlined, UserAddOutlined } from '@ant-design/icons';
import { ApiError, isAbortError } from '../api.ts';
import { defineMessages, useLang, useT } from '../i18n.ts';
import { Link, navigate } from '../router.tsx';
import { useAppState } from '../shell/app-state.tsx';
import { PageTitle } from '../shell/PageTitle.tsx';
import { subCategoryName } from '../groups/labels.ts';
import { PHONE_TAP_TARGET, useIsPhone } from '../shell/responsive.ts';
import {
  GROUP_CODES,
  GROUP_NAMES,
  groupColor,
  personsApi,
  type GroupCode,
  type PersonListItem,
} from '../registry/persons.ts';

const messages = defineMessages(
  {
    title: '人员查询',
    search: '姓名、拼音、身份证号后6位或电话',
    groups: '关爱对象类别',
    name: '姓名',
    sex: '性别',
    male: '男',
    female: '女',
    birthDate: '出生日期',
    idNumber: '身份证号',
    household: '户编号',
    careGroups: '关爱对象',
    more: '加载更多',
    retry: '重试',
    failed: '未能查询，结果未知：请重试',
    empty: '没有符合条件的人员',
    newPerson: '登记人员',
    newHousehold: '新增户',
    unknownGroup: '地址中的关爱对象类别“{codes}”不存在，未按它筛选',
    unknownGroupHint: '请在“关爱对象类别”中选择要筛选的类别。',
    none: '—',
  },
  {
    title: 'Persons',
    search: 'Name, pinyin, last 6 of the ID number, or phone',
    groups: 'Care groups',
    name: 'Name',
    sex: 'Sex',
    male: 'M',
    female: 'F',
    birthDate: 'Birth date',
    idNumber: 'ID number',
    household: 'Household',
    careGroups: 'Care groups',
    more: 'Load more',
    retry: 'Retry',
    failed: 'The search did not run, so nothing is known yet: retry',
    empty: 'Nobody matches',
    newPerson: 'Register a person',
    newHousehold: 'New household',
    unknownGroup: 'There is no care group "{codes}" (from the address); the list is not filtered by it',
    unknownGroupHint: 'Choose the groups to filter by under Care groups.',
    none: '—',
  },
);

const isGroupCode = (code: string): code is GroupCode => (GROUP_CODES as readonly string[]).includes(code);

function initialFilters(): { q: string; groups: GroupCode[] } {
  const params = new URLSearchParams(window.location.search);
  const groups = (params.get('group') ?? '').split(',').filter(isGroupCode);
  return { q: params.get('q') ?? '', groups };
}

/** The group codes in the address that name no care group (a mistyped or outdated link). */
function unknownGroupCodes(): string[] {
  const given = new URLSearchParams(window.location.search).get('group') ?? '';
  return given.split(',').filter((code) => code !== '' && !isGroupCode(code));
}

export default function Persons() {
  const t = useT(messages);
  const lang = useLang();
  const isPhone = useIsPhone();
  const { workingRegion, can } = useAppState();
  const [filters, setFilters] = useState(initialFilters);
  const [text, setText] = useState(filters.q);
  // Said once, until the user chooses groups themselves: the list is not what the link asked for.
  const [unknownGroups, setUnknownGroups] = useState(unknownGroupCodes);
  const [items, setItems] = useState<PersonListItem[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  // The first page of the current query failed: the list is unknown, not empty (offer 重试, not 加载更多).
  const [firstFailed, setFirstFailed] = useState(false);
  // The query a response answers: a page of an earlier query (a slow 加载更多) is dropped, so that
  // its rows and its cursor never mix with the current query's.
  const query = useRef(0);
  const region = workingRegion?.code;

  const load = useCallback(
    (cursor: string | null, signal?: AbortSignal) => {
      const asked = query.current;
      return personsApi
        .list({ q: filters.q, groups: filters.groups, region, cursor }, signal)
        .then((page) => {
          if (asked !== query.current) return;
          setItems((prev) => (cursor ? [...(prev ?? []), ...page.items] : page.items));
          setNext(page.nextCursor);
          setFirstFailed(false);
          setError(null);
        })
        .catch((e: unknown) => {
          if (isAbortError(e) || asked !== query.current) return;
          if (cursor === null) {
            // Nothing of this query is known: no rows, no cursor (an earlier query's cursor would
            // skip every row below it), and a retry of the first page.
            setItems([]);
            setNext(null);
            setFirstFailed(true);
          }
          setError(e instanceof ApiError ? e.message : String(e));
        });
    },
    [filters, region],
  );

  useEffect(() => {
    const params = new URLSearchParams();
    if (filters.q) params.set('q', filters.q);
    if (filters.groups.length) params.set('group', filters.groups.join(','));
    const search = params.toString();
    navigate(`/persons${search ? `?${search}` : ''}`, { replace: true });
    const controller = new AbortController();
    query.current += 1;
    setItems(null);
    setNext(null);
    setFirstFailed(false);
    void load(null, controller.signal);
    return () => controller.abort();
  }, [filters, load]);

  const groupTags = (p: PersonListItem) =>
    p.groups.length ? (
      <Space size={[4, 4]} wrap>
        {p.groups.map((g) => (
          <Tag key={g.code} color={groupColor(g.code)} style={{ marginInlineEnd: 0 }}>
            {g.subCategory && g.code === 'high_age_elderly'
              ? `${g.name} ${subCategoryName(g.subCategory, lang)}`
              : g.name}
          </Tag>
        ))}
      </Space>
    ) : null;

  const nameLink = (p: PersonListItem) => (
    <Link to={`/persons/${p.id}`} style={isPhone ? PHONE_TAP_TARGET : undefined}>
      {p.name}
    </Link>
  );

  return (
    <>
      <PageTitle
        title={t('title')}
        extra={
          can('persons.write') && (
            <Space wrap>
              <Button icon={<UserAddOutlined />} onClick={() => navigate('/persons/new')}>
                {t('newPerson')}
              </Button>
              <Button icon={<HomeOutlined />} onClick={() => navigate('/households/new')}>
                {t('newHousehold')}
              </Button>
            </Space>
          )
        }
      />
      <Space
        orientation={isPhone ? 'vertical' : 'horizontal'}
        style={{ width: '100%', marginBottom: 12 }}
        wrap
      >
        <Input.Search
          allowClear
          aria-label={t('search')}
          placeholder={t('search')}
          value={text}
          onChange={(e) => setText(e.target.value)}
          onSearch={(value) => setFilters((f) => ({ ...f, q: value.trim() }))}
          style={{ width: isPhone ? '100%' : 320 }}
        />
        <Select<GroupCode[]>
          mode="multiple"
          allowClear
          aria-label={t('groups')}
          placeholder={t('groups')}
          value={filters.groups}
          onChange={(groups) => {
            setUnknownGroups([]);
            setFilters((f) => ({ ...f, groups }));
          }}
          options={GROUP_CODES.map((code) => ({ value: code, label: GROUP_NAMES[code][lang] }))}
          maxTagCount="responsive"
          showSearch={{ optionFilterProp: 'label' }}
          style={{ width: isPhone ? '100%' : 360 }}
          data-testid="group-filter"
        />
      </Space>
      {unknownGroups.length > 0 && (
        <Alert
          type="warning"
          showIcon
          title={t('unknownGroup', { codes: unknownGroups.join(', ') })}
          description={t('unknownGroupHint')}
          style={{ marginBottom: 12 }}
          data-testid="unknown-group"
        />
      )}
      {error && <Alert type="error" showIcon title={error} style={{ marginBottom: 12 }} />}
      <Table<PersonListItem>
        size="small"
        rowKey="id"
        // On a phone the whole row opens the person: a two-character name alone is a small target.
        onRow={
          isPhone
            ? (p) => ({
                onClick: (event) => {
                  if (!(event.target as HTMLElement).closest('a')) navigate(`/persons/${p.id}`);
                },
                style: { cursor: 'pointer' },
              })
            : undefined
        }
        loading={items === null}
        dataSource={items ?? []}
        pagination={false}
        locale={{
          emptyText: firstFailed ? (
            <Space orientation="vertical" data-testid="persons-failed">
              <span>{t('failed')}</span>
              <Button onClick={() => void load(null)}>{t('retry')}</Button>
            </Space>
          ) : (
            t('empty')
          ),
        }}
        columns={
          isPhone
            ? [
                {
                  key: 'name',
                  title: t('name'),
                  render: (_: unknown, p: PersonListItem) => (
                    <Space orientation="vertical" size={2}>
                      {nameLink(p)}
                      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                        {p.birthDate ?? t('none')}
                      </Typography.Text>
                    </Space>
                  ),
                },
                { key: 'groups', title: t('careGroups'), render: (_: unknown, p) => groupTags(p) },
              ]
            : [
                { key: 'name', title: t('name'), render: (_: unknown, p: PersonListItem) => nameLink(p) },
                {
                  key: 'sex',
                  title: t('sex'),
                  width: 64,
                  render: (_: unknown, p: PersonListItem) =>
                    p.sex === 1 ? t('male') : p.sex === 2 ? t('female') : t('none'),
                },
                { key: 'birth', title: t('birthDate'), dataIndex: 'birthDate', width: 120 },
                { key: 'id', title: t('idNumber'), dataIndex: 'idNumber' },
                { key: 'household', title: t('household'), dataIndex: 'householdNo' },
                { key: 'groups', title: t('careGroups'), render: (_: unknown, p) => groupTags(p) },
              ]
        }
      />
      {next && (
        <Button style={{ marginTop: 8 }} onClick={() => void load(next)}>
          {t('more')}
        </Button>
      )}
    </>
  );
}
