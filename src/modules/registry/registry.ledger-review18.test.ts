// Child ledger, review 18 (a tester's real-ledger round): what the template refused and the ledger did not.
// - a ledger naming another father (or mother) than the biological one on record linked a second
//   biological parent; the village's own export then failed to import back.
// Runs on PGlite, or PostgreSQL with TEST_DATABASE_URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { reasonsByName } from '../../../test/support/files.ts';
import { lankaoLedgerFiles, xlsx } from '../../../test/support/ledger-files.ts';
import { systemActor } from '../access/index.ts';
import { makeIdNumber } from './registry.idnumber.ts';
import type { Importer } from './registry.import.ts';
import { importLedgerFile } from './registry.import-ledger.ts';

const LANKAO = '410225';
const TODAY = '2026-11-29';

const { scratch, fileOf } = lankaoLedgerFiles('shouhu-ledger-review18-', TODAY);

const HEADER = ['序号', '姓名', '性别', '身份证号码', '户籍所在地', '现居住地', '父亲姓名', '父亲身份证号码', '父亲务工地点', '母亲姓名', '母亲身份证号码', '母亲务工地点']; // prettier-ignore

async function ledger(name: string, rows: (string | number)[][]) {
  const content = await xlsx((wb) => {
    const sheet = wb.addWorksheet('Sheet1');
    sheet.addRow(HEADER);
    for (const row of rows) sheet.addRow(row);
  });
  return fileOf(name, content);
}

describe('a ledger naming another biological parent than the one on record', () => {
  let t: TestApp;
  const lankao: Importer = { regionCode: LANKAO, userId: null, auditActor: systemActor('test') };
  const child = makeIdNumber(LANKAO, '2016-04-05', 20);
  const father = makeIdNumber(LANKAO, '1986-01-02', 23);
  const otherFather = makeIdNumber(LANKAO, '1980-08-08', 25);
  const mother = makeIdNumber(LANKAO, '1988-03-04', 22);

  /** 刘欣's row: her father as the ledger names him; her mother 王芳 as on record. */
  const childRow = (fatherName: string, fatherId: string, workplace: string) => [
    1, '刘欣', '女', child, '南彰镇南彰村', '同上', fatherName, fatherId, workplace, '王芳', mother, '浙江省宁波市',
  ]; // prettier-ignore
  const personCount = async () =>
    Number(
      (
        await t.ctx.db
          .selectFrom('persons')
          .select((e) => e.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  before(async () => {
    t = await createTestApp({ dataDir: scratch.path('data') });
    const first = await ledger('first.xlsx', [childRow('刘帅', father, '广东省东莞市')]);
    const outcome = await importLedgerFile(t.ctx.db, first, lankao, {
      today: TODAY,
      errorReportBase: scratch.path('first-errors'),
    });
    assert.equal(outcome.counts.errors, 0, JSON.stringify(await reasonsByName(outcome.errorReport?.csv)));
  });
  after(async () => t?.close());

  async function fathersOfChild() {
    return t.ctx.db
      .selectFrom('person_relations as r')
      .innerJoin('persons as p', 'p.id', 'r.related_person_id')
      .innerJoin('persons as c', 'c.id', 'r.person_id')
      .select(['p.name'])
      .where('c.id_number', '=', child)
      .where('r.kind', '=', 'parent')
      .where('p.sex', '=', 1)
      .where('r.valid_to', 'is', null)
      .execute();
  }

  for (const [what, name, id, column] of [
    ['by name only', '王继父', '', '父亲姓名'],
    ['with an ID number', '张另父', otherFather, '父亲公民身份号码'],
  ] as const)
    test(`another father ${what}: a row error on ${column} naming the father on record; nothing written`, async () => {
      const persons = await personCount();
      const file = await ledger(`other-${column}.xlsx`, [childRow(name, id, '广东省深圳市')]);
      const outcome = await importLedgerFile(t.ctx.db, file, lankao, {
        today: TODAY,
        errorReportBase: scratch.path(`errors-${column}`),
      });
      assert.equal(outcome.counts.errors, 1, JSON.stringify(outcome.counts));
      const reasons = await reasonsByName(outcome.errorReport?.csv);
      assert.match(reasons['刘欣'] ?? '', new RegExp(`${column}[：:].*已登记生父“刘帅”`));
      assert.deepEqual(await fathersOfChild(), [{ name: '刘帅' }]);
      assert.equal(await personCount(), persons, 'no person registered for the refused row');
    });

  test('the father on record named again (a new work place) is taken', async () => {
    const file = await ledger('same-father.xlsx', [childRow('刘帅', father, '广东省深圳市')]);
    const outcome = await importLedgerFile(t.ctx.db, file, lankao, { today: TODAY });
    assert.equal(outcome.counts.errors, 0, JSON.stringify(outcome.counts));
    assert.deepEqual(await fathersOfChild(), [{ name: '刘帅' }]);
  });
});
