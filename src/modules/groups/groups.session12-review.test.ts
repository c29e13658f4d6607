// Policy edge cases of the group rules (session 12), judged against DOMAIN.md sections 1 and 2: the
// relatives the batch hands to the rules when the registry holds more than one of a kind.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import {
  insertFactRow,
  insertPersonRow,
  insertRelation,
  registryDatabaseFor,
} from '../../../test/support/registry-rows.ts';
import type { IsoDate } from '../../platform/dates.ts';
import { DEFAULT_GROUPS_CONFIG } from './groups.config.ts';
import { buildSubjects, evaluateRegion } from './groups.evaluate.ts';
import { evaluateGroups, leftBehindWoman, membershipEndedOn } from './groups.rules.ts';
import type { FactRecord, PersonRecord, RelationRecord } from './groups.repository.ts';

const AS_OF = '2026-11-29';
const config = DEFAULT_GROUPS_CONFIG;
const VILLAGE = '410225100201';

// A widow who remarried. The registry keeps a marriage link open at a death (docs/DECISIONS.md, "One
// answer per fact kind and date; death"), though a death ends the marriage (and so does a declaration
// of death, Civil Code art. 51), so the registry holds two open spouse links, the first to a husband who
// died. DOMAIN.md section 2, 农村留守妇女: "married and living in the village; husband migrant for 6
// months or more": her husband is the living one. The batch used to hand the rules the spouse with the
// lowest id, so whether she was a left-behind woman depended on which husband was registered first.
describe('a widow who remarried: her husband is the living one, whatever the ids', () => {
  const row = (id: number, name: string, sex: 1 | 2, birth: IsoDate): PersonRecord => ({
    id,
    name,
    sex,
    birth_date: birth,
    hukou_region_code: VILLAGE,
    residence_region_code: null,
    merged_into: null,
    rural: true,
  });
  const married = (a: number, b: number): RelationRecord => ({
    person_id: a,
    related_person_id: b,
    kind: 'spouse',
    subtype: null,
    child_has_adoptive: false,
    married_adopters: [],
  });
  const fact = (personId: number, kind: string, from: IsoDate): FactRecord =>
    ({ person_id: personId, kind, valid_from: from, valid_to: null, data: {} }) as FactRecord;
  const persons = new Map([
    [1, row(1, '王秀兰', 2, '1980-03-01')],
    [2, row(2, '李大', 1, '1978-01-01')],
    [3, row(3, '张二', 1, '1979-05-01')],
  ]);

  for (const [first, second] of [
    [2, 3],
    [3, 2],
  ] as const)
    test(`first husband #${first} died, second #${second} away 6 months: a left-behind woman, the second named`, () => {
      const facts = [fact(first, 'death', '2015-04-01'), fact(second, 'migration', '2025-01-10')];
      const woman = buildSubjects([1], persons, [married(1, 2), married(1, 3)], facts).get(1);
      assert.ok(woman);
      assert.equal(woman.spouse?.id, String(second));
      assert.deepEqual(
        evaluateGroups(woman, AS_OF, config).map((m) => [m.code, m.since, m.reasons.map((r) => r.zh)]),
        [
          [
            'left_behind_woman',
            '2025-07-10',
            [`丈夫${persons.get(second)?.name}外出务工自2025-01-10(已满6个月)`],
          ],
        ],
      );
    });

  test('both husbands dead: the one who died last is named in the history (her period ends at his death)', () => {
    const facts = [
      fact(2, 'death', '2015-04-01'),
      fact(3, 'migration', '2024-01-10'),
      fact(3, 'death', '2026-05-01'),
    ];
    const woman = buildSubjects([1], persons, [married(1, 2), married(1, 3)], facts).get(1);
    assert.ok(woman);
    assert.equal(woman.spouse?.id, '3');
    assert.equal(leftBehindWoman(woman, '2026-04-30', config)?.since, '2024-07-10');
    assert.equal(membershipEndedOn(woman, 'left_behind_woman', '2024-07-10', AS_OF, config), '2026-05-01');
  });

  test('a declaration of death since revoked does not end the marriage: the husband declared dead and back counts', () => {
    const facts = [
      fact(2, 'death', '2015-04-01'),
      { ...fact(3, 'declared_dead', '2020-01-01'), valid_to: '2022-01-01' },
      fact(3, 'migration', '2024-01-10'),
    ];
    const woman = buildSubjects([1], persons, [married(1, 2), married(1, 3)], facts).get(1);
    assert.equal(woman?.spouse?.id, '3');
  });

  describe('end to end: stored as the rules answer', () => {
    const database = registryDatabaseFor(VILLAGE);
    const person = (name: string, sex: 1 | 2, birthDate: IsoDate) =>
      insertPersonRow(database.db, { name, sex, birthDate, hukou: VILLAGE });
    const periodsOf = async (personId: number) =>
      (
        await sql<{ group_code: string; since: string; until: string | null; reasons: { zh: string[] } }>`
          SELECT group_code, since::text AS since, until::text AS until, reasons FROM group_memberships
          WHERE person_id = ${personId} ORDER BY group_code, since`.execute(database.db)
      ).rows.map((r) => [r.group_code, r.since, r.until, r.reasons.zh.join('; ')]);

    test('the first husband registered first and dead, the second away: she is a left-behind woman', async () => {
      const first = await person('李大', 1, '1978-01-01');
      const wife = await person('王秀兰', 2, '1980-03-01');
      const second = await person('张二', 1, '1979-05-01');
      await insertRelation(database.db, wife, first, 'spouse', null);
      await insertRelation(database.db, wife, second, 'spouse', null);
      await insertFactRow(database.db, first, { kind: 'death', from: '2015-04-01' });
      await insertFactRow(database.db, second, { kind: 'migration', from: '2025-01-10' });
      await evaluateRegion(database.db, { regionCode: '410225', asOf: AS_OF, worklist: false });
      assert.deepEqual(await periodsOf(wife), [
        ['left_behind_woman', '2025-07-10', null, '丈夫张二外出务工自2025-01-10(已满6个月)'],
      ]);
    });
  });
});
