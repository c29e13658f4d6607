// A person's file (人员档案): the care groups first - each a tag whose tooltip gives the reasons, and
// below it the reasons written out (a phone has no hover), the since-date and the band or
// sub-category - then the periods that have ended, identity (masked), relations and the facts.
import { useEffect, useState } from 'react';
import {
  Alert,
  Button,
  Card,
  Col,
  Descriptions,
  Empty,
  List,
  Row,
  Space,
  Tag,
  Tooltip,
  Typography,
} from 'antd';
import { ApiError, isAbortError } from '../api.ts';
import { defineMessages, useLang, useT, type Lang } from '../i18n.ts';
import { subCategoryName } from '../groups/labels.ts';
import { Link, idParam } from '../router.tsx';
import type { PageProps } from '../routes.ts';
import { useAppState } from '../shell/app-state.tsx';
import { PageTitle } from '../shell/PageTitle.tsx';
import { FactSummary } from '../registry/FactDetails.tsx';
import { relationToHeadText } from '../registry/person-edit.ts';
import { PHONE_TAP_TARGET, useIsPhone } from '../shell/responsive.ts';
import {
  groupColor,
  personsApi,
  type PersonFile,
  type PersonGroup,
  type PersonRevealed,
} from '../registry/persons.ts';
import { RelationsList } from '../registry/RelationsList.tsx';
import { useRegionNames } from '../access/region-names.ts';

const messages = defineMessages(
  {
    title: '人员档案',
    groups: '关爱对象',
    noGroups: '目前不属于任何关爱对象类别',
    since: '自 {date}',
    period: '{since} 至 {until}',
    past: '既往',
    reasons: '认定依据',
    identity: '基本信息',
    idNumber: '身份证号',
    sex: '性别',
    male: '男',
    female: '女',
    birthDate: '出生日期',
    hukou: '户籍地',
    residence: '居住地',
    sameAsHukou: '同户籍地',
    household: '户编号',
    relationToHead: '与户主关系',
    phone: '电话',
    birthCertNo: '出生医学证明编号',
    noIdReason: '无身份号码原因',
    reveal: '显示完整号码（记入审计）',
    mergedInto: '已合并至',
    relations: '家庭关系',
    facts: '事实记录',
    edit: '修改与事实记录',
    noSuchPerson: '没有这个人员',
    noSuchPersonHint: '地址中的“{id}”不是人员编号。请从人员查询中打开人员档案。',
    none: '—',
  },
  {
    title: 'Person',
    groups: 'Care groups',
    noGroups: 'Not in any care group today',
    since: 'since {date}',
    period: '{since} to {until}',
    past: 'Past',
    reasons: 'Grounds',
    identity: 'Identity',
    idNumber: 'ID number',
    sex: 'Sex',
    male: 'Male',
    female: 'Female',
    birthDate: 'Birth date',
    hukou: 'Hukou',
    residence: 'Lives in',
    sameAsHukou: 'Hukou village',
    household: 'Household',
    relationToHead: 'Relation to head',
    phone: 'Phone',
    birthCertNo: 'Birth certificate number',
    noIdReason: 'Reason there is no ID number',
    reveal: 'Show the whole numbers (audited)',
    mergedInto: 'Merged into',
    relations: 'Relations',
    facts: 'Facts',
    edit: 'Edit, facts',
    noSuchPerson: 'No such person',
    noSuchPersonHint: '"{id}" in the address is not a person number. Open the person from Persons.',
    none: '—',
  },
);

/** The group's name, with its sub-category in words (the high-age band, the grounds of distress). */
function groupLabel(g: PersonGroup, lang: Lang): string {
  return g.subCategory ? `${g.name} (${subCategoryName(g.subCategory, lang)})` : g.name;
}

export default function Person({ params }: PageProps) {
  const t = useT(messages);
  const lang = useLang();
  const { can } = useAppState();
  const isPhone = useIsPhone();
  // Only decimal digits name a person: /persons/1e3 is not person 1000.
  const id = idParam(params.id);
  const [person, setPerson] = useState<PersonFile | null>(null);
  const [error, setError] = useState<string | null>(null);
  // The numbers whole, once a role that may reveal has asked (each ask is an audit entry).
  const [revealed, setRevealed] = useState<PersonRevealed | null>(null);
  const [revealing, setRevealing] = useState(false);
  const [revealError, setRevealError] = useState<string | null>(null);
  const regionNames = useRegionNames([person?.hukouRegionCode, person?.residenceRegionCode]);
  // A village as a director knows it (兰阳街道 五爷庙村), with its code for the forms that ask for it.
  const regionText = (code: string) =>
    regionNames[code] ? (
      <span>
        {regionNames[code]} <Typography.Text type="secondary">{code}</Typography.Text>
      </span>
    ) : (
      code
    );

  useEffect(() => {
    if (id === null) return;
    const controller = new AbortController();
    setPerson(null);
    setError(null);
    setRevealed(null);
    setRevealError(null);
    personsApi
      .get(id, controller.signal)
      .then(setPerson)
      .catch((e: unknown) => {
        if (!isAbortError(e)) setError(e instanceof ApiError ? e.message : String(e));
      });
    return () => controller.abort();
  }, [id]);

  if (id === null)
    return (
      <>
        <PageTitle title={t('title')} />
        <Alert
          type="warning"
          showIcon
          title={t('noSuchPerson')}
          description={t('noSuchPersonHint', { id: params.id ?? '' })}
          data-testid="no-such-person"
        />
      </>
    );
  if (error)
    return (
      <>
        <PageTitle title={t('title')} />
        <Alert type="error" showIcon title={error} />
      </>
    );
  if (!person)
    return (
      <>
        <PageTitle title={t('title')} />
        <Card loading size="small" />
      </>
    );

  const reveal = async () => {
    setRevealing(true);
    setRevealError(null);
    try {
      setRevealed(await personsApi.reveal(person.id));
    } catch (e) {
      setRevealError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setRevealing(false);
    }
  };
  const shown = {
    idNumber: revealed ? revealed.idNumber : person.idNumber,
    phone: revealed ? revealed.phone : person.phone,
    birthCertNo: revealed ? revealed.birthCertNo : person.birthCertNo,
    noIdReason: revealed ? revealed.noIdReason : person.noIdReason,
  };
  const hasMasked =
    person.idNumber !== null ||
    person.phone !== null ||
    person.birthCertNo !== null ||
    person.noIdReason !== null;

  const current = person.groups.filter((g) => g.current);
  const past = person.groups.filter((g) => !g.current);

  return (
    <>
      <PageTitle
        title={person.name}
        extra={
          <Space size={[4, 4]} wrap data-testid="group-tags">
            {current.map((g) => (
              <Tooltip key={g.code} title={g.reasons.join('；')}>
                <Tag color={groupColor(g.code)} style={{ marginInlineEnd: 0 }}>
                  {groupLabel(g, lang)}
                </Tag>
              </Tooltip>
            ))}
          </Space>
        }
      />
      <Row gutter={[16, 16]}>
        <Col xs={24} lg={14}>
          <Card size="small" title={t('groups')} data-testid="person-groups">
            {current.length === 0 && (
              <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('noGroups')} />
            )}
            {current.map((g) => (
              <div key={g.code} style={{ marginBottom: 12 }}>
                <Space size={[8, 4]} wrap>
                  <Tag color={groupColor(g.code)}>{groupLabel(g, lang)}</Tag>
                  <Typography.Text type="secondary">{t('since', { date: g.since })}</Typography.Text>
                </Space>
                <ul style={{ margin: '4px 0 0', paddingInlineStart: 20 }}>
                  {g.reasons.map((r) => (
                    <li key={r}>{r}</li>
                  ))}
                </ul>
              </div>
            ))}
            {past.length > 0 && (
              <>
                <Typography.Text strong>{t('past')}</Typography.Text>
                <List
                  size="small"
                  dataSource={past}
                  renderItem={(g) => (
                    <List.Item>
                      <Space orientation="vertical" size={2}>
                        <Space size={[8, 4]} wrap>
                          <Tag>{groupLabel(g, lang)}</Tag>
                          <Typography.Text type="secondary">
                            {t('period', { since: g.since, until: g.until ?? t('none') })}
                          </Typography.Text>
                        </Space>
                        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                          {g.reasons.join('；')}
                        </Typography.Text>
                      </Space>
                    </List.Item>
                  )}
                />
              </>
            )}
          </Card>
        </Col>
        <Col xs={24} lg={10}>
          <Card
            size="small"
            title={t('identity')}
            extra={
              can('persons.write') && !person.mergedInto ? (
                <Link
                  to={`/persons/${person.id}/edit`}
                  data-testid="edit-person"
                  style={isPhone ? PHONE_TAP_TARGET : undefined}
                >
                  {t('edit')}
                </Link>
              ) : null
            }
          >
            {revealError && <Alert type="error" showIcon title={revealError} style={{ marginBottom: 8 }} />}
            <Descriptions
              size="small"
              column={1}
              items={[
                {
                  key: 'id',
                  label: t('idNumber'),
                  children: <span data-testid="person-id-number">{shown.idNumber ?? t('none')}</span>,
                },
                // A child without an ID number is known by the birth certificate.
                ...(person.idNumber === null
                  ? [
                      {
                        key: 'birthCert',
                        label: t('birthCertNo'),
                        children: (
                          <span data-testid="person-birth-cert">{shown.birthCertNo ?? t('none')}</span>
                        ),
                      },
                      { key: 'noIdReason', label: t('noIdReason'), children: shown.noIdReason ?? t('none') },
                    ]
                  : []),
                {
                  key: 'sex',
                  label: t('sex'),
                  children: person.sex === 1 ? t('male') : person.sex === 2 ? t('female') : t('none'),
                },
                { key: 'birth', label: t('birthDate'), children: person.birthDate ?? t('none') },
                { key: 'hukou', label: t('hukou'), children: regionText(person.hukouRegionCode) },
                {
                  key: 'residence',
                  label: t('residence'),
                  children: person.residenceRegionCode
                    ? regionText(person.residenceRegionCode)
                    : t('sameAsHukou'),
                },
                {
                  key: 'household',
                  label: t('household'),
                  children:
                    person.householdId !== null ? (
                      <Link to={`/households/${person.householdId}`}>{person.householdNo}</Link>
                    ) : (
                      t('none')
                    ),
                },
                {
                  key: 'relationToHead',
                  label: t('relationToHead'),
                  children: person.relationToHead
                    ? relationToHeadText(person.relationToHead, lang)
                    : t('none'),
                },
                {
                  key: 'phone',
                  label: t('phone'),
                  children: <span data-testid="person-phone">{shown.phone ?? t('none')}</span>,
                },
                ...(person.mergedInto
                  ? [
                      {
                        key: 'merged',
                        label: t('mergedInto'),
                        children: <Link to={`/persons/${person.mergedInto}`}>{person.mergedInto}</Link>,
                      },
                    ]
                  : []),
              ]}
            />
            {can('persons.reveal') && hasMasked && !revealed && (
              <Button
                size="small"
                loading={revealing}
                onClick={() => void reveal()}
                data-testid="person-reveal"
              >
                {t('reveal')}
              </Button>
            )}
          </Card>
        </Col>
        <Col xs={24} lg={10}>
          <Card size="small" title={t('relations')}>
            <RelationsList personId={person.id} relations={person.relations} />
          </Card>
        </Col>
        <Col xs={24} lg={14}>
          <Card size="small" title={t('facts')}>
            <List
              size="small"
              dataSource={person.facts}
              locale={{ emptyText: t('none') }}
              data-testid="person-facts"
              renderItem={(f) => (
                <List.Item>
                  <FactSummary fact={f} />
                </List.Item>
              )}
            />
          </Card>
        </Col>
      </Row>
    </>
  );
}
