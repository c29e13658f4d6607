// A household's file (户档案): the household number, village, address, head, declared income and
// assets, and the members with their relation to the head and the links among them; each member
// opens their own person file. Clerks with persons.write edit the household and add members here.
import { useEffect, useState } from 'react';
import { Alert, Button, Card, Col, Descriptions, Empty, List, Row, Space, Table, Typography } from 'antd';
import { EditOutlined, UserAddOutlined } from '@ant-design/icons';
import { ApiError, isAbortError } from '../api.ts';
import { defineMessages, useLang, useT } from '../i18n.ts';
import { Link, idParam, navigate } from '../router.tsx';
import type { PageProps } from '../routes.ts';
import { useAppState } from '../shell/app-state.tsx';
import { PageTitle } from '../shell/PageTitle.tsx';
import { PHONE_TAP_TARGET, useIsPhone } from '../shell/responsive.ts';
import { useRegionNames } from '../access/region-names.ts';
import {
  assetText,
  fenToYuan,
  householdsApi,
  type Household as HouseholdFile,
  type HouseholdMember,
} from '../registry/households.ts';
import { RELATION_WORDS, relationToHeadText } from '../registry/person-edit.ts';

const messages = defineMessages(
  {
    title: '户档案',
    householdNo: '户编号 {no}',
    basics: '基本信息',
    number: '户编号',
    village: '户籍地',
    address: '住址',
    head: '户主',
    income: '家庭年收入',
    yuan: '{amount} 元',
    bank: '银行账户',
    assets: '家庭资产',
    members: '家庭成员',
    name: '姓名',
    relationToHead: '与户主关系',
    sex: '性别',
    male: '男',
    female: '女',
    birthDate: '出生日期',
    idNumber: '身份证号',
    links: '成员间关系',
    isOf: '{a} 是 {b} 的{kind}',
    edit: '修改',
    addMember: '添加成员',
    none: '—',
    noMembers: '该户还没有成员',
    noSuchHousehold: '没有这个户',
    noSuchHouseholdHint: '地址中的“{id}”不是户的编号。请从人员档案或人员查询中打开户档案。',
  },
  {
    title: 'Household',
    householdNo: 'Household {no}',
    basics: 'Household',
    number: 'Household number',
    village: 'Hukou village',
    address: 'Address',
    head: 'Head',
    income: 'Annual income',
    yuan: '¥{amount}',
    bank: 'Bank account',
    assets: 'Assets',
    members: 'Members',
    name: 'Name',
    relationToHead: 'Relation to head',
    sex: 'Sex',
    male: 'M',
    female: 'F',
    birthDate: 'Birth date',
    idNumber: 'ID number',
    links: 'Links among members',
    isOf: "{a} is {b}'s {kind}",
    edit: 'Edit',
    addMember: 'Add member',
    none: '—',
    noMembers: 'No members yet',
    noSuchHousehold: 'No such household',
    noSuchHouseholdHint:
      '"{id}" in the address is not a household number. Open the household from a person\'s file.',
  },
);

export default function Household({ params }: PageProps) {
  const t = useT(messages);
  const lang = useLang();
  const isPhone = useIsPhone();
  const { can } = useAppState();
  // Only decimal digits name a household (the API's own rule); anything else is no household.
  const id = idParam(params.id);
  const [household, setHousehold] = useState<HouseholdFile | null>(null);
  const [error, setError] = useState<string | null>(null);
  const names = useRegionNames([household?.hukouRegionCode]);

  useEffect(() => {
    if (id === null) return;
    const controller = new AbortController();
    setHousehold(null);
    setError(null);
    householdsApi
      .get(id, controller.signal)
      .then(setHousehold)
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
          title={t('noSuchHousehold')}
          description={t('noSuchHouseholdHint', { id: params.id ?? '' })}
          data-testid="no-such-household"
        />
      </>
    );
  if (error || !household)
    return (
      <>
        <PageTitle title={t('title')} />
        {error ? <Alert type="error" showIcon title={error} /> : <Card loading size="small" />}
      </>
    );

  const nameOf = new Map(household.members.map((m) => [m.id, m.name]));
  const head = household.members.find((m) => m.id === household.headPersonId);
  const assets = Object.entries(household.assets);
  const memberLink = (m: HouseholdMember) => <Link to={`/persons/${m.id}`}>{m.name}</Link>;
  // In the members' list on a phone a name is a thumb's target, not a two-character word.
  const memberTarget = (m: HouseholdMember) => (
    <Link to={`/persons/${m.id}`} style={isPhone ? PHONE_TAP_TARGET : undefined}>
      {m.name}
    </Link>
  );
  const relationColumn = {
    key: 'rel',
    title: t('relationToHead'),
    render: (_: unknown, m: HouseholdMember) =>
      m.relationToHead ? relationToHeadText(m.relationToHead, lang) : t('none'),
  };
  const sex = (m: HouseholdMember) => (m.sex === 1 ? t('male') : m.sex === 2 ? t('female') : t('none'));

  return (
    <>
      <PageTitle
        title={t('householdNo', { no: household.householdNo })}
        extra={
          can('persons.write') && (
            <Space wrap>
              <Button icon={<EditOutlined />} onClick={() => navigate(`/households/${id}/edit`)}>
                {t('edit')}
              </Button>
              <Button
                icon={<UserAddOutlined />}
                onClick={() => navigate(`/persons/new?household=${id}`)}
                data-testid="add-member"
              >
                {t('addMember')}
              </Button>
            </Space>
          )
        }
      />
      <Row gutter={[16, 16]}>
        <Col xs={24} lg={10}>
          <Card size="small" title={t('basics')}>
            <Descriptions
              size="small"
              column={1}
              items={[
                { key: 'no', label: t('number'), children: household.householdNo },
                {
                  key: 'village',
                  label: t('village'),
                  children: names[household.hukouRegionCode] ?? household.hukouRegionCode,
                },
                { key: 'address', label: t('address'), children: household.address ?? t('none') },
                { key: 'head', label: t('head'), children: head ? memberLink(head) : t('none') },
                {
                  key: 'income',
                  label: t('income'),
                  children:
                    household.annualIncomeFen === null
                      ? t('none')
                      : t('yuan', { amount: fenToYuan(household.annualIncomeFen) }),
                },
                { key: 'bank', label: t('bank'), children: household.bankAccountMasked ?? t('none') },
              ]}
            />
          </Card>
        </Col>
        <Col xs={24} lg={14}>
          <Card size="small" title={t('members')} data-testid="household-members">
            <Table<HouseholdMember>
              size="small"
              rowKey="id"
              dataSource={household.members}
              pagination={false}
              locale={{ emptyText: t('noMembers') }}
              columns={
                isPhone
                  ? [
                      {
                        key: 'name',
                        title: t('name'),
                        render: (_: unknown, m: HouseholdMember) => (
                          <Space orientation="vertical" size={0}>
                            {memberTarget(m)}
                            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                              {[sex(m), m.birthDate].filter(Boolean).join(' · ')}
                            </Typography.Text>
                          </Space>
                        ),
                      },
                      relationColumn,
                    ]
                  : [
                      {
                        key: 'name',
                        title: t('name'),
                        render: (_: unknown, m: HouseholdMember) => memberTarget(m),
                      },
                      relationColumn,
                      {
                        key: 'sex',
                        title: t('sex'),
                        width: 64,
                        render: (_: unknown, m: HouseholdMember) => sex(m),
                      },
                      { key: 'birth', title: t('birthDate'), dataIndex: 'birthDate', width: 120 },
                      { key: 'id', title: t('idNumber'), dataIndex: 'idNumber' },
                    ]
              }
            />
          </Card>
        </Col>
        <Col xs={24} lg={10}>
          <Card size="small" title={t('assets')}>
            {assets.length ? (
              <Descriptions
                size="small"
                column={1}
                items={assets.map(([key, value]) => ({ key, label: key, children: assetText(value) }))}
              />
            ) : (
              <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('none')} />
            )}
          </Card>
        </Col>
        <Col xs={24} lg={14}>
          <Card size="small" title={t('links')}>
            <List
              size="small"
              dataSource={household.relations}
              locale={{ emptyText: t('none') }}
              renderItem={(r) => {
                const words = RELATION_WORDS[r.kind];
                const subtype = r.subtype ? RELATION_WORDS[r.subtype] : undefined;
                return (
                  <List.Item>
                    {t('isOf', {
                      a: nameOf.get(r.relatedPersonId) ?? String(r.relatedPersonId),
                      b: nameOf.get(r.personId) ?? String(r.personId),
                      kind: `${words?.[lang] ?? r.kind}${subtype ? ` (${subtype[lang]})` : ''}`,
                    })}
                  </List.Item>
                );
              }}
            />
          </Card>
        </Col>
      </Row>
    </>
  );
}
