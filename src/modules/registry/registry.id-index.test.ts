import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { IdNumberIndex } from './registry.id-index.ts';
import { makeIdNumber } from './registry.idnumber.ts';

describe('IdNumberIndex', () => {
  test('finds what was set, and only that, across growth', () => {
    const index = new IdNumberIndex(4);
    const ids: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      const day = String((i % 28) + 1).padStart(2, '0');
      const year = 1940 + (Math.floor(i / 28) % 80);
      ids.push(makeIdNumber(i % 2 ? '410225' : '110105', `${year}-03-${day}`, Math.floor(i / 2240) + 1));
    }
    assert.equal(new Set(ids).size, ids.length);
    ids.forEach((id, i) => index.set(id, i + 2));
    assert.equal(index.size, ids.length);
    ids.forEach((id, i) => assert.equal(index.get(id), i + 2, id));
    assert.equal(index.get(makeIdNumber('410225', '1939-01-01', 1)), undefined);
  });

  test('the check character is part of the key, and X is a check character', () => {
    const index = new IdNumberIndex();
    index.set('11010519491231002X', 7);
    assert.equal(index.get('11010519491231002X'), 7);
    assert.equal(index.get('110105194912310020'), undefined);
    index.set('110105194912310020', 9);
    assert.equal(index.get('11010519491231002X'), 7);
    assert.equal(index.get('110105194912310020'), 9);
    index.set('11010519491231002X', 11);
    assert.equal(index.get('11010519491231002X'), 11);
    assert.equal(index.size, 2);
  });

  test('refuses keys that are not 18-character ID numbers and values it cannot hold', () => {
    const index = new IdNumberIndex();
    assert.throws(() => index.set('41022519870523001', 1), RangeError);
    assert.throws(() => index.set('41022519870523001x', 1), RangeError);
    assert.throws(() => index.set('11010519491231002X', 0), RangeError);
    assert.equal(index.get('not an id'), undefined);
  });
});
