// Care groups and one's own liberty restriction (session 22 review, clerk finding 3), judged against
// DOMAIN.md section 2: 农村留守妇女 "married and living in the village", 农村留守老年人 "rural, lives in the
// village", 农村留守儿童 "rural hukou and lives in the village". A wife serving a sentence since 2024-01-10
// still counted as left behind "since 2023-11-01" on every day of her sentence, and an elder sent to prison
// stayed a left-behind and a special-difficulty elderly (sub-category left_behind): the rules read one's
// own migration and a declaration of missing as "not living in the village", but not one's own liberty
// restriction (a sentence, compulsory drug rehabilitation, another restriction). The stretch now breaks
// on the restriction's start and resumes on its recorded end (the release).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import type { IsoDate } from '../../platform/dates.ts';
import { fact, somebody } from '../../../test/support/group-subjects.ts';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { signedInClients, type Client } from '../../../test/support/access.ts';
import { insertPersonRow, insertRelation } from '../../../test/support/registry-rows.ts';
import { DEFAULT_GROUPS_CONFIG } from './groups.config.ts';
import {
  evaluateGroups,
  explainLeftBehindChild,
  formatReasons,
  leftBehindChild,
  leftBehindElderly,
  leftBehindWoman,
  specialDifficultyElderly,
  type GroupSubject,
  type ParentSnapshot,
  type PersonSnapshot,
} from './groups.rules.ts';

const config = DEFAULT_GROUPS_CONFIG;

const migrated = (from: IsoDate, to: IsoDate | null = null) =>
  fact('migration', from, to, { destination: '广东省东莞市' });
const restricted = (
  type: 'sentence' | 'drug_rehabilitation' | 'other',
  from: IsoDate,
  to: IsoDate | null = null,
) => fact('liberty_restriction', from, to, { type });

const parent = (person: PersonSnapshot): ParentSnapshot => ({ ...person, parentType: 'biological' });

// ---------- Pure rules ----------

describe('a left-behind woman deprived of liberty', () => {
  /** 孙丽 (CLK-002): husband 赵铁柱 migrant since 2023-05-01; her own facts as given. */
  const sunLi = (...own: ReturnType<typeof fact>[]): GroupSubject => ({
    person: somebody('孙丽', 2, '1990-02-02', own),
    parents: [],
    spouse: somebody('赵铁柱', 1, '1988-03-03', [migrated('2023-05-01')]),
    children: [],
  });

  test('a sentence breaks the stretch on its first day and it resumes on the release', () => {
    const subject = sunLi(restricted('sentence', '2024-01-10', '2026-06-01'));
    assert.equal(leftBehindWoman(subject, '2024-01-09', config)?.since, '2023-11-01');
    for (const day of ['2024-01-10', '2025-06-01', '2026-05-31'] as const)
      assert.equal(leftBehindWoman(subject, day, config), null, day);
    const back = leftBehindWoman(subject, '2026-06-01', config);
    assert.equal(back?.since, '2026-06-01');
    assert.match(formatReasons(back!, 'zh'), /本人服刑在押于2026-06-01结束/);
    assert.match(
      formatReasons(back!, 'en'),
      /own liberty restriction \(serving a sentence\) ended on 2026-06-01/,
    );
    assert.match(formatReasons(back!, 'zh'), /丈夫赵铁柱外出务工自2023-05-01/);
  });

  test('an open restriction of any type: not a member while it lasts', () => {
    for (const type of ['sentence', 'drug_rehabilitation', 'other'] as const)
      assert.equal(leftBehindWoman(sunLi(restricted(type, '2024-01-10')), '2026-12-02', config), null, type);
  });

  test('compulsory drug rehabilitation ended: the reason names it in both languages', () => {
    const back = leftBehindWoman(
      sunLi(restricted('drug_rehabilitation', '2024-01-10', '2026-01-10')),
      '2026-12-02',
      config,
    );
    assert.equal(back?.since, '2026-01-10');
    assert.match(formatReasons(back!, 'zh'), /本人强制隔离戒毒于2026-01-10结束/);
    assert.match(formatReasons(back!, 'en'), /in compulsory drug rehabilitation\) ended on 2026-01-10/);
  });

  test('a restriction that ended before the husband left does not move the start', () => {
    const back = leftBehindWoman(
      sunLi(restricted('other', '2020-01-01', '2020-06-01')),
      '2026-12-02',
      config,
    );
    assert.equal(back?.since, '2023-11-01');
  });
});

describe('a left-behind elder deprived of liberty', () => {
  /** 刘老汉1: son migrant since 2024-01-01 (left behind from 2024-07-01); own facts as given. */
  const liu = (...own: ReturnType<typeof fact>[]): GroupSubject => ({
    person: somebody('刘老汉1', 1, '1950-01-01', own),
    parents: [],
    spouse: null,
    children: [somebody('刘大', 1, '1975-01-01', [migrated('2024-01-01')])],
  });

  test('serving a sentence: neither left-behind nor special-difficulty (left_behind) elderly', () => {
    const subject = liu(restricted('sentence', '2025-09-01'));
    assert.equal(leftBehindElderly(subject, '2025-08-31', config)?.since, '2024-07-01');
    assert.equal(specialDifficultyElderly(subject, '2025-08-31', config)?.subCategory, 'left_behind');
    assert.equal(leftBehindElderly(subject, '2025-09-01', config), null);
    assert.equal(specialDifficultyElderly(subject, '2025-09-01', config), null);
    const codes = evaluateGroups(subject, '2026-12-02', config).map((m) => m.code);
    assert.ok(!codes.includes('left_behind_elderly') && !codes.includes('special_difficulty_elderly'));
  });

  test('released: both groups again from the release, the ground quoting it', () => {
    const subject = liu(restricted('sentence', '2025-09-01', '2026-03-01'));
    assert.equal(leftBehindElderly(subject, '2026-02-28', config), null);
    assert.equal(leftBehindElderly(subject, '2026-03-01', config)?.since, '2026-03-01');
    const special = specialDifficultyElderly(subject, '2026-12-02', config);
    assert.equal(special?.since, '2026-03-01');
    assert.match(formatReasons(special!, 'zh'), /农村留守老年人\(自2026-03-01\)/);
  });

  test('groups without a residence clause are kept (high age, disabled)', () => {
    const old = { ...liu(restricted('sentence', '2025-09-01')) };
    const subject: GroupSubject = {
      ...old,
      person: { ...old.person, birthDate: '1940-01-01' },
    };
    const codes = evaluateGroups(subject, '2026-12-02', config).map((m) => m.code);
    assert.ok(codes.includes('high_age_elderly'), codes.join());
  });
});

describe('a left-behind child deprived of liberty', () => {
  /** Both parents migrant since 2023-01-01; the child's own facts as given. */
  const child = (...own: ReturnType<typeof fact>[]): GroupSubject => ({
    person: somebody('小明', 1, '2010-06-01', own),
    parents: [
      parent(somebody('明父', 1, '1985-01-01', [migrated('2023-01-01')])),
      parent(somebody('明母', 2, '1986-01-01', [migrated('2023-01-01')])),
    ],
    spouse: null,
    children: [],
  });

  test('in a juvenile institution: not left behind; from the release again', () => {
    const subject = child(restricted('sentence', '2025-03-01', '2025-09-01'));
    assert.equal(leftBehindChild(subject, '2025-02-28', config)?.since, '2023-01-01');
    assert.equal(leftBehindChild(subject, '2025-03-01', config), null);
    assert.equal(leftBehindChild(subject, '2025-08-31', config), null);
    const back = leftBehindChild(subject, '2025-09-01', config);
    assert.equal(back?.since, '2025-09-01');
    assert.match(formatReasons(back!, 'zh'), /本人服刑在押于2025-09-01结束/);
  });

  test('the ledger check says why the child is not left behind', () => {
    const answers = explainLeftBehindChild(child(restricted('other', '2025-03-01')), '2025-06-01', config);
    assert.equal(answers.leftBehindChild.holds, false);
    assert.equal(answers.bothParentsMigrant.holds, true);
    const zh = answers.leftBehindChild.reasons.map((r) => r.zh).join('; ');
    const en = answers.leftBehindChild.reasons.map((r) => r.en).join('; ');
    assert.match(zh, /本人被限制人身自由/);
    assert.match(en, /deprived of liberty/);
  });
});

// ---------- Through the API ----------

const VILLAGE = '410225001214'; // 老韩陵村
let t: TestApp;
const clients: Record<string, Client> = {};

before(async () => {
  t = await createTestApp();
  Object.assign(clients, await signedInClients(t, { county: ['county22', 'county_staff', '410225'] }));
});

after(async () => {
  await t.close();
});

describe('a wife sentenced through the API', () => {
  test('the person file shows two periods and the member list of a day in prison leaves her out', async () => {
    const wife = await insertPersonRow(t.ctx.db, {
      name: '孙丽',
      sex: 2,
      birthDate: '1990-02-02',
      hukou: VILLAGE,
    });
    const husband = await insertPersonRow(t.ctx.db, {
      name: '赵铁柱',
      sex: 1,
      birthDate: '1988-03-03',
      hukou: VILLAGE,
    });
    await insertRelation(t.ctx.db, wife, husband, 'spouse', null);
    const post = async (id: number, payload: object) => {
      const response = await t.app.inject({
        method: 'POST',
        url: `/api/v1/persons/${id}/facts`,
        headers: clients.county?.write,
        payload,
      });
      assert.equal(response.statusCode, 201, response.body);
    };
    await post(husband, { kind: 'migration', from: '2023-05-01', data: { destination: '广东省东莞市' } });
    await post(wife, {
      kind: 'liberty_restriction',
      from: '2024-01-10',
      to: '2026-06-01',
      data: { type: 'sentence', expectedEnd: '2027-01-09' },
    });

    const file = await t.app.inject({
      method: 'GET',
      url: `/api/v1/persons/${wife}`,
      headers: clients.county?.headers,
    });
    assert.equal(file.statusCode, 200, file.body);
    const periods = (
      file.json() as { groups: { code: string; since: string; until: string | null; reasons: string[] }[] }
    ).groups
      .filter((g) => g.code === 'left_behind_woman')
      .map((g) => [g.since, g.until])
      .sort();
    assert.deepEqual(periods, [
      ['2023-11-01', '2024-01-10'],
      ['2026-06-01', null],
    ]);

    const members = async (asOf: IsoDate) => {
      const response = await t.app.inject({
        method: 'GET',
        url: `/api/v1/stats/groups/members?region=${VILLAGE}&group=left_behind_woman&asOf=${asOf}`,
        headers: clients.county?.headers,
      });
      assert.equal(response.statusCode, 200, response.body);
      return (response.json() as { items: { personId: number }[] }).items.map((item) => item.personId);
    };
    assert.ok((await members('2023-12-01')).includes(wife));
    assert.ok(!(await members('2025-06-01')).includes(wife));
    assert.ok((await members('2026-07-01')).includes(wife));
  });
});
