// Register a person (/persons/new, ?household={id} to add a member to a household) or change one
// (/persons/{id}/edit): identity with the version read, then the person's dated facts and relations.
import { useCallback, useEffect, useState } from 'react';
import { Alert, Button, Card, Col, Row, Space } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { ApiError, isAbortError } from '../api.ts';
import { defineMessages, useT } from '../i18n.ts';
import { idParam, navigate } from '../router.tsx';
import type { PageProps } from '../routes.ts';
import { useAppState } from '../shell/app-state.tsx';
import { PageTitle } from '../shell/PageTitle.tsx';
import { householdsApi, type Household } from '../registry/households.ts';
import { FactsEditor } from '../registry/FactsEditor.tsx';
import { PersonForm } from '../registry/PersonForm.tsx';
import { RelationForm } from '../registry/RelationForm.tsx';
import { RelationsList } from '../registry/RelationsList.tsx';
import { personEditApi, type EditablePerson } from '../registry/person-edit.ts';

const messages = defineMessages(
  {
    newTitle: '登记人员',
    newMember: '为 {no} 户添加成员',
    editTitle: '修改 {name}',
    identity: '基本信息',
    relations: '家庭关系',
    addRelation: '添加关系',
    back: '返回档案',
    noSuchPerson: '没有这个人员',
    noSuchPersonHint: '地址中的“{id}”不是人员编号。请从人员查询中打开人员档案。',
  },
  {
    newTitle: 'Register a person',
    newMember: 'Add a member to household {no}',
    editTitle: 'Edit {name}',
    identity: 'Identity',
    relations: 'Relations',
    addRelation: 'Add relation',
    back: 'Back to the file',
    noSuchPerson: 'No such person',
    noSuchPersonHint: '"{id}" in the address is not a person number. Open the person from Persons.',
  },
);

export default function PersonEdit({ params }: PageProps) {
  if (params.id === undefined) return <NewPerson />;
  // Only decimal digits name a person: /persons/1e3/edit is not person 1000.
  const id = idParam(params.id);
  return id === null ? <NoSuchPerson given={params.id} /> : <EditPerson id={id} />;
}

function NoSuchPerson({ given }: { given: string }) {
  const t = useT(messages);
  return (
    <>
      <PageTitle title={t('identity')} />
      <Alert
        type="warning"
        showIcon
        title={t('noSuchPerson')}
        description={t('noSuchPersonHint', { id: given })}
        data-testid="no-such-person"
      />
    </>
  );
}

function NewPerson() {
  const t = useT(messages);
  const { me, workingRegion } = useAppState();
  const householdId = Number(new URLSearchParams(window.location.search).get('household')) || null;
  const [household, setHousehold] = useState<Household | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!householdId) return;
    const controller = new AbortController();
    householdsApi
      .get(householdId, controller.signal)
      .then(setHousehold)
      .catch((e: unknown) => {
        if (!isAbortError(e)) setError(e instanceof ApiError ? e.message : String(e));
      });
    return () => controller.abort();
  }, [householdId]);

  const village =
    me?.regionCode.length === 12
      ? me.regionCode
      : workingRegion?.code.length === 12
        ? workingRegion.code
        : null;
  const title = household ? t('newMember', { no: household.householdNo }) : t('newTitle');
  return (
    <>
      <PageTitle title={title} />
      {error && <Alert type="error" showIcon title={error} style={{ marginBottom: 12 }} />}
      {householdId && !household && !error ? (
        <Card loading size="small" />
      ) : (
        <Card size="small" style={{ maxWidth: 720 }}>
          <PersonForm
            household={household ?? undefined}
            defaultVillage={village}
            onSaved={(saved) => navigate(`/persons/${saved.id}`, { replace: true })}
            onCancel={() => navigate(household ? `/households/${household.id}` : '/persons')}
          />
        </Card>
      )}
    </>
  );
}

function EditPerson({ id }: { id: number }) {
  const t = useT(messages);
  const [person, setPerson] = useState<EditablePerson | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [addingRelation, setAddingRelation] = useState(false);

  const load = useCallback(
    (signal?: AbortSignal) =>
      personEditApi
        .get(id, signal)
        .then((p) => {
          setPerson(p);
          setError(null);
        })
        .catch((e: unknown) => {
          if (!isAbortError(e)) setError(e instanceof ApiError ? e.message : String(e));
        }),
    [id],
  );

  useEffect(() => {
    const controller = new AbortController();
    void load(controller.signal);
    return () => controller.abort();
  }, [load]);

  if (!person)
    return (
      <>
        <PageTitle title={t('identity')} />
        {error ? <Alert type="error" showIcon title={error} /> : <Card loading size="small" />}
      </>
    );

  return (
    <>
      <PageTitle
        title={t('editTitle', { name: person.name })}
        extra={<Button onClick={() => navigate(`/persons/${id}`)}>{t('back')}</Button>}
      />
      {error && <Alert type="error" showIcon title={error} style={{ marginBottom: 12 }} />}
      <Row gutter={[16, 16]}>
        <Col xs={24} lg={10}>
          <Card size="small" title={t('identity')}>
            <PersonForm
              // A reload after a stale save remounts the form with the new version's values.
              key={person.version}
              person={person}
              onSaved={() => navigate(`/persons/${id}`)}
              onCancel={() => navigate(`/persons/${id}`)}
              onReload={() => void load()}
            />
          </Card>
        </Col>
        <Col xs={24} lg={14}>
          <Space orientation="vertical" size={16} style={{ width: '100%' }}>
            <FactsEditor personId={id} facts={person.facts} onChanged={() => void load()} />
            <Card
              size="small"
              title={t('relations')}
              extra={
                !addingRelation && (
                  <Button size="small" icon={<PlusOutlined />} onClick={() => setAddingRelation(true)}>
                    {t('addRelation')}
                  </Button>
                )
              }
            >
              {addingRelation && (
                <RelationForm
                  personId={id}
                  onAdded={() => {
                    setAddingRelation(false);
                    void load();
                  }}
                  onCancel={() => setAddingRelation(false)}
                />
              )}
              <RelationsList personId={id} relations={person.relations} onChanged={() => void load()} />
            </Card>
          </Space>
        </Col>
      </Row>
    </>
  );
}
