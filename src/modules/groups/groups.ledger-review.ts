// The review of a child ledger import (EXCHANGE.md "Child ledger"): the ledger's own answers against
// the rules. A ledger lists each child as left behind and answers 父母双方同时外出 and
// 一方外出另一方无监护能力 (with 无监护能力方) itself; the registry keeps those answers as declared
// facts and derives the groups from the facts. Here each written row's answers are compared with
// explainLeftBehindChild as of the import day, and every answer the rules do not share comes back
// with the rules' reasons: "台账填写为留守儿童, 规则判定: 否, 因为 母亲刘秀英未外出务工".
//
// It lives in the groups module because it needs the rules; the registry's import calls it through
// the reviewer the composition root registers (reviewLedgerWith), so the registry never imports
// the groups module.

import type { Transaction } from 'kysely';
import type { DB } from '../../platform/db.schema.ts';
import type { IsoDate } from '../../platform/dates.ts';
import type {
  LedgerDeclaration,
  LedgerDisagreement,
  LedgerQuestion,
  LedgerReviewRow,
} from '../registry/index.ts';
import { buildSubjects } from './groups.evaluate.ts';
import {
  evaluateGroups,
  explainLeftBehindChild,
  GROUP_LABELS,
  type ClauseAnswer,
  type GroupCode,
  type LeftBehindChildAnswers,
  type Reason,
} from './groups.rules.ts';
import { configResolver } from './groups.settings.ts';
import * as repo from './groups.repository.ts';

const PARENT_WORDS = { father: { zh: '父亲', en: 'father' }, mother: { zh: '母亲', en: 'mother' } } as const;

const yesNo = (value: boolean) => ({ zh: value ? '是' : '否', en: value ? 'yes' : 'no' });

/** 是(无监护能力方: 母亲) / yes (unable parent: mother). */
function withUnableParent(value: boolean, parent: 'father' | 'mother' | null | undefined) {
  const answer = yesNo(value);
  if (!value || !parent) return answer;
  return {
    zh: `${answer.zh}(无监护能力方: ${PARENT_WORDS[parent].zh})`,
    en: `${answer.en} (unable parent: ${PARENT_WORDS[parent].en})`,
  };
}

function line(
  question: LedgerQuestion,
  declared: { zh: string; en: string },
  derived: { zh: string; en: string },
  reasons: readonly Reason[],
): { zh: string; en: string } {
  const because = {
    zh: reasons.length ? `, 因为 ${reasons.map((r) => r.zh).join('; ')}` : '',
    en: reasons.length ? `, because ${reasons.map((r) => r.en).join('; ')}` : '',
  };
  if (question === 'left_behind_child')
    return {
      zh: `台账填写${declared.zh === '是' ? '为' : '不是'}留守儿童, 规则判定: ${derived.zh}${because.zh}`,
      en: `The ledger ${declared.en === 'yes' ? 'lists' : 'does not list'} a left-behind child; the rules say: ${derived.en}${because.en}`,
    };
  const label =
    question === 'both_parents_migrant'
      ? { zh: '父母双方同时外出', en: 'both parents migrant' }
      : { zh: '一方外出另一方无监护能力', en: 'one parent migrant and the other unable' };
  return {
    zh: `台账填写${label.zh}: ${declared.zh}, 规则判定: ${derived.zh}${because.zh}`,
    en: `The ledger says ${label.en}: ${declared.en}; the rules say: ${derived.en}${because.en}`,
  };
}

/**
 * The answers of one row that the rules do not share. `answers` null: the child has no birth date, so
 * no rule applies (reported as such for the left-behind question).
 */
export function disagreementsOf(
  row: LedgerReviewRow,
  answers: LeftBehindChildAnswers | null,
  groups: readonly GroupCode[],
): LedgerDisagreement[] {
  const out: LedgerDisagreement[] = [];
  const d: LedgerDeclaration = row.declaration;
  const push = (
    question: LedgerQuestion,
    declared: { zh: string; en: string },
    derived: { zh: string; en: string },
    reasons: readonly Reason[],
  ) =>
    out.push({
      rowNumber: row.rowNumber,
      personId: row.personId,
      name: row.name,
      question,
      declared: declared.zh,
      derived: derived.zh,
      reasons: { zh: reasons.map((r) => r.zh), en: reasons.map((r) => r.en) },
      text: line(question, declared, derived, reasons),
      groups: {
        codes: [...groups],
        zh: groups.map((code) => GROUP_LABELS[code].zh),
        en: groups.map((code) => GROUP_LABELS[code].en),
      },
    });
  if (answers === null) {
    push('left_behind_child', yesNo(d.leftBehindChild), yesNo(false), [
      { zh: '缺少出生日期，规则无法判定', en: 'birth date missing: no rule can apply' },
    ]);
    return out;
  }
  const compare = (question: LedgerQuestion, declared: boolean | undefined, rule: ClauseAnswer) => {
    if (declared === undefined || declared === rule.holds) return;
    push(question, yesNo(declared), yesNo(rule.holds), rule.reasons);
  };
  compare('left_behind_child', d.leftBehindChild, answers.leftBehindChild);
  compare('both_parents_migrant', d.bothParentsMigrant, answers.bothParentsMigrant);
  const one = answers.oneMigrantOtherUnable;
  if (d.oneMigrantOtherUnable !== undefined) {
    const differs =
      d.oneMigrantOtherUnable !== one.holds ||
      (one.holds && d.unableParent !== undefined && d.unableParent !== one.unableParent);
    if (differs)
      push(
        'one_migrant_other_unable',
        withUnableParent(d.oneMigrantOtherUnable, d.unableParent),
        withUnableParent(one.holds, one.unableParent),
        one.reasons,
      );
  }
  return out;
}

/**
 * Replaces "未登记父亲/母亲" by what is missing when a parent is on record without a sex: the rules
 * cannot tell whether that parent is the father or the mother.
 */
function withUnusableParents(
  answers: LeftBehindChildAnswers,
  unsexed: readonly string[],
): LeftBehindChildAnswers {
  if (!unsexed.length) return answers;
  const names = unsexed.join('、');
  const instead: Reason = {
    zh: `父母记录${names}缺少性别，规则无法确定其为父亲还是母亲`,
    en: `the parent record ${unsexed.join(', ')} has no sex, so the rules cannot tell father from mother`,
  };
  const fix = (reasons: readonly Reason[]): Reason[] => {
    const out: Reason[] = [];
    for (const reason of reasons) {
      const missing = reason.zh === '未登记父亲' || reason.zh === '未登记母亲';
      const next = missing ? instead : reason;
      if (!out.includes(next)) out.push(next);
    }
    return out;
  };
  return {
    leftBehindChild: { ...answers.leftBehindChild, reasons: fix(answers.leftBehindChild.reasons) },
    bothParentsMigrant: { ...answers.bothParentsMigrant, reasons: fix(answers.bothParentsMigrant.reasons) },
    oneMigrantOtherUnable: {
      ...answers.oneMigrantOtherUnable,
      reasons: fix(answers.oneMigrantOtherUnable.reasons),
    },
  };
}

/**
 * The registry's ledger reviewer (registered by the composition root): the rows' children with their
 * relatives and facts as the evaluation loads them, the rules as of `asOf` with the county's config.
 */
export async function reviewLedgerRows(
  trx: Transaction<DB>,
  rows: readonly LedgerReviewRow[],
  asOf: IsoDate,
): Promise<LedgerDisagreement[]> {
  if (!rows.length) return [];
  const ids = [...new Set(rows.map((r) => r.personId))].sort((a, b) => a - b);
  const relations = await repo.loadRelations(trx, ids, asOf);
  const all = new Set(ids);
  for (const link of relations) {
    all.add(link.person_id);
    all.add(link.related_person_id);
  }
  const persons = new Map((await repo.loadPersons(trx, [...all])).map((p) => [p.id, p]));
  const facts = await repo.loadFacts(trx, [...all]);
  const subjects = buildSubjects(ids, persons, relations, facts);
  const configFor = configResolver(
    (await repo.configsInForce(trx, asOf)).map((row) => ({
      regionCode: row.region_code,
      config: row.config,
    })),
  );
  // A parent on record without a sex is neither father nor mother for the rules: say so instead of
  // "no father is recorded". (One without a birth date counts: no rule reads a parent's age.)
  const unsexedParents = (childId: number) => {
    const found: string[] = [];
    for (const link of relations) {
      if (link.kind !== 'parent' || link.person_id !== childId || link.subtype === 'step') continue;
      const parent = persons.get(link.related_person_id);
      if (parent && parent.merged_into === null && parent.sex === null) found.push(parent.name);
    }
    return found;
  };
  const out: LedgerDisagreement[] = [];
  for (const row of rows) {
    const subject = subjects.get(row.personId);
    const person = persons.get(row.personId);
    if (!subject || !person) {
      out.push(...disagreementsOf(row, null, []));
      continue;
    }
    const config = configFor(person.hukou_region_code);
    const groups = evaluateGroups(subject, asOf, config).map((m) => m.code);
    const answers = explainLeftBehindChild(subject, asOf, config);
    out.push(...disagreementsOf(row, withUnusableParents(answers, unsexedParents(row.personId)), groups));
  }
  return out;
}
