// The audit trail, session 18 review (a tester walked it as an auditor would):
// - a token's creation did not say it was granted individual reads, nor its national scope;
// - a 403's entry named only the route: not which region or record was asked for;
// - a revoked or expired API token, or the session of a disabled account, was refused with no trace;
// - an import's run did not name its import (it could not be tied to its submission), and a file
//   refused whole had no entry saying how the run ended.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { createTestApp, type TestApp } from './support/db.ts';
import { makeUser, signIn, type Client } from './support/access.ts';
import { createToken } from '../src/modules/access/index.ts';
import { TEMPLATE_HEADERS } from '../src/modules/registry/registry.template.ts';

const COUNTY = '410225';
const TOWNSHIP = '410225001';
const OTHER_TOWNSHIP = '410225101';

let t: TestApp;

before(async () => {
  // No sign-in cache: a disabled account's session is refused on its next request in these tests,
  // which disable accounts in the database directly (the service forgets its cache itself).
  t = await createTestApp({ authCacheSeconds: 0 });
});
after(async () => {
  await t.close();
});

async function entriesSince(id: number) {
  return t.ctx.db
    .selectFrom('audit_log')
    .select(['action', 'actor_username', 'entity_id', 'region_code', 'result', 'details'])
    .where('id', '>', id)
    .orderBy('id')
    .execute();
}

async function lastId(): Promise<number> {
  const row = await sql<{ id: string | null }>`SELECT max(id) AS id FROM audit_log`.execute(t.ctx.db);
  return Number(row.rows[0]?.id ?? 0);
}

async function client(
  username: string,
  role: 'township_staff' | 'county_staff',
  region: string,
): Promise<Client> {
  await makeUser(t.ctx, username, role, region);
  const { client } = await signIn(t.app, username);
  assert.ok(client);
  return client;
}

describe('what the trail says', () => {
  test('a token’s creation records its grant of individual reads and its scope', async () => {
    const before = await lastId();
    await createToken(t.ctx, null, {
      name: 'ar18-national',
      role: 'national_viewer',
      regionCode: null,
      individualAccess: true,
      expiresInDays: 10,
    });
    const [entry] = (await entriesSince(before)).filter((e) => e.action === 'token.create');
    assert.ok(entry);
    const details = entry.details as Record<string, unknown>;
    assert.equal(details.individualAccess, true);
    assert.equal(details.scope, 'national');
  });

  test('a refusal (403) records the region and the record asked for', async () => {
    const township = await client('ar18.township', 'township_staff', TOWNSHIP);
    const before = await lastId();
    const exportOther = await t.app.inject({
      method: 'GET',
      url: `/api/v1/exports/registry?region=${OTHER_TOWNSHIP}&format=csv`,
      headers: township.headers,
    });
    assert.equal(exportOther.statusCode, 403);
    const disable = await t.app.inject({
      method: 'POST',
      url: '/api/v1/users/5/disable',
      headers: township.write,
      payload: { version: 1 },
    });
    assert.equal(disable.statusCode, 403, disable.body);
    const denied = (await entriesSince(before)).filter((e) => e.action === 'access.denied');
    assert.equal(denied.length, 2, JSON.stringify(denied));
    assert.equal(denied[0]?.region_code, OTHER_TOWNSHIP);
    assert.deepEqual((denied[0]?.details as { query: unknown }).query, {
      region: OTHER_TOWNSHIP,
      format: 'csv',
    });
    // The path's text, as sent: the permission is checked before the path is validated.
    assert.deepEqual((denied[1]?.details as { params: unknown }).params, { id: '5' });
  });

  test('a search’s free text is not written into a refusal', async () => {
    await makeUser(t.ctx, 'ar18.viewer', 'province_viewer', '41');
    const { client: viewer } = await signIn(t.app, 'ar18.viewer');
    assert.ok(viewer);
    const before = await lastId();
    const r = await t.app.inject({
      method: 'GET',
      url: '/api/v1/persons?q=410225201501013017',
      headers: viewer.headers,
    });
    assert.equal(r.statusCode, 403);
    const [entry] = (await entriesSince(before)).filter((e) => e.action === 'access.denied');
    assert.ok(entry);
    assert.doesNotMatch(JSON.stringify(entry.details), /410225201501013017/);
  });

  test('a revoked or expired token still in use is audited with the token, once a minute; an unknown one is not', async () => {
    const revoked = await createToken(t.ctx, null, {
      name: 'ar18-revoked',
      role: 'county_staff',
      regionCode: COUNTY,
      expiresInDays: 10,
    });
    const expired = await createToken(t.ctx, null, {
      name: 'ar18-expired',
      role: 'county_staff',
      regionCode: COUNTY,
      expiresInDays: 10,
    });
    await sql`UPDATE api_tokens SET revoked_at = now() WHERE id = ${revoked.item.id}`.execute(t.ctx.db);
    await sql`UPDATE api_tokens SET expires_at = now() - interval '1 day' WHERE id = ${expired.item.id}`.execute(
      t.ctx.db,
    );
    const before = await lastId();
    // The revoked token twice: one entry a minute per credential, not one per request.
    for (const token of [revoked.token, revoked.token, expired.token, 'shu_' + 'x'.repeat(40)]) {
      const r = await t.app.inject({
        method: 'GET',
        url: '/api/v1/persons',
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(r.statusCode, 401);
    }
    const refused = (await entriesSince(before)).filter((e) => e.action === 'auth.token.refused');
    assert.deepEqual(
      refused.map((e) => [e.entity_id, (e.details as { reason: string }).reason, e.result]),
      [
        [String(revoked.item.id), 'revoked', 'denied'],
        [String(expired.item.id), 'expired', 'denied'],
      ],
    );
    assert.equal(refused[0]?.actor_username, 'token:ar18-revoked');
  });

  test('the session of a disabled account is audited when it is used', async () => {
    const staff = await client('ar18.disabled', 'county_staff', COUNTY);
    await sql`UPDATE users SET disabled = true WHERE username = 'ar18.disabled'`.execute(t.ctx.db);
    const before = await lastId();
    const r = await t.app.inject({ method: 'GET', url: '/api/v1/persons', headers: staff.headers });
    assert.equal(r.statusCode, 401);
    const refused = (await entriesSince(before)).filter((e) => e.action === 'auth.session.refused');
    assert.equal(refused.length, 1);
    assert.equal(refused[0]?.actor_username, 'ar18.disabled');
  });
});

describe('an import’s entries name the import', () => {
  async function submit(who: Client, name: string, content: Buffer): Promise<number> {
    const boundary = `----ar18${Date.now()}`;
    const payload = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\n\r\n`),
      content,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const r = await t.app.inject({
      method: 'POST',
      url: '/api/v1/imports',
      headers: { ...who.write, 'content-type': `multipart/form-data; boundary=${boundary}` },
      payload,
    });
    assert.equal(r.statusCode, 202, r.body);
    await t.ctx.jobs.drain();
    return (r.json() as { id: number }).id;
  }

  test('a finished run carries the import’s id; a file refused whole has a refused entry of its own', async () => {
    const county = await client('ar18.county', 'county_staff', COUNTY);
    const cells: Record<string, string> = {
      户编号: 'AR18-1',
      姓名: '审计甲',
      公民身份号码: '',
      无身份证号原因: '未落户',
      性别: '男',
      出生日期: '2015-01-01',
      与户主关系: '户主',
      户籍地代码: '410225001213',
    };
    const good = Buffer.from(
      `\uFEFF${TEMPLATE_HEADERS.join(',')}\r\n${TEMPLATE_HEADERS.map((h) => cells[h] ?? '').join(',')}\r\n`,
    );
    const before = await lastId();
    const id = await submit(county, 'ok.csv', good);
    const runs = (await entriesSince(before)).filter((e) => e.action === 'registry.import');
    assert.deepEqual(
      runs.map((e) => [e.entity_id, e.result]),
      [[String(id), 'ok']],
    );
    const beforeBad = await lastId();
    const bad = await submit(county, 'bad.csv', Buffer.from('\uFEFF姓名,备注\r\n甲,乙\r\n'));
    const refused = (await entriesSince(beforeBad)).filter((e) => e.action === 'registry.import');
    assert.deepEqual(
      refused.map((e) => [e.entity_id, e.result, (e.details as { reason?: string }).reason]),
      [[String(bad), 'denied', 'file_rejected']],
    );
  });
});
