// Logs never contain an ID number or a phone number, wherever the request carried them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from './support/db.ts';
import { bearer } from './support/auth.ts';
import { sql } from 'kysely';
import { createLogger } from '../src/platform/logging.ts';

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

describe('a database error in the log', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(async () => t.close());

  /** The error the database raises for `statement`. */
  async function failureOf(statement: string): Promise<unknown> {
    try {
      await sql.raw(statement).execute(t.ctx.db);
    } catch (error) {
      return error;
    }
    assert.fail(`${statement} did not fail`);
  }

  test('keeps the SQLSTATE, constraint and columns, not the values of the row it refused', async () => {
    await sql
      .raw('CREATE TABLE log_probe (name text UNIQUE, household_no text NOT NULL, born date)')
      .execute(t.ctx.db);
    await sql.raw(`INSERT INTO log_probe VALUES ('王小明', 'HH-0001', NULL)`).execute(t.ctx.db);
    const failures = [
      await failureOf(`INSERT INTO log_probe VALUES ('王小明', 'HH-0002', NULL)`),
      await failureOf(`INSERT INTO log_probe VALUES ('李小红', NULL, NULL)`),
      await failureOf(`INSERT INTO log_probe VALUES ('赵小刚', 'HH-0003', '赵小刚的生日')`),
    ];
    const lines: string[] = [];
    const logger = createLogger('error', { write: (line: string) => lines.push(line) });
    for (const err of failures) logger.error({ err }, 'request failed');
    await sql.raw('DROP TABLE log_probe').execute(t.ctx.db);

    assert.equal(lines.length, 3);
    const [unique, notNull, syntax] = lines.map(
      (line) => JSON.parse(line) as { err: Record<string, string> },
    );
    assert.equal(unique!.err.code, '23505');
    assert.equal(unique!.err.constraint, 'log_probe_name_key');
    assert.match(unique!.err.detail!, /^Key \(name\)=\(\[REDACTED\]\) already exists\.?$/);
    assert.equal(notNull!.err.code, '23502');
    assert.equal(notNull!.err.column, 'household_no');
    assert.match(syntax!.err.message!, /invalid input syntax for type date: "\[REDACTED\]"/);
    const text = lines.join('');
    for (const value of ['王小明', '李小红', '赵小刚', 'HH-0002', 'HH-0003'])
      assert.ok(!text.includes(value), `the log holds ${value}: ${text}`);
  });
});
