// Link a person to a relative (POST /persons/{id}/relations): who the other person is to this one -
// a parent (biological, adoptive or step), the spouse, the legal guardian or an entrusted carer (with
// the date of the entrustment form and the carer's fitness check).
import { useState } from 'react';
import { Alert, Button, Checkbox, Form, Input, Select, Space } from 'antd';
import { ApiError } from '../api.ts';
import { defineMessages, useLang, useT } from '../i18n.ts';
import { useUnsavedInput } from '../shell/app-state.tsx';
import { clearFieldErrors, errorText, showFieldErrors } from './form-errors.tsx';
import { PersonPicker } from './PersonPicker.tsx';
import { RELATION_WORDS, personEditApi, type RelationInput, type RelationKind } from './person-edit.ts';

const messages = defineMessages(
  {
    kind: '对方是本人的',
    other: '对方',
    otherHint: '输入姓名、拼音或身份证号后6位搜索',
    subtype: '父母类型',
    validFrom: '起始日期',
    entrustmentFormDate: '委托监护确认书日期',
    carerFitnessCheckedOn: '照护能力评估日期',
    carerFit: '具备照护能力',
    required: '必填',
    add: '添加关系',
    cancel: '取消',
  },
  {
    kind: 'The other person is this one’s',
    other: 'Other person',
    otherHint: 'Type a name, pinyin or the last 6 of the ID number',
    subtype: 'Kind of parent',
    validFrom: 'Since',
    entrustmentFormDate: 'Entrustment form signed on',
    carerFitnessCheckedOn: 'Carer’s fitness checked on',
    carerFit: 'Fit to care',
    required: 'Required',
    add: 'Add relation',
    cancel: 'Cancel',
  },
);

interface Values {
  kind: RelationKind;
  relatedPersonId: number;
  subtype: 'biological' | 'adoptive' | 'step';
  validFrom: string;
  entrustmentFormDate: string;
  carerFitnessCheckedOn: string;
  carerFit: boolean;
}

const FIELDS = [
  'kind',
  'relatedPersonId',
  'subtype',
  'validFrom',
  'entrustmentFormDate',
  'carerFitnessCheckedOn',
  'carerFit',
];

export function RelationForm({
  personId,
  onAdded,
  onCancel,
}: {
  personId: number;
  onAdded: () => void;
  onCancel: () => void;
}) {
  const t = useT(messages);
  const lang = useLang();
  const [form] = Form.useForm<Values>();
  const kind = Form.useWatch('kind', form);
  const [busy, setBusy] = useState(false);
  // Typed input survives an expired session: a sign-in over the page, then save again.
  const [typed, setTyped] = useState(false);
  useUnsavedInput(typed);
  const [formError, setFormError] = useState<string[]>([]);

  const submit = async (values: Values) => {
    setBusy(true);
    setFormError([]);
    clearFieldErrors(form);
    const input: RelationInput = {
      relatedPersonId: values.relatedPersonId,
      kind: values.kind,
      validFrom: values.validFrom || null,
      ...(values.kind === 'parent' ? { subtype: values.subtype } : {}),
      ...(values.kind === 'carer'
        ? {
            entrustmentFormDate: values.entrustmentFormDate || null,
            carerFitnessCheckedOn: values.carerFitnessCheckedOn || null,
            carerFit: values.carerFitnessCheckedOn ? (values.carerFit ?? false) : null,
          }
        : {}),
    };
    try {
      await personEditApi.addRelation(personId, input);
      form.resetFields();
      onAdded();
    } catch (error) {
      setFormError(error instanceof ApiError ? showFieldErrors(form, error, FIELDS) : [errorText(error)]);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      {formError.map((message) => (
        <Alert key={message} type="error" showIcon title={message} style={{ marginBottom: 12 }} />
      ))}
      <Form<Values>
        form={form}
        layout="vertical"
        initialValues={{ kind: 'parent', subtype: 'biological' }}
        onFinish={(values) => void submit(values)}
        onValuesChange={(changed) => {
          setTyped(true);
          clearFieldErrors(form, changed);
        }}
        data-testid="relation-form"
      >
        <Form.Item name="kind" label={t('kind')} rules={[{ required: true, message: t('required') }]}>
          <Select<RelationKind>
            options={(['parent', 'spouse', 'guardian', 'carer'] as const).map((k) => ({
              value: k,
              label: RELATION_WORDS[k]?.[lang] ?? k,
            }))}
          />
        </Form.Item>
        <Form.Item
          name="relatedPersonId"
          label={t('other')}
          rules={[{ required: true, message: t('required') }]}
        >
          <PersonPicker placeholder={t('otherHint')} exclude={personId} />
        </Form.Item>
        {kind === 'parent' && (
          <Form.Item name="subtype" label={t('subtype')}>
            <Select
              options={(['biological', 'adoptive', 'step'] as const).map((k) => ({
                value: k,
                label: RELATION_WORDS[k]?.[lang] ?? k,
              }))}
            />
          </Form.Item>
        )}
        <Form.Item name="validFrom" label={t('validFrom')}>
          <Input type="date" style={{ maxWidth: 220 }} />
        </Form.Item>
        {kind === 'carer' && (
          <>
            <Form.Item name="entrustmentFormDate" label={t('entrustmentFormDate')}>
              <Input type="date" style={{ maxWidth: 220 }} />
            </Form.Item>
            <Form.Item name="carerFitnessCheckedOn" label={t('carerFitnessCheckedOn')}>
              <Input type="date" style={{ maxWidth: 220 }} />
            </Form.Item>
            <Form.Item name="carerFit" valuePropName="checked">
              <Checkbox>{t('carerFit')}</Checkbox>
            </Form.Item>
          </>
        )}
        <Space>
          <Button type="primary" htmlType="submit" loading={busy}>
            {t('add')}
          </Button>
          <Button onClick={onCancel}>{t('cancel')}</Button>
        </Space>
      </Form>
    </>
  );
}
