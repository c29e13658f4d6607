// Validation messages name a bad value's format in the caller's language: a date that is not one says
// "日期" and the form it should take, not the schema's English keyword.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from './support/db.ts';
import { bearer } from './support/auth.ts';

describe('validation messages for formats', () => {
  let t: TestApp;
  let headers: Record<string, string>;
  before(async () => {
    t = await createTestApp();
    headers = await bearer(t, 'county_staff', '410225');
  });
  after(async () => t.close());

  test('a date that does not exist is named as a date, with its form, in Chinese and in English', async () => {
    const url = '/api/v1/stats/groups?region=410225&asOf=2026-02-30';
    const zh = await t.app.inject({ url, headers: { ...headers, 'accept-language': 'zh-CN' } });
    assert.equal(zh.statusCode, 400, zh.body);
    const zhDetail = zh.json().error.details.find((d: { path: string }) => d.path === 'asOf');
    assert.ok(zhDetail, zh.body);
    assert.match(zhDetail.message, /^不是有效的日期（应为 YYYY-MM-DD/);
    assert.doesNotMatch(zhDetail.message, /\bdate\b/);

    const en = await t.app.inject({ url, headers: { ...headers, 'accept-language': 'en' } });
    const enDetail = en.json().error.details.find((d: { path: string }) => d.path === 'asOf');
    assert.match(enDetail.message, /^is not a valid date \(YYYY-MM-DD/);
  });
});
