// The household the child ledger makes for a child (the ledger has no household number) was named
// 台账-<the child's ID number>: the number then showed unmasked wherever household numbers show (the
// person list, the household file, a masked export), to roles that see ID numbers masked. It is now
// numbered by the household's own id; a later ledger finds the child by the ID number. Migration 0250
// renumbers the households made before. Runs on PGlite, or PostgreSQL with TEST_DATABASE_URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { scratchFolder } from '../../../test/support/files.ts';
import { csvOf } from '../../../test/support/ledger-files.ts';
import { systemActor } from '../access/index.ts';
import { makeIdNumber } from './registry.idnumber.ts';
import type { Importer } from './registry.import.ts';
import { importLedgerFile, ledgerHouseholdNo } from './registry.import-ledger.ts';

const TODAY = '2026-11-29';
const CHILD = makeIdNumber('410225', '2016-05-12', 71);
const SISTER = makeIdNumber('410225', '2018-02-03', 82);
const lankao: Importer = { regionCode: '410225', userId: null, auditActor: systemActor('test') };
const scratch = scratchFolder('shouhu-ledger-household-no-');
let t: TestApp;

const LEDGER = [
  ['姓名', '身份证号码', '户籍所在地', '父亲姓名', '母亲姓名'],
  ['王小明', CHILD, '南彰镇南彰村', '王大明', '李秀英'],
  ['王小红', '', '南彰镇南彰村', '', ''],
];

async function households(): Promise<{ id: number; household_no: string }[]> {
  return t.ctx.db.selectFrom('households').select(['id', 'household_no']).orderBy('id').execute();
}

before(async () => {
  scratch.open();
  t = await createTestApp({ dataDir: scratch.path('data') });
});
after(async () => {
  await t?.close();
  scratch.close();
});

describe('the household a ledger makes for a child', () => {
  test('holds no ID number; the same ledger again finds the same households and makes no other', async () => {
    // The child without an ID number needs a birth date to be registered: give the row one.
    const rows = [...LEDGER];
    const withBirth = scratch.fileOf(
      'ledger-birth.csv',
      '\uFEFF' +
        csvOf([
          [...rows[0]!, '出生日期'],
          [...rows[1]!, '2016-05-12'],
          [...rows[2]!, '2019-07-01'],
        ]),
    );
    const first = await importLedgerFile(t.ctx.db, withBirth, lankao, {
      today: TODAY,
      errorReportBase: scratch.path('e1'),
    });
    assert.equal(first.status, 'succeeded', JSON.stringify(first.message));
    assert.equal(first.counts.errors, 0, JSON.stringify(first));
    const made = await households();
    assert.equal(made.length, 2, JSON.stringify(made));
    const child = await t.ctx.db
      .selectFrom('persons')
      .select(['household_id'])
      .where('id_number', '=', CHILD)
      .executeTakeFirstOrThrow();
    const own = made.find((h) => h.id === Number(child.household_id))!;
    assert.equal(own.household_no, ledgerHouseholdNo(own.id));
    for (const h of made) assert.ok(!/\d{15}/.test(h.household_no), `no ID number in ${h.household_no}`);
    // The child without an ID number is found again by the household's name.
    assert.ok(
      made.some((h) => h.household_no === '台账-王小红-2019-07-01'),
      JSON.stringify(made),
    );

    const again = await importLedgerFile(t.ctx.db, withBirth, lankao, {
      today: TODAY,
      errorReportBase: scratch.path('e2'),
    });
    assert.equal(again.counts.inserted, 0, JSON.stringify(again.counts));
    assert.deepEqual(await households(), made);
  });

  test('a child registered without a household is given the one the ledger makes, once', async () => {
    await t.ctx.db
      .insertInto('persons')
      .values({
        id_number: SISTER,
        name: '王小丽',
        name_pinyin: 'wangxiaoli',
        name_initials: 'wxl',
        sex: 2,
        birth_date: '2018-02-03',
        hukou_region_code: '410225102200',
      })
      .execute();
    const file = scratch.fileOf(
      'sister.csv',
      '\uFEFF' + csvOf([LEDGER[0]!, ['王小丽', SISTER, '南彰镇南彰村', '', '']]),
    );
    const before = (await households()).length;
    await importLedgerFile(t.ctx.db, file, lankao, { today: TODAY, errorReportBase: scratch.path('e3') });
    await importLedgerFile(t.ctx.db, file, lankao, { today: TODAY, errorReportBase: scratch.path('e4') });
    const after = await households();
    assert.equal(after.length, before + 1, 'one household, not one per ledger');
    const sister = await t.ctx.db
      .selectFrom('persons')
      .select(['household_id', 'relation_to_head'])
      .where('id_number', '=', SISTER)
      .executeTakeFirstOrThrow();
    const made = after.at(-1)!;
    assert.equal(Number(sister.household_id), made.id);
    assert.equal(sister.relation_to_head, '户主');
    assert.equal(made.household_no, ledgerHouseholdNo(made.id));
  });

  test('migration 0250 renumbers the households named after an ID number, and nothing else', async () => {
    const inserted = await t.ctx.db
      .insertInto('households')
      .values([
        {
          county_code: '410225',
          household_no: `台账-${CHILD.slice(0, 17)}X`,
          hukou_region_code: '410225102200',
          assets: '{}',
        },
        {
          county_code: '410225',
          household_no: '台账-410225160512001',
          hukou_region_code: '410225102200',
          assets: '{}',
        },
        {
          county_code: '410225',
          household_no: '台账-王小红-2019-07-01x',
          hukou_region_code: '410225102200',
          assets: '{}',
        },
        { county_code: '410225', household_no: 'H-0001', hukou_region_code: '410225102200', assets: '{}' },
      ])
      .returning(['id', 'household_no'])
      .execute();
    const migration = fs.readFileSync(
      path.join(import.meta.dirname, '../../../migrations/0250_registry_ledger_household_numbers.sql'),
      'utf8',
    );
    await sql.raw(migration).execute(t.ctx.db);
    const now = await t.ctx.db
      .selectFrom('households')
      .select(['id', 'household_no'])
      .where(
        'id',
        'in',
        inserted.map((h) => h.id),
      )
      .orderBy('id')
      .execute();
    assert.deepEqual(
      now.map((h) => h.household_no),
      [
        ledgerHouseholdNo(inserted[0]!.id),
        ledgerHouseholdNo(inserted[1]!.id),
        '台账-王小红-2019-07-01x',
        'H-0001',
      ],
    );
  });
});
