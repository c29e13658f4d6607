// Session 22, the child ledger import:
// - a parent stated at home (在家) without name or ID number is the child's one linked father
//   (mother): the migration in force on the ledger's date ends there; with none linked the row says
//   it could not be applied (the rest of the row is imported);
// - a parent link a clerk retracted as wrong is not made again by importing the ledger again: the row
//   says so, naming the retraction's day.
// Runs on PGlite, or PostgreSQL with TEST_DATABASE_URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { reasonsByName } from '../../../test/support/files.ts';
import { lankaoLedgerFiles, xlsx } from '../../../test/support/ledger-files.ts';
import { permissionsOf, systemActor, type Actor } from '../access/index.ts';
import { today } from '../../platform/dates.ts';
import { makeIdNumber } from './registry.idnumber.ts';
import type { Importer } from './registry.import.ts';
import { importLedgerFile } from './registry.import-ledger.ts';
import { retractRelation } from './registry.service.ts';

const LANKAO = '410225';
const TODAY = '2026-11-30';
const { scratch, fileOf } = lankaoLedgerFiles('shouhu-ledger-session22-', TODAY);

let t: TestApp;
const county: Importer = { regionCode: LANKAO, userId: null, auditActor: systemActor('test') };
const clerk: Actor = {
  kind: 'user',
  userId: null,
  tokenId: null,
  username: 's22.ledger.clerk',
  role: 'county_staff',
  regionCode: LANKAO,
  permissions: permissionsOf('county_staff', false),
  individualAccess: false,
  ip: '127.0.0.1',
  sessionId: null,
};

before(async () => {
  t = await createTestApp({ dataDir: scratch.path('data') });
});
after(async () => t?.close());

const HEADER = ['序号', '姓名', '性别', '出生日期', '公民身份号码', '户籍所在地', '父亲姓名', '父亲公民身份号码', '父亲务工地点', '母亲姓名', '母亲公民身份号码', '母亲务工地点', '父母双方同时外出']; // prettier-ignore

let serial = 0;
const idOf = (birth: string, sex: 1 | 2) => {
  serial += 1;
  return makeIdNumber(LANKAO, birth, 700 + serial * 2 + (sex === 1 ? 1 : 0));
};

let files = 0;
async function importLedger(rows: readonly (readonly (string | number)[])[], title: string) {
  const content = await xlsx((wb) => {
    const sheet = wb.addWorksheet('Sheet1');
    sheet.addRow(['农村留守儿童基本情况登记表']);
    sheet.addRow(['填报单位（盖章）：南彰镇人民政府', `填报日期：${title}`]);
    sheet.addRow(HEADER);
    for (const r of rows) sheet.addRow([...r]);
  });
  files += 1;
  const outcome = await importLedgerFile(t.ctx.db, fileOf(`ledger-${files}.xlsx`, content), county, {
    today: TODAY,
    errorReportBase: scratch.path(`ledger-${files}-errors`),
  });
  assert.equal(outcome.status, 'succeeded', JSON.stringify(outcome.message));
  return { outcome, reasons: await reasonsByName(outcome.errorReport?.csv) };
}

const personId = async (idNumber: string) =>
  Number(
    (
      await t.ctx.db
        .selectFrom('persons')
        .select('id')
        .where('id_number', '=', idNumber)
        .executeTakeFirstOrThrow()
    ).id,
  );

const migrations = async (idNumber: string) =>
  (
    await t.ctx.db
      .selectFrom('person_facts')
      .select(['valid_from', 'valid_to'])
      .where('person_id', '=', await personId(idNumber))
      .where('kind', '=', 'migration')
      .where('retracted_at', 'is', null)
      .orderBy('id')
      .execute()
  ).map((f) => [String(f.valid_from), f.valid_to === null ? null : String(f.valid_to)]);

const parentLinks = async (childIdNumber: string) =>
  t.ctx.db
    .selectFrom('person_relations')
    .select(['id', 'related_person_id'])
    .where('person_id', '=', await personId(childIdNumber))
    .where('kind', '=', 'parent')
    .where('valid_to', 'is', null)
    .execute();

describe('a parent at home without name or ID number', () => {
  test('is the child’s one linked father: his migration ends on the ledger’s date; the same file again changes nothing', async () => {
    const child = idOf('2016-03-03', 2);
    const father = idOf('1985-01-01', 1);
    const mother = idOf('1987-01-01', 2);
    await importLedger(
      [
        [
          1,
          '韩雪',
          '女',
          '2016-03-03',
          child,
          '南彰镇南彰村',
          '韩军',
          father,
          '广东省深圳市',
          '刘芳',
          mother,
          '在家',
          '否',
        ],
      ],
      '2026年5月1日',
    );
    assert.deepEqual(await migrations(father), [['2026-05-01', null]]);
    const later = [
      [1, '韩雪', '女', '2016-03-03', child, '南彰镇南彰村', '', '', '在家', '刘芳', mother, '在家', '否'],
    ];
    const { outcome } = await importLedger(later, '2026年11月20日');
    assert.equal(outcome.counts.errors, 0);
    assert.deepEqual(await migrations(father), [['2026-05-01', '2026-11-20']]);
    const again = await importLedger(later, '2026年11月20日');
    assert.deepEqual(again.outcome.counts, { rows: 1, inserted: 0, updated: 0, unchanged: 1, errors: 0 });
    assert.deepEqual(await migrations(father), [['2026-05-01', '2026-11-20']]);
  });

  test('with no father linked, the row says it could not be applied and the rest of the row is imported', async () => {
    const child = idOf('2015-04-04', 1);
    const mother = idOf('1988-01-01', 2);
    const { outcome, reasons } = await importLedger(
      [
        [
          1,
          '郑浩',
          '男',
          '2015-04-04',
          child,
          '南彰镇南彰村',
          '',
          '',
          '在家',
          '吴丽',
          mother,
          '浙江省杭州市',
          '否',
        ],
      ],
      '2026年11月20日',
    );
    assert.deepEqual(outcome.counts, { rows: 1, inserted: 1, updated: 0, unchanged: 0, errors: 1 });
    assert.match(
      reasons['郑浩'] ?? '',
      /台账写明父亲在家，但未填写父亲姓名和公民身份号码，此儿童在登记中没有已关联的父亲/,
    );
    assert.match(reasons['郑浩'] ?? '', /未据此结束其外出务工记录/);
    assert.deepEqual(await migrations(mother), [['2026-11-20', null]]);
  });
});

describe('a parent link retracted as wrong', () => {
  test('is not made again by the same ledger; the row names the retraction; again changes nothing', async () => {
    const child = idOf('2017-05-05', 2);
    const wrong = idOf('1984-02-02', 1);
    const row = [
      1,
      '冯雨',
      '女',
      '2017-05-05',
      child,
      '南彰镇南彰村',
      '冯刚',
      wrong,
      '广东省深圳市',
      '',
      '',
      '',
      '否',
    ];
    await importLedger([row], '2026年6月1日');
    const [link] = await parentLinks(child);
    assert.ok(link);
    await retractRelation(t.ctx.db, clerk, await personId(child), Number(link.id), '误登记为同名的另一人');
    const { outcome, reasons } = await importLedger([row], '2026年6月1日');
    assert.deepEqual(outcome.counts, { rows: 1, inserted: 0, updated: 0, unchanged: 1, errors: 1 });
    assert.match(
      reasons['冯雨'] ?? '',
      new RegExp(`与该父亲的关系已于 ${today()} 作为误登记撤回，导入不再建立此关系`),
    );
    assert.deepEqual(await parentLinks(child), []);
    const again = await importLedger([row], '2026年6月1日');
    assert.deepEqual(again.outcome.counts, { rows: 1, inserted: 0, updated: 0, unchanged: 1, errors: 1 });
    assert.deepEqual(await parentLinks(child), []);
  });
});
