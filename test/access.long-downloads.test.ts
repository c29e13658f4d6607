// A long download holds only while the sign-in it started under still stands (session 18 review):
// - a registry export read slowly went on after the account was disabled, narrowed to a village or
//   signed out, or its token revoked, and delivered the whole county, persons registered after the
//   change included: access was decided once, before the first byte;
// - the persons of a group as a workbook (members.xlsx) was open to a viewer granted individual reads,
//   who is to read, not to export (docs/DECISIONS.md).
// The downloads are read through a backpressured stream (payloadAsStream): the test reads the first
// chunk, changes the sign-in, waits past the guard's one-second check and reads on.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Readable } from 'node:stream';
import { sql } from 'kysely';
import { createTestApp, type TestApp } from './support/db.ts';
import { makeUser, signIn, type Client } from './support/access.ts';
import { createToken } from '../src/modules/access/index.ts';

const COUNTY = '410225';
const VILLAGE = '410225001213';
const PERSONS = 6000;

let t: TestApp;

before(async () => {
  t = await createTestApp();
  // One household per person, enough rows that the export runs for many pages.
  await sql`INSERT INTO households (county_code, household_no, hukou_region_code)
    SELECT ${COUNTY}, 'LD-' || n, ${VILLAGE} FROM generate_series(1, ${PERSONS}) AS n`.execute(t.ctx.db);
  await sql`INSERT INTO persons (name, no_id_reason, sex, birth_date, hukou_region_code, household_id,
      relation_to_head, name_pinyin, name_initials)
    SELECT '慢读' || h.id, '测试', 1, DATE '1980-01-01', ${VILLAGE}, h.id, '户主', '', ''
    FROM households h WHERE h.household_no LIKE 'LD-%'`.execute(t.ctx.db);
});

after(async () => {
  await t.close();
});

const LATE_NAME = '变更后登记';

/** Registers one more person after the sign-in changed: the stopped download must not hold it. */
async function registerLatePerson() {
  const household = await t.ctx.db
    .insertInto('households')
    .values({ county_code: COUNTY, household_no: `LATE-${Date.now()}`, hukou_region_code: VILLAGE })
    .returning('id')
    .executeTakeFirstOrThrow();
  await sql`INSERT INTO persons (name, no_id_reason, sex, birth_date, hukou_region_code, household_id,
      relation_to_head, name_pinyin, name_initials)
    VALUES (${LATE_NAME}, '测试', 2, DATE '1990-01-01', ${VILLAGE}, ${household.id}, '户主', '', '')`.execute(
    t.ctx.db,
  );
}

/**
 * Reads the first chunk of a download, runs `change`, waits 1.2 s, then reads to the end (or to the
 * stream's error). Returns the text read and whether the download ended cleanly.
 */
async function readSlowly(
  headers: Record<string, string>,
  url: string,
  change: () => Promise<void>,
): Promise<{ status: number; text: string; complete: boolean }> {
  const response = await t.app.inject({ method: 'GET', url, headers, payloadAsStream: true });
  const stream = response.stream() as Readable;
  const chunks: Buffer[] = [];
  const iterator = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await iterator.next();
  if (!first.done) chunks.push(first.value);
  await change();
  await new Promise((resolve) => setTimeout(resolve, 1200));
  let complete = true;
  try {
    for (;;) {
      const next = await iterator.next();
      if (next.done) break;
      chunks.push(next.value);
    }
  } catch {
    complete = false;
  }
  return { status: response.statusCode, text: Buffer.concat(chunks).toString('utf8'), complete };
}

const rowsOf = (text: string) => text.split('\n').filter((line) => line.includes('慢读')).length;

async function stoppedEntries(action: string) {
  return t.ctx.db
    .selectFrom('audit_log')
    .select(['actor_username', 'result'])
    .where('action', '=', `${action}.stopped`)
    .execute();
}

describe('a registry export stops when its sign-in no longer stands', () => {
  const EXPORT = `/api/v1/exports/registry?region=${COUNTY}&format=csv`;

  async function countyClient(username: string): Promise<{ id: number; client: Client }> {
    const user = await makeUser(t.ctx, username, 'county_staff', COUNTY);
    const { client } = await signIn(t.app, username);
    assert.ok(client);
    return { id: user.id, client };
  }

  test('read slowly with nothing changed, the export delivers every person', async () => {
    const { client } = await countyClient('ld.steady');
    const read = await readSlowly(client.headers, EXPORT, async () => {});
    assert.equal(read.status, 200);
    assert.ok(read.complete);
    assert.ok(rowsOf(read.text) >= PERSONS, `${rowsOf(read.text)} rows`);
  });

  for (const [what, change] of [
    [
      'the account is disabled',
      (id: number) => sql`UPDATE users SET disabled = true WHERE id = ${id}`.execute(t.ctx.db),
    ],
    [
      'the account is narrowed to a village',
      (id: number) =>
        sql`UPDATE users SET role = 'village_child_director', region_code = ${VILLAGE} WHERE id = ${id}`.execute(
          t.ctx.db,
        ),
    ],
    [
      'the session is signed out',
      (id: number) => sql`UPDATE sessions SET revoked_at = now() WHERE user_id = ${id}`.execute(t.ctx.db),
    ],
  ] as const)
    test(`${what} during the download: it stops, holds no one registered after, and is audited`, async () => {
      const username = `ld.${what.split(' ').pop() ?? 'x'}`;
      const { id, client } = await countyClient(username);
      const before = (await stoppedEntries('registry.export')).length;
      const read = await readSlowly(client.headers, EXPORT, async () => {
        await change(id);
        await registerLatePerson();
      });
      assert.equal(read.status, 200, 'the download had started');
      assert.equal(read.complete, false, 'the download is cut off, not ended as if whole');
      assert.ok(rowsOf(read.text) < PERSONS, `${rowsOf(read.text)} of ${PERSONS} rows delivered`);
      assert.ok(!read.text.includes(LATE_NAME), 'no person registered after the change');
      const entries = await stoppedEntries('registry.export');
      assert.equal(entries.length, before + 1);
      assert.equal(entries.at(-1)?.actor_username, username);
      assert.equal(entries.at(-1)?.result, 'denied');
    });

  test('a revoked API token stops the download it started', async () => {
    const { token, item } = await createToken(t.ctx, null, {
      name: 'ld-token',
      role: 'county_staff',
      regionCode: COUNTY,
      expiresInDays: 30,
    });
    const read = await readSlowly({ authorization: `Bearer ${token}` }, EXPORT, async () => {
      await sql`UPDATE api_tokens SET revoked_at = now() WHERE id = ${item.id}`.execute(t.ctx.db);
    });
    assert.equal(read.complete, false);
    assert.ok(rowsOf(read.text) < PERSONS);
  });
});

describe('the persons of a group as a workbook are an export', () => {
  test('a viewer granted individual reads reads the list but may not download it (403)', async () => {
    await makeUser(t.ctx, 'ld.viewer', 'prefecture_viewer', '4102', { individualAccess: true });
    const { client } = await signIn(t.app, 'ld.viewer');
    assert.ok(client);
    const query = `region=${COUNTY}&group=left_behind_child`;
    const list = await t.app.inject({
      method: 'GET',
      url: `/api/v1/stats/groups/members?${query}`,
      headers: client.headers,
    });
    assert.equal(list.statusCode, 200, list.body);
    const file = await t.app.inject({
      method: 'GET',
      url: `/api/v1/stats/groups/members.xlsx?${query}`,
      headers: client.headers,
    });
    assert.equal(file.statusCode, 403, file.body);
  });
});
