// A person's dated facts (事实记录) for a clerk: the timeline with each fact's period [from, to) and
// details, ending an ongoing one on a date (the mother came back: the period gets its end, nothing
// is marked wrong), retracting a wrong one (it stays in the history with who, when and why), and
// recording a new one with the fields its kind needs. The server checks the fields; its refusal
// shows next to them.
import { useState } from 'react';
import {
  Alert,
  Button,
  Card,
  Checkbox,
  Form,
  Input,
  Modal,
  Select,
  Space,
  Table,
  Tag,
  Typography,
} from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { ApiError } from '../api.ts';
import { defineMessages, useLang, useT } from '../i18n.ts';
import type { Fact } from './persons.ts';
import {
  FIRST_ERROR_SCROLL,
  clearFieldErrors,
  errorText,
  showFieldErrors,
  useScrolledIntoView,
} from './form-errors.tsx';
import { FactRetraction } from './FactDetails.tsx';
import {
  FACT_FIELDS,
  FACT_KINDS,
  FACT_LABELS,
  describeFactData,
  factLabel,
  personEditApi,
  type FactField,
  type FactKind,
} from './person-edit.ts';

const messages = defineMessages(
  {
    facts: '事实记录',
    kind: '类型',
    period: '期间',
    details: '详情',
    openEnded: '至今',
    retracted: '已撤回',
    retract: '撤回',
    end: '结束',
    endTitle: '结束这条记录',
    endHint: '该记录属实、现已结束（如外出务工人员已返乡）。结束日期当天起不再适用；记录保留在历史中。',
    endTo: '结束日期',
    retractTitle: '撤回这条记录？',
    retractHint: '撤回表示该记录有误。记录仍保留在历史中，并注明撤回人、时间和原因。',
    reason: '撤回原因',
    add: '新增事实',
    from: '开始日期',
    to: '结束日期',
    toHint: '不含当天：结束日期当天起不再适用；空 = 持续至今',
    required: '必填',
    yes: '是',
    save: '保存',
    cancel: '取消',
    none: '—',
  },
  {
    facts: 'Facts',
    kind: 'Kind',
    period: 'Period',
    details: 'Details',
    openEnded: 'ongoing',
    retracted: 'Retracted',
    retract: 'Retract',
    end: 'End',
    endTitle: 'End this fact',
    endHint:
      'The fact was true and has ended (e.g. the migrant came home). From this day it no longer applies; it stays in the history.',
    endTo: 'Ended on',
    retractTitle: 'Retract this fact?',
    retractHint:
      'Retracting says the record was wrong. It stays in the history with who retracted it, when and why.',
    reason: 'Reason',
    add: 'Record a fact',
    from: 'From',
    to: 'Until',
    toHint: 'Exclusive: no longer true from this day; empty = ongoing',
    required: 'Required',
    yes: 'Yes',
    save: 'Save',
    cancel: 'Cancel',
    none: '—',
  },
);

interface FactValues {
  kind: FactKind;
  from: string;
  to: string;
  data: Record<string, unknown>;
}

/** The data as the API takes it: empty entries dropped. */
function cleanData(kind: FactKind, data: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of FACT_FIELDS[kind]) {
    const value = data?.[field.key];
    if (value === undefined || value === null || value === '') continue;
    if (field.type === 'boolean' && value === false) continue;
    out[field.key] = typeof value === 'string' ? value.trim() : value;
  }
  return out;
}

function DataField({
  field,
  lang,
  t,
}: {
  field: FactField;
  lang: 'zh' | 'en';
  t: (k: 'required') => string;
}) {
  const rules = 'required' in field && field.required ? [{ required: true, message: t('required') }] : [];
  const name = ['data', field.key];
  switch (field.type) {
    case 'text':
      return (
        <Form.Item name={name} label={field.label[lang]} rules={rules}>
          <Input maxLength={200} />
        </Form.Item>
      );
    case 'date':
      return (
        <Form.Item name={name} label={field.label[lang]} rules={rules}>
          <Input type="date" style={{ maxWidth: 220 }} />
        </Form.Item>
      );
    case 'boolean':
      return (
        <Form.Item name={name} valuePropName="checked">
          <Checkbox>{field.label[lang]}</Checkbox>
        </Form.Item>
      );
    case 'choice':
      return (
        <Form.Item name={name} label={field.label[lang]} rules={rules}>
          <Select options={field.options.map((o) => ({ value: o.value, label: o.label[lang] }))} />
        </Form.Item>
      );
  }
}

export function FactsEditor({
  personId,
  facts,
  onChanged,
}: {
  personId: number;
  facts: readonly Fact[];
  /** Called after a fact was recorded or retracted, to read the person again. */
  onChanged: () => void;
}) {
  const t = useT(messages);
  const lang = useLang();
  const [form] = Form.useForm<FactValues>();
  const [adding, setAdding] = useState(false);
  const [busy, setBusy] = useState(false);
  const [formError, setFormError] = useState<string[]>([]);
  const [retracting, setRetracting] = useState<Fact | null>(null);
  const [reason, setReason] = useState('');
  const [retractError, setRetractError] = useState<string | null>(null);
  const [ending, setEnding] = useState<Fact | null>(null);
  const [endTo, setEndTo] = useState('');
  const [endError, setEndError] = useState<string | null>(null);
  const kind = Form.useWatch('kind', form);

  const add = async (values: FactValues) => {
    setBusy(true);
    setFormError([]);
    clearFieldErrors(form);
    try {
      await personEditApi.addFact(personId, {
        kind: values.kind,
        from: values.from,
        to: values.to || null,
        data: cleanData(values.kind, values.data),
      });
      form.resetFields();
      setAdding(false);
      onChanged();
    } catch (error) {
      setFormError(
        error instanceof ApiError
          ? showFieldErrors(form, error, ['kind', 'from', 'to', 'data'])
          : [errorText(error)],
      );
    } finally {
      setBusy(false);
    }
  };

  const retract = async () => {
    if (!retracting) return;
    setBusy(true);
    setRetractError(null);
    try {
      await personEditApi.retractFact(personId, retracting.id, reason.trim() || null);
      setRetracting(null);
      setReason('');
      onChanged();
    } catch (error) {
      setRetractError(errorText(error));
    } finally {
      setBusy(false);
    }
  };

  const end = async () => {
    if (!ending) return;
    if (!endTo) {
      setEndError(t('required'));
      return;
    }
    setBusy(true);
    setEndError(null);
    try {
      await personEditApi.endFact(personId, ending.id, endTo);
      setEnding(null);
      setEndTo('');
      onChanged();
    } catch (error) {
      // A field error (the end not after the start) names the field; show its reason.
      const detail = error instanceof ApiError ? error.details.find((d) => d.path.includes('to')) : undefined;
      setEndError(detail?.message ?? errorText(error));
    } finally {
      setBusy(false);
    }
  };

  const label = (k: string) => factLabel(k, lang);
  const errorsRef = useScrolledIntoView(formError.length > 0 ? formError : null);

  return (
    <Card
      size="small"
      title={t('facts')}
      data-testid="facts-editor"
      extra={
        !adding && (
          <Button size="small" icon={<PlusOutlined />} onClick={() => setAdding(true)} data-testid="add-fact">
            {t('add')}
          </Button>
        )
      }
    >
      {adding && (
        <Card size="small" type="inner" title={t('add')} style={{ marginBottom: 12 }}>
          <div ref={errorsRef}>
            {formError.map((message) => (
              <Alert key={message} type="error" showIcon title={message} style={{ marginBottom: 12 }} />
            ))}
          </div>
          <Form<FactValues>
            form={form}
            layout="vertical"
            scrollToFirstError={FIRST_ERROR_SCROLL}
            onFinish={(values) => void add(values)}
            onValuesChange={(changed) => clearFieldErrors(form, changed)}
            data-testid="fact-form"
          >
            <Form.Item name="kind" label={t('kind')} rules={[{ required: true, message: t('required') }]}>
              <Select<FactKind>
                options={FACT_KINDS.map((k) => ({ value: k, label: FACT_LABELS[k][lang] }))}
                showSearch={{ optionFilterProp: 'label' }}
                onChange={() => {
                  // Another kind has other details: the old ones go, with any error on them.
                  form.setFieldValue('data', {});
                  clearFieldErrors(form, { data: null });
                }}
              />
            </Form.Item>
            <Space wrap align="start">
              <Form.Item name="from" label={t('from')} rules={[{ required: true, message: t('required') }]}>
                <Input type="date" />
              </Form.Item>
              <Form.Item name="to" label={t('to')} extra={t('toHint')}>
                <Input type="date" />
              </Form.Item>
            </Space>
            {kind &&
              FACT_FIELDS[kind].map((field) => <DataField key={field.key} field={field} lang={lang} t={t} />)}
            <Space>
              <Button type="primary" htmlType="submit" loading={busy}>
                {t('save')}
              </Button>
              <Button
                onClick={() => {
                  form.resetFields();
                  setFormError([]);
                  setAdding(false);
                }}
              >
                {t('cancel')}
              </Button>
            </Space>
          </Form>
        </Card>
      )}
      <Table<Fact>
        size="small"
        rowKey="id"
        dataSource={[...facts]}
        pagination={false}
        scroll={{ x: 560 }}
        locale={{ emptyText: t('none') }}
        columns={[
          {
            key: 'kind',
            title: t('kind'),
            render: (_: unknown, f: Fact) =>
              f.retractedAt ? (
                <Space size={4} wrap>
                  <Typography.Text delete>{label(f.kind)}</Typography.Text>
                  <Tag>{t('retracted')}</Tag>
                </Space>
              ) : (
                label(f.kind)
              ),
          },
          {
            key: 'period',
            title: t('period'),
            render: (_: unknown, f: Fact) => `${f.from} – ${f.to ?? t('openEnded')}`,
          },
          {
            key: 'details',
            title: t('details'),
            render: (_: unknown, f: Fact) => (
              <Space orientation="vertical" size={2}>
                {describeFactData(f.kind, f.data, lang) || t('none')}
                <FactRetraction fact={f} />
              </Space>
            ),
          },
          {
            key: 'actions',
            title: '',
            width: 120,
            render: (_: unknown, f: Fact) =>
              f.retractedAt ? null : (
                <Space size={0}>
                  {f.to === null && (
                    <Button
                      size="small"
                      type="link"
                      onClick={() => {
                        setEnding(f);
                        setEndTo('');
                        setEndError(null);
                      }}
                      data-testid={`end-fact-${f.id}`}
                    >
                      {t('end')}
                    </Button>
                  )}
                  <Button size="small" type="link" danger onClick={() => setRetracting(f)}>
                    {t('retract')}
                  </Button>
                </Space>
              ),
          },
        ]}
      />
      <Modal
        open={retracting !== null}
        title={t('retractTitle')}
        okText={t('retract')}
        okButtonProps={{ danger: true, loading: busy }}
        cancelText={t('cancel')}
        onOk={() => void retract()}
        onCancel={() => {
          setRetracting(null);
          setRetractError(null);
        }}
        destroyOnHidden
      >
        {retracting && (
          <Typography.Paragraph>
            <strong>{label(retracting.kind)}</strong> {retracting.from} – {retracting.to ?? t('openEnded')}
          </Typography.Paragraph>
        )}
        <Typography.Paragraph type="secondary">{t('retractHint')}</Typography.Paragraph>
        <Input.TextArea
          aria-label={t('reason')}
          placeholder={t('reason')}
          value={reason}
          maxLength={500}
          onChange={(e) => setReason(e.target.value)}
        />
        {retractError && <Alert type="error" showIcon title={retractError} style={{ marginTop: 12 }} />}
      </Modal>
      <Modal
        open={ending !== null}
        title={t('endTitle')}
        okText={t('end')}
        okButtonProps={{ loading: busy }}
        cancelText={t('cancel')}
        onOk={() => void end()}
        onCancel={() => {
          setEnding(null);
          setEndError(null);
        }}
        destroyOnHidden
      >
        {ending && (
          <Typography.Paragraph>
            <strong>{label(ending.kind)}</strong> {ending.from} – {t('openEnded')}
          </Typography.Paragraph>
        )}
        <Typography.Paragraph type="secondary">{t('endHint')}</Typography.Paragraph>
        <Form layout="vertical">
          <Form.Item
            label={t('endTo')}
            validateStatus={endError ? 'error' : undefined}
            help={endError ?? undefined}
          >
            <Input
              type="date"
              aria-label={t('endTo')}
              value={endTo}
              min={ending?.from}
              onChange={(e) => setEndTo(e.target.value)}
              data-testid="end-fact-date"
              style={{ maxWidth: 220 }}
            />
          </Form.Item>
        </Form>
      </Modal>
    </Card>
  );
}
