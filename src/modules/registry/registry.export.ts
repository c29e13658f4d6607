// The export (导出): the registry of a region in the registry template, streamed in key ranges of
// person ids, so that an export imports back unchanged (a round trip changes nothing).
import { sql, type Kysely } from 'kysely';
import type { DB } from '../../platform/db.schema.ts';
import { today as currentDate, type IsoDate } from '../../platform/dates.ts';
import type { LocalizedMessage } from '../../platform/normalize.ts';
import type { Sex } from './registry.idnumber.ts';
import type { RegistryRecord } from './registry.template.ts';
import { rowFactsFromStored, type StoredFact } from './registry.rules.ts';
import type {
  DisabilityCategory,
  DisabilityGrade,
  LibertyRestrictionType,
  LivingArrangement,
  SchoolStage,
  SelfCareLevel,
} from './registry.facts.ts';

/**
 * The 户编号 written for a person registered without a household (an entrusted carer or a grandparent
 * a child ledger registered): the template requires one, and the children's rows name the carer by ID
 * number, so a file without the carer's row does not import elsewhere. The person's id, never the ID
 * number (a masked export shows the 户编号 as it is). Imported, it is a household of that person alone,
 * with no head (the row says 其他).
 */
export const HOUSEHOLDLESS_PREFIX = '无户编号-';

/** What the template needs to hold a person, as the registry has it. */
interface ExportCandidate {
  id_number: string | null;
  sex: 1 | 2 | null;
  birth_date: string | null;
  household_no: string | null;
}

const NO_SEX: LocalizedMessage = {
  zh: '没有公民身份号码，也没有登记性别：登记表中没有身份号码的人员必须填写性别（补录身份号码或性别后即可导出）',
  en: 'no ID number and no sex on record: the template needs the sex of a person without an ID number (record either to export them)',
};
const NO_BIRTH_DATE: LocalizedMessage = {
  zh: '没有公民身份号码，也没有登记出生日期：登记表按户编号、姓名和出生日期识别没有身份号码的人员（补录身份号码或出生日期后即可导出）',
  en: 'no ID number and no birth date on record: the template identifies a person without an ID number by household number, name and birth date (record either to export them)',
};
const NO_HOUSEHOLD: LocalizedMessage = {
  zh: '没有公民身份号码，也不属于任何户：登记表按户编号、姓名和出生日期识别没有身份号码的人员，无户人员的行再导入时会被重复登记（补录身份号码或将其登记到户后即可导出）',
  en: 'no ID number and no household: the template identifies a person without an ID number by household number, name and birth date, so a row for them would register them again when imported back (record the ID number, or the household, to export them)',
};

/**
 * Why the template cannot hold a person; empty when it can. A person with an ID number always fits:
 * sex and birth date are read from the number (as the import reads them), and one without a household
 * gets HOUSEHOLDLESS_PREFIX. Without an ID number the row must say sex and birth date, and the import
 * finds the person again only by household number, name and birth date: a household made up by the
 * export would be a new person on every installation that has them without one, the source included.
 */
function whyNotExportable(p: ExportCandidate): LocalizedMessage[] {
  if (p.id_number !== null) return [];
  const reasons: LocalizedMessage[] = [];
  if (p.sex === null) reasons.push(NO_SEX);
  if (p.birth_date === null) reasons.push(NO_BIRTH_DATE);
  if (p.household_no === null) reasons.push(NO_HOUSEHOLD);
  return reasons;
}

/** Sex and birth date as an 18-character ID number states them (stored numbers are checked ones). */
const sexOfIdNumber = (id: string): Sex => (Number(id.charAt(16)) % 2 === 1 ? 1 : 2);
const birthDateOfIdNumber = (id: string): IsoDate =>
  `${id.slice(6, 10)}-${id.slice(10, 12)}-${id.slice(12, 14)}`;

/** A person of the region the export leaves out, and why (what the registry lacks for a row). */
export interface PersonLeftOut {
  personId: number;
  name: string;
  hukouRegionCode: string;
  reasons: LocalizedMessage[];
}

export interface ExportGaps {
  /** Persons in the region the template cannot hold, by id: the export writes no row for them. */
  persons: PersonLeftOut[];
  /**
   * Links in force that no row can state: a parent or entrusted carer, of a person of the region,
   * without an ID number, and spouses both without one (the template names the related person by ID
   * number only). Those of the persons left out are among them.
   */
  linksWithoutIdNumber: number;
}

/**
 * What the registry export of a region leaves out (the same rule as registryRecords, for the same
 * region): a caller says it beside "exported N persons", so that a file that is not the whole registry
 * of the region is never taken for it.
 */
export async function exportGaps(db: Kysely<DB>, regionCode: string): Promise<ExportGaps> {
  const candidates = await db
    .selectFrom('persons as p')
    .leftJoin('households as h', 'h.id', 'p.household_id')
    .select([
      'p.id',
      'p.name',
      'p.hukou_region_code',
      'p.id_number',
      'p.sex',
      'p.birth_date',
      'h.household_no',
    ])
    .where('p.hukou_region_code', '>=', regionCode)
    .where('p.hukou_region_code', '<', regionCode + '\uffff')
    .where('p.merged_into', 'is', null)
    .where('p.id_number', 'is', null)
    .where((eb) => eb.or([eb('p.sex', 'is', null), eb('p.birth_date', 'is', null), eb('h.id', 'is', null)]))
    .orderBy('p.id')
    .execute();
  const persons: PersonLeftOut[] = [];
  for (const p of candidates) {
    const reasons = whyNotExportable(p);
    if (reasons.length > 0)
      persons.push({ personId: p.id, name: p.name, hukouRegionCode: p.hukou_region_code, reasons });
  }
  const links = await db
    .selectFrom('person_relations as r')
    .innerJoin('persons as a', 'a.id', 'r.person_id')
    .innerJoin('persons as b', 'b.id', 'r.related_person_id')
    .select(sql<number>`count(*)::int`.as('n'))
    .where('r.valid_to', 'is', null)
    .where('a.merged_into', 'is', null)
    .where('b.merged_into', 'is', null)
    .where('b.id_number', 'is', null)
    .where((eb) =>
      eb.or([
        eb('r.kind', 'in', ['parent', 'carer']),
        eb.and([eb('r.kind', '=', 'spouse'), eb('a.id_number', 'is', null)]),
      ]),
    )
    .where((eb) =>
      eb.or([
        eb.and([
          eb('a.hukou_region_code', '>=', regionCode),
          eb('a.hukou_region_code', '<', regionCode + '\uffff'),
        ]),
        eb.and([
          eb('r.kind', '=', 'spouse'),
          eb('b.hukou_region_code', '>=', regionCode),
          eb('b.hukou_region_code', '<', regionCode + '\uffff'),
        ]),
      ]),
    )
    .executeTakeFirstOrThrow();
  return { persons, linksWithoutIdNumber: links.n };
}

/**
 * The persons of a region subtree as template records, by id: every person the template can hold
 * (exportGaps names the others and why); merged duplicates are not persons of their own. A person
 * registered without a household is written under HOUSEHOLDLESS_PREFIX, so that the rows naming them
 * (a child's 委托照护人身份号码) import on an installation that does not have them.
 */
export async function* registryRecords(
  db: Kysely<DB>,
  regionCode: string,
  on: string = currentDate(),
  batch = 2000,
): AsyncGenerator<RegistryRecord> {
  let after = 0;
  for (;;) {
    const persons = await db
      .selectFrom('persons as p')
      .leftJoin('households as h', 'h.id', 'p.household_id')
      .select([
        'p.id',
        'p.id_number',
        'p.no_id_reason',
        'p.name',
        'p.sex',
        'p.birth_date',
        'p.ethnicity',
        'p.phone',
        'p.hukou_region_code',
        'p.residence_region_code',
        'p.relation_to_head',
        'h.household_no',
        'h.annual_income_fen',
      ])
      .where('p.hukou_region_code', '>=', regionCode)
      .where('p.hukou_region_code', '<', regionCode + '\uffff')
      .where('p.merged_into', 'is', null)
      .where('p.id', '>', after)
      .orderBy('p.id')
      .limit(batch)
      .execute();
    const last = persons[persons.length - 1];
    if (!last) return;
    after = last.id;
    const ids = persons.map((p) => p.id);
    const [facts, relations] = await Promise.all([
      db
        .selectFrom('person_facts')
        .select(['id', 'person_id', 'kind', 'valid_from', 'valid_to', 'data'])
        .where('person_id', 'in', ids)
        .where('retracted_at', 'is', null)
        .execute(),
      db
        .selectFrom('person_relations as r')
        .innerJoin('persons as a', 'a.id', 'r.person_id')
        .innerJoin('persons as b', 'b.id', 'r.related_person_id')
        .select([
          'r.id',
          'r.kind',
          'r.subtype',
          'r.person_id',
          'r.related_person_id',
          'a.id_number as a_id_number',
          'b.id_number as b_id_number',
          'b.sex as b_sex',
        ])
        .where((eb) =>
          eb.or([
            eb('r.person_id', 'in', ids),
            eb.and([eb('r.related_person_id', 'in', ids), eb('r.kind', '=', 'spouse')]),
          ]),
        )
        .where('r.valid_to', 'is', null)
        .orderBy('r.id')
        .execute(),
    ]);
    const factsOf = new Map<number, StoredFact[]>();
    for (const f of facts) factsOf.set(f.person_id, [...(factsOf.get(f.person_id) ?? []), f]);
    for (const p of persons) {
      if (whyNotExportable(p).length > 0) continue;
      const mine = relations.filter(
        (r) => r.person_id === p.id || (r.kind === 'spouse' && r.related_person_id === p.id),
      );
      const parent = (sex: Sex) => {
        const candidates = mine.filter(
          (r) => r.kind === 'parent' && r.person_id === p.id && r.b_sex === sex && r.b_id_number,
        );
        return (candidates.find((r) => r.subtype === 'biological') ?? candidates[0])?.b_id_number ?? null;
      };
      // Of several marriages in force (a widow's late husband's link stays open), the newest: the one
      // an import of this file keeps (endFormerSpouses), so the export imports back unchanged.
      const spouse = mine.findLast((r) => r.kind === 'spouse');
      const spouseNumber = spouse
        ? spouse.person_id === p.id
          ? spouse.b_id_number
          : spouse.a_id_number
        : null;
      const carer = mine.find((r) => r.kind === 'carer' && r.person_id === p.id && r.b_id_number);
      const f = rowFactsFromStored(factsOf.get(p.id) ?? [], on);
      yield {
        householdNo: p.household_no ?? `${HOUSEHOLDLESS_PREFIX}${p.id}`,
        name: p.name,
        idNumber: p.id_number,
        noIdReason: p.id_number ? null : p.no_id_reason,
        // Null only with an ID number (whyNotExportable): then as the number states them.
        sex: p.sex ?? sexOfIdNumber(p.id_number ?? ''),
        birthDate: p.birth_date ?? birthDateOfIdNumber(p.id_number ?? ''),
        ethnicity: p.ethnicity,
        relationToHead: p.relation_to_head ?? '其他',
        hukouRegionCode: p.hukou_region_code,
        residenceRegionCode: p.residence_region_code ?? p.hukou_region_code,
        phone: p.phone,
        fatherIdNumber: parent(1),
        motherIdNumber: parent(2),
        spouseIdNumber: spouseNumber ?? null,
        carerIdNumber: carer?.b_id_number ?? null,
        migrant: f.migrant,
        migrationDestination: f.migrationDestination,
        migrationSince: f.migrationSince,
        disability: f.disability
          ? {
              category: f.disability.category as DisabilityCategory,
              grade: f.disability.grade as DisabilityGrade,
            }
          : null,
        seriousIllness: f.seriousIllness,
        liberty: f.liberty
          ? { type: f.liberty.type as LibertyRestrictionType, since: f.liberty.since, until: f.liberty.until }
          : null,
        lostContactSince: f.lostContactSince,
        guardianshipRevoked: f.guardianshipRevoked,
        deported: f.deported,
        deathDate: f.deathDate,
        declaredMissingDate: f.declaredMissingDate,
        schoolStage: f.schoolStage as SchoolStage | null,
        school: f.school,
        livingArrangement: f.livingArrangement as LivingArrangement | null,
        selfCare: f.selfCare as SelfCareLevel | null,
        householdAnnualIncomeFen: p.relation_to_head === '户主' ? p.annual_income_fen : null,
      };
    }
  }
}
