// Register a household (/households/new) or change one (/households/{id}/edit). The change carries
// the version read; if someone else saved in between the server refuses it (409) and the page says
// so, with a reload. Income is typed in yuan and sent in fen; assets are named entries.
// A phone or ID number typed into the address or an asset is shown masked (138****5678), as every
// answer shows it. Left as shown, the server keeps the stored number; a role that may reveal can load
// the whole text first (an audited reveal) to change the number itself.
import { useCallback, useEffect, useState } from 'react';
import { Alert, AutoComplete, Button, Card, Form, Input, Select, Space } from 'antd';
import { MinusCircleOutlined, PlusOutlined } from '@ant-design/icons';
import { ApiError, isAbortError } from '../api.ts';
import { defineMessages, useLang, useT } from '../i18n.ts';
import { navigate } from '../router.tsx';
import type { PageProps } from '../routes.ts';
import { useAppState, useUnsavedInput } from '../shell/app-state.tsx';
import { PageTitle } from '../shell/PageTitle.tsx';
import {
  assetText,
  fenToYuan,
  hasMaskedText,
  householdsApi,
  yuanToFen,
  type Household,
  type HouseholdPatch,
} from '../registry/households.ts';
import {
  FIRST_ERROR_SCROLL,
  StaleAlert,
  errorText,
  isConflict,
  clearFieldErrors,
  showFieldError,
  showFieldErrors,
  useScrolledIntoView,
} from '../registry/form-errors.tsx';
import { COMMON_RELATIONS_TO_HEAD, relationToHeadText } from '../registry/person-edit.ts';
import { VillageField } from '../registry/VillageField.tsx';

const messages = defineMessages(
  {
    newTitle: '新增户',
    editTitle: '修改户 {no}',
    householdNo: '户编号',
    householdNoHint: '本县内唯一',
    village: '户籍地（村/居）',
    villageHint: '输入村名搜索',
    address: '住址',
    head: '户主',
    formerHeadRelation: '原户主的新与户主关系',
    formerHeadHint: '一户只有一位户主：请填写原户主“{name}”与新户主的关系，如 父亲、配偶',
    income: '家庭年收入（元）',
    incomeBad: '请填写金额，如 12000 或 12000.50',
    assets: '家庭资产',
    assetName: '项目，如 住房',
    assetValue: '情况，如 砖混两间',
    addAsset: '添加资产项',
    bank: '银行账户',
    bankKeep: '留空则不变（现为 {masked}）',
    required: '必填',
    save: '保存',
    create: '创建',
    cancel: '取消',
    masked: '住址或家庭资产中的号码已遮蔽（如 138****5678）',
    maskedHint: '遮蔽的部分保持不动即可，保存时原号码不变；要更改号码，请删去遮蔽部分后填写完整号码。',
    reveal: '显示完整号码（记入审计）',
  },
  {
    newTitle: 'New household',
    editTitle: 'Edit household {no}',
    householdNo: 'Household number',
    householdNoHint: 'unique within the county',
    village: 'Hukou village',
    villageHint: 'Type a village name',
    address: 'Address',
    head: 'Head of household',
    formerHeadRelation: "Former head's new relation to the head",
    formerHeadHint:
      'A household has one head: give the relation of the former head, {name}, to the new one (e.g. 父亲, 配偶)',
    income: 'Annual income (yuan)',
    incomeBad: 'Give an amount, e.g. 12000 or 12000.50',
    assets: 'Assets',
    assetName: 'Item, e.g. house',
    assetValue: 'Details',
    addAsset: 'Add an asset',
    bank: 'Bank account',
    bankKeep: 'Leave empty to keep ({masked})',
    required: 'Required',
    save: 'Save',
    create: 'Create',
    cancel: 'Cancel',
    masked: 'Numbers in the address or assets are masked (e.g. 138****5678)',
    maskedHint:
      'Leave the masked part as it is and the stored number is kept; to change a number, delete the masked part and type the whole number.',
    reveal: 'Show the whole numbers (audited)',
  },
);

interface Values {
  householdNo: string;
  hukouRegionCode: string | null;
  address: string;
  headPersonId: number | null;
  formerHeadRelationToHead: string;
  annualIncome: string;
  assets: { name: string; value: string }[];
  bankAccount: string;
}

const FIELDS = [
  'householdNo',
  'hukouRegionCode',
  'address',
  'headPersonId',
  'formerHeadRelationToHead',
  'annualIncome',
  'assets',
  'bankAccount',
];
const ALIASES = { annualIncomeFen: 'annualIncome' };

function valuesOf(h: Household): Values {
  return {
    householdNo: h.householdNo,
    hukouRegionCode: h.hukouRegionCode,
    address: h.address ?? '',
    headPersonId: h.headPersonId,
    formerHeadRelationToHead: '',
    annualIncome: h.annualIncomeFen === null ? '' : fenToYuan(h.annualIncomeFen),
    assets: Object.entries(h.assets).map(([name, value]) => ({ name, value: assetText(value) })),
    bankAccount: '',
  };
}

/** The assets as entered; an entry whose text is unchanged keeps its stored value (a number stays a number). */
function assetsOf(entries: Values['assets'], before: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { name, value } of entries) {
    const key = name.trim();
    if (!key) continue;
    out[key] = key in before && assetText(before[key]) === value ? before[key] : value.trim();
  }
  return out;
}

export default function HouseholdEdit({ params }: PageProps) {
  const t = useT(messages);
  const lang = useLang();
  const { me, can } = useAppState();
  const id = params.id ? Number(params.id) : null;
  const [form] = Form.useForm<Values>();
  const [household, setHousehold] = useState<Household | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [formError, setFormError] = useState<string[]>([]);
  const errorsRef = useScrolledIntoView(formError.length > 0 ? formError : null);
  const [stale, setStale] = useState(false);
  const [busy, setBusy] = useState(false);
  // Typed input survives an expired session: a sign-in over the page, then save again.
  const [typed, setTyped] = useState(false);
  useUnsavedInput(typed);
  const [revealing, setRevealing] = useState(false);
  // A change of head asks for the former head's new relation (the server requires it).
  const chosenHead = Form.useWatch('headPersonId', form) as number | null | undefined;
  const formerHead =
    household && household.headPersonId !== null && (chosenHead ?? null) !== household.headPersonId
      ? household.members.find((m) => m.id === household.headPersonId)
      : undefined;

  const load = useCallback(
    (signal?: AbortSignal) => {
      if (id === null) return;
      householdsApi
        .get(id, signal)
        .then((h) => {
          setHousehold(h);
          setStale(false);
          setFormError([]);
        })
        .catch((e: unknown) => {
          if (!isAbortError(e)) setLoadError(errorText(e));
        });
    },
    [id],
  );

  useEffect(() => {
    const controller = new AbortController();
    load(controller.signal);
    return () => controller.abort();
  }, [load]);

  // A reload after a refused save puts the new version's values in the form.
  useEffect(() => {
    if (household) form.setFieldsValue(valuesOf(household));
  }, [household, form]);

  // The whole address and assets become the values read: the form shows them and compares with them.
  const reveal = async () => {
    if (!household) return;
    setRevealing(true);
    try {
      const whole = await householdsApi.reveal(household.id);
      setHousehold({ ...household, address: whole.address, assets: whole.assets });
    } catch (e) {
      setFormError([errorText(e)]);
    } finally {
      setRevealing(false);
    }
  };

  const submit = async (values: Values) => {
    const income = yuanToFen(values.annualIncome ?? '');
    if (income === undefined) {
      showFieldError(form, 'annualIncome', t('incomeBad'));
      return;
    }
    setBusy(true);
    setFormError([]);
    clearFieldErrors(form);
    try {
      if (id === null) {
        const created = await householdsApi.create({
          householdNo: values.householdNo.trim(),
          hukouRegionCode: values.hukouRegionCode ?? '',
          address: values.address?.trim() || null,
          annualIncomeFen: income,
          assets: assetsOf(values.assets ?? [], {}),
          bankAccount: values.bankAccount?.trim() || null,
        });
        navigate(`/households/${created.id}`, { replace: true });
        return;
      }
      if (!household) return;
      const patch: HouseholdPatch = { version: household.version };
      const address = values.address?.trim() || null;
      if (address !== household.address) patch.address = address;
      if ((values.headPersonId ?? null) !== household.headPersonId) {
        patch.headPersonId = values.headPersonId ?? null;
        if (formerHead) patch.formerHeadRelationToHead = values.formerHeadRelationToHead?.trim() || null;
      }
      if (income !== household.annualIncomeFen) patch.annualIncomeFen = income;
      const assets = assetsOf(values.assets ?? [], household.assets);
      if (JSON.stringify(assets) !== JSON.stringify(household.assets)) patch.assets = assets;
      if (values.bankAccount?.trim()) patch.bankAccount = values.bankAccount.trim();
      await householdsApi.update(id, patch);
      navigate(`/households/${id}`, { replace: true });
    } catch (e) {
      if (isConflict(e) && id !== null) setStale(true);
      else if (isConflict(e)) showFieldError(form, 'householdNo', e.message);
      else if (e instanceof ApiError) setFormError(showFieldErrors(form, e, FIELDS, ALIASES));
      else setFormError([errorText(e)]);
    } finally {
      setBusy(false);
    }
  };

  const title = id === null ? t('newTitle') : t('editTitle', { no: household?.householdNo ?? '' });
  if (loadError)
    return (
      <>
        <PageTitle title={title} />
        <Alert type="error" showIcon title={loadError} />
      </>
    );
  if (id !== null && !household)
    return (
      <>
        <PageTitle title={title} />
        <Card loading size="small" />
      </>
    );

  const homeVillage = me && me.regionCode.length === 12 ? me.regionCode : null;
  return (
    <>
      <PageTitle title={title} />
      {stale && <StaleAlert onReload={() => load()} />}
      {household && hasMaskedText(household) && (
        <Alert
          type="info"
          showIcon
          data-testid="household-masked"
          title={t('masked')}
          description={t('maskedHint')}
          action={
            can('persons.reveal') ? (
              <Button
                size="small"
                loading={revealing}
                onClick={() => void reveal()}
                data-testid="household-reveal"
              >
                {t('reveal')}
              </Button>
            ) : undefined
          }
          style={{ marginBottom: 12, maxWidth: 720 }}
        />
      )}
      <div ref={errorsRef}>
        {formError.map((text) => (
          <Alert key={text} type="error" showIcon title={text} style={{ marginBottom: 12 }} />
        ))}
      </div>
      <Card size="small" style={{ maxWidth: 720 }}>
        <Form<Values>
          form={form}
          layout="vertical"
          scrollToFirstError={FIRST_ERROR_SCROLL}
          onFinish={(values) => void submit(values)}
          onValuesChange={(changed) => {
            setTyped(true);
            clearFieldErrors(form, changed);
          }}
          initialValues={household ? valuesOf(household) : { hukouRegionCode: homeVillage, assets: [] }}
          data-testid="household-form"
        >
          <Form.Item
            name="householdNo"
            label={t('householdNo')}
            extra={id === null ? t('householdNoHint') : undefined}
            rules={[{ required: true, whitespace: true, message: t('required') }]}
          >
            <Input maxLength={40} disabled={id !== null} />
          </Form.Item>
          <Form.Item
            name="hukouRegionCode"
            label={t('village')}
            rules={[{ required: true, message: t('required') }]}
          >
            <VillageField placeholder={t('villageHint')} disabled={id !== null || homeVillage !== null} />
          </Form.Item>
          <Form.Item name="address" label={t('address')}>
            <Input maxLength={200} />
          </Form.Item>
          {household && (
            <Form.Item name="headPersonId" label={t('head')}>
              <Select<number>
                allowClear
                options={household.members.map((m) => ({
                  value: m.id,
                  label: `${m.name} (${m.relationToHead ? relationToHeadText(m.relationToHead, lang) : '—'})`,
                }))}
              />
            </Form.Item>
          )}
          {formerHead && (
            <Form.Item
              name="formerHeadRelationToHead"
              label={t('formerHeadRelation')}
              extra={t('formerHeadHint', { name: formerHead.name })}
              rules={[{ required: true, whitespace: true, message: t('required') }]}
            >
              <AutoComplete
                options={COMMON_RELATIONS_TO_HEAD.filter((r) => r !== '户主').map((value) => ({ value }))}
                showSearch={{ filterOption: (input, option) => !!option?.value.startsWith(input) }}
                maxLength={20}
              />
            </Form.Item>
          )}
          <Form.Item name="annualIncome" label={t('income')}>
            <Input inputMode="decimal" maxLength={16} />
          </Form.Item>
          <Form.Item label={t('assets')}>
            <Form.List name="assets">
              {(fields, { add, remove }) => (
                <>
                  {fields.map((field) => (
                    <div key={field.key} style={{ display: 'flex', gap: 8, alignItems: 'baseline' }}>
                      <Form.Item name={[field.name, 'name']} style={{ flex: 2, minWidth: 0 }}>
                        <Input placeholder={t('assetName')} maxLength={40} />
                      </Form.Item>
                      <Form.Item name={[field.name, 'value']} style={{ flex: 3, minWidth: 0 }}>
                        <Input placeholder={t('assetValue')} maxLength={200} />
                      </Form.Item>
                      <MinusCircleOutlined onClick={() => remove(field.name)} />
                    </div>
                  ))}
                  <Button type="dashed" icon={<PlusOutlined />} onClick={() => add({ name: '', value: '' })}>
                    {t('addAsset')}
                  </Button>
                </>
              )}
            </Form.List>
          </Form.Item>
          <Form.Item
            name="bankAccount"
            label={t('bank')}
            extra={
              household?.bankAccountMasked
                ? t('bankKeep', { masked: household.bankAccountMasked })
                : undefined
            }
          >
            <Input maxLength={40} inputMode="numeric" autoComplete="off" />
          </Form.Item>
          <Space>
            <Button
              type="primary"
              htmlType="submit"
              loading={busy}
              disabled={stale}
              data-testid="household-save"
            >
              {id === null ? t('create') : t('save')}
            </Button>
            <Button onClick={() => navigate(id === null ? '/persons' : `/households/${id}`)}>
              {t('cancel')}
            </Button>
          </Space>
        </Form>
      </Card>
    </>
  );
}
