// Imports (数据导入): upload a registry template or a child ledger (.xlsx or .csv), as a dry run or for
// real; then watch it run (the page polls GET /imports/{id}), read the counts, download the rejected
// rows with their 错误原因, and for a child ledger the rows whose own answers disagree with the rules.
// The import has its own address (/imports/{id}), so a reload or a shared link shows the same import.
import { useCallback, useEffect, useState } from 'react';
import {
  Alert,
  Button,
  Card,
  Checkbox,
  Col,
  Descriptions,
  Progress,
  Radio,
  Row,
  Space,
  Spin,
  Statistic,
  Table,
  Tag,
  Typography,
  Upload,
} from 'antd';
import { DownloadOutlined, InboxOutlined, UploadOutlined } from '@ant-design/icons';
import { ApiError, isAbortError } from '../api.ts';
import { defineMessages, useT, type Translate } from '../i18n.ts';
import { Link, navigate } from '../router.tsx';
import type { PageProps } from '../routes.ts';
import { PageTitle } from '../shell/PageTitle.tsx';
import { useAppState } from '../shell/app-state.tsx';
import { formatDateTime } from '../access/access.ts';
import {
  FINISHED,
  importPercent,
  importsApi,
  readProgress,
  type ImportKind,
  type ImportProgressReading,
  type ImportListItem,
  type ImportView,
  type LedgerDisagreement,
} from '../registry/imports.ts';

const POLL_MS = 1000;

const messages = defineMessages(
  {
    title: '数据导入',
    importTitle: '导入 #{id}',
    kind: '文件类型',
    registry: '户籍人口模板',
    ledger: '留守儿童台账',
    dryRun: '仅校验（试运行，不写入数据）',
    choose: '点击或拖入文件',
    chooseHint: '.xlsx 或 .csv；编码 UTF-8 或 GBK 均可',
    start: '开始导入',
    startDry: '开始校验',
    uploading: '正在上传…',
    another: '新的导入',
    file: '文件',
    status: '状态',
    queued: '排队中',
    running: '进行中',
    succeeded: '已完成',
    failed: '失败',
    rejected: '已拒绝',
    dryRunTag: '试运行',
    rows: '总行数',
    inserted: '新增',
    updated: '更新',
    unchanged: '未变',
    errors: '错误行',
    rowsDone: '{done} / {total} 行',
    rowsDoneOpen: '已读 {done} 行',
    stepsDone: '{done} / {total} 步',
    stepsDoneOpen: '已完成 {done} 步',
    stepValidating: '校验中',
    stepWriting: '写入中',
    stepDone: '完成',
    passOf: '第 {pass} 遍（共 {passes} 遍）',
    rejectedHint: '文件被整体拒绝，未写入任何数据。',
    dryRunDone: '试运行完成：以上为写入时的结果，数据库未改变。',
    errorReport: '错误报告',
    errorReportHint: '被拒绝的行按原模板列出，并在“错误原因”列说明原因；改正后可再次导入。',
    review: '台账与规则不一致',
    reviewHint: '以下 {count} 处台账填写与系统规则的判定不一致（按 {asOf} 判定，共检查 {rows} 行）。',
    reviewNone: '台账填写与规则判定一致（共检查 {rows} 行）。',
    row: '行号',
    name: '姓名',
    declared: '台账填写',
    derived: '规则判定',
    reason: '说明',
    download: '下载',
    started: '开始时间',
    finished: '完成时间',
    history: '导入记录',
    historyEmpty: '您的管辖范围内还没有导入',
    importedBy: '导入人',
    importedAt: '导入时间',
    apiToken: '接口令牌',
    more: '加载更多',
    exportHint: '要改正已登记的数据，可先导出同一模板，改正后在此导入：',
    export: '数据导出',
  },
  {
    title: 'Imports',
    importTitle: 'Import #{id}',
    kind: 'File type',
    registry: 'Registry template',
    ledger: 'Child ledger',
    dryRun: 'Check only (dry run; nothing is written)',
    choose: 'Click or drop a file here',
    chooseHint: '.xlsx or .csv; UTF-8 or GBK',
    start: 'Import',
    startDry: 'Check',
    uploading: 'Uploading…',
    another: 'New import',
    file: 'File',
    status: 'Status',
    queued: 'Queued',
    running: 'Running',
    succeeded: 'Done',
    failed: 'Failed',
    rejected: 'Refused',
    dryRunTag: 'Dry run',
    rows: 'Rows',
    inserted: 'Inserted',
    updated: 'Updated',
    unchanged: 'Unchanged',
    errors: 'Errors',
    rowsDone: '{done} of {total} rows',
    rowsDoneOpen: '{done} rows read',
    stepsDone: '{done} of {total} steps',
    stepsDoneOpen: '{done} steps done',
    stepValidating: 'Validating',
    stepWriting: 'Writing',
    stepDone: 'Done',
    passOf: 'pass {pass} of {passes}',
    rejectedHint: 'The file was refused whole; nothing was written.',
    dryRunDone: 'Dry run done: these are the counts a real import would give; nothing was changed.',
    errorReport: 'Error report',
    errorReportHint:
      'The rejected rows in the template, with the reason in the 错误原因 column; correct them and import again.',
    review: 'Ledger answers that disagree with the rules',
    reviewHint:
      '{count} answers in the ledger disagree with the rules (applied on {asOf}; {rows} rows checked).',
    reviewNone: 'The ledger agrees with the rules ({rows} rows checked).',
    row: 'Row',
    name: 'Name',
    declared: 'Ledger',
    derived: 'Rules',
    reason: 'Why',
    download: 'Download',
    started: 'Started',
    finished: 'Finished',
    history: 'Past imports',
    historyEmpty: 'No imports in your region yet',
    importedBy: 'By',
    importedAt: 'When',
    apiToken: 'API token',
    more: 'Load more',
    exportHint:
      'To correct what is registered, export it in the same template, correct it and import it here:',
    export: 'Export',
  },
);

type T = Translate<keyof typeof messages.zh>;

const STATUS_COLOR: Record<string, string> = {
  queued: 'default',
  running: 'processing',
  succeeded: 'success',
  failed: 'error',
  rejected: 'error',
};

export default function Imports({ params }: PageProps) {
  const id = params.id ? Number(params.id) : null;
  return id ? <ImportProgress key={id} id={id} /> : <ImportUpload />;
}

function ImportUpload() {
  const t = useT(messages);
  const { can } = useAppState();
  const [kind, setKind] = useState<ImportKind>('registry');
  const [dryRun, setDryRun] = useState(false);
  const [file, setFile] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const start = async () => {
    if (!file) return;
    setBusy(true);
    setError(null);
    try {
      const view = await importsApi.submit(file, { dryRun, kind });
      navigate(`/imports/${view.id}`);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
      setBusy(false);
    }
  };

  return (
    <>
      <PageTitle title={t('title')} />
      <Card size="small">
        <Space orientation="vertical" size={12} style={{ width: '100%' }}>
          {can('exports.run') && (
            <Typography.Text type="secondary">
              {t('exportHint')} <Link to="/exports">{t('export')}</Link>
            </Typography.Text>
          )}
          <Radio.Group
            value={kind}
            onChange={(e) => setKind(e.target.value as ImportKind)}
            aria-label={t('kind')}
            options={[
              { value: 'registry', label: t('registry') },
              { value: 'ledger', label: t('ledger') },
            ]}
          />
          <div data-testid="import-file">
            <Upload.Dragger
              accept=".xlsx,.csv"
              maxCount={1}
              beforeUpload={(chosen) => {
                setFile(chosen);
                setError(null);
                return false;
              }}
              onRemove={() => setFile(null)}
              fileList={
                file ? [{ uid: 'chosen', name: file.name, size: file.size, status: 'done' as const }] : []
              }
            >
              <p className="ant-upload-drag-icon">
                <InboxOutlined />
              </p>
              <p className="ant-upload-text">{t('choose')}</p>
              <p className="ant-upload-hint">{t('chooseHint')}</p>
            </Upload.Dragger>
          </div>
          <Checkbox checked={dryRun} onChange={(e) => setDryRun(e.target.checked)}>
            {t('dryRun')}
          </Checkbox>
          {error && <Alert type="error" showIcon title={error} data-testid="import-error" />}
          <Button
            type="primary"
            icon={<UploadOutlined />}
            disabled={!file}
            loading={busy}
            onClick={() => void start()}
            data-testid="import-start"
          >
            {busy ? t('uploading') : dryRun ? t('startDry') : t('start')}
          </Button>
        </Space>
      </Card>
      <PastImports />
    </>
  );
}

/** The past imports in the user's scope (GET /imports), newest first, each linking to its page. */
function PastImports() {
  const t = useT(messages);
  const [items, setItems] = useState<ImportListItem[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(
    (cursor: string | null, signal?: AbortSignal) =>
      importsApi
        .list(cursor, signal)
        .then((page) => {
          setItems((prev) => (cursor ? [...(prev ?? []), ...page.items] : page.items));
          setNext(page.nextCursor);
        })
        .catch((e: unknown) => {
          if (!isAbortError(e)) setError(e instanceof ApiError ? e.message : String(e));
        }),
    [],
  );

  useEffect(() => {
    const controller = new AbortController();
    void load(null, controller.signal);
    return () => controller.abort();
  }, [load]);

  return (
    <Card size="small" title={t('history')} style={{ marginTop: 16 }} data-testid="import-history">
      {error && <Alert type="error" showIcon title={error} style={{ marginBottom: 12 }} />}
      <Table<ImportListItem>
        size="small"
        rowKey="id"
        loading={items === null && !error}
        dataSource={items ?? []}
        pagination={false}
        locale={{ emptyText: t('historyEmpty') }}
        columns={[
          {
            key: 'file',
            title: t('file'),
            render: (_: unknown, i: ImportListItem) => (
              <Space size={4}>
                <Link to={`/imports/${i.id}`}>{i.fileName}</Link>
                {i.dryRun && <Tag>{t('dryRunTag')}</Tag>}
              </Space>
            ),
          },
          {
            key: 'kind',
            title: t('kind'),
            width: 130,
            render: (_: unknown, i: ImportListItem) => (i.kind === 'ledger' ? t('ledger') : t('registry')),
          },
          {
            key: 'status',
            title: t('status'),
            width: 90,
            render: (_: unknown, i: ImportListItem) => (
              <Tag color={STATUS_COLOR[i.status]}>{t(i.status)}</Tag>
            ),
          },
          {
            key: 'rows',
            title: t('rows'),
            width: 80,
            render: (_: unknown, i: ImportListItem) => i.counts.rows,
          },
          {
            key: 'inserted',
            title: t('inserted'),
            width: 80,
            render: (_: unknown, i: ImportListItem) => i.counts.inserted,
          },
          {
            key: 'updated',
            title: t('updated'),
            width: 80,
            render: (_: unknown, i: ImportListItem) => i.counts.updated,
          },
          {
            key: 'errors',
            title: t('errors'),
            width: 80,
            render: (_: unknown, i: ImportListItem) => i.counts.errors,
          },
          {
            key: 'by',
            title: t('importedBy'),
            width: 140,
            render: (_: unknown, i: ImportListItem) => i.createdBy?.displayName ?? t('apiToken'),
          },
          {
            key: 'at',
            title: t('importedAt'),
            width: 170,
            render: (_: unknown, i: ImportListItem) => formatDateTime(i.createdAt, true),
          },
        ]}
      />
      {next && (
        <Space style={{ marginTop: 8 }}>
          <Button onClick={() => void load(next)}>{t('more')}</Button>
        </Space>
      )}
    </Card>
  );
}

function ImportProgress({ id }: { id: number }) {
  const t = useT(messages);
  const [view, setView] = useState<ImportView | null>(null);
  const [error, setError] = useState<string | null>(null);

  // Poll until the import has finished; a failed poll is retried on the next tick.
  useEffect(() => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | null = null;
    const poll = () => {
      importsApi
        .get(id, controller.signal)
        .then((next) => {
          setView(next);
          setError(null);
          if (!FINISHED.includes(next.status)) timer = setTimeout(poll, POLL_MS);
        })
        .catch((e: unknown) => {
          if (isAbortError(e)) return;
          setError(e instanceof ApiError ? e.message : String(e));
          if (!(e instanceof ApiError && (e.status === 404 || e.status === 403)))
            timer = setTimeout(poll, POLL_MS * 3);
        });
    };
    poll();
    return () => {
      controller.abort();
      if (timer) clearTimeout(timer);
    };
  }, [id]);

  const another = (
    <Button icon={<UploadOutlined />} onClick={() => navigate('/imports')}>
      {t('another')}
    </Button>
  );

  if (!view)
    return (
      <>
        <PageTitle title={t('importTitle', { id })} extra={another} />
        {error ? <Alert type="error" showIcon title={error} /> : <Card loading size="small" />}
      </>
    );

  const finished = FINISHED.includes(view.status);
  const progress = readProgress(view);
  const percent = importPercent(view);
  return (
    <>
      <PageTitle title={t('importTitle', { id })} extra={another} />
      {error && <Alert type="error" showIcon title={error} style={{ marginBottom: 12 }} />}
      <Row gutter={[16, 16]}>
        <Col xs={24} lg={12}>
          <Card size="small">
            <Descriptions
              size="small"
              column={1}
              items={[
                {
                  key: 'file',
                  label: t('file'),
                  children: (
                    <Typography.Text style={{ wordBreak: 'break-all' }}>{view.fileName}</Typography.Text>
                  ),
                },
                {
                  key: 'kind',
                  label: t('kind'),
                  children: (
                    <Space size={4} wrap>
                      {view.kind === 'ledger' ? t('ledger') : t('registry')}
                      {view.dryRun && <Tag color="gold">{t('dryRunTag')}</Tag>}
                    </Space>
                  ),
                },
                {
                  key: 'status',
                  label: t('status'),
                  children: (
                    <Tag color={STATUS_COLOR[view.status]} data-testid="import-status">
                      {statusLabel(view.status, t)}
                    </Tag>
                  ),
                },
                { key: 'started', label: t('started'), children: formatDateTime(view.createdAt, true) },
                ...(view.finishedAt
                  ? [
                      {
                        key: 'finished',
                        label: t('finished'),
                        children: formatDateTime(view.finishedAt, true),
                      },
                    ]
                  : []),
              ]}
            />
            {/* A bar only for a share that is known: while the first pass reads a file of unknown
                length, a bar would sit at 0% and then jump. */}
            {percent !== null && (
              <Progress
                percent={percent}
                status={
                  view.status === 'failed' || view.status === 'rejected'
                    ? 'exception'
                    : finished
                      ? 'success'
                      : 'active'
                }
                data-testid="import-progress"
              />
            )}
            {!finished && (
              <Space size={8} style={{ marginTop: percent === null ? 8 : 0 }}>
                {percent === null && <Spin size="small" data-testid="import-progress-open" />}
                {progress && (
                  <Typography.Text type="secondary" data-testid="import-progress-text">
                    {progressText(progress, t)}
                  </Typography.Text>
                )}
              </Space>
            )}
          </Card>
        </Col>
        <Col xs={24} lg={12}>
          <Card size="small" data-testid="import-counts">
            <Row gutter={[8, 8]}>
              {(['rows', 'inserted', 'updated', 'unchanged', 'errors'] as const).map((key) => (
                <Col key={key} xs={8} sm={8} md={4} lg={8} xl={4}>
                  {/* The counts come with the end of the import: "—" until then, not a 0 that reads
                      as "nothing was read". */}
                  <Statistic
                    title={t(key)}
                    value={finished ? view.counts[key] : '—'}
                    styles={
                      key === 'errors' && view.counts.errors > 0 ? { content: { color: '#cf1322' } } : {}
                    }
                    data-testid={`count-${key}`}
                  />
                </Col>
              ))}
            </Row>
          </Card>
        </Col>
        {view.status === 'rejected' || view.status === 'failed' ? (
          <Col xs={24}>
            <Alert
              type="error"
              showIcon
              title={view.message ?? statusLabel(view.status, t)}
              description={view.status === 'rejected' ? t('rejectedHint') : undefined}
              data-testid="import-message"
            />
          </Col>
        ) : (
          finished &&
          view.dryRun && (
            <Col xs={24}>
              <Alert type="info" showIcon title={t('dryRunDone')} />
            </Col>
          )
        )}
        {view.errorReport && (
          <Col xs={24}>
            <Card size="small" title={t('errorReport')} data-testid="error-report">
              <Typography.Paragraph type="secondary">{t('errorReportHint')}</Typography.Paragraph>
              <Downloads links={view.errorReport} t={t} />
            </Card>
          </Col>
        )}
        {view.review && (
          <Col xs={24}>
            <Card size="small" title={t('review')} data-testid="ledger-review">
              <Typography.Paragraph type="secondary">
                {view.review.count
                  ? t('reviewHint', {
                      count: view.review.count,
                      asOf: view.review.asOf,
                      rows: view.review.rowsChecked,
                    })
                  : t('reviewNone', { rows: view.review.rowsChecked })}
              </Typography.Paragraph>
              {view.review.report && <Downloads links={view.review.report} t={t} />}
              {view.review.disagreements.length > 0 && (
                <Table<LedgerDisagreement>
                  size="small"
                  style={{ marginTop: 12 }}
                  rowKey={(d) => `${d.rowNumber}:${d.question}`}
                  dataSource={view.review.disagreements}
                  pagination={{ pageSize: 20, hideOnSinglePage: true }}
                  scroll={{ x: 640 }}
                  columns={[
                    { key: 'row', title: t('row'), dataIndex: 'rowNumber', width: 64 },
                    {
                      key: 'name',
                      title: t('name'),
                      render: (_: unknown, d: LedgerDisagreement) => (
                        <Link to={`/persons/${d.personId}`}>{d.name}</Link>
                      ),
                    },
                    { key: 'declared', title: t('declared'), dataIndex: 'declared' },
                    { key: 'derived', title: t('derived'), dataIndex: 'derived' },
                    { key: 'text', title: t('reason'), dataIndex: 'text' },
                  ]}
                />
              )}
            </Card>
          </Col>
        )}
      </Row>
    </>
  );
}

function Downloads({ links, t }: { links: { xlsx: string; csv: string }; t: T }) {
  // Plain links: the session cookie goes with them and the server names the file.
  return (
    <Space wrap>
      <Button icon={<DownloadOutlined />} href={links.xlsx} download>
        {t('download')} .xlsx
      </Button>
      <Button icon={<DownloadOutlined />} href={links.csv} download>
        {t('download')} .csv
      </Button>
    </Space>
  );
}

/** "写入中 · 第 2 遍（共 2 遍） · 4 / 8 行": the step in words, the pass, and the pass's own count. */
function progressText(p: ImportProgressReading, t: T): string {
  const parts: string[] = [];
  if (p.step === 'validating') parts.push(t('stepValidating'));
  else if (p.step === 'writing') parts.push(t('stepWriting'));
  else if (p.step === 'done') parts.push(t('stepDone'));
  if (p.pass !== null && p.passes !== null) parts.push(t('passOf', { pass: p.pass, passes: p.passes }));
  const vars = { done: p.done, total: p.total ?? 0 };
  if (p.total !== null) parts.push(p.rows ? t('rowsDone', vars) : t('stepsDone', vars));
  else if (p.done > 0 || p.step === 'validating')
    parts.push(p.rows ? t('rowsDoneOpen', vars) : t('stepsDoneOpen', vars));
  return parts.join(' · ');
}

function statusLabel(status: string, t: T): string {
  switch (status) {
    case 'queued':
    case 'running':
    case 'succeeded':
    case 'failed':
    case 'rejected':
      return t(status);
    default:
      return status;
  }
}
