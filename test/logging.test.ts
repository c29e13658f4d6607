// Logs never contain an ID number or a phone number, wherever the request carried them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from './support/db.ts';
import { bearer } from './support/auth.ts';

const ID = '11010519491231002X';
const PHONE = '13812345678';

describe('log redaction', () => {
  let t: TestApp;
  let headers: Record<string, string>;
  before(async () => {
    t = await createTestApp();
    headers = await bearer(t, 'county_staff', '410225');
  });
  after(async () => t.close());

  test('a request carrying an ID number and a phone leaves neither in the log', async () => {
    t.logs.length = 0;
    await t.app.inject({ url: `/api/v1/regions/search?q=${ID}&within=410225&phone=${PHONE}`, headers });
    await t.app.inject({ url: `/api/v1/regions/${ID}`, headers: { ...headers, 'x-phone': PHONE } });
    await t.app.inject({
      method: 'POST',
      url: `/api/v1/auth/login?idNumber=${encodeURIComponent(ID.toLowerCase())}`,
      headers: { 'content-type': 'application/json' },
      payload: { username: PHONE, password: `Secret-${ID}` },
    });
    const text = t.logs.join('');
    assert.ok(t.logs.length >= 6, 'requests were logged');
    assert.ok(text.includes('[ID]') || text.includes('[PHONE]'), 'the URLs were logged, redacted');
    for (const secret of [ID, ID.toLowerCase(), PHONE, headers.authorization!.slice(7)])
      assert.ok(!text.includes(secret), `log contains ${secret.slice(0, 4)}...`);
  });
});
