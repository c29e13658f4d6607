import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { FACT_KINDS, FACT_LABELS, factsAsOf, factsOfKind, heldSince } from './registry.facts.ts';
import type { Fact } from './registry.facts.ts';

const migrated = (from: string, to: string | null = null): Fact => ({
  kind: 'migration',
  from,
  to,
  data: {},
});
const ill = (from: string, to: string | null = null): Fact => ({
  kind: 'serious_illness',
  from,
  to,
  data: {},
});

describe('factsAsOf', () => {
  const facts = [migrated('2025-03-01', '2025-09-01'), ill('2026-01-01')];

  test('a fact is in force from its first day and no longer on its end day', () => {
    assert.deepEqual(factsAsOf(facts, '2025-02-28'), []);
    assert.deepEqual(factsAsOf(facts, '2025-03-01'), [facts[0]]);
    assert.deepEqual(factsAsOf(facts, '2025-08-31'), [facts[0]]);
    assert.deepEqual(factsAsOf(facts, '2025-09-01'), []);
  });

  test('an open-ended fact stays in force', () => {
    assert.deepEqual(factsAsOf(facts, '2099-12-31'), [facts[1]]);
  });
});

describe('factsOfKind', () => {
  test('keeps only the facts of one kind', () => {
    const facts = [migrated('2025-03-01'), ill('2026-01-01')];
    assert.deepEqual(
      factsOfKind(facts, 'serious_illness').map((fact) => fact.from),
      ['2026-01-01'],
    );
  });
});

describe('heldSince', () => {
  test('periods that meet are one stretch', () => {
    const facts = [migrated('2024-01-01', '2025-01-01'), migrated('2025-01-01')];
    assert.equal(heldSince(facts, '2026-11-29'), '2024-01-01');
  });

  test('overlapping periods are one stretch, whatever their order', () => {
    const facts = [
      migrated('2025-06-01'),
      migrated('2023-01-01', '2024-02-01'),
      migrated('2024-01-01', '2025-07-01'),
    ];
    assert.equal(heldSince(facts, '2026-11-29'), '2023-01-01');
  });

  test('a gap of one day breaks the stretch', () => {
    const facts = [migrated('2024-01-01', '2024-12-31'), migrated('2025-01-01')];
    assert.equal(heldSince(facts, '2026-11-29'), '2025-01-01');
  });

  test('nothing in force: null', () => {
    assert.equal(heldSince([migrated('2024-01-01', '2025-01-01')], '2025-01-01'), null);
    assert.equal(heldSince([], '2025-01-01'), null);
  });
});

test('every kind of fact has a Chinese and an English label', () => {
  for (const kind of FACT_KINDS) {
    assert.ok(FACT_LABELS[kind].zh.length > 0 && FACT_LABELS[kind].en.length > 0, kind);
  }
});
