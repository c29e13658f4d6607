// A person's identity as a form, for registering (POST /persons) and for changing (PATCH with the
// version read). The ID number is checked by the server (GB 11643: check character, birth date, the
// 15-digit upgrade ...); its refusal shows next to the field. Masked values (the ID number and phone
// as the file shows them) are never sent back: left empty they stay as they are.
import { useState } from 'react';
import { Alert, AutoComplete, Button, Form, Input, Radio, Space } from 'antd';
import { ApiError } from '../api.ts';
import { defineMessages, useT } from '../i18n.ts';
import { useUnsavedInput } from '../shell/app-state.tsx';
import {
  FIRST_ERROR_SCROLL,
  StaleAlert,
  errorText,
  isConflict,
  clearFieldErrors,
  showFieldError,
  showFieldErrors,
  useScrolledIntoView,
} from './form-errors.tsx';
import { VillageField } from './VillageField.tsx';
import {
  COMMON_RELATIONS_TO_HEAD,
  personEditApi,
  type EditablePerson,
  type PersonInput,
  type PersonPatch,
} from './person-edit.ts';

const messages = defineMessages(
  {
    name: '姓名',
    idNumber: '公民身份号码',
    idNumberHint: '18 位，末位可为 X；15 位旧号码自动升位',
    keepMasked: '留空则不变（现为 {masked}）',
    noIdReason: '无身份号码原因',
    noIdReasonHint: '没有身份号码时填写，如 未落户',
    sex: '性别',
    male: '男',
    female: '女',
    birthDate: '出生日期',
    fromId: '有身份号码时可不填，由号码得出',
    ethnicity: '民族',
    phone: '联系电话',
    village: '户籍地（村/居）',
    villageHint: '输入村名搜索',
    hukouType: '户口性质',
    residence: '现居住地代码',
    residenceHint: '任一级区划代码；空 = 同户籍地',
    relationToHead: '与户主关系',
    required: '必填',
    create: '登记',
    save: '保存',
    cancel: '取消',
  },
  {
    name: 'Name',
    idNumber: 'ID number',
    idNumberHint: '18 characters, the last may be X; 15-digit numbers are upgraded',
    keepMasked: 'Leave empty to keep ({masked})',
    noIdReason: 'Reason there is no ID number',
    noIdReasonHint: 'Only without an ID number, e.g. 未落户 (not registered)',
    sex: 'Sex',
    male: 'Male',
    female: 'Female',
    birthDate: 'Birth date',
    fromId: 'Taken from the ID number when there is one',
    ethnicity: 'Ethnicity',
    phone: 'Phone',
    village: 'Hukou village',
    villageHint: 'Type a village name',
    hukouType: 'Hukou type',
    residence: 'Lives in (region code)',
    residenceHint: 'A region code of any level; empty = the hukou village',
    relationToHead: 'Relation to the head',
    required: 'Required',
    create: 'Register',
    save: 'Save',
    cancel: 'Cancel',
  },
);

interface Values {
  name: string;
  idNumber: string;
  noIdReason: string;
  sex: 1 | 2 | null;
  birthDate: string;
  ethnicity: string;
  phone: string;
  hukouRegionCode: string | null;
  hukouType: string;
  residenceRegionCode: string;
  relationToHead: string;
}

const FIELDS = [
  'name',
  'idNumber',
  'noIdReason',
  'sex',
  'birthDate',
  'ethnicity',
  'phone',
  'hukouRegionCode',
  'hukouType',
  'residenceRegionCode',
  'relationToHead',
];

const text = (value: string | null | undefined): string | null => value?.trim() || null;

function valuesOf(p: EditablePerson): Values {
  return {
    name: p.name,
    idNumber: '',
    noIdReason: p.noIdReason ?? '',
    sex: p.sex,
    birthDate: p.birthDate ?? '',
    ethnicity: p.ethnicity ?? '',
    phone: '',
    hukouRegionCode: p.hukouRegionCode,
    hukouType: p.hukouType ?? '',
    residenceRegionCode: p.residenceRegionCode ?? '',
    relationToHead: p.relationToHead ?? '',
  };
}

/** The fields that differ from the person as read (a PATCH sends only what changed). */
function changes(values: Values, p: EditablePerson): Partial<PersonInput> {
  const out: Partial<PersonInput> = {};
  const same = <T,>(a: T, b: T) => a === b;
  if (!same(values.name.trim(), p.name)) out.name = values.name.trim();
  if (text(values.idNumber)) out.idNumber = text(values.idNumber);
  if (!same(text(values.noIdReason), p.noIdReason)) out.noIdReason = text(values.noIdReason);
  if (!same(values.sex ?? null, p.sex)) out.sex = values.sex ?? null;
  if (!same(text(values.birthDate), p.birthDate)) out.birthDate = text(values.birthDate);
  if (!same(text(values.ethnicity), p.ethnicity)) out.ethnicity = text(values.ethnicity);
  if (text(values.phone)) out.phone = text(values.phone);
  if (values.hukouRegionCode && values.hukouRegionCode !== p.hukouRegionCode)
    out.hukouRegionCode = values.hukouRegionCode;
  if (!same(text(values.hukouType), p.hukouType)) out.hukouType = text(values.hukouType);
  if (!same(text(values.residenceRegionCode), p.residenceRegionCode))
    out.residenceRegionCode = text(values.residenceRegionCode);
  if (!same(text(values.relationToHead), p.relationToHead)) out.relationToHead = text(values.relationToHead);
  return out;
}

export function PersonForm({
  person,
  household,
  defaultVillage,
  onSaved,
  onCancel,
  onReload,
}: {
  /** The person being changed; absent when registering. */
  person?: EditablePerson;
  /** Registering into this household (its village is the default hukou village). */
  household?: { id: number; householdNo: string; hukouRegionCode: string };
  defaultVillage?: string | null;
  onSaved: (saved: EditablePerson) => void;
  onCancel: () => void;
  /** Reads the person again (after a stale version). */
  onReload?: () => void;
}) {
  const t = useT(messages);
  const [form] = Form.useForm<Values>();
  const [busy, setBusy] = useState(false);
  const [stale, setStale] = useState(false);
  const [formError, setFormError] = useState<string[]>([]);
  const errorsRef = useScrolledIntoView(formError.length > 0 ? formError : null);
  // Typed input survives an expired session: a sign-in over the page, then save again.
  const [typed, setTyped] = useState(false);
  useUnsavedInput(typed);

  const refused = (error: unknown) => {
    if (error instanceof ApiError) setFormError(showFieldErrors(form, error, FIELDS));
    else setFormError([errorText(error)]);
  };

  const submit = async (values: Values) => {
    setBusy(true);
    setFormError([]);
    clearFieldErrors(form);
    try {
      if (!person) {
        const input: PersonInput = {
          name: values.name.trim(),
          idNumber: text(values.idNumber),
          noIdReason: text(values.idNumber) ? null : text(values.noIdReason),
          sex: values.sex ?? null,
          birthDate: text(values.birthDate),
          ethnicity: text(values.ethnicity),
          phone: text(values.phone),
          hukouRegionCode: values.hukouRegionCode ?? '',
          hukouType: text(values.hukouType),
          residenceRegionCode: text(values.residenceRegionCode),
          relationToHead: text(values.relationToHead),
          householdId: household?.id ?? null,
        };
        onSaved(await personEditApi.create(input));
        return;
      }
      const patch: PersonPatch = { version: person.version, ...changes(values, person) };
      onSaved(await personEditApi.update(person.id, patch));
    } catch (error) {
      if (isConflict(error) && !person) showFieldError(form, 'idNumber', error.message);
      else if (isConflict(error) && person) {
        // A 409 is either a stale version or an ID number registered to someone else: the
        // person's version as it is now tells which.
        const now = await personEditApi.get(person.id).catch(() => null);
        if (!now || now.version !== person.version) setStale(true);
        else showFieldError(form, 'idNumber', error.message);
      } else refused(error);
    } finally {
      setBusy(false);
    }
  };

  const initial: Partial<Values> = person
    ? valuesOf(person)
    : { hukouRegionCode: household?.hukouRegionCode ?? defaultVillage ?? null, sex: null };

  return (
    <>
      {stale && onReload && <StaleAlert onReload={onReload} />}
      <div ref={errorsRef}>
        {formError.map((message) => (
          <Alert key={message} type="error" showIcon title={message} style={{ marginBottom: 12 }} />
        ))}
      </div>
      <Form<Values>
        form={form}
        layout="vertical"
        scrollToFirstError={FIRST_ERROR_SCROLL}
        initialValues={initial}
        onFinish={(values) => void submit(values)}
        onValuesChange={(changed) => {
          setTyped(true);
          clearFieldErrors(form, changed);
        }}
        data-testid="person-form"
      >
        <Form.Item
          name="name"
          label={t('name')}
          rules={[{ required: true, whitespace: true, message: t('required') }]}
        >
          <Input maxLength={50} autoComplete="off" />
        </Form.Item>
        <Form.Item
          name="idNumber"
          label={t('idNumber')}
          extra={person?.idNumber ? t('keepMasked', { masked: person.idNumber }) : t('idNumberHint')}
        >
          <Input maxLength={40} autoComplete="off" spellCheck={false} />
        </Form.Item>
        <Form.Item noStyle dependencies={['idNumber']}>
          {({ getFieldValue }) =>
            !text(getFieldValue('idNumber') as string) && !person?.idNumber ? (
              <Form.Item name="noIdReason" label={t('noIdReason')} extra={t('noIdReasonHint')}>
                <Input maxLength={100} />
              </Form.Item>
            ) : null
          }
        </Form.Item>
        <Form.Item name="sex" label={t('sex')} extra={person ? undefined : t('fromId')}>
          <Radio.Group
            options={[
              { value: 1, label: t('male') },
              { value: 2, label: t('female') },
            ]}
          />
        </Form.Item>
        <Form.Item name="birthDate" label={t('birthDate')} extra={person ? undefined : t('fromId')}>
          <Input type="date" style={{ maxWidth: 220 }} />
        </Form.Item>
        <Form.Item
          name="hukouRegionCode"
          label={t('village')}
          rules={[{ required: true, message: t('required') }]}
        >
          <VillageField placeholder={t('villageHint')} disabled={!!household && !person} />
        </Form.Item>
        <Form.Item name="relationToHead" label={t('relationToHead')}>
          <AutoComplete
            options={COMMON_RELATIONS_TO_HEAD.map((value) => ({ value }))}
            showSearch={{ filterOption: (input, option) => !!option?.value.startsWith(input) }}
            maxLength={20}
          />
        </Form.Item>
        <Form.Item
          name="phone"
          label={t('phone')}
          extra={person?.phone ? t('keepMasked', { masked: person.phone }) : undefined}
        >
          <Input inputMode="tel" maxLength={40} autoComplete="off" />
        </Form.Item>
        <Form.Item name="ethnicity" label={t('ethnicity')}>
          <Input maxLength={20} placeholder="汉族" />
        </Form.Item>
        <Form.Item name="hukouType" label={t('hukouType')}>
          <Input maxLength={20} />
        </Form.Item>
        <Form.Item name="residenceRegionCode" label={t('residence')} extra={t('residenceHint')}>
          <Input inputMode="numeric" maxLength={12} />
        </Form.Item>
        <Space>
          <Button type="primary" htmlType="submit" loading={busy} disabled={stale} data-testid="person-save">
            {person ? t('save') : t('create')}
          </Button>
          <Button onClick={onCancel}>{t('cancel')}</Button>
        </Space>
      </Form>
    </>
  );
}
