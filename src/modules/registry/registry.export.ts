// The export (导出): the registry of a region in the registry template, streamed in key ranges of
// person ids, so that an export imports back unchanged (a round trip changes nothing).
import type { Kysely } from 'kysely';
import type { DB } from '../../platform/db.schema.ts';
import { today as currentDate } from '../../platform/dates.ts';
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
 * The persons of a region subtree as template records, by id. Persons without a household, sex or
 * birth date cannot be written in the template and are left out; merged duplicates too.
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
      .innerJoin('households as h', 'h.id', 'p.household_id')
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
      if (p.sex === null || p.birth_date === null || (p.id_number === null && p.no_id_reason === null))
        continue;
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
        householdNo: p.household_no,
        name: p.name,
        idNumber: p.id_number,
        noIdReason: p.id_number ? null : p.no_id_reason,
        sex: p.sex,
        birthDate: p.birth_date,
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
