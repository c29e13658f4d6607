// A synthetic registry for the groups and stats benchmarks, bulk-loaded with COPY: three-generation
// rural households on the demo county's real villages (grandparents, parents, 1-3 children), with the
// facts that drive the groups at plausible rates (migrant parents, deaths, disabilities, loss of
// self-care, assistance, living alone). Written straight into the registry tables so that large sizes
// load in minutes; the registry's own import is measured by its own benchmark.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import type { Database } from '../src/platform/db.ts';
import { createContext } from '../src/app.ts';
import { loadConfig } from '../src/platform/config.ts';
import { createLogger } from '../src/platform/logging.ts';
import { systemActor } from '../src/modules/access/index.ts';
import { loadRegions } from '../src/modules/regions/index.ts';
import { importRegistryFile } from '../src/modules/registry/index.ts';
import { mulberry32, writeGeneratedTemplate } from '../src/modules/registry/registry.generator.ts';
import { addDays } from '../src/platform/dates.ts';

export const COUNTY = '410225';

export async function loadSyntheticRegistry(
  database: Database,
  persons: number,
  seed = 7,
): Promise<{ persons: number; facts: number; relations: number }> {
  await loadRegions(database, { within: COUNTY });
  const villages = (
    await database.db
      .selectFrom('regions')
      .select('code')
      .where('level', '=', 5)
      .where('code', 'like', `${COUNTY}%`)
      .orderBy('code')
      .execute()
  ).map((r) => r.code);
  const random = mulberry32(seed);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)] as T;
  const date = (fromYear: number, toYear: number) =>
    addDays(`${fromYear}-01-01`, Math.floor(random() * 365 * (toYear - fromYear)));

  const personRows: unknown[][] = [];
  const relationRows: unknown[][] = [];
  const factRows: unknown[][] = [];
  let id = 0;
  const add = (name: string, sex: 1 | 2, birth: string, village: string, away: boolean) => {
    id += 1;
    personRows.push([id, name, '无', sex, birth, village, away ? COUNTY : null]);
    return id;
  };
  const fact = (personId: number, kind: string, from: string, to: string | null, data: object = {}) =>
    factRows.push([personId, kind, from, to, JSON.stringify(data)]);
  const parent = (child: number, parentId: number) =>
    relationRows.push([child, parentId, 'parent', 'biological']);

  while (id < persons) {
    const village = pick(villages);
    const grandfather = add('祖父', 1, date(1938, 1962), village, false);
    const grandmother = add('祖母', 2, date(1940, 1964), village, false);
    relationRows.push([grandfather, grandmother, 'spouse', null]);
    const father = add('父亲', 1, date(1978, 1996), village, random() < 0.05);
    const mother = add('母亲', 2, date(1980, 1998), village, random() < 0.05);
    relationRows.push([father, mother, 'spouse', null]);
    parent(father, grandfather);
    parent(father, grandmother);
    if (random() < 0.45)
      fact(father, 'migration', date(2015, 2026), random() < 0.2 ? date(2026, 2028) : null, {
        destination: '广东',
      });
    if (random() < 0.3) fact(mother, 'migration', date(2016, 2026), null, { destination: '浙江' });
    if (random() < 0.02)
      fact(father, 'liberty_restriction', date(2022, 2026), null, {
        type: 'sentence',
        expectedEnd: '2030-01-01',
      });
    if (random() < 0.01) fact(mother, 'death', date(2018, 2026), null);
    if (random() < 0.03)
      fact(mother, 'disability', date(2010, 2024), null, {
        category: pick([1, 4, 5, 6]),
        grade: pick([1, 2, 3, 4]),
      });
    if (random() < 0.25) fact(grandfather, 'death', date(2010, 2026), null);
    if (random() < 0.15)
      fact(grandmother, 'self_care', date(2018, 2026), null, { level: pick(['mild', 'moderate', 'severe']) });
    if (random() < 0.1)
      fact(grandmother, 'living_arrangement', date(2015, 2026), null, {
        value: pick(['alone', 'spouse_only']),
      });
    if (random() < 0.06)
      fact(father, 'assistance', date(2019, 2026), null, { program: pick(['dibao', 'tekun', 'near_dibao']) });
    const children = 1 + Math.floor(random() * 3);
    for (let c = 0; c < children; c++) {
      const child = add(c % 2 ? '女儿' : '儿子', c % 2 ? 2 : 1, date(2008, 2025), village, false);
      parent(child, father);
      parent(child, mother);
      if (random() < 0.02)
        fact(child, 'disability', date(2015, 2025), null, { category: pick([4, 5]), grade: pick([1, 2, 3]) });
      if (random() < 0.06) fact(child, 'assistance', date(2019, 2026), null, { program: 'dibao' });
    }
  }

  await database.copyRows(
    'persons',
    ['id', 'name', 'no_id_reason', 'sex', 'birth_date', 'hukou_region_code', 'residence_region_code'],
    personRows,
  );
  await sql`SELECT setval(pg_get_serial_sequence('persons', 'id'), ${id})`.execute(database.db);
  await database.copyRows(
    'person_relations',
    ['person_id', 'related_person_id', 'kind', 'subtype'],
    relationRows,
  );
  await database.copyRows('person_facts', ['person_id', 'kind', 'valid_from', 'valid_to', 'data'], factRows);
  await sql`ANALYZE`.execute(database.db);
  return { persons: personRows.length, facts: factRows.length, relations: relationRows.length };
}

/**
 * The demo county's registry at any size: the county generator (docs/GENERATOR.md: household types,
 * ages, migration and the other facts at sourced or stated rates; `npm start` loads 20,000 persons of
 * it) written as the registry template and loaded through the real import. No care group is evaluated.
 */
export async function loadGeneratedCounty(
  database: Database,
  persons: number,
  asOf: string,
  seed = 1,
): Promise<{ persons: number; facts: number }> {
  await createContext(loadConfig({}, { runJobs: false }), database, createLogger('silent'));
  await loadRegions(database, { within: COUNTY });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shouhu-bench-groups-'));
  try {
    const file = path.join(dir, `${COUNTY}.csv`);
    await writeGeneratedTemplate(file, { countyCode: COUNTY, persons, seed, asOf });
    const importer = { regionCode: COUNTY, userId: null, auditActor: systemActor('bench') };
    const outcome = await importRegistryFile(database, file, importer, { today: asOf });
    if (outcome.status !== 'succeeded') throw new Error(`import ${outcome.status}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  // The import's follow-up (re-evaluating the changed villages) is a queued job that does not run here.
  await sql`TRUNCATE group_memberships, worklist_items`.execute(database.db);
  await sql`ANALYZE`.execute(database.db);
  const counted = await sql<{ persons: number; facts: number }>`
    SELECT (SELECT count(*)::int FROM persons) AS persons, (SELECT count(*)::int FROM person_facts) AS facts`.execute(
    database.db,
  );
  return counted.rows[0] ?? { persons: 0, facts: 0 };
}

/** The baseline: one hand-written INSERT .. SELECT of the left_behind_child rule's main clause. */
export async function leftBehindChildBaseline(database: Database, asOf: string): Promise<number> {
  await sql`CREATE TABLE IF NOT EXISTS lbc_baseline (person_id bigint, since date)`.execute(database.db);
  await sql`TRUNCATE lbc_baseline`.execute(database.db);
  const result = await sql`
    INSERT INTO lbc_baseline (person_id, since)
    SELECT c.id, greatest(c.birth_date, fm.since, mm.since)
    FROM persons c
    JOIN regions r ON r.code = c.hukou_region_code AND r.rural
    JOIN person_relations rf ON rf.person_id = c.id AND rf.kind = 'parent' AND rf.subtype = 'biological' AND rf.valid_to IS NULL
    JOIN persons f ON f.id = rf.related_person_id AND f.sex = 1
    JOIN person_relations rm ON rm.person_id = c.id AND rm.kind = 'parent' AND rm.subtype = 'biological' AND rm.valid_to IS NULL
    JOIN persons m ON m.id = rm.related_person_id AND m.sex = 2
    JOIN LATERAL (SELECT min(valid_from) AS since FROM person_facts x WHERE x.person_id = f.id AND x.kind = 'migration'
      AND x.retracted_at IS NULL AND x.valid_from <= ${asOf}::date AND (x.valid_to IS NULL OR x.valid_to > ${asOf}::date)) fm ON fm.since IS NOT NULL
    JOIN LATERAL (SELECT min(valid_from) AS since FROM person_facts x WHERE x.person_id = m.id AND x.kind = 'migration'
      AND x.retracted_at IS NULL AND x.valid_from <= ${asOf}::date AND (x.valid_to IS NULL OR x.valid_to > ${asOf}::date)) mm ON mm.since IS NOT NULL
    WHERE c.hukou_region_code >= ${COUNTY} AND c.hukou_region_code < ${COUNTY + '\uffff'}
      AND c.birth_date > (${asOf}::date - interval '16 years')::date AND c.birth_date <= ${asOf}::date
      AND (c.residence_region_code IS NULL OR c.residence_region_code = c.hukou_region_code)
      AND NOT EXISTS (SELECT 1 FROM person_facts o WHERE o.person_id = c.id AND o.kind = 'migration' AND o.retracted_at IS NULL
        AND o.valid_from <= ${asOf}::date AND (o.valid_to IS NULL OR o.valid_to > ${asOf}::date))
      AND NOT EXISTS (SELECT 1 FROM person_facts d WHERE d.person_id IN (c.id, f.id, m.id) AND d.kind IN ('death', 'declared_dead', 'declared_missing')
        AND d.retracted_at IS NULL AND d.valid_from <= ${asOf}::date)`.execute(database.db);
  return Number(result.numAffectedRows ?? 0);
}
