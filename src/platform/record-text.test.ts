// The record-text reader (record-text.ts) against hand-written lines and against what the database
// writes. Runs on PGlite, or PostgreSQL with TEST_DATABASE_URL.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import { openTestDatabase } from '../../test/support/db.ts';
import { dayField, isoFromDayNumber, parseRecordLines } from './record-text.ts';

test('parseRecordLines reads NULL, empty, quoted and escaped fields', () => {
  assert.deepEqual(parseRecordLines(''), []);
  assert.deepEqual(parseRecordLines('(1,,"",abc)'), [['1', null, '', 'abc']]);
  assert.deepEqual(parseRecordLines('("a,b","say ""hi""","back\\\\slash","(x)")\n(2,t,f,)'), [
    ['a,b', 'say "hi"', 'back\\slash', '(x)'],
    ['2', 't', 'f', null],
  ]);
  assert.deepEqual(parseRecordLines('("line\nbreak",张三)'), [['line\nbreak', '张三']]);
  assert.throws(() => parseRecordLines('(1,"open'), /unterminated quoted field/);
  // Broken text is refused, by the general reader (a quote somewhere) and by the fast path alike.
  assert.throws(() => parseRecordLines('("a",2'), /unterminated record/);
  assert.throws(() => parseRecordLines('"a",2)'), /expected "\("/);
  assert.throws(() => parseRecordLines('("a")(2)'), /expected a line break/);
  assert.throws(() => parseRecordLines('(1,2'), /expected a record in parentheses/);
});

test('isoFromDayNumber and dayField turn day numbers back into dates', () => {
  assert.equal(isoFromDayNumber(0), '1970-01-01');
  assert.equal(isoFromDayNumber(-1), '1969-12-31');
  assert.equal(isoFromDayNumber(20_000), '2024-10-04');
  assert.equal(dayField(null), null);
  assert.equal(dayField('-25567'), '1900-01-01');
});

test('the database writes record text that parseRecordLines reads back exactly, in any DateStyle', async () => {
  const database = await openTestDatabase();
  try {
    const values = [
      'plain',
      '',
      'comma, and space',
      'quote " and \\ backslash',
      'tab\tand\nnewline',
      '(paren)',
      '张三·阿依',
    ];
    const rows = await database.db.transaction().execute(async (trx) => {
      await sql`SET LOCAL datestyle = 'SQL, DMY'`.execute(trx);
      const result = await sql<{ t: string }>`
        SELECT string_agg(ROW(n, v, NULL::text, DATE '1949-12-31' - DATE '1970-01-01', true)::text, E'\\n'
          ORDER BY n) AS t
        FROM (VALUES ${sql.join(values.map((v, i) => sql`(${i}::int, ${v}::text)`))}) AS u(n, v)`.execute(
        trx,
      );
      return parseRecordLines(result.rows[0]?.t ?? '');
    });
    assert.deepEqual(
      rows.map((f) => [f[1], f[2], dayField(f[3]), f[4]]),
      values.map((v) => [v, null, '1949-12-31', 't']),
    );
  } finally {
    await database.close();
  }
});

test('parseRecordLines reads unquoted text (the fast path) as the general reader does', () => {
  const text = '(1,张三,1,-3653,410225100001,,,t)\n(2,李四,2,,410225100002,410225100003,1,f)';
  assert.deepEqual(parseRecordLines(text), [
    ['1', '张三', '1', '-3653', '410225100001', null, null, 't'],
    ['2', '李四', '2', null, '410225100002', '410225100003', '1', 'f'],
  ]);
  // The same records with one quoted field take the general reader: the same fields come back.
  assert.deepEqual(parseRecordLines(text + '\n(3,"a b",,,,,,)').slice(0, 2), parseRecordLines(text));
  assert.throws(() => parseRecordLines('1,2'), /expected a record in parentheses/);
});
