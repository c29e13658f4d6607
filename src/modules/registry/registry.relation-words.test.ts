// 与户主关系 as county systems write it, session 12: 本人 on the head's own row (GB/T 4761's "self")
// is the head: the household gets its head and the income of that row, a re-import changes nothing and
// the export writes 户主. 姐, 妹, 孙媳妇, 曾孙子 are accepted as the everyday words they are; a word that
// is no relation is still a row error. Runs on PGlite, or PostgreSQL with TEST_DATABASE_URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { scratchFolder, templateCsv } from '../../../test/support/files.ts';
import { systemActor } from '../access/index.ts';
import { makeIdNumber } from './registry.idnumber.ts';
import { importRegistryFile, type Importer } from './registry.import.ts';
import { parseRegistryFile } from './registry.parse.ts';
import { relationToHeadAsStored } from './registry.template.ts';

const VILLAGE = '410225101200'; // 堌阳镇 城内村
const TODAY = '2026-11-29';

let t: TestApp;
const scratch = scratchFolder('shouhu-relation-words-');

before(async () => {
  scratch.open();
  t = await createTestApp({ dataDir: scratch.path('data') });
});
after(async () => {
  await t?.close();
  scratch.close();
});

const file = (rows: Record<string, string>[]) => scratch.fileOf('template.csv', templateCsv(rows));

const importer: Importer = { regionCode: '410225', userId: null, auditActor: systemActor('test') };
const head = makeIdNumber('410225', '1970-01-01', 11);
const wife = makeIdNumber('410225', '1972-01-01', 12);
const sister = makeIdNumber('410225', '1975-01-01', 14);

describe('与户主关系 words', () => {
  test('本人 is stored as 户主; 姐, 妹, 孙媳妇, 曾孙子 are relation words; 朋友 is not', () => {
    assert.equal(relationToHeadAsStored('本人'), '户主');
    assert.equal(relationToHeadAsStored(' 本 人 '), '户主');
    for (const word of ['姐', '妹', '孙媳妇', '曾孙子', '外曾孙女'])
      assert.equal(relationToHeadAsStored(word), word);
    assert.equal(relationToHeadAsStored('朋友'), null);
  });

  test('a household whose head row says 本人 gets its head and income; a re-import changes nothing', async () => {
    const source = file([
      { 户编号: 'BR-1', 姓名: '周本人', 公民身份号码: head, 与户主关系: '本人', 户籍地代码: VILLAGE, '家庭年收入(元)': '24000' },
      { 户编号: 'BR-1', 姓名: '吴妻', 公民身份号码: wife, 与户主关系: '妻', 户籍地代码: VILLAGE },
      { 户编号: 'BR-1', 姓名: '周姐', 公民身份号码: sister, 与户主关系: '姐', 户籍地代码: VILLAGE },
    ]); // prettier-ignore
    const rows = [];
    for await (const row of parseRegistryFile(source, { regionExists: () => true, today: TODAY }))
      rows.push(row);
    assert.deepEqual(
      rows.map((r) => [r.record?.relationToHead, r.errors.length]),
      [
        ['户主', 0],
        ['妻', 0],
        ['姐', 0],
      ],
    );
    const first = await importRegistryFile(t.database, source, importer, { today: TODAY });
    assert.equal(first.status, 'succeeded');
    assert.deepEqual(first.counts, { rows: 3, inserted: 3, updated: 0, unchanged: 0, errors: 0 });
    const household = await t.ctx.db
      .selectFrom('households as h')
      .innerJoin('persons as p', 'p.id', 'h.head_person_id')
      .select(['p.name', 'p.relation_to_head', 'h.annual_income_fen'])
      .where('h.household_no', '=', 'BR-1')
      .executeTakeFirstOrThrow();
    assert.deepEqual(household, { name: '周本人', relation_to_head: '户主', annual_income_fen: 2_400_000 });
    const again = await importRegistryFile(t.database, source, importer, { today: TODAY });
    assert.deepEqual(again.counts, { rows: 3, inserted: 0, updated: 0, unchanged: 3, errors: 0 });
  });

  test('朋友 is a row error naming 与户主关系', async () => {
    const source = file([
      { 户编号: 'BR-2', 姓名: '郑友', 公民身份号码: makeIdNumber('410225', '1980-01-01', 31), 与户主关系: '朋友', 户籍地代码: VILLAGE },
    ]); // prettier-ignore
    const rows = [];
    for await (const row of parseRegistryFile(source, { regionExists: () => true, today: TODAY }))
      rows.push(row);
    assert.deepEqual(
      rows.map((r) => r.errors.map((e) => e.column)),
      [['与户主关系']],
    );
  });
});
