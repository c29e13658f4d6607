// The possible-duplicates list pages like every list of the API (EXCHANGE.md "Lists: ?limit=&cursor="):
// before, it took a limit and no cursor, so the groups past the limit (at most 500) could never be
// reached. Paging now gives every group once, in the order of the first page, the name's group of a
// pair before the pinyin's; a forged cursor is refused naming the field.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from './support/db.ts';
import { bearer } from './support/auth.ts';

const V1 = '410225101200'; // 堌阳镇 城内村

let t: TestApp;
let county: Record<string, string>;

before(async () => {
  t = await createTestApp();
  county = await bearer(t, 'county_staff', '410225');
});
after(async () => t.close());

async function register(name: string, birthDate: string): Promise<number> {
  const r = await t.app.inject({
    method: 'POST',
    url: '/api/v1/persons',
    headers: county,
    payload: { name, noIdReason: '未落户', sex: 1, birthDate, hukouRegionCode: V1 },
  });
  assert.equal(r.statusCode, 201, r.body);
  return r.json().id as number;
}

interface Group {
  reason: string;
  birthDate: string;
  persons: { id: number }[];
}

const keyOf = (g: Group) => `${g.reason}:${g.persons.map((p) => p.id).join(',')}`;

describe('possible duplicates, page by page', () => {
  test('every group once across pages, in the order of one page; the last page has no cursor', async () => {
    // Seven pairs by the same name and birth date; two of them also have a homophone (same pinyin),
    // which makes a pinyin group beginning with the same person as the name's group.
    for (let i = 0; i < 7; i++) {
      const day = `2020-01-${String(10 + i).padStart(2, '0')}`;
      await register('王小明', day);
      await register('王小明', day);
      if (i % 3 === 0) await register('王晓明', day);
    }
    const whole = await t.app.inject({ url: '/api/v1/persons/duplicates?limit=500', headers: county });
    assert.equal(whole.statusCode, 200, whole.body);
    const all = (whole.json().items as Group[]).map(keyOf);
    assert.equal(whole.json().nextCursor, null);
    assert.equal(all.length, 10, all.join(' | '));

    const paged: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const url: string = `/api/v1/persons/duplicates?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const r = await t.app.inject({ url, headers: county });
      assert.equal(r.statusCode, 200, r.body);
      const items = r.json().items as Group[];
      assert.ok(items.length <= 3);
      paged.push(...items.map(keyOf));
      cursor = r.json().nextCursor as string | null;
      pages++;
      assert.ok(pages < 10, 'paging ends');
    } while (cursor);
    assert.deepEqual(paged, all);
    assert.equal(pages, 4);
  });

  test('a forged cursor is a 400 naming cursor, never a 500', async () => {
    for (const cursor of ['abc', '1:3', '-1:1', '1:1;DROP', '99999999999999999999:1']) {
      const r = await t.app.inject({
        url: `/api/v1/persons/duplicates?cursor=${encodeURIComponent(cursor)}`,
        headers: { ...county, 'accept-language': 'en' },
      });
      assert.equal(r.statusCode, 400, `${cursor}: ${r.body}`);
      assert.deepEqual(
        (r.json().error.details as { path: string }[]).map((d) => d.path),
        ['cursor'],
        cursor,
      );
    }
  });
});
