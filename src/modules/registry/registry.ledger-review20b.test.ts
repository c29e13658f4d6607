// Child ledger, review 20 (continued): a row whose ID number belongs to a registered person of another
// name, or whose child is registered in another village, is refused naming the registered value
// (finding 3); a parent's death stated without the name (父亲姓名 已故) is taken; a name with a lost
// character (王?) is refused; a Hong Kong, Macao, Taiwan or foreign document in an ID number column is
// named as one. Also the pure rule that dates a ledger's facts (ledgerFactChanges).
// Runs on PGlite, or PostgreSQL with TEST_DATABASE_URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { reasonsByName } from '../../../test/support/files.ts';
import { csvOf, errorsOf, lankaoLedgerFiles, xlsx } from '../../../test/support/ledger-files.ts';
import { systemActor } from '../access/index.ts';
import { makeIdNumber } from './registry.idnumber.ts';
import type { Importer } from './registry.import.ts';
import { importLedgerFile, ledgerFactChanges, type LedgerStoredFact } from './registry.import-ledger.ts';
import { otherIdDocument } from './registry.ledger.ts';

const LANKAO = '410225';
const TODAY = '2026-11-29';

const { scratch, fileOf, parse } = lankaoLedgerFiles('shouhu-ledger-review20b-', TODAY);

let t: TestApp;
const county: Importer = { regionCode: LANKAO, userId: null, auditActor: systemActor('test') };
const nanzhang: Importer = { regionCode: '410225102', userId: null, auditActor: systemActor('test') };

before(async () => {
  t = await createTestApp({ dataDir: scratch.path('data') });
});
after(async () => t?.close());

let files = 0;
/** Imports a ledger dated 2026-10-15 with the rows given (columns as the rows name them). */
async function ledger(rows: readonly Record<string, string>[], importer = county) {
  const header = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const content = await xlsx((wb) => {
    const sheet = wb.addWorksheet('台账');
    sheet.addRow(['填报日期：2026年10月15日']);
    sheet.addRow(header);
    for (const r of rows) sheet.addRow(header.map((h) => r[h] ?? ''));
  });
  files += 1;
  const outcome = await importLedgerFile(t.ctx.db, fileOf(`ledger-${files}.xlsx`, content), importer, {
    today: TODAY,
    errorReportBase: scratch.path(`ledger-${files}-errors`),
  });
  return { outcome, reasons: await reasonsByName(outcome.errorReport?.csv) };
}

const personsNamed = async (names: readonly string[]) =>
  (
    await t.ctx.db
      .selectFrom('persons')
      .select('name')
      .where('name', 'in', [...names])
      .orderBy('name')
      .execute()
  ).map((p) => p.name);

const parentsOf = async (childIdNumber: string) =>
  (
    await t.ctx.db
      .selectFrom('person_relations as r')
      .innerJoin('persons as p', 'p.id', 'r.related_person_id')
      .innerJoin('persons as c', 'c.id', 'r.person_id')
      .select('p.name')
      .where('c.id_number', '=', childIdNumber)
      .where('r.kind', '=', 'parent')
      .orderBy('p.name')
      .execute()
  ).map((p) => p.name);

describe('an ID number of a registered person with another name, a child registered in another village (finding 3)', () => {
  const wangMing = makeIdNumber(LANKAO, '2016-03-04', 881);
  const wangLi = makeIdNumber(LANKAO, '2018-06-01', 882);
  const father = makeIdNumber(LANKAO, '1988-05-12', 883);
  const carer = makeIdNumber(LANKAO, '1960-02-10', 885);
  const family = (name: string, idNumber: string, birth: string) => ({
    姓名: name,
    出生日期: birth,
    公民身份号码: idNumber,
    户籍所在地: '南彰镇南彰村',
    父亲姓名: '王建国',
    父亲公民身份号码: father,
    父亲务工地点: '广东省深圳市',
    委托监护人姓名: '王老汉',
    委托监护人公民身份号码: carer,
    委托监护人与儿童关系: '祖父',
  });

  before(async () => {
    const { outcome } = await ledger([
      family('王明', wangMing, '2016-03-04'),
      family('王丽', wangLi, '2018-06-01'),
    ]);
    assert.deepEqual(outcome.counts, { rows: 2, inserted: 2, updated: 0, unchanged: 0, errors: 0 });
  });

  test('a new child whose 父亲姓名 is 王建军 with 王建国’s number is refused on 父亲公民身份号码, naming 王建国; nothing is written', async () => {
    const xiaoSan = makeIdNumber(LANKAO, '2019-09-09', 891);
    const { outcome, reasons } = await ledger([
      { ...family('王小三', xiaoSan, '2019-09-09'), 父亲姓名: '王建军' },
    ]);
    assert.deepEqual(outcome.counts, { rows: 1, inserted: 0, updated: 0, unchanged: 0, errors: 1 });
    assert.equal(
      reasons['王小三'],
      '父亲公民身份号码：父亲公民身份号码对应的登记人员姓名为王建国，与台账“王建军”不一致，请核对身份号码或姓名（已更名的，请先在人员档案中更正姓名）（第 3 行）',
    );
    assert.deepEqual(await personsNamed(['王小三', '王建军']), []);
  });

  test('王明明 with 王明’s number is refused on 公民身份号码; 王丽 with another village on 户籍所在地, naming the registered one', async () => {
    const { outcome, reasons } = await ledger([
      family('王明明', wangMing, '2016-03-04'),
      { ...family('王丽', wangLi, '2018-06-01'), 户籍所在地: '南彰镇司寨村' },
    ]);
    assert.deepEqual(outcome.counts, { rows: 2, inserted: 0, updated: 0, unchanged: 0, errors: 2 });
    assert.deepEqual(reasons, {
      王明明:
        '公民身份号码：公民身份号码对应的登记人员姓名为王明，与台账“王明明”不一致，请核对身份号码或姓名（已更名的，请先在人员档案中更正姓名）（第 3 行）',
      王丽: '户籍所在地：此儿童登记的户籍地为南彰镇南彰村（410225102200），与台账户籍所在地“南彰镇司寨村”（南彰镇司寨村）不是同一个村：请核对台账；户籍确已迁移的，请先通过登记模板（户籍地代码）办理（第 4 行）',
    });
    const registered = await t.ctx.db
      .selectFrom('persons')
      .select(['name', 'hukou_region_code'])
      .where('id_number', 'in', [wangMing, wangLi])
      .orderBy('name')
      .execute();
    assert.deepEqual(registered, [
      { name: '王丽', hukou_region_code: '410225102200' },
      { name: '王明', hukou_region_code: '410225102200' },
    ]);
  });

  test('the carer’s number with another name is refused on 委托监护人公民身份号码', async () => {
    const { outcome, reasons } = await ledger([
      { ...family('王明', wangMing, '2016-03-04'), 委托监护人姓名: '王老三', 委托监护人与儿童关系: '' },
    ]);
    assert.deepEqual(outcome.counts.errors, 1);
    assert.match(
      reasons['王明'] ?? '',
      /^委托监护人公民身份号码：委托监护人公民身份号码对应的登记人员姓名为王老汉，与台账“王老三”不一致/,
    );
  });

  test('the same names written with spaces or full-width letters are the same: the row changes nothing', async () => {
    const { outcome } = await ledger([
      { ...family('王　明', wangMing, '2016-03-04'), 父亲姓名: '王 建 国', 委托监护人姓名: ' 王老汉 ' },
    ]);
    assert.deepEqual(outcome.counts, { rows: 1, inserted: 0, updated: 0, unchanged: 1, errors: 0 });
  });

  test('a number of a person registered outside the importer’s region with another name: refused, the name not shown', async () => {
    const other = makeIdNumber(LANKAO, '2015-05-05', 771);
    const otherFather = makeIdNumber(LANKAO, '1985-05-05', 773);
    const first = await ledger([
      { 姓名: '刘远', 出生日期: '2015-05-05', 公民身份号码: other, 户籍所在地: '堌阳镇任庄村', 父亲姓名: '刘大成', 父亲公民身份号码: otherFather }, // prettier-ignore
    ]);
    assert.equal(first.outcome.counts.inserted, 1);
    const xiaoSi = makeIdNumber(LANKAO, '2019-10-10', 893);
    const { outcome, reasons } = await ledger(
      [{ ...family('王小四', xiaoSi, '2019-10-10'), 父亲姓名: '王建设', 父亲公民身份号码: otherFather }],
      nanzhang,
    );
    assert.equal(outcome.counts.errors, 1);
    assert.equal(
      reasons['王小四'],
      '父亲公民身份号码：父亲公民身份号码对应的登记人员（户籍在您的管辖范围以外）姓名与台账“王建设”不一致，请核对身份号码或姓名（第 3 行）',
    );
    assert.deepEqual(await personsNamed(['王小四', '王建设']), []);
  });
});

describe('a parent’s death without the parent’s name (父亲姓名 已故, 无监护能力原因 死亡)', () => {
  const row = (name: string, idNumber: string, birth: string, fatherName: string) => ({
    姓名: name,
    出生日期: birth,
    公民身份号码: idNumber,
    户籍所在地: '南彰镇刘堡村',
    父亲姓名: fatherName,
    母亲姓名: '周红',
    母亲务工地点: '浙江省宁波市',
    一方外出另一方无监护能力: '是',
    无监护能力方: '父亲',
    无监护能力原因: '死亡',
  });

  test('the row is taken: the child, the mother and the declaration are written, no person 已故; the message names the row and what to do', async () => {
    const child = makeIdNumber(LANKAO, '2016-05-05', 22);
    const { outcome, reasons } = await ledger([row('孙念', child, '2016-05-05', '已故')]);
    assert.deepEqual(reasons, {});
    assert.deepEqual(outcome.counts, { rows: 1, inserted: 1, updated: 0, unchanged: 0, errors: 0 });
    assert.deepEqual(await personsNamed(['已故']), []);
    assert.deepEqual(await parentsOf(child), ['周红']);
    const declaration = await t.ctx.db
      .selectFrom('person_facts as f')
      .innerJoin('persons as p', 'p.id', 'f.person_id')
      .select('f.data')
      .where('p.id_number', '=', child)
      .where('f.kind', '=', 'ledger_declaration')
      .executeTakeFirstOrThrow();
    const data = declaration.data as Record<string, unknown>;
    assert.deepEqual([data.unableParent, data.unableReason], ['father', '死亡']);
    assert.match(outcome.message?.zh ?? '', /^第3行的父亲或母亲已故，台账未填写其姓名/);
    assert.match(outcome.message?.zh ?? '', /请在儿童的人员档案中登记该父亲或母亲及其死亡/);
    assert.match(outcome.message?.en ?? '', /^rows 3: the father or mother died/);
    // Imported again: nothing changes.
    const again = await ledger([row('孙念', child, '2016-05-05', '已故')]);
    assert.deepEqual(again.outcome.counts, { rows: 1, inserted: 0, updated: 0, unchanged: 1, errors: 0 });
  });

  test('a father on record as the child’s: the death is recorded on him, and the message says nothing', async () => {
    const child = makeIdNumber(LANKAO, '2016-06-06', 24);
    const first = await ledger([{ ...row('钱念', child, '2016-06-06', '钱大成'), 无监护能力方: '', 无监护能力原因: '', 一方外出另一方无监护能力: '' }]); // prettier-ignore
    assert.equal(first.outcome.counts.inserted, 1);
    const { outcome } = await ledger([row('钱念', child, '2016-06-06', '—')]);
    assert.deepEqual(outcome.counts, { rows: 1, inserted: 0, updated: 1, unchanged: 0, errors: 0 });
    assert.equal(outcome.message, null);
    const deaths = await t.ctx.db
      .selectFrom('person_facts as f')
      .innerJoin('persons as p', 'p.id', 'f.person_id')
      .select(['p.name', 'f.valid_from'])
      .where('f.kind', '=', 'death')
      .where('p.name', '=', '钱大成')
      .execute();
    assert.deepEqual(deaths, [{ name: '钱大成', valid_from: '2026-10-15' }]);
  });

  test('another inability without the name is still refused, saying where the name goes', async () => {
    const child = makeIdNumber(LANKAO, '2016-07-07', 26);
    const { outcome, reasons } = await ledger([
      { ...row('李念', child, '2016-07-07', '服刑'), 无监护能力原因: '服刑在押' },
    ]);
    assert.equal(outcome.counts.errors, 1);
    assert.equal(
      reasons['李念'],
      '无监护能力方：无监护能力方为父亲，但台账未填写其姓名：请在“父亲姓名”填写其姓名，无监护能力的情况记在其本人名下（第 3 行）',
    );
  });
});

describe('names and ID documents the ledger cannot store (parsed)', () => {
  const child = (n: number) => makeIdNumber(LANKAO, `2016-0${1 + n}-11`, 40 + 2 * n);
  async function parseRows(rows: readonly Record<string, string>[]) {
    const all = rows.map((r, i) => ({
      姓名: `童${i}`,
      公民身份号码: child(i),
      户籍所在地: '南彰镇南彰村',
      ...r,
    }));
    const headers = [...new Set(all.flatMap((r) => Object.keys(r)))];
    files += 1;
    const file = fileOf(
      `parsed-${files}.csv`,
      csvOf([headers, ...all.map((r) => headers.map((h) => (r as Record<string, string>)[h] ?? ''))]),
    );
    return parse(file);
  }

  test('a name with ?, ？ or U+FFFD in any name column is a row error on that column', async () => {
    const rows = await parseRows([
      { 姓名: '张\uFFFD' },
      { 父亲姓名: '王?国', 祖母姓名: '李？英' },
      { 委托监护人姓名: '赵?', 委托监护人与儿童关系: '邻居' },
      { 外祖父姓名: '刘国强' },
    ]);
    assert.deepEqual(
      rows.map((r) => errorsOf(r)?.map((e) => [e[0], e[1]])),
      [
        [['姓名', '张\uFFFD']],
        [
          ['父亲姓名', '王?国'],
          ['祖母姓名', '李？英'],
        ],
        [['委托监护人姓名', '赵?']],
        [],
      ],
    );
    assert.match(rows[1]?.errors[0]?.reason.zh ?? '', /^姓名中的“\?”通常是文件另存为 GBK 编码/);
  });

  test('a Hong Kong, Macao, Taiwan or foreign document in an ID number column is named, with what to do; a mistyped number is not', async () => {
    const rows = await parseRows([
      { 父亲姓名: '陈家明', 父亲公民身份号码: 'H12345678' },
      { 母亲姓名: '黄美玲', 母亲公民身份号码: 'A123456(7)' },
      { 委托监护人姓名: '林志强', 委托监护人公民身份号码: '护照E12345678' },
      { 父亲姓名: '陈大文', 父亲公民身份号码: makeIdNumber(LANKAO, '1988-05-12', 883).slice(0, 17) + 'O' },
    ]);
    assert.deepEqual(
      rows.map((r) => errorsOf(r)),
      [
        [['父亲公民身份号码', 'H12345678', '“H12345678”像是港澳居民来往内地通行证号码，不是公民身份号码：港澳台居民、外国人等没有公民身份号码的，请清空此栏，填写姓名（和出生日期）即可']], // prettier-ignore
        [['母亲公民身份号码', 'A123456(7)', '“A123456(7)”像是香港身份证号码，不是公民身份号码：港澳台居民、外国人等没有公民身份号码的，请清空此栏，填写姓名（和出生日期）即可']], // prettier-ignore
        [['委托监护人公民身份号码', '护照E12345678', '“护照E12345678”像是护照号码，不是公民身份号码：港澳台居民、外国人等没有公民身份号码的，请清空此栏，填写姓名（和出生日期）即可']], // prettier-ignore
        [['父亲公民身份号码', makeIdNumber(LANKAO, '1988-05-12', 883).slice(0, 17) + 'O', '公民身份号码只能包含数字和末位的 X，发现了：O']], // prettier-ignore
      ],
    );
    assert.deepEqual(
      ['M1234567890', 'A1234567', '1234567(8)', 'B123456789', '12345678'].map(
        (s) => otherIdDocument(s)?.zh ?? null,
      ),
      ['港澳居民来往内地通行证', '护照', '澳门身份证', '台湾身份证', null],
    );
  });
});

describe('ledgerFactChanges (pure)', () => {
  const fact = (
    id: number,
    kind: string,
    from: string,
    to: string | null,
    data: Record<string, unknown> = {},
  ): LedgerStoredFact => ({ id, kind, valid_from: from, valid_to: to, data, ended_by_fact_id: null });

  test('nothing later: the template’s reconciliation (a changed state ends the one in force)', () => {
    const stored = [fact(1, 'migration', '2026-03-01', null, { destination: '深圳' })];
    assert.deepEqual(
      ledgerFactChanges(
        stored,
        [{ kind: 'migration', mode: 'state', from: null, data: { destination: '东莞' } }],
        '2026-06-01',
        '2026-06-01',
        [],
      ),
      [
        { op: 'close', id: 1, to: '2026-06-01' },
        { op: 'insert', kind: 'migration', from: '2026-06-01', data: { destination: '东莞' }, to: null, endedBy: null }, // prettier-ignore
      ],
    );
  });

  test('a death recorded after the ledger’s date stands: no second death, nothing retracted', () => {
    const stored = [fact(1, 'death', '2026-08-01', null)];
    assert.deepEqual(
      ledgerFactChanges(stored, [{ kind: 'death', mode: 'event', from: '2026-05-01', data: {} }], '2026-05-01', '2026-05-01', []), // prettier-ignore
      [],
    );
  });

  test('a flag from an older ledger ends where the later one starts, ended by it', () => {
    const stored = [fact(7, 'serious_illness', '2026-08-01', null)];
    assert.deepEqual(
      ledgerFactChanges(stored, [{ kind: 'serious_illness', mode: 'flag', from: null, data: {} }], '2026-05-01', '2026-05-01', []), // prettier-ignore
      [{ op: 'insert', kind: 'serious_illness', from: '2026-05-01', data: {}, to: '2026-08-01', endedBy: 7 }],
    );
  });

  test('a state in force on the ledger’s date that a later ledger confirmed is not rewritten', () => {
    const stored = [fact(1, 'schooling', '2026-03-01', null, { stage: 'primary' })];
    const want = [
      { kind: 'schooling' as const, mode: 'state' as const, from: null, data: { stage: 'preschool' } },
    ];
    assert.deepEqual(ledgerFactChanges(stored, want, '2026-05-01', '2026-05-01', ['2026-08-01']), []);
    // Without the later ledger it would be ended on the ledger's date.
    assert.equal(ledgerFactChanges(stored, want, '2026-05-01', '2026-05-01', []).length, 2);
  });
});
