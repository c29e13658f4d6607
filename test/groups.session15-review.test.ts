// Session 15 policy review of the group rules against DOMAIN.md section 2. No rule was found deciding a case
// against DOMAIN.md's wording (see docs/DECISIONS.md, "Group rules: ... (session 15)"); these tests pin the
// one kind of boundary DOMAIN.md states explicitly ("6 months minus one day") that no test held yet: the
// three 6-month durations when they start on 31 August, a month whose day has no match in February.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import type { IsoDate } from '../src/platform/dates.ts';
import type { Fact } from '../src/modules/registry/index.ts';
import { DEFAULT_GROUPS_CONFIG } from '../src/modules/groups/groups.config.ts';
import {
  deFactoUnsupportedChild,
  formatReasons,
  leftBehindElderly,
} from '../src/modules/groups/groups.rules.ts';
import type { GroupMembership, GroupSubject, ParentSnapshot } from '../src/modules/groups/groups.rules.ts';
import { fact, somebody } from './support/group-subjects.ts';

const config = DEFAULT_GROUPS_CONFIG;

const parent = (name: string, sex: 1 | 2, facts: Fact[]): ParentSnapshot => ({
  ...somebody(name, sex, sex === 1 ? '1985-02-01' : '1987-04-01', facts),
  parentType: 'biological',
});

/** A child of 2015 whose father died in 2020 and whose mother has `motherFacts`. */
function childWithDeadFather(...motherFacts: Fact[]): GroupSubject {
  return {
    person: somebody('小明', 1, '2015-06-15'),
    parents: [parent('张三', 1, [fact('death', '2020-01-01')]), parent('李梅', 2, motherFacts)],
    spouse: null,
    children: [],
  };
}

function elderWithSonAwaySince(from: IsoDate): GroupSubject {
  return {
    person: somebody('孙大爷', 1, '1950-03-03'),
    parents: [],
    spouse: null,
    children: [somebody('孙强', 1, '1978-01-01', [fact('migration', from)])],
  };
}

function member(found: GroupMembership | null): GroupMembership {
  assert.ok(found, 'expected a membership');
  return found;
}

describe('6 months from 31 August end on the last day of February (DOMAIN.md: "6 months minus one day")', () => {
  test('de facto unsupported, lost contact 6 months since the police report of 31 August: out on 27 February, in on 28 February of a common year', () => {
    const subject = childWithDeadFather(
      fact('lost_contact', '2025-08-31', null, { policeReportDate: '2025-08-31' }),
    );
    assert.equal(deFactoUnsupportedChild(subject, '2026-02-27', config), null);
    const found = member(deFactoUnsupportedChild(subject, '2026-02-28', config));
    assert.equal(found.since, '2026-02-28');
    assert.match(formatReasons(found, 'zh'), /母亲李梅失联，报警日期2025-08-31\(已满6个月\)/);
  });

  test('de facto unsupported, lost contact reported on 31 August before a leap year: out on 28 February, in on 29 February', () => {
    const subject = childWithDeadFather(
      fact('lost_contact', '2023-08-31', null, { policeReportDate: '2023-08-31' }),
    );
    assert.equal(deFactoUnsupportedChild(subject, '2024-02-28', config), null);
    assert.equal(member(deFactoUnsupportedChild(subject, '2024-02-29', config)).since, '2024-02-29');
  });

  test('de facto unsupported, a sentence from 31 August with no expected end: counted once it has lasted 6 months, on 28 February', () => {
    const subject = childWithDeadFather(
      fact('liberty_restriction', '2025-08-31', null, { type: 'sentence', expectedEnd: null }),
    );
    assert.equal(deFactoUnsupportedChild(subject, '2026-02-27', config), null);
    const found = member(deFactoUnsupportedChild(subject, '2026-02-28', config));
    assert.equal(found.since, '2026-02-28');
    assert.match(formatReasons(found, 'zh'), /母亲李梅服刑在押自2025-08-31\(已满6个月\)/);
  });

  test('left-behind elderly, the only son away since 31 August before a leap year: out on 28 February, in on 29 February', () => {
    const subject = elderWithSonAwaySince('2023-08-31');
    assert.equal(leftBehindElderly(subject, '2024-02-28', config), null);
    const found = member(leftBehindElderly(subject, '2024-02-29', config));
    assert.equal(found.since, '2024-02-29');
    assert.match(formatReasons(found, 'zh'), /儿子孙强外出务工自2023-08-31\(已满6个月\)/);
  });
});
