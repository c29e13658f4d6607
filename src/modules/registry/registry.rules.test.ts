import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parentBirthProblem,
  checkFactData,
  factsOfRow,
  nameSpellings,
  reconcileFacts,
  relationRole,
  rowFactsFromStored,
  type StoredFact,
} from './registry.rules.ts';
import { interpretQuery } from './registry.search.ts';
import { makeIdNumber } from './registry.idnumber.ts';

const ON = '2026-11-29';

const EMPTY_ROW = {
  migrant: null,
  migrationDestination: null,
  migrationSince: null,
  disability: null,
  seriousIllness: null,
  liberty: null,
  lostContactSince: null,
  guardianshipRevoked: null,
  deported: null,
  deathDate: null,
  declaredMissingDate: null,
  schoolStage: null,
  school: null,
  livingArrangement: null,
  selfCare: null,
};

describe('names for search', () => {
  test('full pinyin without tones and the initials; surnames read as surnames', () => {
    assert.deepEqual(nameSpellings('张晓明'), { pinyin: 'zhangxiaoming', initials: 'zxm' });
    assert.deepEqual(nameSpellings('单雄信'), { pinyin: 'shanxiongxin', initials: 'sxx' });
    assert.deepEqual(nameSpellings('吕布'), { pinyin: 'lvbu', initials: 'lb' });
  });
});

describe('what a search query means', () => {
  const id = makeIdNumber('410225', '2015-03-02', 123);
  test('a full ID number, with a lower-case x or spaces', () => {
    assert.deepEqual(interpretQuery(id, ON), { by: 'idNumber', value: id });
  });
  test('the last six characters with a name, in either order', () => {
    assert.deepEqual(interpretQuery(`${id.slice(-6)} 张晓明`, ON), {
      by: 'idTail',
      tail: id.slice(-6),
      name: '张晓明',
    });
    assert.deepEqual(interpretQuery(`张晓明 ${id.slice(-6)}`, ON), {
      by: 'idTail',
      tail: id.slice(-6),
      name: '张晓明',
    });
  });
  test('Chinese text is a name, Latin letters pinyin or initials, digits a phone', () => {
    assert.deepEqual(interpretQuery('张晓', ON), { by: 'name', value: '张晓', pinyin: 'zhangxiao' });
    assert.deepEqual(interpretQuery('ZXM', ON), { by: 'pinyin', value: 'zxm' });
    assert.deepEqual(interpretQuery('139 1234 5678', ON), { by: 'phone', value: '13912345678' });
  });
});

describe('fact data per kind', () => {
  test('required fields, enumerations and unknown fields', () => {
    assert.equal(checkFactData('disability', { category: 4, grade: 2 }).ok, true);
    const missing = checkFactData('disability', { category: 4 });
    assert.equal(missing.ok, false);
    assert.equal(!missing.ok && missing.path, 'data.grade');
    const wrong = checkFactData('liberty_restriction', { type: 'jail' });
    assert.equal(!wrong.ok && wrong.path, 'data.type');
    const unknown = checkFactData('death', { cause: 'x' });
    assert.equal(!unknown.ok && unknown.path, 'data.cause');
  });
});

describe('relations read from either end', () => {
  test('a parent link is "parent" from the child and "child" from the parent', () => {
    assert.equal(relationRole('parent', true), 'parent');
    assert.equal(relationRole('parent', false), 'child');
    assert.equal(relationRole('carer', false), 'cared_for');
  });
});

describe('reconciling the facts of a template row', () => {
  const migration: StoredFact = {
    id: 1,
    kind: 'migration',
    valid_from: '2025-03-01',
    valid_to: null,
    data: { destination: '东莞', expectedReturn: '2027-01-01' },
  };

  test('the same facts again change nothing (details the template lacks are ignored)', () => {
    const row = factsOfRow({
      ...EMPTY_ROW,
      migrant: true,
      migrationSince: '2025-03-01',
      migrationDestination: '东莞',
    });
    assert.deepEqual(reconcileFacts([migration], row, ON), []);
  });

  test('a later period ends the open one the day it starts', () => {
    const row = factsOfRow({
      ...EMPTY_ROW,
      migrant: true,
      migrationSince: '2026-06-01',
      migrationDestination: '苏州',
    });
    assert.deepEqual(reconcileFacts([migration], row, ON), [
      { op: 'close', id: 1, to: '2026-06-01' },
      { op: 'insert', kind: 'migration', from: '2026-06-01', data: { destination: '苏州' } },
    ]);
  });

  test('a period moved back in time corrects the stored one: retracted, not overwritten', () => {
    const row = factsOfRow({
      ...EMPTY_ROW,
      migrant: true,
      migrationSince: '2024-01-01',
      migrationDestination: '东莞',
    });
    assert.deepEqual(reconcileFacts([migration], row, ON)[0], { op: 'retract', id: 1 });
  });

  test('外出务工=否 ends the open migration on the import day', () => {
    assert.deepEqual(reconcileFacts([migration], factsOfRow({ ...EMPTY_ROW, migrant: false }), ON), [
      { op: 'close', id: 1, to: ON },
    ]);
  });

  test('a state that changes ends the old one; the same state is left alone', () => {
    const school: StoredFact = {
      id: 2,
      kind: 'schooling',
      valid_from: '2024-09-01',
      valid_to: null,
      data: { stage: 'primary' },
    };
    assert.deepEqual(reconcileFacts([school], factsOfRow({ ...EMPTY_ROW, schoolStage: 'primary' }), ON), []);
    assert.deepEqual(reconcileFacts([school], factsOfRow({ ...EMPTY_ROW, schoolStage: 'junior' }), ON), [
      { op: 'close', id: 2, to: ON },
      { op: 'insert', kind: 'schooling', from: ON, data: { stage: 'junior' } },
    ]);
  });

  test('the export reads back what the import wrote', () => {
    const input = {
      ...EMPTY_ROW,
      migrant: true,
      migrationSince: '2025-03-01',
      migrationDestination: '东莞',
      disability: { category: 4, grade: 2 },
      liberty: { type: 'sentence', since: '2024-05-01', until: '2028-05-01' },
      schoolStage: 'primary',
      school: '城内小学',
      deathDate: null,
    };
    const stored: StoredFact[] = reconcileFacts([], factsOfRow(input), ON).map((c, i) => {
      if (c.op !== 'insert') throw new Error('expected inserts only');
      return { id: i + 1, kind: c.kind, valid_from: c.from, valid_to: null, data: c.data };
    });
    assert.deepEqual(rowFactsFromStored(stored, ON), input);
  });
});

describe('a parent is older than the child; a biological parent at least 12 years older', () => {
  const child = { sex: 1 as const, birthDate: '2017-07-07' };
  const parent = (birthDate: string) => ({ sex: 1 as const, birthDate, name: '王明' });
  test('born on or after the child: refused whatever the kind', () => {
    for (const subtype of ['biological', 'adoptive', 'step'] as const)
      assert.match(
        parentBirthProblem(child, parent('2017-07-07'), subtype)?.zh ?? '',
        /不早于子女的出生日期/,
      );
  });
  test('a biological parent one year older (a sibling’s number) is refused; 12 on the day of the birth is taken', () => {
    const oneYear = parentBirthProblem(child, parent('2016-03-04'));
    assert.match(oneYear?.zh ?? '', /仅 1 周岁，不足 12 周岁/);
    assert.match(oneYear?.en ?? '', /only 1 at the child's birth/);
    assert.match(parentBirthProblem(child, parent('2005-07-08'), 'biological')?.zh ?? '', /仅 11 周岁/);
    assert.equal(parentBirthProblem(child, parent('2005-07-07'), 'biological'), null);
  });
  test('an adoptive or step parent may be any age older', () => {
    assert.equal(parentBirthProblem(child, parent('2010-01-01'), 'adoptive'), null);
    assert.equal(parentBirthProblem(child, parent('2010-01-01'), 'step'), null);
  });
  test('an unknown birth date is no problem', () => {
    assert.equal(parentBirthProblem(child, { sex: null, birthDate: null }), null);
  });
});
