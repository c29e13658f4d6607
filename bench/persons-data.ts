// Fills a benchmark database with a generated county's persons quickly: the generator's records
// (real village codes, valid ID numbers, names) COPYed straight into persons with their pinyin.
// Households, relations and facts are left out: the search and list benchmarks read persons only.
import { generateCounty } from '../src/modules/registry/registry.generator.ts';
import { nameSpellings } from '../src/modules/registry/index.ts';
import type { Database } from '../src/platform/db.ts';
import { sql } from 'kysely';

export interface LoadedPerson {
  name: string;
  idNumber: string | null;
  initials: string;
  village: string;
}

/** Loads `persons` generated persons; returns a sample (every 997th) for queries. */
export async function loadGeneratedPersons(
  database: Database,
  persons: number,
  seed = 7,
): Promise<LoadedPerson[]> {
  const sample: LoadedPerson[] = [];
  let n = 0;
  async function* rows() {
    for await (const r of generateCounty({ countyCode: '410225', persons, seed, asOf: '2026-11-29' })) {
      const { pinyin, initials } = nameSpellings(r.name);
      n += 1;
      if (n % 997 === 0)
        sample.push({ name: r.name, idNumber: r.idNumber, initials, village: r.hukouRegionCode });
      yield [
        r.idNumber,
        r.idNumber ? null : (r.noIdReason ?? '未落户'),
        r.name,
        pinyin,
        initials,
        r.sex,
        r.birthDate,
        r.phone,
        r.hukouRegionCode,
        r.relationToHead,
      ];
    }
  }
  await database.copyRows(
    'persons',
    [
      'id_number',
      'no_id_reason',
      'name',
      'name_pinyin',
      'name_initials',
      'sex',
      'birth_date',
      'phone',
      'hukou_region_code',
      'relation_to_head',
    ],
    rows(),
  );
  await sql`ANALYZE persons`.execute(database.db);
  return sample;
}
