// The ledger's answers against the rules, clause by clause (pure): explainLeftBehindChild and the
// disagreement lines of a ledger row. The import itself is tested in registry.ledger.test.ts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Fact } from '../registry/index.ts';
import { DEFAULT_GROUPS_CONFIG } from './groups.config.ts';
import { disagreementsOf } from './groups.ledger-review.ts';
import { explainLeftBehindChild, leftBehindChild } from './groups.rules.ts';
import type { GroupSubject, ParentSnapshot, PersonSnapshot } from './groups.rules.ts';

const ON = '2026-11-29';

function person(name: string, sex: 1 | 2, birthDate: string, facts: Fact[] = []): PersonSnapshot {
  return { id: name, name, sex, birthDate, ruralHukou: true, livesInHukouVillage: true, facts };
}
const parent = (p: PersonSnapshot): ParentSnapshot => ({ ...p, parentType: 'biological' });
const migration = (from: string): Fact => ({
  kind: 'migration',
  from,
  to: null,
  data: { destination: '深圳' },
});
const ill = (from: string): Fact => ({ kind: 'serious_illness', from, to: null, data: {} });

function child(
  father: PersonSnapshot | null,
  mother: PersonSnapshot | null,
  birth = '2015-01-01',
): GroupSubject {
  return {
    person: person('小明', 1, birth),
    parents: [father, mother].filter((p) => p !== null).map(parent),
    spouse: null,
    children: [],
  };
}

describe('explainLeftBehindChild', () => {
  test('one parent away and the other unable: which one, and the answers agree with the group', () => {
    const subject = child(
      person('王父', 1, '1985-01-01', [migration('2026-01-01')]),
      person('李母', 2, '1987-01-01', [ill('2026-03-01')]),
    );
    const answers = explainLeftBehindChild(subject, ON, DEFAULT_GROUPS_CONFIG);
    assert.equal(answers.leftBehindChild.holds, leftBehindChild(subject, ON, DEFAULT_GROUPS_CONFIG) !== null);
    assert.equal(answers.leftBehindChild.holds, true);
    assert.deepEqual(answers.bothParentsMigrant, {
      holds: false,
      reasons: [{ zh: '母亲李母未外出务工', en: 'mother 李母 is not migrant' }],
    });
    assert.equal(answers.oneMigrantOtherUnable.unableParent, 'mother');
    assert.deepEqual(
      answers.oneMigrantOtherUnable.reasons.map((r) => r.zh),
      ['父亲王父外出务工自2026-01-01', '母亲李母患重病自2026-03-01'],
    );
  });

  test('a migration shorter than the county requires, a missing parent, neither parent away', () => {
    const config = { ...DEFAULT_GROUPS_CONFIG, leftBehindChildMinMigrationMonths: 6 };
    const recent = explainLeftBehindChild(
      child(
        person('王父', 1, '1985-01-01', [migration('2026-10-01')]),
        person('李母', 2, '1987-01-01', [migration('2025-01-01')]),
      ),
      ON,
      config,
    );
    assert.deepEqual(
      recent.leftBehindChild.reasons.map((r) => r.zh),
      [
        '父亲王父外出务工自2026-10-01，未满6个月，也无无监护能力的记录(死亡、重残、重病、服刑在押、强制隔离戒毒、失联等)',
      ],
    );
    const orphaned = explainLeftBehindChild(
      child(person('王父', 1, '1985-01-01', [migration('2026-01-01')]), null),
      ON,
      config,
    );
    assert.deepEqual(
      orphaned.leftBehindChild.reasons.map((r) => r.zh),
      ['未登记母亲'],
    );
    const home = explainLeftBehindChild(
      child(person('王父', 1, '1985-01-01'), person('李母', 2, '1987-01-01')),
      ON,
      config,
    );
    assert.deepEqual(
      home.oneMigrantOtherUnable.reasons.map((r) => r.zh),
      ['父亲王父未外出务工', '母亲李母未外出务工'],
    );
  });
});

describe('disagreementsOf', () => {
  const subject = child(
    person('王父', 1, '1985-01-01', [migration('2026-01-01')]),
    person('李母', 2, '1987-01-01', [ill('2026-03-01')]),
  );
  const answers = explainLeftBehindChild(subject, ON, DEFAULT_GROUPS_CONFIG);
  const row = (declaration: Parameters<typeof disagreementsOf>[0]['declaration']) => ({
    rowNumber: 7,
    personId: 1,
    name: '小明',
    declaration,
  });

  test('answers the rules share are not listed', () => {
    assert.deepEqual(
      disagreementsOf(
        row({
          leftBehindChild: true,
          bothParentsMigrant: false,
          oneMigrantOtherUnable: true,
          unableParent: 'mother',
        }),
        answers,
        ['left_behind_child'],
      ),
      [],
    );
  });

  test("the wrong unable parent is a disagreement, with the rules' parent and reasons", () => {
    const [d, ...rest] = disagreementsOf(
      row({ leftBehindChild: true, oneMigrantOtherUnable: true, unableParent: 'father' }),
      answers,
      ['left_behind_child'],
    );
    assert.equal(rest.length, 0);
    assert.deepEqual(d?.text, {
      zh: '台账填写一方外出另一方无监护能力: 是(无监护能力方: 父亲), 规则判定: 是(无监护能力方: 母亲), 因为 父亲王父外出务工自2026-01-01; 母亲李母患重病自2026-03-01',
      en: 'The ledger says one parent migrant and the other unable: yes (unable parent: father); the rules say: yes (unable parent: mother), because father 王父 migrant since 2026-01-01; mother 李母 seriously ill since 2026-03-01',
    });
    assert.deepEqual(d?.groups, {
      codes: ['left_behind_child'],
      zh: ['农村留守儿童'],
      en: ['rural left-behind child'],
    });
  });

  test('a child the rules cannot evaluate is reported as such', () => {
    const [d] = disagreementsOf(row({ leftBehindChild: true }), null, []);
    assert.equal(d?.text.zh, '台账填写为留守儿童, 规则判定: 否, 因为 缺少出生日期，规则无法判定');
  });
});
