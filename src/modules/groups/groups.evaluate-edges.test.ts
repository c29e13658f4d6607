// Care-group evaluation at scale, at its edges (DOMAIN.md section 2), on a real database: the batch read
// (one JSON document per batch, a keyset walk by person id, `BETWEEN lo AND hi` over dense id runs that
// also covers persons of another county), the writes (a plain insert for a first period, cut-backs,
// closed periods), and evaluations that meet each other (the same region twice at once, a registry
// change during a region's evaluation, a past date after a later one).
//
// The property tests build a county whose households were imported out of order, interleaved with a
// neighbouring county's persons linked to them, with merged and incomplete persons (no birth date, no
// sex), duplicate link rows, step-parent adoptions (a birth parent's spouse adopts the child, marriage and
// adoption dated) and links that begin or end around the as-of date; the stored periods must equal the pure rules on
// subjects this file builds on its own from the generated data.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { sql, type Transaction } from 'kysely';
import type { DB } from '../../platform/db.schema.ts';
import { openTestDatabase, testEngine, type TestDatabase } from '../../../test/support/db.ts';
import { insertParentLink, insertPersonRow, insertRelation } from '../../../test/support/registry-rows.ts';
import { spouseOrder } from '../../../test/support/group-subjects.ts';
import { addDays, minDate, today, type IsoDate } from '../../platform/dates.ts';
import { FACT_KINDS, type Fact, type FactKind } from '../registry/index.ts';
import { DEFAULT_GROUPS_CONFIG } from './groups.config.ts';
import { evaluatePerson, evaluateRegion } from './groups.evaluate.ts';
import {
  evaluateGroupsOver,
  type GroupMembership,
  type GroupSubject,
  type ParentType,
  type RelativeSnapshot,
  type SubjectHistory,
} from './groups.rules.ts';
import {
  codeRange,
  deltaCountsOn,
  lockMembershipWrites,
  moveMembershipsOnMerge,
  periodCountsOn,
  type RegionCount,
} from './groups.repository.ts';

const HOME = '410225';
const FOREIGN = '410221';
const VILLAGES = [
  { code: '410225100200', rural: true },
  { code: '410225100201', rural: true },
  { code: '410225100001', rural: false },
  { code: '410221100200', rural: true },
  { code: '410221100001', rural: false },
] as const;
const HOME_VILLAGES = [0, 1, 2];

async function seedRegions(database: TestDatabase): Promise<void> {
  await sql`INSERT INTO regions (code, name, level, parent_code, rural) VALUES
    ('41', '河南省', 1, NULL, NULL), ('4102', '开封市', 2, '41', NULL),
    ('410225', '兰考县', 3, '4102', NULL), ('410225100', '某镇', 4, '410225', NULL),
    ('410225100200', '甲村', 5, '410225100', true), ('410225100201', '乙村', 5, '410225100', true),
    ('410225100001', '某社区', 5, '410225100', false),
    ('410221', '杞县', 3, '4102', NULL), ('410221100', '城关镇', 4, '410221', NULL),
    ('410221100200', '丙村', 5, '410221100', true), ('410221100001', '城关社区', 5, '410221100', false)`.execute(
    database.db,
  );
}

async function clear(database: TestDatabase): Promise<void> {
  for (const table of [
    'worklist_items',
    'group_memberships',
    'person_facts',
    'person_relations',
    'group_config',
  ])
    await sql`DELETE FROM ${sql.table(table)}`.execute(database.db);
  await sql`UPDATE persons SET merged_into = NULL`.execute(database.db);
  await sql`DELETE FROM persons`.execute(database.db);
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
  /** Merged into another person of the world (a duplicate); the index of the one kept. */
  mergedInto: number | null;
  /** Recorded without a birth date (belongs to no group, but counts as a relative). */
  incomplete: boolean;
  /** Recorded without a sex (neither father nor mother, nor husband, for the rules). */
  unsexed: boolean;
}

/** A link row with its validity [from, to); several rows may link the same two persons. */
interface GenLink {
  from: IsoDate | null;
  to: IsoDate | null;
}
interface GenParentLink extends GenLink {
  child: number;
  parent: number;
  subtype: ParentType;
}
interface GenSpouseLink extends GenLink {
  /** person_id and related_person_id as stored (bad data: not always the smaller id first). */
  a: number;
  b: number;
}

interface GenWorld {
  persons: GenPerson[];
  parents: GenParentLink[];
  spouses: GenSpouseLink[];
  /** The order in which persons are written (ids follow it): households out of order. */
  order: number[];
  asOf: IsoDate;
}

const BASE = '1925-01-01';
const day = (min: number, max: number) => fc.integer({ min, max }).map((n) => addDays(BASE, n));
const anyDate = day(0, 37_600); // 1925 .. 2027
const recentDate = day(30_000, 37_600); // 2007 .. 2027
/** A day in the last four years. */
const pastDay = fc.integer({ min: 0, max: 1500 }).map((n) => addDays(today(), -n));

const period = fc
  .record({ from: recentDate, length: fc.option(fc.integer({ min: 1, max: 4000 }), { nil: null }) })
  .map(({ from, length }) => ({ from, to: length === null ? null : addDays(from, length) }));

const factArb: fc.Arbitrary<Fact> = fc
  .record({
    // Every kind (schooling and ledger declarations too, which no rule reads), migration three times
    // as likely: it drives most of the groups.
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
        // The police report is not always the day contact was lost.
        data.policeReportDate = addDays(p.from, (n % 5) * 30);
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
        data.value = pick(['alone', 'spouse_only', 'with_children', 'with_grandchildren', 'institution']);
        break;
      case 'assistance':
        data.program = pick(['dibao', 'tekun', 'near_dibao']);
        break;
      case 'guardianship_failure':
        data.type = pick(['abuse', 'abandonment', 'neglect']);
        break;
      case 'ledger_declaration':
        data.leftBehindChild = true;
        break;
      case 'death':
      case 'declared_dead':
      case 'declared_missing':
      case 'deported':
      case 'family_planning_special':
      case 'guardianship_revoked':
      case 'serious_illness':
        break;
    }
    return { kind, from: p.from, to: p.to, data } as unknown as Fact;
  });

/** A link's validity around the as-of date: mostly undated, often beginning or ending on or next to it. */
const validityAround = (asOf: IsoDate): fc.Arbitrary<GenLink> =>
  fc
    .record({
      shape: fc.integer({ min: 0, max: 13 }),
      a: fc.integer({ min: 1, max: 900 }),
      b: fc.integer({ min: 1, max: 900 }),
    })
    .map(({ shape, a, b }) => {
      const at = (offset: number) => addDays(asOf, offset);
      switch (shape) {
        case 0:
          return { from: at(0), to: null }; // begins on the as-of date
        case 1:
          return { from: at(1), to: null }; // begins the day after
        case 2:
          return { from: null, to: at(0) }; // ends on the as-of date
        case 3:
          return { from: null, to: at(1) }; // ends the day after
        case 4:
          return { from: at(-a), to: null }; // began before
        case 5:
          return { from: at(-a - b), to: at(-b) }; // began and ended before
        case 6:
          return { from: at(-a), to: at(b) }; // in force, with both dates
        default:
          return { from: null, to: null };
      }
    });

const personArb = (villages: readonly number[], residences: readonly (null | 'same' | 'away')[]) =>
  fc.record({
    name: fc.constantFrom('张三', '李梅', '王强', '赵芳', '刘洋', '陈静'),
    sex: fc.constantFrom<1 | 2>(1, 2),
    birthDate: anyDate,
    village: fc.constantFrom(...villages),
    residence: fc.constantFrom(...residences),
    facts: fc.array(factArb, { maxLength: 4 }),
  });

interface WorldOptions {
  asOf: fc.Arbitrary<IsoDate>;
  villages: readonly number[];
  residences?: readonly (null | 'same' | 'away')[];
  maxPersons: number;
  /** Merged and incomplete persons, duplicate link rows, links to oneself as bad data would have them. */
  badData: boolean;
}

const worldArb = (options: WorldOptions): fc.Arbitrary<GenWorld> =>
  fc.tuple(options.asOf, fc.integer({ min: 1, max: options.maxPersons })).chain(([asOf, n]) =>
    fc
      .record({
        persons: fc.array(
          personArb(options.villages, options.residences ?? [null, null, null, 'same', 'away']),
          {
            minLength: n,
            maxLength: n,
          },
        ),
        parents: fc.array(
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
            validity: validityAround(asOf),
          }),
          { maxLength: n * 2 },
        ),
        spouses: fc.array(
          fc.record({
            a: fc.integer({ min: 0, max: n - 1 }),
            b: fc.integer({ min: 0, max: n - 1 }),
            validity: validityAround(asOf),
          }),
          { maxLength: n },
        ),
        // Extra rows for existing links: a copy that ended, or one still in force with an end date.
        duplicates: fc.array(
          fc.record({ which: fc.nat(), spouse: fc.boolean(), to: fc.integer({ min: -300, max: 300 }) }),
          { maxLength: options.badData ? n : 0 },
        ),
        merged: fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: options.badData ? Math.ceil(n / 5) : 0 }),
        incomplete: fc.array(fc.nat(), { maxLength: options.badData ? Math.ceil(n / 6) : 0 }),
        unsexed: fc.array(fc.nat(), { maxLength: options.badData ? Math.ceil(n / 8) : 0 }),
        stepAdoptions: fc.array(
          fc.record({
            which: fc.nat(),
            adopter: fc.nat(),
            adoption: validityAround(asOf),
            marriage: validityAround(asOf),
          }),
          { maxLength: 2 },
        ),
        order: fc.shuffledSubarray(
          Array.from({ length: n }, (_, i) => i),
          { minLength: n, maxLength: n },
        ),
      })
      .map((raw): GenWorld => {
        const persons = raw.persons.map((p) => ({
          ...p,
          mergedInto: null as number | null,
          incomplete: false,
          unsexed: false,
        }));
        for (const i of raw.incomplete) (persons[i % n] as GenPerson).incomplete = true;
        for (const i of raw.unsexed) (persons[i % n] as GenPerson).unsexed = true;
        for (const [x, y] of raw.merged) {
          const duplicate = x % n;
          const kept = y % n;
          if (duplicate !== kept && persons[kept]?.mergedInto === null)
            (persons[duplicate] as GenPerson).mergedInto = kept;
        }
        // One current row per link (the registry's unique index); a person is never their own relative.
        const current = new Set<string>();
        const parents: GenParentLink[] = [];
        for (const l of raw.parents) {
          const key = `${l.child}:${l.parent}`;
          if (l.child === l.parent || current.has(key)) continue;
          current.add(key);
          parents.push({ child: l.child, parent: l.parent, subtype: l.subtype, ...l.validity });
        }
        const spouses: GenSpouseLink[] = [];
        for (const l of raw.spouses) {
          const key = l.a < l.b ? `${l.a}:${l.b}` : `${l.b}:${l.a}`;
          if (l.a === l.b || current.has('s' + key)) continue;
          current.add('s' + key);
          spouses.push({ a: l.a, b: l.b, ...l.validity });
        }
        // A birth parent's spouse adopts the child (Civil Code art. 1103), each link with its own dates.
        for (const { which, adopter, adoption, marriage } of raw.stepAdoptions) {
          const birth = parents.filter((l) => l.subtype === 'biological');
          const link = birth[which % Math.max(1, birth.length)];
          const x = adopter % n;
          if (!link || x === link.child || x === link.parent) continue;
          const key = `${link.child}:${x}`;
          const pair = link.parent < x ? `${link.parent}:${x}` : `${x}:${link.parent}`;
          if (current.has(key) || current.has('s' + pair)) continue;
          current.add(key);
          current.add('s' + pair);
          parents.push({ child: link.child, parent: x, subtype: 'adoptive', ...adoption });
          spouses.push({ a: link.parent, b: x, ...marriage });
        }
        for (const d of raw.duplicates) {
          const to = addDays(asOf, d.to === 0 ? 1 : d.to);
          if (d.spouse && spouses.length) {
            const s = spouses[d.which % spouses.length] as GenSpouseLink;
            // The other way round: the same marriage stored twice.
            spouses.push({ a: s.b, b: s.a, from: null, to });
          } else if (parents.length) {
            const l = parents[d.which % parents.length] as GenParentLink;
            parents.push({ ...l, from: null, to });
          }
        }
        return { persons, parents, spouses, order: raw.order, asOf };
      }),
  );

// ---------- Writing it ----------

async function writeWorld(database: TestDatabase, world: GenWorld): Promise<number[]> {
  const db = database.db;
  const ids: number[] = new Array<number>(world.persons.length);
  for (const i of world.order) {
    const p = world.persons[i] as GenPerson;
    const hukou = VILLAGES[p.village]?.code ?? '410225100200';
    // 'away': recorded at the county only (not the hukou village).
    const residence = p.residence === null ? null : p.residence === 'same' ? hukou : hukou.slice(0, 6);
    ids[i] = await insertPersonRow(db, {
      name: p.name,
      sex: p.sex,
      birthDate: p.birthDate,
      hukou,
      residence,
    });
  }
  for (const [i, p] of world.persons.entries()) {
    const id = ids[i] as number;
    if (p.incomplete) await sql`UPDATE persons SET birth_date = NULL WHERE id = ${id}`.execute(db);
    if (p.unsexed) await sql`UPDATE persons SET sex = NULL WHERE id = ${id}`.execute(db);
    if (p.mergedInto !== null)
      await sql`UPDATE persons SET merged_into = ${ids[p.mergedInto] as number} WHERE id = ${id}`.execute(db);
    for (const f of p.facts)
      await db
        .insertInto('person_facts')
        .values({
          person_id: id,
          kind: f.kind,
          valid_from: f.from,
          valid_to: f.to,
          data: JSON.stringify(f.data),
          recorded_by: null,
        })
        .execute();
  }
  const link = (person: number, related: number, kind: string, subtype: string | null, l: GenLink) =>
    sql`INSERT INTO person_relations (person_id, related_person_id, kind, subtype, valid_from, valid_to)
      VALUES (${ids[person] as number}, ${ids[related] as number}, ${kind}, ${subtype}, ${l.from}, ${l.to})`.execute(
      db,
    );
  for (const l of world.parents) await link(l.child, l.parent, 'parent', l.subtype, l);
  for (const l of world.spouses) await link(l.a, l.b, 'spouse', null, l);
  return ids;
}

// ---------- The subjects, built independently ----------

const inForce = (l: GenLink, on: IsoDate) =>
  (l.from === null || l.from <= on) && (l.to === null || l.to > on);

/** Person i's subject on each day, from the generated rows (the links in force that day). */
function expectedHistory(world: GenWorld, ids: number[], i: number): SubjectHistory | null {
  // A relative counts without a birth date or sex; merged records are nobody.
  const snapshot = (k: number): RelativeSnapshot | null => {
    const p = world.persons[k] as GenPerson;
    if (p.mergedInto !== null) return null;
    const village = VILLAGES[p.village] as (typeof VILLAGES)[number];
    return {
      id: String(ids[k]),
      name: p.name,
      sex: p.unsexed ? null : p.sex,
      birthDate: p.incomplete ? null : p.birthDate,
      ruralHukou: village.rural,
      livesInHukouVillage: p.residence !== 'away',
      facts: p.facts,
    };
  };
  const found = snapshot(i);
  if (found === null || found.birthDate === null) return null;
  const me = { ...found, birthDate: found.birthDate };
  const adopters = (child: number, on: IsoDate) =>
    world.parents
      .filter((l) => l.child === child && l.subtype === 'adoptive' && inForce(l, on))
      .map((l) => l.parent);
  const adopted = (child: number, on: IsoDate) => adopters(child, on).length > 0;
  /** Married by the day: a divorce since does not end a step-parent adoption's birth parent. */
  const married = (a: number, b: number, on: IsoDate) =>
    world.spouses.some(
      (l) => ((l.a === a && l.b === b) || (l.a === b && l.b === a)) && (l.from === null || l.from <= on),
    );
  /** The child's adopters on the day whom the birth parent has married by the day (step-parent adoption). */
  const marriedAdopters = (child: number, parent: number, on: IsoDate) =>
    [...new Set(adopters(child, on))].filter((a) => married(parent, a, on));
  const on = (d: IsoDate): GroupSubject => {
    const parentKeys = new Set<string>();
    const parents = world.parents
      .filter((l) => l.child === i && inForce(l, d))
      .filter((l) => {
        const key = `${l.parent}:${l.subtype}`;
        if (parentKeys.has(key)) return false;
        parentKeys.add(key);
        return true;
      })
      .flatMap((l) => {
        const parent = snapshot(l.parent);
        const spouseIds =
          l.subtype === 'biological' ? marriedAdopters(i, l.parent, d).map((a) => String(ids[a])) : [];
        return parent ? [{ ...parent, parentType: l.subtype, spouseIds }] : [];
      })
      .sort((a, b) => Number(a.id) - Number(b.id));
    const spouse = [
      ...new Set(
        world.spouses
          .filter((l) => (l.a === i || l.b === i) && inForce(l, d))
          .map((l) => (l.a === i ? l.b : l.a))
          .filter((k) => snapshot(k) !== null),
      ),
    ].sort((a, b) =>
      spouseOrder(snapshot(a)?.facts ?? [], ids[a] as number, snapshot(b)?.facts ?? [], ids[b] as number),
    )[0];
    // A child linked twice with the same subtype is one child (a biological and an adoptive link: two).
    const childKeys = new Set<string>();
    const children = world.parents
      .filter((l) => {
        const key = `${l.child}:${l.subtype}`;
        if (l.parent !== i || !inForce(l, d) || childKeys.has(key)) return false;
        childKeys.add(key);
        return (
          l.subtype === 'adoptive' ||
          (l.subtype === 'biological' && (!adopted(l.child, d) || marriedAdopters(l.child, i, d).length > 0))
        );
      })
      .sort((a, b) => (ids[a.child] as number) - (ids[b.child] as number))
      .flatMap((l) => {
        const child = snapshot(l.child);
        return child ? [child] : [];
      });
    return { person: me, parents, spouse: spouse === undefined ? null : snapshot(spouse), children };
  };
  const changes = new Set<IsoDate>();
  const dates = (l: GenLink) => [l.from, l.to].filter((x): x is IsoDate => x !== null);
  for (const l of world.parents) {
    if (l.child === i || l.parent === i) dates(l).forEach((x) => changes.add(x));
    if (l.parent === i)
      for (const a of world.parents)
        if (a.child === l.child && a.subtype === 'adoptive') dates(a).forEach((x) => changes.add(x));
  }
  for (const l of world.spouses) if (l.a === i || l.b === i) dates(l).forEach((x) => changes.add(x));
  // A parent's marriage to the child's adopter decides whether that parent stays a legal parent.
  const parentsOfMe = new Set(world.parents.filter((l) => l.child === i).map((l) => l.parent));
  for (const l of world.spouses)
    if (parentsOfMe.has(l.a) || parentsOfMe.has(l.b)) dates(l).forEach((x) => changes.add(x));
  return { on, changes: [...changes].sort() };
}

type Stored = { group_code: string; since: string; sub_category: string | null; reasons: unknown };

function expectedOn(world: GenWorld, ids: number[], i: number, on: IsoDate): Stored[] {
  const history = expectedHistory(world, ids, i);
  if (history === null) return [];
  return evaluateGroupsOver(history, on, DEFAULT_GROUPS_CONFIG)
    .map((m: GroupMembership) => ({
      group_code: m.code,
      since: m.since,
      sub_category: m.subCategory || null,
      reasons: { zh: m.reasons.map((r) => r.zh), en: m.reasons.map((r) => r.en) },
    }))
    .sort((a, b) => (a.group_code < b.group_code ? -1 : 1));
}

async function storedOn(database: TestDatabase, personId: number, on: IsoDate): Promise<Stored[]> {
  const rows = await sql<Stored>`
    SELECT group_code, since::text AS since, sub_category, reasons FROM group_memberships
    WHERE person_id = ${personId} AND since <= ${on}::date AND (until IS NULL OR until > ${on}::date)
    ORDER BY group_code`.execute(database.db);
  return rows.rows;
}

/** Periods of one person and group never overlap, and at most one is open. */
async function assertNoOverlaps(database: TestDatabase, label: string): Promise<void> {
  const overlaps = await sql<{ person_id: number; group_code: string }>`
    SELECT a.person_id, a.group_code FROM group_memberships a JOIN group_memberships b
      ON a.person_id = b.person_id AND a.group_code = b.group_code AND a.id < b.id
    WHERE a.since < coalesce(b.until, 'infinity'::date) AND b.since < coalesce(a.until, 'infinity'::date)
      AND a.until IS DISTINCT FROM a.since AND b.until IS DISTINCT FROM b.since`.execute(database.db);
  assert.deepEqual(overlaps.rows, [], `${label}: overlapping periods`);
}

async function countsAgree(database: TestDatabase, label: string, dates: IsoDate[]): Promise<void> {
  const normal = (rows: readonly RegionCount[]) =>
    rows
      .filter((r) => r.n !== 0)
      .map((r) => `${r.region_code} ${r.group_code} ${r.n}`)
      .sort();
  for (const region of [HOME, FOREIGN]) {
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
}

const inTheVillage = { villages: [0, 1], residences: [null, 'same'] } as const;

const runs = (fallback: number) => Number(process.env.GROUPS_PROPERTY_RUNS ?? fallback);

describe('evaluation at scale: interleaved counties, households out of order, bad data', () => {
  let database: TestDatabase;
  before(async () => {
    database = await openTestDatabase();
    await seedRegions(database);
  });
  after(async () => {
    await database.close();
  });

  test('a county whose ids interleave with a neighbour’s: every person as the rules say, foreign persons untouched until their own county is evaluated', async () => {
    let members = 0;
    let foreignRelatives = 0;
    await fc.assert(
      fc.asyncProperty(
        worldArb({
          asOf: day(33_000, 37_500),
          villages: [0, 1, 2, 3, 4, 0, 3],
          maxPersons: 32,
          badData: true,
        }),
        fc.constantFrom(1, 2, 5, 8, 9, 16, 64),
        async (world, batchSize) => {
          await clear(database);
          const ids = await writeWorld(database, world);
          const home = (i: number) => HOME_VILLAGES.includes((world.persons[i] as GenPerson).village);
          await evaluateRegion(database.db, {
            regionCode: HOME,
            asOf: world.asOf,
            batchSize,
            concurrency: 2,
          });
          for (const i of world.persons.keys()) {
            const stored = await storedOn(database, ids[i] as number, world.asOf);
            if (!home(i)) {
              const any = await sql<{ n: number }>`SELECT count(*)::int AS n FROM group_memberships
                WHERE person_id = ${ids[i] as number}`.execute(database.db);
              assert.equal(any.rows[0]?.n, 0, `foreign person ${i} got periods from ${HOME}'s evaluation`);
              continue;
            }
            const expected = expectedOn(world, ids, i, world.asOf);
            if (expected.length) {
              members += 1;
              const linked = [...world.parents, ...world.spouses.map((s) => ({ child: s.a, parent: s.b }))];
              if (
                linked.some((l) => (l.child === i && !home(l.parent)) || (l.parent === i && !home(l.child)))
              )
                foreignRelatives += 1;
            }
            assert.deepEqual(stored, expected, `person ${i} as of ${world.asOf}`);
          }
          await assertNoOverlaps(database, 'home');
          // The neighbour's turn: its persons now follow the rules too, and the home county's stay.
          await evaluateRegion(database.db, { regionCode: FOREIGN, asOf: world.asOf, batchSize: 8 });
          for (const i of world.persons.keys())
            assert.deepEqual(
              await storedOn(database, ids[i] as number, world.asOf),
              expectedOn(world, ids, i, world.asOf),
              `person ${i} after both counties`,
            );
          const again = await evaluateRegion(database.db, { regionCode: '', asOf: world.asOf, batchSize: 9 });
          assert.deepEqual([again.entered, again.left, again.updated], [0, 0, 0]);
          await countsAgree(database, 'both counties', [world.asOf, addDays(world.asOf, -365)]);
        },
      ),
      { numRuns: runs(50), seed: Number(process.env.GROUPS_PROPERTY_SEED ?? 20261130) },
    );
    assert.ok(members >= 20, `only ${members} members`);
    assert.ok(foreignRelatives >= 3, `only ${foreignRelatives} members with a relative in the other county`);
  });

  test('evaluations of several dates in any order (a past date after a later one): each date as the rules say, no overlapping periods', async () => {
    let changes = 0;
    await fc.assert(
      fc.asyncProperty(
        // Up to today: an evaluation of a past date follows what it finds up to today. Everyone rural and
        // at home: hukou and residence have no history, and the days before an evaluation are judged as if
        // the person lived in a rural village (membershipEndedOn), which a later date's rules need not say.
        worldArb({ ...inTheVillage, asOf: pastDay, maxPersons: 12, badData: false }),
        fc.array(fc.integer({ min: -1500, max: 400 }), { minLength: 2, maxLength: 4 }),
        fc.integer({ min: 1, max: 9 }),
        async (world, offsets, batchSize) => {
          await clear(database);
          const ids = await writeWorld(database, world);
          const dates = offsets.map((o) => minDate(addDays(world.asOf, o), today()) as IsoDate);
          for (const [n, on] of dates.entries()) {
            const counts = await evaluateRegion(database.db, { regionCode: HOME, asOf: on, batchSize });
            changes += counts.entered + counts.left + counts.updated;
            for (const i of world.persons.keys())
              assert.deepEqual(
                await storedOn(database, ids[i] as number, on),
                expectedOn(world, ids, i, on),
                `person ${i}, evaluation ${n + 1} of ${dates.join(', ')}`,
              );
            await assertNoOverlaps(database, `after ${dates.slice(0, n + 1).join(', ')}`);
          }
          // What an evaluation found stays true of its date after the others (the facts did not change).
          const since = (rows: Stored[]) => rows.map((r) => `${r.group_code} ${r.since}`);
          for (const on of dates)
            for (const i of world.persons.keys())
              assert.deepEqual(
                since(await storedOn(database, ids[i] as number, on)),
                since(expectedOn(world, ids, i, on)),
                `person ${i} on ${on} after ${dates.join(', ')}`,
              );
          const last = dates[dates.length - 1] as IsoDate;
          const again = await evaluateRegion(database.db, { regionCode: HOME, asOf: last, batchSize: 4 });
          assert.deepEqual([again.entered, again.left, again.updated], [0, 0, 0], 'evaluated twice');
          await countsAgree(database, 'dates', [...new Set([...dates, addDays(last, 1)])]);
        },
      ),
      { numRuns: runs(40), seed: Number(process.env.GROUPS_PROPERTY_SEED ?? 20261201) },
    );
    assert.ok(changes >= 40, `only ${changes} changes`);
  });

  test('facts retracted and restored between evaluations of dates in any order: each evaluated date as the rules say, no overlapping periods, counts as the periods', async () => {
    let changes = 0;
    await fc.assert(
      fc.asyncProperty(
        worldArb({ ...inTheVillage, asOf: pastDay, maxPersons: 10, badData: true }),
        fc.array(
          fc.record({
            offset: fc.integer({ min: -1500, max: 400 }),
            toggle: fc.array(fc.nat(), { maxLength: 3 }),
          }),
          {
            minLength: 2,
            maxLength: 5,
          },
        ),
        fc.integer({ min: 1, max: 9 }),
        async (world, steps, batchSize) => {
          await clear(database);
          const ids = await writeWorld(database, world);
          const rows = (
            await sql<{ id: number }>`SELECT id FROM person_facts ORDER BY id`.execute(database.db)
          ).rows.map((r) => Number(r.id));
          // The facts in the order writeWorld wrote them: [person, fact] of each row.
          const positions = world.persons.flatMap((p, i) => p.facts.map((_, k) => [i, k] as const));
          const retracted = new Set<number>();
          const dates: IsoDate[] = [];
          for (const step of steps) {
            for (const n of step.toggle) {
              if (!rows.length) break;
              const row = n % rows.length;
              if (retracted.has(row)) retracted.delete(row);
              else retracted.add(row);
              await sql`UPDATE person_facts SET retracted_at = ${retracted.has(row) ? sql`now()` : sql`NULL`}
                WHERE id = ${rows[row] as number}`.execute(database.db);
            }
            const now: GenWorld = {
              ...world,
              persons: world.persons.map((p, i) => ({
                ...p,
                facts: p.facts.filter((_, k) => {
                  const row = positions.findIndex(([pi, fk]) => pi === i && fk === k);
                  return !retracted.has(row);
                }),
              })),
            };
            const on = minDate(addDays(world.asOf, step.offset), today()) as IsoDate;
            dates.push(on);
            const counts = await evaluateRegion(database.db, { regionCode: HOME, asOf: on, batchSize });
            changes += counts.entered + counts.left + counts.updated;
            for (const i of world.persons.keys())
              assert.deepEqual(
                await storedOn(database, ids[i] as number, on),
                expectedOn(now, ids, i, on),
                `person ${i}, step ${dates.length}: ${dates.join(', ')}`,
              );
            await assertNoOverlaps(database, `after ${dates.join(', ')}`);
          }
          await countsAgree(database, 'retractions', [...new Set([...dates, addDays(world.asOf, 1)])]);
        },
      ),
      { numRuns: runs(30), seed: Number(process.env.GROUPS_PROPERTY_SEED ?? 20261202) },
    );
    assert.ok(changes >= 30, `only ${changes} changes`);
  });
});

// ---------- Single cases ----------

const VILLAGE = '410225100200';
const OTHER_COUNTY_VILLAGE = '410221100200';

describe('evaluation at its edges, case by case', () => {
  let database: TestDatabase;
  before(async () => {
    database = await openTestDatabase();
    await seedRegions(database);
  });
  after(async () => {
    await database.close();
  });
  beforeEach(async () => {
    await clear(database);
  });

  const person = (name: string, sex: 1 | 2, birthDate: IsoDate, hukou = VILLAGE) =>
    insertPersonRow(database.db, { name, sex, birthDate, hukou });

  async function fact(
    personId: number,
    kind: string,
    from: IsoDate,
    to: IsoDate | null = null,
    data: Record<string, unknown> = {},
  ): Promise<number> {
    const row = await database.db
      .insertInto('person_facts')
      .values({
        person_id: personId,
        kind,
        valid_from: from,
        valid_to: to,
        data: JSON.stringify(data),
        recorded_by: null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return Number(row.id);
  }

  async function link(
    personId: number,
    relatedId: number,
    kind: 'parent' | 'spouse',
    from: IsoDate | null,
    to: IsoDate | null,
    subtype: ParentType | null = kind === 'parent' ? 'biological' : null,
  ): Promise<void> {
    await sql`INSERT INTO person_relations (person_id, related_person_id, kind, subtype, valid_from, valid_to)
      VALUES (${personId}, ${relatedId}, ${kind}, ${subtype}, ${from}, ${to})`.execute(database.db);
  }

  async function periods(personId: number, group?: string) {
    const rows = await sql<{ group_code: string; since: string; until: string | null }>`
      SELECT group_code, since::text AS since, until::text AS until FROM group_memberships
      WHERE person_id = ${personId} AND (${group ?? null}::text IS NULL OR group_code = ${group ?? null})
      ORDER BY group_code, since`.execute(database.db);
    return rows.rows.map((r) => [r.group_code, r.since, r.until]);
  }

  async function worklist(personId: number) {
    const rows = await sql<{ kind: string; on_date: string; text_zh: string }>`
      SELECT kind, on_date::text AS on_date, text_zh FROM worklist_items WHERE person_id = ${personId}
      ORDER BY id`.execute(database.db);
    return rows.rows;
  }

  const evaluate = (asOf: IsoDate, regionCode = HOME, batchSize?: number) =>
    evaluateRegion(database.db, { regionCode, asOf, ...(batchSize ? { batchSize } : {}) });

  /** A child of two migrant parents: left behind from 2025-03-01. */
  async function leftBehindFamily(fatherFrom = '2025-03-01') {
    const child = await person('小明', 1, '2015-06-15');
    const father = await person('张三', 1, '1985-02-01');
    const mother = await person('李梅', 2, '1987-04-01');
    await insertParentLink(database.db, child, father);
    await insertParentLink(database.db, child, mother);
    const fatherAway = await fact(father, 'migration', fatherFrom);
    await fact(mother, 'migration', '2025-03-01');
    return { child, father, mother, fatherAway };
  }

  test('a marriage that ends on the as-of date ends the left-behind woman’s period that day: not removed as if it never held', async () => {
    // The daily evaluation: the day before the end, then the day of it (days to come, so that nothing
    // after them is known yet).
    const ends = addDays(today(), 30);
    const wife = await person('李梅', 2, '1987-04-01');
    const husband = await person('张三', 1, '1985-02-01');
    await link(wife, husband, 'spouse', null, ends);
    await fact(husband, 'migration', '2024-01-01');
    await evaluate(addDays(ends, -1));
    assert.deepEqual(await periods(wife), [['left_behind_woman', '2024-07-01', null]]);
    await evaluate(ends);
    assert.deepEqual(await periods(wife), [['left_behind_woman', '2024-07-01', ends]]);
    const items = await worklist(wife);
    assert.equal(items.at(-1)?.kind, 'group_left');
    assert.equal(items.at(-1)?.on_date, ends);
    assert.match(items.at(-1)?.text_zh ?? '', /^不再属于农村留守妇女/);
  });

  test('a link recorded late as ended (a marriage that ended weeks ago) ends the period on that day', async () => {
    const wife = await person('李梅', 2, '1987-04-01');
    const husband = await person('张三', 1, '1985-02-01');
    await link(wife, husband, 'spouse', null, null);
    await fact(husband, 'migration', '2024-01-01');
    await evaluate('2026-03-01');
    await sql`UPDATE person_relations SET valid_to = '2026-04-10' WHERE person_id = ${wife}`.execute(
      database.db,
    );
    await evaluate('2026-05-02');
    assert.deepEqual(await periods(wife), [['left_behind_woman', '2024-07-01', '2026-04-10']]);
  });

  test('a marriage and an adoption that begin on the as-of date: members from that day, not from the relative’s own dates', async () => {
    const wife = await person('李梅', 2, '1987-04-01');
    const husband = await person('张三', 1, '1985-02-01');
    await link(wife, husband, 'spouse', '2026-06-01', null);
    await fact(husband, 'migration', '2020-01-01');
    // Adopted on 2026-06-01 by two parents who have been away for work for years.
    const child = await person('小明', 1, '2016-06-15');
    const father = await person('王强', 1, '1980-02-01');
    const mother = await person('赵芳', 2, '1982-04-01');
    await link(child, father, 'parent', '2026-06-01', null, 'adoptive');
    await link(child, mother, 'parent', '2026-06-01', null, 'adoptive');
    await fact(father, 'migration', '2019-01-01');
    await fact(mother, 'migration', '2019-01-01');
    await evaluate('2026-05-31');
    assert.deepEqual(await periods(wife), []);
    assert.deepEqual(await periods(child), []);
    await evaluate('2026-06-01');
    assert.deepEqual(await periods(wife), [['left_behind_woman', '2026-06-01', null]]);
    assert.deepEqual(await periods(child), [['left_behind_child', '2026-06-01', null]]);
  });

  test('an adoption ends the left-behind period that rested on the birth parents, on the adoption day', async () => {
    const { child } = await leftBehindFamily();
    const adoptive = await person('王强', 1, '1980-02-01');
    const adoptiveMother = await person('赵芳', 2, '1982-04-01');
    await evaluate('2026-01-01');
    await link(child, adoptive, 'parent', '2026-03-01', null, 'adoptive');
    await link(child, adoptiveMother, 'parent', '2026-03-01', null, 'adoptive');
    await evaluate('2026-04-01');
    assert.deepEqual(await periods(child), [['left_behind_child', '2025-03-01', '2026-03-01']]);
  });

  test('a present stretch that facts corrected backwards reaches over a closed period: one period, never two on one day', async () => {
    const { child, father, fatherAway } = await leftBehindFamily('2020-01-01');
    await sql`UPDATE person_facts SET valid_to = '2021-01-01' WHERE id = ${fatherAway}`.execute(database.db);
    await fact(father, 'migration', '2023-01-01');
    await sql`UPDATE person_facts SET valid_from = '2019-01-01' WHERE person_id <> ${father}`.execute(
      database.db,
    );
    await evaluate('2020-06-01');
    await evaluate('2022-01-01');
    await evaluate('2026-01-01');
    assert.deepEqual(await periods(child), [
      ['left_behind_child', '2020-01-01', '2021-01-01'],
      ['left_behind_child', '2023-01-01', null],
    ]);
    // The father never came home: his records are corrected to one stretch.
    await sql`UPDATE person_facts SET retracted_at = now() WHERE person_id = ${father}`.execute(database.db);
    await fact(father, 'migration', '2020-01-01');
    await evaluate('2026-02-01');
    assert.deepEqual(await periods(child), [['left_behind_child', '2020-01-01', null]]);
    await assertNoOverlaps(database, 'corrected backwards');
  });

  test('a season at home recorded late: the stretch before it stays on record, the present one starts after it', async () => {
    const { child, father, fatherAway } = await leftBehindFamily('2024-01-01');
    await sql`UPDATE person_facts SET valid_from = '2024-01-01' WHERE person_id <> ${father}`.execute(
      database.db,
    );
    await evaluate('2025-01-01');
    assert.deepEqual(await periods(child), [['left_behind_child', '2024-01-01', null]]);
    // Recorded in October: the father was home from March to June.
    await sql`UPDATE person_facts SET valid_to = '2025-03-01' WHERE id = ${fatherAway}`.execute(database.db);
    await fact(father, 'migration', '2025-06-01');
    await evaluate('2025-10-01');
    assert.deepEqual(await periods(child), [
      ['left_behind_child', '2024-01-01', '2025-03-01'],
      ['left_behind_child', '2025-06-01', null],
    ]);
  });

  test('a season at home and a return for good, both recorded late: two closed periods, the season not counted', async () => {
    const { child, father, fatherAway } = await leftBehindFamily('2024-01-01');
    await sql`UPDATE person_facts SET valid_from = '2024-01-01' WHERE person_id <> ${father}`.execute(
      database.db,
    );
    await evaluate('2025-01-01');
    await sql`UPDATE person_facts SET valid_to = '2025-03-01' WHERE id = ${fatherAway}`.execute(database.db);
    await fact(father, 'migration', '2025-06-01', '2025-09-01');
    await evaluate('2025-10-01');
    assert.deepEqual(await periods(child), [
      ['left_behind_child', '2024-01-01', '2025-03-01'],
      ['left_behind_child', '2025-06-01', '2025-09-01'],
    ]);
    const items = await worklist(child);
    assert.equal(items.at(-1)?.on_date, '2025-09-01');
  });

  test('facts corrected after a period closed: the period is judged again (removed when it never held, shortened by a death recorded late)', async () => {
    const { child, mother, fatherAway } = await leftBehindFamily();
    await evaluate('2026-01-01');
    await sql`UPDATE person_facts SET valid_to = '2026-04-01' WHERE id = ${fatherAway}`.execute(database.db);
    await evaluate('2026-05-01');
    assert.deepEqual(await periods(child), [['left_behind_child', '2025-03-01', '2026-04-01']]);
    // The mother never left: her migration is retracted as an error.
    await sql`UPDATE person_facts SET retracted_at = now() WHERE person_id = ${mother}`.execute(database.db);
    const counts = await evaluate('2026-06-01');
    assert.equal(counts.updated, 1);
    assert.deepEqual(await periods(child), []);
    assert.match((await worklist(child)).at(-1)?.text_zh ?? '', /^更正: 小明 不属于农村留守儿童/);
    // Restored, and the child's death recorded late, within the closed period.
    await sql`UPDATE person_facts SET retracted_at = NULL WHERE person_id = ${mother}`.execute(database.db);
    await evaluate('2026-01-01');
    await evaluate('2026-05-01');
    await fact(child, 'death', '2025-12-01');
    await evaluate('2026-06-01');
    assert.deepEqual(await periods(child), [['left_behind_child', '2025-03-01', '2025-12-01']]);
    const again = await evaluate('2026-06-01');
    assert.deepEqual([again.entered, again.left, again.updated], [0, 0, 0]);
  });

  test('an evaluation of a past date after a later one keeps what the later one found', async () => {
    const { child, father, fatherAway } = await leftBehindFamily('2020-01-01');
    await sql`UPDATE person_facts SET valid_to = '2021-01-01' WHERE id = ${fatherAway}`.execute(database.db);
    await fact(father, 'migration', '2023-01-01');
    await sql`UPDATE person_facts SET valid_from = '2019-01-01' WHERE person_id <> ${father}`.execute(
      database.db,
    );
    // The later date first: one open period from 2023. Then 2020: a closed period for 2020, the gap
    // of 2021-2022 still outside both.
    await evaluate('2026-01-01');
    assert.deepEqual(await periods(child), [['left_behind_child', '2023-01-01', null]]);
    await evaluate('2020-06-01');
    assert.deepEqual(await periods(child), [
      ['left_behind_child', '2020-01-01', '2021-01-01'],
      ['left_behind_child', '2023-01-01', null],
    ]);
    assert.deepEqual(await storedOn(database, child, '2022-01-01'), []);
    // Again the other way: the later evaluation closed the period; a past one does not reopen it.
    await evaluate('2026-01-01');
    await sql`DELETE FROM group_memberships WHERE since = '2023-01-01'`.execute(database.db);
    await sql`UPDATE person_facts SET retracted_at = now() WHERE person_id = ${father} AND valid_from = '2023-01-01'`.execute(
      database.db,
    );
    await evaluate('2026-01-01');
    await evaluate('2020-06-01');
    assert.deepEqual(await periods(child), [['left_behind_child', '2020-01-01', '2021-01-01']]);
    await assertNoOverlaps(database, 'past after later');
  });

  test('an evaluation of a past date records a membership that has ended since with its end, and tells nobody it began', async () => {
    const { child, fatherAway } = await leftBehindFamily();
    await sql`UPDATE person_facts SET valid_to = '2025-09-01' WHERE id = ${fatherAway}`.execute(database.db);
    const counts = await evaluate('2025-06-01');
    assert.equal(counts.entered, 1);
    assert.deepEqual(await periods(child), [['left_behind_child', '2025-03-01', '2025-09-01']]);
    assert.deepEqual(await worklist(child), []);
    const again = await evaluate('2025-06-01');
    assert.deepEqual([again.entered, again.left, again.updated], [0, 0, 0]);
  });

  test('a narrower configuration that moves a present stretch later keeps the days it held under the previous one', async () => {
    const { child } = await leftBehindFamily();
    await evaluate('2026-01-01');
    // From 2026-03-01 the county counts a parent as migrant only after 24 months away: the child is left
    // behind again from 2027-03-01. Evaluated only then, the months of 2025 stay on record.
    await sql`INSERT INTO group_config (region_code, valid_from, valid_to, config, version, changed_by)
      VALUES ('410225', '2026-03-01', NULL, ${JSON.stringify({ leftBehindChildMinMigrationMonths: 24 })}::jsonb, 1, NULL)`.execute(
      database.db,
    );
    await evaluate('2027-04-01');
    assert.deepEqual(await periods(child), [
      ['left_behind_child', '2025-03-01', '2026-03-01'],
      ['left_behind_child', '2027-03-01', null],
    ]);
    const again = await evaluate('2027-04-01');
    assert.deepEqual([again.entered, again.left, again.updated], [0, 0, 0]);
  });

  test('a person who lost the data the rules need on the day their period began: the period is removed, not left open', async () => {
    const elder = await person('孙大爷', 1, '1946-11-29');
    await evaluate('2026-11-29');
    assert.deepEqual(await periods(elder), [['high_age_elderly', '2026-11-29', null]]);
    await sql`UPDATE persons SET birth_date = NULL WHERE id = ${elder}`.execute(database.db);
    await evaluate('2026-11-29');
    assert.deepEqual(await periods(elder), []);
  });

  test('an elder is left behind only from the death of the child who lived at home', async () => {
    const elder = await person('孙大爷', 1, '1950-03-01');
    const away = await person('孙一', 1, '1975-05-01');
    const home = await person('孙二', 2, '1978-08-01');
    await insertParentLink(database.db, away, elder);
    await insertParentLink(database.db, home, elder);
    await fact(away, 'migration', '2015-01-01');
    await evaluate('2024-01-01');
    assert.deepEqual(await periods(elder, 'left_behind_elderly'), []);
    await fact(home, 'death', '2024-05-01');
    await evaluate('2026-01-01');
    assert.deepEqual(await periods(elder, 'left_behind_elderly'), [
      ['left_behind_elderly', '2024-05-01', null],
    ]);
  });

  test('a declaration of death revoked: no group on the days it stood, for the person nor through them', async () => {
    const elder = await person('孙大爷', 1, '1940-03-01');
    const mother = await person('孙奶奶', 2, '1920-03-01');
    const son = await person('孙一', 1, '1975-05-01');
    await insertParentLink(database.db, son, elder);
    await insertParentLink(database.db, elder, mother);
    await fact(son, 'migration', '2015-01-01');
    await fact(son, 'declared_dead', '2020-09-19', '2023-08-21');
    await fact(elder, 'declared_dead', '2021-01-01', '2022-01-01');
    await evaluate('2026-01-01');
    const since = (rows: Stored[]) => rows.map((r) => [r.group_code, r.since]);
    // 80 on 2020-03-01; declared dead through 2021; his son declared dead until 2023-08-21. While his only
    // son stood declared dead the elder was a family-planning special family (session 14), and the ground
    // went on as left behind from the son's revocation: special difficulty from his own revocation.
    assert.deepEqual(since(await storedOn(database, elder, '2026-01-01')), [
      ['high_age_elderly', '2022-01-01'],
      ['left_behind_elderly', '2023-08-21'],
      ['special_difficulty_elderly', '2022-01-01'],
    ]);
    assert.deepEqual(await storedOn(database, elder, '2021-06-01'), []);
  });
  test('DOMAIN.md section 2 on the day and the day before, through the database: birthdays (29 February too), six months, the police report', async () => {
    /** Evaluates the day before and the day, as the daily job does, and says whether `code` held on each. */
    const heldAround = async (personId: number, code: string, on: IsoDate) => {
      const held: boolean[] = [];
      for (const d of [addDays(on, -1), on]) {
        await evaluate(d);
        held.push((await storedOn(database, personId, d)).some((m) => m.group_code === code));
      }
      return held;
    };
    const parents = async (
      child: number,
      fatherFacts: [string, IsoDate, Record<string, unknown>?][],
      motherFacts: [string, IsoDate, Record<string, unknown>?][],
    ) => {
      const father = await person('张三', 1, '1980-02-01');
      const mother = await person('李梅', 2, '1982-04-01');
      await insertParentLink(database.db, child, father);
      await insertParentLink(database.db, child, mother);
      for (const [kind, from, data] of fatherFacts) await fact(father, kind, from, null, data);
      for (const [kind, from, data] of motherFacts) await fact(mother, kind, from, null, data);
    };

    // Left behind until the 16th birthday.
    const sixteen = await person('小明', 1, '2010-12-10');
    await parents(sixteen, [['migration', '2020-01-01']], [['migration', '2020-01-01']]);
    assert.deepEqual(await heldAround(sixteen, 'left_behind_child', '2026-12-10'), [true, false]);
    assert.deepEqual(await periods(sixteen, 'left_behind_child'), [
      ['left_behind_child', '2020-01-01', '2026-12-10'],
    ]);

    // An orphan born on 29 February is of age on 28 February of a common year.
    await clear(database);
    const leap = await person('小红', 2, '2008-02-29');
    await parents(leap, [['death', '2015-01-01']], [['death', '2016-01-01']]);
    assert.deepEqual(await heldAround(leap, 'orphan', '2026-02-28'), [true, false]);
    assert.deepEqual(await periods(leap, 'orphan'), [['orphan', '2016-01-01', '2026-02-28']]);

    // Left-behind elderly from the 60th birthday, the only child away for years.
    await clear(database);
    const sixty = await person('孙大爷', 1, '1966-06-15');
    const son = await person('孙一', 1, '1990-05-01');
    await insertParentLink(database.db, son, sixty);
    await fact(son, 'migration', '2020-01-01');
    assert.deepEqual(await heldAround(sixty, 'left_behind_elderly', '2026-06-15'), [false, true]);
    assert.deepEqual(await periods(sixty, 'left_behind_elderly'), [
      ['left_behind_elderly', '2026-06-15', null],
    ]);

    // High age from the 80th birthday, on 29 February.
    await clear(database);
    const eighty = await person('孙奶奶', 2, '1944-02-29');
    assert.deepEqual(await heldAround(eighty, 'high_age_elderly', '2024-02-29'), [false, true]);
    assert.deepEqual(await periods(eighty, 'high_age_elderly'), [['high_age_elderly', '2024-02-29', null]]);

    // A husband away since 31 August has been away six months on 28 February (not a day before).
    await clear(database);
    const wife = await person('李梅', 2, '1987-04-01');
    const husband = await person('张三', 1, '1985-02-01');
    await insertRelation(database.db, wife, husband, 'spouse', null);
    await fact(husband, 'migration', '2025-08-31');
    assert.deepEqual(await heldAround(wife, 'left_behind_woman', '2026-02-28'), [false, true]);

    // Lost contact counts six months from the police report, not from the day contact was lost.
    await clear(database);
    const unsupported = await person('小刚', 1, '2014-05-01');
    await parents(
      unsupported,
      [['death', '2020-01-01']],
      [['lost_contact', '2025-01-01', { policeReportDate: '2025-03-15' }]],
    );
    assert.deepEqual(await heldAround(unsupported, 'de_facto_unsupported_child', '2025-09-15'), [
      false,
      true,
    ]);
    assert.deepEqual(await periods(unsupported), [['de_facto_unsupported_child', '2025-09-15', null]]);
  });

  test('a parent’s death recorded weeks late: left behind until the death date, de facto unsupported from it', async () => {
    const child = await person('小明', 1, '2015-06-15');
    const father = await person('张三', 1, '1985-02-01');
    const mother = await person('李梅', 2, '1987-04-01');
    await insertParentLink(database.db, child, father);
    await insertParentLink(database.db, child, mother);
    await fact(father, 'migration', '2025-03-01');
    await fact(mother, 'serious_illness', '2024-01-01');
    await evaluate('2026-02-09');
    assert.deepEqual(await periods(child), [['left_behind_child', '2025-03-01', null]]);
    await fact(father, 'death', '2026-02-10');
    await evaluate('2026-03-05');
    assert.deepEqual(await periods(child), [
      ['de_facto_unsupported_child', '2026-02-10', null],
      ['left_behind_child', '2025-03-01', '2026-02-10'],
    ]);
  });

  test('a child whose parents live in another county, far away in id order, evaluated one by one and in dense batches; schooling alone makes nobody a member', async () => {
    const child = await person('小明', 1, '2015-06-15');
    const schoolboy = await person('小华', 1, '2014-03-01');
    await fact(schoolboy, 'schooling', '2020-09-01', null, { stage: 'primary' });
    // Households of the two counties imported in turns (a batch's id range covers the neighbour's
    // persons too), and the parents much later.
    const filler: number[] = [];
    for (let i = 0; i < 12; i++) {
      filler.push(await person(`邻${i}`, 1, '1990-01-01', OTHER_COUNTY_VILLAGE));
      await person(`本${i}`, 2, '1995-01-01');
    }
    for (let i = 0; i < 20; i++) filler.push(await person(`邻${i}`, 2, '1991-01-01', OTHER_COUNTY_VILLAGE));
    const father = await person('张三', 1, '1985-02-01', OTHER_COUNTY_VILLAGE);
    const mother = await person('李梅', 2, '1987-04-01', OTHER_COUNTY_VILLAGE);
    await insertParentLink(database.db, child, father);
    await insertParentLink(database.db, child, mother);
    // The mother's only fact is in the batch's relatives, outside the batch and outside its id range.
    await fact(father, 'migration', '2024-03-01');
    await fact(mother, 'migration', '2024-06-01');
    await fact(mother, 'schooling', '2000-09-01', null, { stage: 'senior' });
    for (const batchSize of [1, 8, 2000]) {
      await sql`DELETE FROM worklist_items`.execute(database.db);
      await sql`DELETE FROM group_memberships`.execute(database.db);
      await evaluate('2026-11-29', HOME, batchSize);
      assert.deepEqual(
        await periods(child),
        [['left_behind_child', '2024-06-01', null]],
        `batch ${batchSize}`,
      );
      assert.deepEqual(await periods(schoolboy), [], `batch ${batchSize}`);
      for (const id of [father, mother, ...filler])
        assert.deepEqual(await periods(id), [], `batch ${batchSize}`);
    }
  });
});

// ---------- Evaluations that meet ----------

describe('evaluations that run at the same time', () => {
  let database: TestDatabase;
  before(async () => {
    database = await openTestDatabase();
    await seedRegions(database);
  });
  after(async () => {
    await database.close();
  });
  beforeEach(async () => {
    await clear(database);
  });

  const AS_OF: IsoDate = '2026-11-29';

  /** Elders who turn 80 on the as-of date, in both villages: each enters high-age that day. */
  async function elders(n: number): Promise<number[]> {
    const ids: number[] = [];
    for (let i = 0; i < n; i++)
      ids.push(
        await insertPersonRow(database.db, {
          name: `老人${i}`,
          sex: 1,
          birthDate: '1946-11-29',
          hukou: i % 2 ? '410225100201' : '410225100200',
        }),
      );
    return ids;
  }

  async function openPeriodsPerPerson(): Promise<number[]> {
    const rows = await sql<{ n: number }>`SELECT count(*)::int AS n FROM group_memberships
      WHERE until IS NULL GROUP BY person_id, group_code ORDER BY 1 DESC`.execute(database.db);
    return [...new Set(rows.rows.map((r) => r.n))];
  }

  test('the same region evaluated twice at once, and one of its villages: all finish, one period and one worklist item per entry', async () => {
    const ids = await elders(120);
    const results = await Promise.allSettled([
      evaluateRegion(database.db, { regionCode: HOME, asOf: AS_OF, batchSize: 10 }),
      evaluateRegion(database.db, { regionCode: HOME, asOf: AS_OF, batchSize: 7 }),
      evaluateRegion(database.db, { regionCode: '410225100200', asOf: AS_OF, batchSize: 5 }),
    ]);
    assert.deepEqual(
      results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok')),
      ['ok', 'ok', 'ok'],
    );
    const entered = results.reduce((sum, r) => sum + (r.status === 'fulfilled' ? r.value.entered : 0), 0);
    assert.equal(entered, ids.length);
    assert.deepEqual(await openPeriodsPerPerson(), [1]);
    const items = await sql<{ n: number }>`SELECT count(*)::int AS n FROM worklist_items`.execute(
      database.db,
    );
    assert.equal(items.rows[0]?.n, ids.length);
    await countsAgree(database, 'concurrent', [AS_OF]);
  });

  test('a registry change re-evaluated while a region evaluation writes the same person, and the other way round: neither fails', async () => {
    const [first, second] = await elders(2);
    const pause = () => new Promise((resolve) => setTimeout(resolve, 300));
    const recordAlone = async (trx: Transaction<DB>, id: number) => {
      await trx
        .insertInto('person_facts')
        .values({
          person_id: id,
          kind: 'living_arrangement',
          valid_from: '2020-01-01',
          valid_to: null,
          data: JSON.stringify({ value: 'alone' }),
          recorded_by: null,
        })
        .execute();
      return evaluatePerson(trx, id, AS_OF);
    };

    // A registry change has written the first elder's periods and not yet committed when the region's
    // evaluation reads them.
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    let written: () => void = () => undefined;
    const wrote = new Promise<void>((resolve) => (written = resolve));
    const change = database.db.transaction().execute(async (trx) => {
      await recordAlone(trx, first as number);
      written();
      await released;
    });
    await wrote;
    const region = evaluateRegion(database.db, { regionCode: HOME, asOf: AS_OF, batchSize: 1 });
    await pause();
    release();
    const results = await Promise.allSettled([change, region]);

    // An evaluation's batch has written the second elder's period and not yet committed when a registry
    // change re-evaluates them (the user's request must not fail for it).
    await sql`DELETE FROM worklist_items`.execute(database.db);
    await sql`DELETE FROM group_memberships WHERE person_id = ${second as number}`.execute(database.db);
    let releaseBatch: () => void = () => undefined;
    const batchReleased = new Promise<void>((resolve) => (releaseBatch = resolve));
    let batchWrote: () => void = () => undefined;
    const batchWritten = new Promise<void>((resolve) => (batchWrote = resolve));
    const batch = database.db.transaction().execute(async (trx) => {
      await lockMembershipWrites(trx);
      await sql`INSERT INTO group_memberships (person_id, group_code, since, reasons, region_code)
        VALUES (${second as number}, 'high_age_elderly', '2026-11-29', '{"zh":[],"en":[]}', '410225100201')`.execute(
        trx,
      );
      batchWrote();
      await batchReleased;
    });
    await batchWritten;
    const secondChange = database.db.transaction().execute((trx) => recordAlone(trx, second as number));
    await pause();
    releaseBatch();
    results.push(...(await Promise.allSettled([batch, secondChange])));

    assert.deepEqual(
      results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok')),
      ['ok', 'ok', 'ok', 'ok'],
    );
    assert.deepEqual(await openPeriodsPerPerson(), [1]);
    for (const id of [first, second])
      assert.deepEqual(
        (
          await sql<{
            group_code: string;
          }>`SELECT group_code FROM group_memberships WHERE person_id = ${id as number}
            AND until IS NULL ORDER BY group_code`.execute(database.db)
        ).rows.map((r) => r.group_code),
        ['high_age_elderly', 'special_difficulty_elderly'],
      );
    await assertNoOverlaps(database, 'registry changes');
  });

  test('a merge while a batch is writing the same persons’ periods waits its turn instead of deadlocking', async () => {
    const [kept, duplicate] = await elders(2);
    await evaluateRegion(database.db, { regionCode: HOME, asOf: AS_OF });
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    let locked: () => void = () => undefined;
    const holding = new Promise<void>((resolve) => (locked = resolve));
    // A batch of an evaluation: it holds the writers' lock, then writes the duplicate's period.
    const batch = database.db.transaction().execute(async (trx) => {
      await lockMembershipWrites(trx);
      locked();
      await released;
      await sql`UPDATE group_memberships SET reasons = reasons WHERE person_id = ${duplicate as number}`.execute(
        trx,
      );
    });
    await holding;
    const merge =
      testEngine() === 'postgres'
        ? database.db.transaction().execute(async (trx) => {
            await sql`UPDATE persons SET merged_into = ${kept as number} WHERE id = ${duplicate as number}`.execute(
              trx,
            );
            await moveMembershipsOnMerge(trx, duplicate as number, kept as number);
          })
        : null;
    // The merge has had time to take what it takes before it waits.
    await new Promise((resolve) => setTimeout(resolve, 300));
    release();
    const results = await Promise.allSettled([batch, merge ?? Promise.resolve()]);
    if (merge === null)
      // One session (PGlite): the merge simply runs after the batch.
      await database.db.transaction().execute(async (trx) => {
        await sql`UPDATE persons SET merged_into = ${kept as number} WHERE id = ${duplicate as number}`.execute(
          trx,
        );
        await moveMembershipsOnMerge(trx, duplicate as number, kept as number);
      });
    assert.deepEqual(
      results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok')),
      ['ok', 'ok'],
    );
    const duplicates = await sql<{ n: number }>`SELECT count(*)::int AS n FROM group_memberships
      WHERE person_id = ${duplicate as number} AND (until IS NULL OR until > since)`.execute(database.db);
    assert.equal(duplicates.rows[0]?.n, 0);
  });
});
