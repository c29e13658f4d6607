// Export (数据导出): a region of the user's scope in the registry template, .xlsx or .csv - the file
// the imports page takes back, so a clerk exports a township, corrects it in Excel and imports it.
// The region picker starts at the user's own region (the server refuses any other). ID numbers and
// phones come whole only for roles that may reveal them (persons.reveal), masked for the rest; the
// page says which before the download.
import { useState } from 'react';
import { Alert, Button, Card, Form, List, Radio, Typography } from 'antd';
import { DownloadOutlined } from '@ant-design/icons';
import { errorText } from '../registry/form-errors.tsx';
import { RegionField } from '../access/RegionField.tsx';
import { defineMessages, useT, type Translate } from '../i18n.ts';
import { Link } from '../router.tsx';
import { exportsApi, type ExportFormat, type ExportGaps } from '../registry/exports.ts';
import { useAppState } from '../shell/app-state.tsx';
import { PageTitle } from '../shell/PageTitle.tsx';

const messages = defineMessages(
  {
    title: '数据导出',
    intro: '按户籍人口模板导出所选区划（含下级区划）的全部人员。',
    roundTrip: '文件可在 Excel 中改正后导回：',
    imports: '数据导入',
    region: '区划',
    regionHint: '您的管辖范围内的任一级区划',
    format: '文件格式',
    xlsx: 'Excel（.xlsx）',
    csv: 'CSV（.csv，UTF-8）',
    masked: '身份证号和电话将以掩码导出',
    maskedHint:
      '您的角色无权查看完整号码，文件中为掩码（如 {example}）。掩码文件供查阅；导回时不会改动身份证号和电话。',
    whole: '文件含完整的身份证号和电话',
    wholeHint: '导出记入审计。请妥善保管文件，用后删除。',
    download: '导出并下载',
    downloading: '正在导出…',
    downloaded: '已下载 {file}',
    chooseRegion: '请选择区划',
    complete: '该区划全部人员均已导出。',
    gapsTitle: '有 {n} 名人员未导出：登记表无法容纳（补录所缺信息后即可导出）',
    gapsMore: '另有 {n} 名未列出',
    linksLeft: '有 {n} 条亲属或照护关系未写入文件：关联人员没有身份号码，登记表只能按身份号码写明关系。',
  },
  {
    title: 'Export',
    intro: 'Exports every person of the chosen region (and the regions below it) in the registry template.',
    roundTrip: 'Correct it in Excel and import it back:',
    imports: 'Imports',
    region: 'Region',
    regionHint: 'Any region within your scope',
    format: 'Format',
    xlsx: 'Excel (.xlsx)',
    csv: 'CSV (.csv, UTF-8)',
    masked: 'ID numbers and phones are exported masked',
    maskedHint:
      'Your role may not see them whole, so the file has them masked (e.g. {example}). A masked file is for reading; imported back it changes no ID number or phone.',
    whole: 'The file holds whole ID numbers and phones',
    wholeHint: 'The export is audited. Keep the file safe and delete it after use.',
    download: 'Export and download',
    downloading: 'Exporting…',
    downloaded: 'Downloaded {file}',
    chooseRegion: 'Choose a region',
    complete: 'Every person of the region was exported.',
    gapsTitle:
      '{n} persons were not exported: the template cannot hold them (record what they lack to export them)',
    gapsMore: '{n} more not listed',
    linksLeft:
      '{n} family or care links are not in the file: the related person has no ID number, and the template states a link by ID number only.',
  },
);

type MessageKey = keyof typeof messages.zh;

/**
 * An 18-character ID number as a masked file holds it: the first four characters (the prefecture)
 * only, as maskIdNumber in src/platform/normalize.ts writes it.
 */
const MASKED_ID_EXAMPLE = `4102${'*'.repeat(14)}`;

export default function Exports() {
  const t = useT(messages);
  const { me, workingRegion, can } = useAppState();
  const scope = me?.regionCode ?? '';
  // The working region when it lies within the user's scope, else the whole scope.
  const [region, setRegion] = useState<string | null>(() =>
    workingRegion && workingRegion.code.startsWith(scope) ? workingRegion.code : scope || null,
  );
  const [format, setFormat] = useState<ExportFormat>('xlsx');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [gaps, setGaps] = useState<ExportGaps | null>(null);
  const masked = !can('persons.reveal');

  const download = async () => {
    if (!region) {
      setError(t('chooseRegion'));
      return;
    }
    setBusy(true);
    setError(null);
    setSaved(null);
    setGaps(null);
    try {
      setSaved(await exportsApi.registry(region, format));
      // What the file is not: said beside it, so that it is never taken for the whole registry.
      setGaps(await exportsApi.gaps(region));
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <PageTitle title={t('title')} />
      <Card size="small" style={{ maxWidth: 720 }} data-testid="registry-export">
        <Typography.Paragraph>
          {t('intro')}
          {can('imports.run') && (
            <>
              <br />
              <Typography.Text type="secondary">
                {t('roundTrip')} <Link to="/imports">{t('imports')}</Link>
              </Typography.Text>
            </>
          )}
        </Typography.Paragraph>
        <Form layout="vertical" onFinish={() => void download()}>
          <Form.Item label={t('region')} extra={t('regionHint')} required>
            <RegionField
              within={scope}
              value={region}
              onChange={(code) => {
                setRegion(code);
                setSaved(null);
                setGaps(null);
              }}
              placeholder={t('chooseRegion')}
              data-testid="export-region"
            />
          </Form.Item>
          <Form.Item label={t('format')}>
            <Radio.Group
              value={format}
              onChange={(e) => setFormat(e.target.value as ExportFormat)}
              options={[
                { value: 'xlsx', label: t('xlsx') },
                { value: 'csv', label: t('csv') },
              ]}
            />
          </Form.Item>
          <Alert
            type={masked ? 'info' : 'warning'}
            showIcon
            title={masked ? t('masked') : t('whole')}
            description={masked ? t('maskedHint', { example: MASKED_ID_EXAMPLE }) : t('wholeHint')}
            style={{ marginBottom: 16 }}
            data-testid="export-masking"
          />
          {error && (
            <Alert
              type="error"
              showIcon
              title={error}
              style={{ marginBottom: 16 }}
              data-testid="export-error"
            />
          )}
          <Button
            type="primary"
            htmlType="submit"
            icon={<DownloadOutlined />}
            loading={busy}
            data-testid="export-download"
          >
            {busy ? t('downloading') : t('download')}
          </Button>
          {saved && (
            <Typography.Text type="success" style={{ marginInlineStart: 12 }} data-testid="export-saved">
              {t('downloaded', { file: saved })}
            </Typography.Text>
          )}
        </Form>
        {gaps && <GapsNote gaps={gaps} t={t} />}
      </Card>
    </>
  );
}

function GapsNote({ gaps, t }: { gaps: ExportGaps; t: Translate<MessageKey> }) {
  if (gaps.total === 0 && gaps.linksWithoutIdNumber === 0)
    return (
      <Alert
        type="success"
        showIcon
        title={t('complete')}
        style={{ marginTop: 16 }}
        data-testid="export-gaps"
      />
    );
  return (
    <Alert
      type="warning"
      showIcon
      style={{ marginTop: 16 }}
      data-testid="export-gaps"
      title={
        gaps.total > 0 ? t('gapsTitle', { n: gaps.total }) : t('linksLeft', { n: gaps.linksWithoutIdNumber })
      }
      description={
        gaps.total > 0 && (
          <>
            <List
              size="small"
              dataSource={gaps.persons}
              renderItem={(p) => (
                <List.Item key={p.personId}>
                  <Link to={`/persons/${p.personId}`}>{p.name}</Link>
                  <Typography.Text type="secondary" style={{ marginInlineStart: 8 }}>
                    {p.reasons.map((r) => r.split(/[:：]/)[0]).join('；')}
                  </Typography.Text>
                </List.Item>
              )}
            />
            {gaps.total > gaps.persons.length && (
              <Typography.Text type="secondary">
                {t('gapsMore', { n: gaps.total - gaps.persons.length })}
              </Typography.Text>
            )}
            {gaps.linksWithoutIdNumber > 0 && (
              <Typography.Paragraph style={{ marginTop: 8, marginBottom: 0 }}>
                {t('linksLeft', { n: gaps.linksWithoutIdNumber })}
              </Typography.Paragraph>
            )}
          </>
        )
      }
    />
  );
}
