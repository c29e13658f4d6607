// 审计日志: the audit administrator's search of the audit trail, newest first, by user, action,
// region, time and result; each entry opens to its details. The matching entries export as CSV
// (audit.export), and the hash chain can be verified. Every search is itself audited.
import { useCallback, useEffect, useState } from 'react';
import {
  Alert,
  App,
  AutoComplete,
  Button,
  DatePicker,
  Form,
  Input,
  Select,
  Space,
  Table,
  Tag,
  Tooltip,
  Typography,
} from 'antd';
import type { ColumnsType } from 'antd/es/table';
import {
  DownloadOutlined,
  LeftOutlined,
  ReloadOutlined,
  RightOutlined,
  SafetyCertificateOutlined,
  SearchOutlined,
} from '@ant-design/icons';
import { saveBlob } from '../../api.ts';
import {
  auditApi,
  formatDateTime,
  roleLabel,
  type AuditItem,
  type AuditQuery,
  type AuditResult,
} from '../../access/access.ts';
import { RegionField } from '../../access/RegionField.tsx';
import { defineMessages, useLang, useT, type Localized } from '../../i18n.ts';
import { useAppState } from '../../shell/app-state.tsx';
import { PageTitle } from '../../shell/PageTitle.tsx';
import { AUDIT_ACTIONS, auditActionLabel } from './audit-actions.ts';
import { useIsPhone } from '../../shell/responsive.ts';

const messages = defineMessages(
  {
    title: '审计日志',
    actor: '用户名',
    actorHint: '完整用户名',
    action: '操作',
    actionHint: '操作代码，或以“.”结尾的前缀',
    region: '区划',
    time: '时间范围',
    result: '结果',
    any: '全部',
    ok: '成功',
    denied: '拒绝',
    error: '错误',
    search: '查询',
    reset: '重置',
    export: '导出 CSV',
    exported: '已导出 {file}',
    verify: '校验完整性',
    verifyOk: '审计日志完整：{count} 条记录的哈希链校验通过（{alg}）',
    verifyBroken: '审计日志校验未通过：{problem}',
    at: '时间',
    who: '用户',
    role: '角色',
    object: '对象',
    ip: 'IP 地址',
    details: '详情',
    requestId: '请求编号',
    noDetails: '无',
    page: '第 {page} 页',
    previous: '上一页',
    next: '下一页',
    pageSize: '{n} 条/页',
    anonymous: '未登录',
    system: '系统',
    token: 'API 令牌',
  },
  {
    title: 'Audit log',
    actor: 'Username',
    actorHint: 'The whole username',
    action: 'Action',
    actionHint: 'An action code, or a prefix ending in “.”',
    region: 'Region',
    time: 'Time',
    result: 'Result',
    any: 'Any',
    ok: 'OK',
    denied: 'Denied',
    error: 'Error',
    search: 'Search',
    reset: 'Reset',
    export: 'Export CSV',
    exported: '{file} exported',
    verify: 'Verify integrity',
    verifyOk: 'The audit log is intact: the hash chain of {count} entries verifies ({alg})',
    verifyBroken: 'The audit log does not verify: {problem}',
    at: 'Time',
    who: 'User',
    role: 'Role',
    object: 'Object',
    ip: 'IP address',
    details: 'Details',
    requestId: 'Request id',
    noDetails: 'None',
    page: 'Page {page}',
    previous: 'Previous',
    next: 'Next',
    pageSize: '{n} / page',
    anonymous: 'Not signed in',
    system: 'System',
    token: 'API token',
  },
);

/** What an entry is about, in words; unknown kinds show their code. */
const ENTITY_TYPES: Record<string, Localized> = {
  person: { zh: '人员', en: 'Person' },
  household: { zh: '家庭', en: 'Household' },
  user: { zh: '用户', en: 'User' },
  api_token: { zh: 'API 令牌', en: 'API token' },
  audit_log: { zh: '审计日志', en: 'Audit log' },
  import: { zh: '导入', en: 'Import' },
  group: { zh: '关爱群体', en: 'Care group' },
  group_config: { zh: '群体参数', en: 'Group settings' },
  group_stats: { zh: '群体统计', en: 'Group statistics' },
  region: { zh: '行政区划', en: 'Region' },
  worklist_item: { zh: '待办事项', en: 'Worklist item' },
  route: { zh: '接口', en: 'API route' },
};

/** The actions the system records, with their words; unknown ones show their code. */
const ACTIONS = AUDIT_ACTIONS;
const actionLabel = auditActionLabel;

const RESULT_COLORS: Record<string, string> = { ok: 'green', denied: 'orange', error: 'red' };

interface Filters {
  actor?: string;
  action?: string;
  region?: string | null;
  time?: [{ toISOString(): string } | null, { toISOString(): string } | null] | null;
  result?: AuditResult | '';
}

function toQuery(filters: Filters): AuditQuery {
  const [from, to] = filters.time ?? [null, null];
  return {
    actor: filters.actor?.trim() || undefined,
    action: filters.action?.trim() || undefined,
    region: filters.region || undefined,
    result: filters.result || undefined,
    from: from?.toISOString(),
    to: to?.toISOString(),
  };
}

function Details({
  item,
  t,
}: {
  item: AuditItem;
  t: (key: 'requestId' | 'details' | 'noDetails') => string;
}) {
  const hasDetails = Object.keys(item.details).length > 0;
  return (
    <div style={{ fontSize: 12 }}>
      {item.requestId && (
        <div>
          {t('requestId')}: <Typography.Text code>{item.requestId}</Typography.Text>
        </div>
      )}
      <div style={{ marginTop: 4 }}>{t('details')}:</div>
      {hasDetails ? (
        <pre
          style={{
            margin: '4px 0 0',
            padding: 8,
            background: '#f7f8fa',
            borderRadius: 4,
            whiteSpace: 'pre-wrap',
            wordBreak: 'break-all',
          }}
        >
          {JSON.stringify(item.details, null, 2)}
        </pre>
      ) : (
        <Typography.Text type="secondary"> {t('noDetails')}</Typography.Text>
      )}
    </div>
  );
}

export default function Audit() {
  const t = useT(messages);
  const lang = useLang();
  const { can } = useAppState();
  const isPhone = useIsPhone();
  const { message } = App.useApp();
  const [form] = Form.useForm<Filters>();
  const [query, setQuery] = useState<AuditQuery>({});
  const [pageSize, setPageSize] = useState(50);
  // cursors[i] opens page i; page 0 has none.
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [pageIndex, setPageIndex] = useState(0);
  const [items, setItems] = useState<AuditItem[]>([]);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [problem, setProblem] = useState<string | null>(null);
  const [generation, setGeneration] = useState(0);
  const [exporting, setExporting] = useState(false);
  const [verifying, setVerifying] = useState(false);

  const cursor = cursors[pageIndex];
  useEffect(() => {
    let live = true;
    setLoading(true);
    setProblem(null);
    auditApi
      .search({ ...query, limit: pageSize, cursor })
      .then((page) => {
        if (!live) return;
        setItems(page.items);
        setNextCursor(page.nextCursor);
      })
      .catch((error: unknown) => live && setProblem((error as Error).message))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [query, pageSize, cursor, generation]);

  const restart = useCallback((next: AuditQuery) => {
    setQuery(next);
    setCursors([undefined]);
    setPageIndex(0);
    setGeneration((n) => n + 1);
  }, []);

  const goNext = () => {
    if (!nextCursor) return;
    setCursors((current) => [...current.slice(0, pageIndex + 1), nextCursor]);
    setPageIndex(pageIndex + 1);
  };

  const exportCsv = async () => {
    setExporting(true);
    try {
      const { blob, filename } = await auditApi.export(query);
      const name = filename ?? 'audit.csv';
      saveBlob(blob, name);
      void message.success(t('exported', { file: name }));
    } catch (error) {
      void message.error((error as Error).message);
    } finally {
      setExporting(false);
    }
  };

  const verify = async () => {
    setVerifying(true);
    try {
      const report = await auditApi.verify();
      if (report.ok)
        void message.success(t('verifyOk', { count: report.count, alg: report.hashAlgorithm }), 6);
      else void message.error(t('verifyBroken', { problem: report.problem?.message ?? '' }), 10);
    } catch (error) {
      void message.error((error as Error).message);
    } finally {
      setVerifying(false);
    }
  };

  const actionOptions = Object.entries(ACTIONS).map(([value, label]) => ({
    value,
    label: (
      <span>
        {label[lang]} <Typography.Text type="secondary">{value}</Typography.Text>
      </span>
    ),
  }));

  const columns: ColumnsType<AuditItem> = [
    {
      title: t('at'),
      dataIndex: 'at',
      width: 160,
      render: (at: string) => (
        <span style={{ fontVariantNumeric: 'tabular-nums' }}>{formatDateTime(at, true)}</span>
      ),
    },
    {
      title: t('who'),
      key: 'who',
      width: 150,
      render: (_, item) =>
        item.actorUsername ? (
          <Tooltip title={item.actorRole ? roleLabel(item.actorRole, lang) : undefined}>
            <Typography.Text code>{item.actorUsername}</Typography.Text>
          </Tooltip>
        ) : (
          <Typography.Text type="secondary">
            {item.actorKind === 'system'
              ? t('system')
              : item.actorKind === 'token'
                ? t('token')
                : t('anonymous')}
          </Typography.Text>
        ),
    },
    {
      title: t('action'),
      dataIndex: 'action',
      render: (action: string) => {
        const label = actionLabel(action, lang);
        return (
          <span>
            {label ?? action}
            {label && (
              <Typography.Text type="secondary" style={{ fontSize: 12, marginInlineStart: 6 }}>
                {action}
              </Typography.Text>
            )}
          </span>
        );
      },
    },
    {
      title: t('object'),
      key: 'object',
      width: 170,
      ellipsis: true,
      render: (_, item) =>
        item.entityType ? (
          <Typography.Text style={{ fontSize: 12 }}>
            {ENTITY_TYPES[item.entityType]?.[lang] ?? item.entityType}
            {item.entityId ? ` #${item.entityId}` : ''}
          </Typography.Text>
        ) : null,
    },
    { title: t('region'), dataIndex: 'regionCode', width: 120, render: (code: string | null) => code ?? '' },
    {
      title: t('result'),
      dataIndex: 'result',
      width: 80,
      render: (result: string) => (
        <Tag color={RESULT_COLORS[result] ?? 'default'}>
          {result === 'ok' || result === 'denied' || result === 'error' ? t(result) : result}
        </Tag>
      ),
    },
    { title: t('ip'), dataIndex: 'ip', width: 130, render: (ip: string | null) => ip ?? '' },
  ];

  return (
    <>
      <PageTitle
        title={t('title')}
        extra={
          <Space wrap>
            <Button icon={<SafetyCertificateOutlined />} loading={verifying} onClick={() => void verify()}>
              {t('verify')}
            </Button>
            {can('audit.export') && (
              <Button
                icon={<DownloadOutlined />}
                loading={exporting}
                onClick={() => void exportCsv()}
                data-testid="audit-export"
              >
                {t('export')}
              </Button>
            )}
          </Space>
        }
      />
      <div style={{ background: '#fff', padding: '16px 16px 0', borderRadius: 4, marginBottom: 12 }}>
        <Form<Filters>
          form={form}
          layout="inline"
          onFinish={(filters) => restart(toQuery(filters))}
          initialValues={{ result: '' }}
          style={{ rowGap: 12 }}
          data-testid="audit-filters"
        >
          <Form.Item name="actor" label={t('actor')} tooltip={t('actorHint')}>
            <Input allowClear autoCapitalize="none" spellCheck={false} style={{ width: 140 }} />
          </Form.Item>
          <Form.Item name="action" label={t('action')} tooltip={t('actionHint')}>
            <AutoComplete
              allowClear
              options={actionOptions}
              showSearch={{
                filterOption: (input, option) => {
                  const value = String(option?.value ?? '');
                  const label = ACTIONS[value]?.[lang] ?? '';
                  return value.includes(input) || label.includes(input);
                },
              }}
              style={{ width: 200 }}
              popupMatchSelectWidth={300}
            />
          </Form.Item>
          <Form.Item name="region" label={t('region')}>
            <RegionField width={220} />
          </Form.Item>
          {/* Two date-and-time inputs side by side are wider than a phone: there they take the row. */}
          <Form.Item
            name="time"
            label={t('time')}
            style={isPhone ? { width: '100%', marginInlineEnd: 0 } : {}}
          >
            <DatePicker.RangePicker
              style={isPhone ? { width: '100%' } : {}}
              showTime={{ format: 'HH:mm' }}
              format="YYYY-MM-DD HH:mm"
              allowEmpty={[true, true]}
            />
          </Form.Item>
          <Form.Item name="result" label={t('result')}>
            <Select
              style={{ width: 100 }}
              options={[
                { value: '', label: t('any') },
                { value: 'ok', label: t('ok') },
                { value: 'denied', label: t('denied') },
                { value: 'error', label: t('error') },
              ]}
            />
          </Form.Item>
          <Form.Item>
            <Space>
              <Button type="primary" htmlType="submit" icon={<SearchOutlined />}>
                {t('search')}
              </Button>
              <Button
                onClick={() => {
                  form.resetFields();
                  restart({});
                }}
              >
                {t('reset')}
              </Button>
            </Space>
          </Form.Item>
        </Form>
        <div style={{ height: 16 }} />
      </div>
      {problem && <Alert type="error" showIcon title={problem} style={{ marginBottom: 12 }} />}
      <div style={{ background: '#fff', borderRadius: 4 }}>
        <Table<AuditItem>
          rowKey="id"
          size="small"
          data-testid="audit-table"
          columns={columns}
          dataSource={items}
          loading={loading}
          pagination={false}
          scroll={{ x: 1000 }}
          expandable={{ expandedRowRender: (item) => <Details item={item} t={t} /> }}
        />
        <div
          style={{
            display: 'flex',
            justifyContent: 'flex-end',
            alignItems: 'center',
            gap: 8,
            padding: 12,
            flexWrap: 'wrap',
          }}
        >
          <Button
            size="small"
            icon={<ReloadOutlined />}
            aria-label={t('search')}
            onClick={() => setGeneration((n) => n + 1)}
          />
          <Button
            size="small"
            icon={<LeftOutlined />}
            disabled={pageIndex === 0 || loading}
            onClick={() => setPageIndex(pageIndex - 1)}
          >
            {t('previous')}
          </Button>
          <span data-testid="audit-page">{t('page', { page: pageIndex + 1 })}</span>
          <Button size="small" disabled={!nextCursor || loading} onClick={goNext}>
            {t('next')}
            <RightOutlined />
          </Button>
          <Select
            size="small"
            value={pageSize}
            style={{ width: 100 }}
            onChange={(size) => {
              setPageSize(size);
              setCursors([undefined]);
              setPageIndex(0);
            }}
            options={[20, 50, 100, 200].map((n) => ({ value: n, label: t('pageSize', { n }) }))}
          />
        </div>
      </div>
    </>
  );
}
