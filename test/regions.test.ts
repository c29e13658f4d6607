// The regions API: reading the real division, children, search, and bad input.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from './support/db.ts';
import { bearer } from './support/auth.ts';
import { loadRegions } from '../src/modules/regions/index.ts';

describe('regions API', () => {
  let t: TestApp;
  let headers: Record<string, string>;
  before(async () => {
    t = await createTestApp();
    headers = await bearer(t, 'county_staff', '410225');
  });
  after(async () => t.close());

  test('a county with its path and its townships', async () => {
    const res = await t.app.inject({ url: '/api/v1/regions/410225', headers });
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.equal(body.name, '兰考县');
    assert.equal(body.level, 'county');
    assert.deepEqual(
      body.path.map((p: { name: string }) => p.name),
      ['河南省', '开封市'],
    );
    const children = (await t.app.inject({ url: '/api/v1/regions/410225/children', headers })).json();
    assert.equal(children.items.length, body.childCount);
    assert.ok(
      children.items.every(
        (c: { level: string; code: string }) => c.level === 'township' && c.code.length === 9,
      ),
    );
  });

  test('villages carry the rural flag from digits 10-12 (200-399 = 村委会)', async () => {
    const townships = (await t.app.inject({ url: '/api/v1/regions/410225/children', headers })).json().items;
    let seenRural = false;
    for (const township of townships) {
      const villages = (
        await t.app.inject({ url: `/api/v1/regions/${township.code}/children`, headers })
      ).json().items;
      for (const v of villages) {
        const suffix = Number(v.code.slice(9));
        assert.equal(v.rural, suffix >= 200 && suffix <= 399, v.code);
        seenRural ||= v.rural;
      }
    }
    assert.ok(seenRural);
  });

  test('search by part of a name within a subtree', async () => {
    const res = await t.app.inject({
      url: '/api/v1/regions/search?q=' + encodeURIComponent('南彰') + '&within=410225',
      headers,
    });
    assert.equal(res.statusCode, 200);
    const items = res.json().items as { code: string; name: string }[];
    assert.ok(items.length > 0);
    assert.ok(items.every((i) => i.name.includes('南彰') && i.code.startsWith('410225')));
  });

  test('a malformed code is 400 VALIDATION_FAILED naming the field, in the caller language', async () => {
    const zh = await t.app.inject({ url: '/api/v1/regions/41x', headers });
    assert.equal(zh.statusCode, 400);
    assert.equal(zh.json().error.code, 'VALIDATION_FAILED');
    assert.equal(zh.json().error.details[0].path, 'code');
    assert.match(zh.json().error.message, /[\u4e00-\u9fff]/);
    const en = await t.app.inject({
      url: '/api/v1/regions/4102251',
      headers: { ...headers, 'accept-language': 'en-US,en;q=0.9' },
    });
    assert.equal(en.statusCode, 400);
    assert.equal(en.json().error.details[0].path, 'code');
    assert.equal(en.json().error.details[0].message, 'has the wrong format');
  });

  test('an unknown code is 404 NOT_FOUND', async () => {
    const res = await t.app.inject({ url: '/api/v1/regions/419999', headers });
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().error.code, 'NOT_FOUND');
  });

  test('a malformed JSON body is 400 MALFORMED_JSON', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'content-type': 'application/json' },
      payload: '{"username": "a", ',
    });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error.code, 'MALFORMED_JSON');
  });

  test('every response carries a request id, and a valid incoming one is kept', async () => {
    const res = await t.app.inject({
      url: '/api/v1/regions/41',
      headers: { ...headers, 'x-request-id': 'trace-12345678' },
    });
    assert.equal(res.headers['x-request-id'], 'trace-12345678');
    const other = await t.app.inject({ url: '/api/v1/regions/41', headers });
    assert.match(String(other.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  });

  test('loading again changes nothing; a code the data no longer has is closed, not deleted', async () => {
    const again = await loadRegions(t.database, { within: '410225' });
    assert.equal(again.inserted + again.updated + again.closed, 0);
    await t.database.db
      .insertInto('regions')
      .values({ code: '410225999', name: '旧乡镇', level: 4, parent_code: '410225', rural: null })
      .execute();
    const reload = await loadRegions(t.database, { within: '410225' });
    assert.equal(reload.closed, 1);
    const res = await t.app.inject({ url: '/api/v1/regions/410225999', headers });
    assert.equal(res.statusCode, 200);
    assert.notEqual(res.json().validTo, null);
    const children = (await t.app.inject({ url: '/api/v1/regions/410225/children', headers })).json().items;
    assert.ok(!children.some((c: { code: string }) => c.code === '410225999'));
  });
});
