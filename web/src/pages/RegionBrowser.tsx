// The region browser (行政区划): a tree loaded level by level from the provinces down to the
// villages, the details of the selected region, and a search that opens the tree at a result.
// The selected region lives in the path (/regions/410225101200), so a link or a reload shows it.
import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import {
  Alert,
  App,
  AutoComplete,
  Breadcrumb,
  Button,
  Card,
  Col,
  ConfigProvider,
  Descriptions,
  Empty,
  Input,
  Row,
  Spin,
  Tag,
  Tree,
  Typography,
  theme,
  type DescriptionsProps,
  type TreeDataNode,
} from 'antd';
import { CheckOutlined, EnvironmentOutlined } from '@ant-design/icons';
import { isAbortError } from '../api.ts';
import { defineMessages, useLang, useT, type Lang } from '../i18n.ts';
import {
  committeeLabel,
  hasNoChildren,
  levelLabel,
  regionsApi,
  regionWords,
  type RegionDetail,
  type RegionLevel,
  type RegionSummary,
} from '../regions.ts';
import type { PageProps } from '../routes.ts';
import { Link, navigate } from '../router.tsx';
import { isWithinScope, useAppState, usesWorkingRegion } from '../shell/app-state.tsx';
import { PageTitle } from '../shell/PageTitle.tsx';
import { useIsPhone } from '../shell/responsive.ts';
import { todayIso } from '../dates.ts';

const messages = defineMessages(
  {
    title: '行政区划',
    tree: '区划树',
    details: '区划详情',
    search: '搜索区划名称',
    searchWithin: '在{name}内搜索区划名称',
    noMatch: '没有名称相符的区划',
    pickHintDesktop: '在左侧区划树中选择一个区划，或按名称搜索。',
    pickHintPhone: '在上方区划树中选择一个区划，或按名称搜索。',
    name: '名称',
    code: '区划代码',
    level: '层级',
    committee: '村/居类型',
    parentPath: '上级区划',
    validity: '有效期',
    validSince: '{from} 起至今',
    validBetween: '{from} 至 {to}',
    abolished: '已撤销',
    children: '下级区划',
    childCount: '{count} 个{level}区划',
    noChildren: '无',
    setWorking: '设为当前区划',
    isWorking: '当前区划',
    workingSet: '当前区划已设为{name}',
  },
  {
    title: 'Regions',
    tree: 'Region tree',
    details: 'Region details',
    search: 'Search regions by name',
    searchWithin: 'Search regions in {name}',
    noMatch: 'No region has a matching name',
    pickHintDesktop: 'Choose a region in the tree on the left, or search by name.',
    pickHintPhone: 'Choose a region in the tree above, or search by name.',
    name: 'Name',
    code: 'Region code',
    level: 'Level',
    committee: 'Committee',
    parentPath: 'Part of',
    validity: 'Valid',
    validSince: 'since {from}',
    validBetween: '{from} to {to}',
    abolished: 'Abolished',
    children: 'Subdivisions',
    childCount: '{count} ({level})',
    noChildren: 'None',
    setWorking: 'Set as working region',
    isWorking: 'Working region',
    workingSet: 'The working region is now {name}',
  },
);

const CHILD_LEVEL: Record<RegionLevel, RegionLevel | null> = {
  province: 'prefecture',
  prefecture: 'county',
  county: 'township',
  township: 'village',
  village: null,
};

// A village sits five levels down: on a phone half the indent leaves its name, code and tag room
// for one line.
const PHONE_TREE_THEME = { components: { Tree: { indentSize: 12 } } };

const MONO = 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace';

function isAbolished(region: Pick<RegionSummary, 'validTo'>): boolean {
  return region.validTo !== null && region.validTo <= todayIso();
}

/** Children of each loaded region, fetched once however many times a node is expanded. */
function useRegionTree(onError: (error: Error) => void) {
  const [roots, setRoots] = useState<RegionSummary[] | null>(null);
  const [children, setChildren] = useState<Record<string, RegionSummary[]>>({});
  const loading = useRef(new Map<string, Promise<void>>());

  useEffect(() => {
    const controller = new AbortController();
    regionsApi
      .provinces(controller.signal)
      .then(setRoots)
      .catch((error: unknown) => {
        if (isAbortError(error)) return;
        setRoots([]);
        onError(error as Error);
      });
    return () => controller.abort();
  }, [onError]);

  const loadChildren = useCallback(
    (code: string): Promise<void> => {
      let pending = loading.current.get(code);
      if (!pending) {
        pending = regionsApi.children(code).then(
          (items) => setChildren((current) => ({ ...current, [code]: items })),
          (error: unknown) => {
            loading.current.delete(code);
            onError(error as Error);
          },
        );
        loading.current.set(code, pending);
      }
      return pending;
    },
    [onError],
  );

  return { roots, children, loadChildren };
}

function NodeTitle({ region, lang }: { region: RegionSummary; lang: Lang }) {
  const { token } = theme.useToken();
  const kind = region.level === 'village' && region.rural !== null;
  const tag = { fontSize: 11, lineHeight: '16px', marginInlineEnd: 0 };
  // Each part on one line, the parts wrapping under each other when the tree is narrower than the
  // title (a phone): a longer name must not push its level tag out of the tree's box.
  return (
    <span
      data-code={region.code}
      style={{ display: 'inline-flex', flexWrap: 'wrap', alignItems: 'center', columnGap: 8 }}
    >
      <span style={{ whiteSpace: 'nowrap' }}>{region.name}</span>
      <span style={{ whiteSpace: 'nowrap', color: token.colorTextTertiary, fontSize: 12, fontFamily: MONO }}>
        {region.code}
      </span>
      {kind && (
        <Tag color={region.rural ? 'green' : 'blue'} variant="outlined" style={tag}>
          {regionWords[lang][region.rural ? 'ruralShort' : 'urbanShort']}
        </Tag>
      )}
      {isAbolished(region) && (
        <Tag color="default" style={tag}>
          {lang === 'zh' ? '已撤销' : 'Abolished'}
        </Tag>
      )}
    </span>
  );
}

function toTreeNodes(
  items: RegionSummary[],
  children: Record<string, RegionSummary[]>,
  lang: Lang,
): TreeDataNode[] {
  return items.map((region) => {
    const loaded = children[region.code];
    return {
      key: region.code,
      title: <NodeTitle region={region} lang={lang} />,
      isLeaf: hasNoChildren(region),
      ...(loaded ? { children: toTreeNodes(loaded, children, lang) } : {}),
    };
  });
}

interface SearchOption {
  value: string;
  name: string;
  label: ReactNode;
}

function RegionSearch({
  within,
  onPick,
}: {
  within: { code: string; name: string } | null;
  onPick: (code: string) => void;
}) {
  const t = useT(messages);
  const lang = useLang();
  const { token } = theme.useToken();
  const { message } = App.useApp();
  const [text, setText] = useState('');
  const [options, setOptions] = useState<SearchOption[]>([]);
  const [searching, setSearching] = useState(false);
  const timer = useRef<number | undefined>(undefined);
  const inFlight = useRef<AbortController | null>(null);

  useEffect(
    () => () => {
      window.clearTimeout(timer.current);
      inFlight.current?.abort();
    },
    [],
  );

  const search = (value: string) => {
    setText(value);
    window.clearTimeout(timer.current);
    inFlight.current?.abort();
    const q = value.trim();
    if (!q) {
      setOptions([]);
      setSearching(false);
      return;
    }
    timer.current = window.setTimeout(() => {
      const controller = new AbortController();
      inFlight.current = controller;
      setSearching(true);
      regionsApi
        .search(q, { within: within?.code, limit: 20, signal: controller.signal })
        .then((items) =>
          setOptions(
            items.map((region) => ({
              value: region.code,
              name: region.name,
              label: (
                <div style={{ display: 'flex', justifyContent: 'space-between', gap: 12 }}>
                  <span>{region.name}</span>
                  <span style={{ color: token.colorTextTertiary, fontSize: 12 }}>
                    {levelLabel(region.level, lang)} · <span style={{ fontFamily: MONO }}>{region.code}</span>
                  </span>
                </div>
              ),
            })),
          ),
        )
        .catch((error: unknown) => {
          if (!isAbortError(error)) void message.error((error as Error).message);
        })
        .finally(() => {
          if (inFlight.current === controller) setSearching(false);
        });
    }, 250);
  };

  const pick = (code: string) => {
    const option = options.find((o) => o.value === code);
    if (option) setText(option.name);
    onPick(code);
  };

  return (
    <AutoComplete<string, SearchOption>
      value={text}
      options={options}
      onSearch={search}
      onSelect={pick}
      notFoundContent={text.trim() && !searching ? t('noMatch') : null}
      style={{ width: '100%' }}
      data-testid="region-search"
    >
      <Input.Search
        placeholder={within ? t('searchWithin', { name: within.name }) : t('search')}
        loading={searching}
        allowClear
        onSearch={(_value, _event, info) => {
          const first = options[0];
          if (info?.source === 'input' && first) pick(first.value);
        }}
      />
    </AutoComplete>
  );
}

function RegionDetails({ region }: { region: RegionDetail }) {
  const t = useT(messages);
  const lang = useLang();
  const committee = committeeLabel(region, lang);
  const childLevel = CHILD_LEVEL[region.level];
  const items: NonNullable<DescriptionsProps['items']> = [
    { key: 'name', label: t('name'), children: region.name },
    {
      key: 'code',
      label: t('code'),
      children: (
        <Typography.Text copyable={{ text: region.code }}>
          <span data-testid="region-code" style={{ fontFamily: MONO, letterSpacing: 0.5 }}>
            {region.code}
          </span>
        </Typography.Text>
      ),
    },
    { key: 'level', label: t('level'), children: levelLabel(region.level, lang) },
    ...(committee
      ? [
          {
            key: 'committee',
            label: t('committee'),
            children: <span data-testid="region-committee">{committee}</span>,
          },
        ]
      : []),
    {
      key: 'parent',
      label: t('parentPath'),
      children: region.path.length ? (
        <Breadcrumb
          items={region.path.map((step) => ({
            key: step.code,
            title: <Link to={`/regions/${step.code}`}>{step.name}</Link>,
          }))}
        />
      ) : (
        t('noChildren')
      ),
    },
    {
      key: 'validity',
      label: t('validity'),
      children: (
        <>
          {region.validTo
            ? t('validBetween', { from: region.validFrom, to: region.validTo })
            : t('validSince', { from: region.validFrom })}
          {isAbolished(region) && (
            <Tag color="default" style={{ marginInlineStart: 8 }}>
              {t('abolished')}
            </Tag>
          )}
        </>
      ),
    },
    {
      key: 'children',
      label: t('children'),
      children:
        region.childCount > 0 && childLevel
          ? t('childCount', { count: region.childCount, level: levelLabel(childLevel, lang) })
          : t('noChildren'),
    },
  ];
  return <Descriptions bordered size="small" column={1} items={items} styles={{ label: { width: 112 } }} />;
}

export default function RegionBrowser({ params }: PageProps) {
  const selected = params.code ?? null;
  const t = useT(messages);
  const lang = useLang();
  const isPhone = useIsPhone();
  const { message } = App.useApp();
  const { token } = theme.useToken();
  const { workingRegion, setWorkingRegion, me, can } = useAppState();
  const showError = useCallback((error: Error) => void message.error(error.message), [message]);
  const { roots, children, loadChildren } = useRegionTree(showError);
  const [expandedKeys, setExpandedKeys] = useState<string[]>([]);
  const [detail, setDetail] = useState<RegionDetail | null>(null);
  const [detailError, setDetailError] = useState<Error | null>(null);
  const [detailLoading, setDetailLoading] = useState(false);
  const treeBox = useRef<HTMLDivElement>(null);
  const detailsCard = useRef<HTMLDivElement>(null);
  // Set when a village is tapped on a phone: its details sit below the tree, so bring them up.
  const revealDetails = useRef(false);

  // Without a region in the path, open the working region if there is one.
  useEffect(() => {
    if (!selected && workingRegion) navigate(`/regions/${workingRegion.code}`, { replace: true });
  }, [selected, workingRegion]);

  // Load the selected region and open the tree down to it.
  useEffect(() => {
    if (!selected) {
      setDetail(null);
      setDetailError(null);
      return;
    }
    const controller = new AbortController();
    setDetailLoading(true);
    setDetailError(null);
    regionsApi
      .get(selected, controller.signal)
      .then(async (region) => {
        setDetail(region);
        const opening = region.path.map((step) => step.code);
        if (!hasNoChildren(region)) opening.push(region.code);
        await Promise.all(opening.map(loadChildren));
        if (controller.signal.aborted) return;
        setExpandedKeys((current) => [...new Set([...current, ...opening])]);
      })
      .catch((error: unknown) => {
        if (isAbortError(error)) return;
        setDetail(null);
        setDetailError(error as Error);
      })
      .finally(() => {
        if (!controller.signal.aborted) setDetailLoading(false);
      });
    return () => controller.abort();
  }, [selected, loadChildren]);

  const treeData = useMemo(() => (roots ? toTreeNodes(roots, children, lang) : []), [roots, children, lang]);

  // Keep the selected node in view inside the tree's own scroll box (never scroll the page).
  useEffect(() => {
    const box = treeBox.current;
    const node = selected ? box?.querySelector(`[data-code="${selected}"]`) : null;
    if (!box || !node) return;
    const outer = box.getBoundingClientRect();
    const inner = node.getBoundingClientRect();
    if (inner.top < outer.top || inner.bottom > outer.bottom)
      box.scrollTop += inner.top - outer.top - outer.height / 3;
  }, [selected, treeData, expandedKeys]);

  useEffect(() => {
    if (revealDetails.current && detail?.code === selected) {
      revealDetails.current = false;
      detailsCard.current?.scrollIntoView({ behavior: 'smooth', block: 'start' });
    }
  }, [detail, selected]);

  const isWorking = workingRegion?.code === detail?.code;
  // Only a region within the user's scope can be worked on: above or beside it the server refuses
  // every question, so the button is not offered there.
  const mayWorkOn = (code: string) =>
    me !== null && usesWorkingRegion(can) && isWithinScope(code, me.regionCode);
  const setAsWorking = () => {
    if (!detail) return;
    setWorkingRegion({
      code: detail.code,
      name: detail.name,
      level: detail.level,
      path: [...detail.path, { code: detail.code, name: detail.name }],
    });
    void message.success(t('workingSet', { name: detail.name }));
  };

  const shown = detail && detail.code === selected ? detail : null;

  return (
    <>
      <PageTitle title={t('title')} />
      <Row gutter={[16, 16]}>
        <Col xs={24} md={10} xl={9}>
          <Card size="small" title={t('tree')}>
            <RegionSearch
              within={workingRegion ? { code: workingRegion.code, name: workingRegion.name } : null}
              onPick={(code) => navigate(`/regions/${code}`)}
            />
            <div
              ref={treeBox}
              data-testid="region-tree"
              style={{
                marginTop: 8,
                overflow: 'auto',
                maxHeight: isPhone ? '50vh' : 'calc(100vh - 236px)',
                minHeight: isPhone ? 160 : 320,
              }}
            >
              {roots === null ? (
                <div style={{ display: 'flex', justifyContent: 'center', paddingTop: 32 }}>
                  <Spin />
                </div>
              ) : (
                <ConfigProvider theme={isPhone ? PHONE_TREE_THEME : undefined}>
                  <Tree
                    treeData={treeData}
                    loadData={(node) => loadChildren(String(node.key))}
                    expandedKeys={expandedKeys}
                    onExpand={(keys) => setExpandedKeys(keys.map(String))}
                    selectedKeys={selected ? [selected] : []}
                    onSelect={(_keys, info) => {
                      const code = String(info.node.key);
                      revealDetails.current = isPhone && info.node.isLeaf === true;
                      navigate(`/regions/${code}`);
                    }}
                    blockNode
                    showLine={{ showLeafIcon: false }}
                  />
                </ConfigProvider>
              )}
            </div>
          </Card>
        </Col>
        <Col xs={24} md={14} xl={15}>
          <div ref={detailsCard} style={{ scrollMarginTop: 64 }}>
            <Card
              size="small"
              data-testid="region-details"
              title={
                shown ? (
                  <span>
                    {shown.name}
                    <Tag color="blue" variant="outlined" style={{ marginInlineStart: 8, fontWeight: 400 }}>
                      {levelLabel(shown.level, lang)}
                    </Tag>
                  </span>
                ) : (
                  t('details')
                )
              }
              extra={
                shown &&
                mayWorkOn(shown.code) &&
                (isWorking ? (
                  <Tag icon={<CheckOutlined />} color="success" variant="outlined">
                    {t('isWorking')}
                  </Tag>
                ) : (
                  <Button
                    size="small"
                    icon={<EnvironmentOutlined />}
                    onClick={setAsWorking}
                    data-testid="set-working-region"
                  >
                    {t('setWorking')}
                  </Button>
                ))
              }
            >
              {detailError ? (
                <Alert type="error" showIcon title={detailError.message} />
              ) : shown ? (
                <Spin spinning={detailLoading} delay={300}>
                  <RegionDetails region={shown} />
                </Spin>
              ) : detailLoading ? (
                <div style={{ display: 'flex', justifyContent: 'center', padding: '32px 0' }}>
                  <Spin />
                </div>
              ) : (
                <Empty
                  image={Empty.PRESENTED_IMAGE_SIMPLE}
                  description={
                    <span style={{ color: token.colorTextSecondary }}>
                      {isPhone ? t('pickHintPhone') : t('pickHintDesktop')}
                    </span>
                  }
                />
              )}
            </Card>
          </div>
        </Col>
      </Row>
    </>
  );
}
