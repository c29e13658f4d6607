// The set-based, batched evaluation agrees with the pure rules. Random households (persons with random
// birth dates, sexes, hukou and residence, parent links of every subtype, spouses, facts of every kind
// with random periods) are written to a real database, the region is evaluated in small batches (so
// relatives fall in other batches), and for every person the stored memberships must equal
// evaluateGroups on a subject the test builds on its own from the generated data. Some persons have no
// birth date or no sex on record (a ledger's name-only parents), and some children were adopted by the
// spouse of a birth parent (a step-parent adoption).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { sql } from 'kysely';
import { openTestDatabase, type TestDatabase } from '../../../test/support/db.ts';
import { addDays, type IsoDate } from '../../platform/dates.ts';
import { FACT_KINDS, type Fact, type FactKind } from '../registry/index.ts';
import { DEFAULT_GROUPS_CONFIG } from './groups.config.ts';
import { evaluatePerson, evaluateRegion } from './groups.evaluate.ts';
import { evaluateGroups, type GroupSubject, type ParentType, type RelativeSnapshot } from './groups.rules.ts';
import { codeRange, deltaCountsOn, periodCountsOn, type RegionCount } from './groups.repository.ts';
import { insertPersonRow, insertRelation } from '../../../test/support/registry-rows.ts';
import { spouseOrder } from '../../../test/support/group-subjects.ts';

const VILLAGES = [
  { code: '410225100200', rural: true },
  { code: '410225100201', rural: true },
  { code: '410225100001', rural: false },
] as const;

async function seedRegions(database: TestDatabase): Promise<void> {
  await sql`INSERT INTO regions (code, name, level, parent_code, rural) VALUES
    ('41', '河南省', 1, NULL, NULL), ('4102', '开封市', 2, '41', NULL), ('410225', '兰考县', 3, '4102', NULL),
    ('410225100', '某镇', 4, '410225', NULL),
    ('410225100200', '甲村', 5, '410225100', true), ('410225100201', '乙村', 5, '410225100', true),
    ('410225100001', '某社区', 5, '410225100', false)`.execute(database.db);
}

// ---------- The generated world ----------

interface GenPerson {
  name: string;
  sex: 1 | 2;
  birthDate: IsoDate;
  village: number;
  /** null: lives at hukou; 'same': recorded equal to hukou; 'away': elsewhere. */
  residence: null | 'same' | 'away';
  facts: Fact[];
  /** Recorded without a birth date or without a sex. */
  unrecorded?: null | 'birth' | 'sex';
}

interface GenWorld {
  persons: GenPerson[];
  parents: { child: number; parent: number; subtype: ParentType }[];
  spouses: [number, number][];
  asOf: IsoDate;
}

const BASE = '1925-01-01';
const day = (min: number, max: number) => fc.integer({ min, max }).map((n) => addDays(BASE, n));
// 1925 .. 2027
const anyDate = day(0, 37_600);
const recentDate = day(30_000, 37_600); // 2007 .. 2027

const period = fc
  .record({ from: recentDate, length: fc.option(fc.integer({ min: 1, max: 4000 }), { nil: null }) })
  .map(({ from, length }) => ({ from, to: length === null ? null : addDays(from, length) }));

const factArb: fc.Arbitrary<Fact> = fc
  .record({
    // Every kind, with migration three times as likely: it drives most of the groups.
    kind: fc.constantFrom<FactKind>('migration', 'migration', ...FACT_KINDS),
    period,
    n: fc.integer({ min: 0, max: 1000 }),
    end: fc.option(day(30_000, 38_000), { nil: null }),
  })
  .map(({ kind, period: p, n, end }) => {
    const pick = <T>(values: readonly T[]) => values[n % values.length] as T;
    const data: Record<string, unknown> = {};
    switch (kind) {
      case 'migration':
        data.destination = '广东省东莞市';
        break;
      case 'liberty_restriction':
        data.type = pick(['sentence', 'drug_rehabilitation', 'other']);
        data.expectedEnd = end;
        break;
      case 'lost_contact':
        data.policeReportDate = p.from;
        break;
      case 'disability':
        data.category = (n % 7) + 1;
        data.grade = (Math.floor(n / 7) % 4) + 1;
        break;
      case 'schooling':
        data.stage = pick(['preschool', 'primary', 'junior', 'senior', 'none']);
        break;
      case 'self_care':
        data.level = pick(['intact', 'mild', 'moderate', 'severe']);
        break;
      case 'living_arrangement':
        data.value = pick([
          'alone',
          'spouse_only',
          'with_children',
          'with_grandchildren',
          'institution',
          'other',
        ]);
        break;
      case 'assistance':
        data.program = pick(['dibao', 'tekun', 'near_dibao']);
        break;
      case 'guardianship_failure':
        data.type = pick(['abuse', 'abandonment', 'neglect']);
        break;
      case 'death':
      case 'declared_dead':
      case 'declared_missing':
      case 'deported':
      case 'family_planning_special':
      case 'guardianship_revoked':
      case 'serious_illness':
        break;
      case 'ledger_declaration':
        // A child ledger's own answers: the rules never read them.
        data.leftBehindChild = true;
        break;
    }
    return { kind, from: p.from, to: p.to, data } as unknown as Fact;
  });

const personArb = fc.record({
  name: fc.constantFrom('张三', '李梅', '王强', '赵芳', '刘洋', '陈静'),
  sex: fc.constantFrom<1 | 2>(1, 2),
  birthDate: anyDate,
  village: fc.integer({ min: 0, max: VILLAGES.length - 1 }),
  residence: fc.constantFrom<null | 'same' | 'away'>(null, null, null, 'same', 'away'),
  facts: fc.array(factArb, { maxLength: 4 }),
  unrecorded: fc.constantFrom<null | 'birth' | 'sex'>(null, null, null, null, null, null, 'birth', 'sex'),
});

const worldArb: fc.Arbitrary<GenWorld> = fc.integer({ min: 1, max: 14 }).chain((n) =>
  fc
    .record({
      persons: fc.array(personArb, { minLength: n, maxLength: n }),
      parents: fc
        .array(
          fc.record({
            child: fc.integer({ min: 0, max: n - 1 }),
            parent: fc.integer({ min: 0, max: n - 1 }),
            subtype: fc.constantFrom<ParentType>(
              'biological',
              'biological',
              'biological',
              'adoptive',
              'step',
            ),
          }),
          { maxLength: n * 2 },
        )
        .map((links) => {
          const seen = new Set<string>();
          return links.filter((l) => {
            const key = `${l.child}:${l.parent}`;
            if (l.child === l.parent || seen.has(key)) return false;
            seen.add(key);
            return true;
          });
        }),
      spouses: fc
        .array(fc.tuple(fc.integer({ min: 0, max: n - 1 }), fc.integer({ min: 0, max: n - 1 })), {
          maxLength: n,
        })
        .map((pairs) => {
          const seen = new Set<string>();
          return pairs
            .map(([a, b]) => (a < b ? [a, b] : [b, a]) as [number, number])
            .filter(([a, b]) => {
              const key = `${a}:${b}`;
              if (a === b || seen.has(key)) return false;
              seen.add(key);
              return true;
            });
        }),
      asOf: day(33_000, 37_500),
      // Step-parent adoptions: a birth parent's spouse adopts the child.
      stepAdoptions: fc.array(fc.record({ which: fc.nat(), adopter: fc.nat() }), { maxLength: 2 }),
    })
    .map(({ stepAdoptions, ...world }): GenWorld => {
      const parents = [...world.parents];
      const spouses = [...world.spouses];
      for (const { which, adopter } of stepAdoptions) {
        const birth = parents.filter((l) => l.subtype === 'biological');
        const link = birth[which % Math.max(1, birth.length)];
        const x = adopter % n;
        if (!link || x === link.child || x === link.parent) continue;
        if (parents.some((l) => l.child === link.child && l.parent === x)) continue;
        parents.push({ child: link.child, parent: x, subtype: 'adoptive' });
        const pair: [number, number] = link.parent < x ? [link.parent, x] : [x, link.parent];
        if (!spouses.some(([a, b]) => a === pair[0] && b === pair[1])) spouses.push(pair);
      }
      return { ...world, parents, spouses };
    }),
);

// ---------- Writing it ----------

async function writeWorld(database: TestDatabase, world: GenWorld): Promise<number[]> {
  const db = database.db;
  const ids: number[] = [];
  for (const p of world.persons) {
    const hukou = VILLAGES[p.village]?.code ?? '410225100200';
    // 'away': recorded at the county only (not the hukou village).
    const residence = p.residence === null ? null : p.residence === 'same' ? hukou : '410225';
    ids.push(
      await insertPersonRow(db, { name: p.name, sex: p.sex, birthDate: p.birthDate, hukou, residence }),
    );
  }
  for (const [i, p] of world.persons.entries()) {
    if (p.unrecorded === 'birth')
      await sql`UPDATE persons SET birth_date = NULL WHERE id = ${ids[i] as number}`.execute(db);
    if (p.unrecorded === 'sex')
      await sql`UPDATE persons SET sex = NULL WHERE id = ${ids[i] as number}`.execute(db);
    for (const f of p.facts)
      await db
        .insertInto('person_facts')
        .values({
          person_id: ids[i] as number,
          kind: f.kind,
          valid_from: f.from,
          valid_to: f.to,
          data: JSON.stringify(f.data),
          recorded_by: null,
        })
        .execute();
  }
  for (const l of world.parents)
    await insertRelation(db, ids[l.child] as number, ids[l.parent] as number, 'parent', l.subtype);
  for (const [a, b] of world.spouses)
    await insertRelation(db, ids[a] as number, ids[b] as number, 'spouse', null);
  return ids;
}

async function clear(database: TestDatabase): Promise<void> {
  for (const table of ['worklist_items', 'group_memberships', 'person_facts', 'person_relations', 'persons'])
    await sql`DELETE FROM ${sql.table(table)}`.execute(database.db);
}

// ---------- The subjects, built independently ----------

/** Each person's subject; null for one without a birth date (judged by no rule). */
function expectedSubjects(world: GenWorld, ids: number[]): (GroupSubject | null)[] {
  const snapshot = (i: number): RelativeSnapshot => {
    const p = world.persons[i] as GenPerson;
    const village = VILLAGES[p.village] as (typeof VILLAGES)[number];
    return {
      id: String(ids[i]),
      name: p.name,
      sex: p.unrecorded === 'sex' ? null : p.sex,
      birthDate: p.unrecorded === 'birth' ? null : p.birthDate,
      ruralHukou: village.rural,
      livesInHukouVillage: p.residence !== 'away',
      facts: p.facts,
    };
  };
  const adopters = (child: number) =>
    world.parents.filter((l) => l.child === child && l.subtype === 'adoptive').map((l) => l.parent);
  const married = (a: number, b: number) =>
    world.spouses.some(([x, y]) => (x === a && y === b) || (x === b && y === a));
  /** Adoption ends the relation with a birth parent, unless that parent is married to an adopter. */
  const marriedAdopters = (child: number, parent: number) =>
    adopters(child).filter((a) => married(parent, a));
  return world.persons.map((_, i) => {
    const me = snapshot(i);
    if (me.birthDate === null) return null;
    const parents = world.parents
      .filter((l) => l.child === i)
      .sort((a, b) => (ids[a.parent] as number) - (ids[b.parent] as number))
      .map((l) => ({
        ...snapshot(l.parent),
        parentType: l.subtype,
        spouseIds: l.subtype === 'biological' ? marriedAdopters(i, l.parent).map((a) => String(ids[a])) : [],
      }));
    const spouseIndex = world.spouses
      .filter(([a, b]) => a === i || b === i)
      .map(([a, b]) => (a === i ? b : a))
      .sort((a, b) =>
        spouseOrder(snapshot(a).facts, ids[a] as number, snapshot(b).facts, ids[b] as number),
      )[0];
    const children = world.parents
      .filter(
        (l) =>
          l.parent === i &&
          (l.subtype === 'adoptive' ||
            (l.subtype === 'biological' &&
              (adopters(l.child).length === 0 || marriedAdopters(l.child, i).length > 0))),
      )
      .sort((a, b) => (ids[a.child] as number) - (ids[b.child] as number))
      .map((l) => snapshot(l.child));
    return {
      person: { ...me, birthDate: me.birthDate },
      parents,
      spouse: spouseIndex === undefined ? null : snapshot(spouseIndex),
      children,
    };
  });
}

async function storedOn(database: TestDatabase, personId: number, asOf: IsoDate) {
  const rows = await sql<{
    group_code: string;
    since: string;
    sub_category: string | null;
    reasons: { zh: string[]; en: string[] };
  }>`
    SELECT group_code, since, sub_category, reasons FROM group_memberships
    WHERE person_id = ${personId} AND since <= ${asOf}::date AND (until IS NULL OR until > ${asOf}::date)
    ORDER BY group_code`.execute(database.db);
  return rows.rows;
}

describe('set-based evaluation agrees with the pure rules', () => {
  let database: TestDatabase;
  before(async () => {
    database = await openTestDatabase();
    await seedRegions(database);
  });
  after(async () => {
    await database.close();
  });

  test('random households: stored memberships equal evaluateGroups for every person; evaluating again changes nothing', async () => {
    let nonEmpty = 0;
    await fc.assert(
      fc.asyncProperty(worldArb, fc.integer({ min: 1, max: 12 }), async (world, batchSize) => {
        await clear(database);
        const ids = await writeWorld(database, world);
        await evaluateRegion(database.db, {
          regionCode: '410225',
          asOf: world.asOf,
          batchSize,
          concurrency: 2,
        });
        const subjects = expectedSubjects(world, ids);
        for (const [i, subject] of subjects.entries()) {
          const expected = (subject ? evaluateGroups(subject, world.asOf, DEFAULT_GROUPS_CONFIG) : [])
            .map((m) => ({
              group_code: m.code,
              since: m.since,
              sub_category: m.subCategory || null,
              reasons: { zh: m.reasons.map((r) => r.zh), en: m.reasons.map((r) => r.en) },
            }))
            .sort((a, b) => (a.group_code < b.group_code ? -1 : 1));
          if (expected.length) nonEmpty += 1;
          assert.deepEqual(
            await storedOn(database, ids[i] as number, world.asOf),
            expected,
            `person ${i} as of ${world.asOf}`,
          );
        }
        const again = await evaluateRegion(database.db, {
          regionCode: '410225',
          asOf: world.asOf,
          batchSize: 7,
        });
        assert.deepEqual([again.entered, again.left, again.updated], [0, 0, 0]);
      }),
      {
        numRuns: Number(process.env.GROUPS_PROPERTY_RUNS ?? 150),
        seed: Number(process.env.GROUPS_PROPERTY_SEED ?? 20261129),
      },
    );
    // The generator must reach the groups, or the property proves little.
    assert.ok(nonEmpty >= 20, `only ${nonEmpty} persons belonged to a group`);
  });

  test('after region evaluations the count tables equal the period scan: entries, exits, moves, cut-backs', async () => {
    const normal = (rows: readonly RegionCount[]) =>
      rows
        .filter((r) => r.n !== 0)
        .map((r) => `${r.region_code} ${r.group_code} ${r.n}`)
        .sort();
    const countsAgree = async (label: string, dates: IsoDate[]) => {
      for (const region of ['410225', '410225100200', '410225100201']) {
        const range = codeRange(region);
        const expected = await periodCountsOn(database.db, range, dates);
        const got = await deltaCountsOn(database.db, range, dates);
        for (const d of dates)
          assert.deepEqual(
            normal(got.get(d) ?? []),
            normal(expected.get(d) ?? []),
            `${label}: ${region} on ${d}`,
          );
      }
    };
    let compared = 0;
    await fc.assert(
      fc.asyncProperty(
        worldArb,
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 800 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        async (world, batchSize, laterDays, seed) => {
          await clear(database);
          const ids = await writeWorld(database, world);
          const later = addDays(world.asOf, laterDays);
          const dates = [
            ...new Set([addDays(world.asOf, -400), world.asOf, addDays(world.asOf, laterDays - 1), later]),
          ];
          await evaluateRegion(database.db, { regionCode: '410225', asOf: world.asOf, batchSize });
          await countsAgree('first', dates);
          // Moves between the two villages, facts ended and facts retracted, then a later date:
          // exits (closed where the rule stopped holding, or removed when it never held), periods moved to
          // another village, new entries.
          let x = seed;
          const next = () => (x = (x * 1103515245 + 12345) % 2 ** 31);
          for (const id of ids) {
            const roll = next() % 7;
            if (roll === 0)
              await sql`UPDATE persons SET hukou_region_code = CASE hukou_region_code
                WHEN '410225100200' THEN '410225100201' ELSE '410225100200' END WHERE id = ${id}`.execute(
                database.db,
              );
            else if (roll === 1)
              await sql`UPDATE person_facts SET valid_to = ${addDays(world.asOf, 1)}::date
                WHERE person_id = ${id} AND valid_from <= ${world.asOf}::date`.execute(database.db);
            else if (roll === 2)
              await sql`UPDATE person_facts SET retracted_at = now() WHERE person_id = ${id}`.execute(
                database.db,
              );
            else if (roll === 3) {
              // Moved and retracted: the later run closes the period in the old village, the restored
              // run cuts that period back from the new village.
              await sql`UPDATE persons SET hukou_region_code = CASE hukou_region_code
                WHEN '410225100200' THEN '410225100201' ELSE '410225100200' END WHERE id = ${id}`.execute(
                database.db,
              );
              await sql`UPDATE person_facts SET retracted_at = now() WHERE person_id = ${id}`.execute(
                database.db,
              );
            }
          }
          const moved = await evaluateRegion(database.db, { regionCode: '410225', asOf: later, batchSize });
          await countsAgree('later', dates);
          // The retractions undone: memberships come back from their old start, which cuts back or
          // removes the periods the later run closed.
          await sql`UPDATE person_facts SET retracted_at = NULL`.execute(database.db);
          const back = await evaluateRegion(database.db, { regionCode: '410225', asOf: later, batchSize: 4 });
          await countsAgree('restored', dates);
          compared += moved.entered + moved.left + moved.updated + back.entered + back.left + back.updated;
        },
      ),
      { numRuns: Number(process.env.GROUPS_PROPERTY_RUNS ?? 40), seed: 330 },
    );
    assert.ok(compared >= 20, `only ${compared} changes made by the later evaluations`);
  });

  test('the single-person path re-evaluates the person and the relatives who depend on their facts', async () => {
    await clear(database);
    const world: GenWorld = {
      persons: [
        { name: '小明', sex: 1, birthDate: '2015-03-01', village: 0, residence: null, facts: [] },
        {
          name: '张三',
          sex: 1,
          birthDate: '1985-02-01',
          village: 0,
          residence: null,
          facts: [{ kind: 'migration', from: '2024-03-01', to: null, data: {} }],
        },
        { name: '李梅', sex: 2, birthDate: '1987-04-01', village: 0, residence: null, facts: [] },
      ],
      parents: [
        { child: 0, parent: 1, subtype: 'biological' },
        { child: 0, parent: 2, subtype: 'biological' },
      ],
      spouses: [[1, 2]],
      asOf: '2026-11-29',
    };
    const ids = await writeWorld(database, world);
    await evaluateRegion(database.db, { regionCode: '410225', asOf: world.asOf });
    assert.deepEqual(await storedOn(database, ids[0] as number, world.asOf), []);
    // The mother leaves for work: the child becomes left behind, though the fact is the mother's.
    await database.db
      .insertInto('person_facts')
      .values({
        person_id: ids[2] as number,
        kind: 'migration',
        valid_from: '2025-06-10',
        valid_to: null,
        data: '{}',
        recorded_by: null,
      })
      .execute();
    const counts = await database.db
      .transaction()
      .execute((trx) => evaluatePerson(trx, ids[2] as number, world.asOf));
    assert.ok(counts.entered >= 1);
    const child = await storedOn(database, ids[0] as number, world.asOf);
    assert.deepEqual(
      child.map((m) => [m.group_code, m.since]),
      [['left_behind_child', '2025-06-10']],
    );
    assert.match(child[0]?.reasons.zh.join(';') ?? '', /母亲李梅外出务工自2025-06-10/);
  });

  test('a person with care group periods cannot be deleted (the guard that replaced the foreign key)', async () => {
    await clear(database);
    const world: GenWorld = {
      persons: [
        { name: '王老', sex: 1, birthDate: '1940-01-01', village: 0, residence: null, facts: [] },
        { name: '王小', sex: 1, birthDate: '1990-01-01', village: 0, residence: null, facts: [] },
      ],
      parents: [],
      spouses: [],
      asOf: '2026-11-29',
    };
    const [elder, younger] = (await writeWorld(database, world)) as [number, number];
    await evaluateRegion(database.db, { regionCode: '410225', asOf: world.asOf });
    assert.ok((await storedOn(database, elder, world.asOf)).length > 0);
    await assert.rejects(
      sql`DELETE FROM persons WHERE id = ${elder}`.execute(database.db),
      (error: { code?: string }) => error.code === '23503',
    );
    assert.equal((await storedOn(database, elder, world.asOf)).length > 0, true);
    // A person without periods (and without other records) is not held by the guard.
    await sql`DELETE FROM persons WHERE id = ${younger}`.execute(database.db);
  });
});
