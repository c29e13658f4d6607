// Child ledger, review 20 (a tester's ledger round, findings 1 and 3, and earlier notes): a ledger is
// dated by its 填报日期, and one dated before a ledger already imported adds history before it but never
// rewrites, retracts or overlaps what the later one holds (the carer's assessment, the declaration, a
// parent's migration). A row whose ID number belongs to a registered person of another name, or whose
// child is registered in another village, is refused naming the registered value.
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

const { scratch, fileOf } = lankaoLedgerFiles('shouhu-ledger-review20-', TODAY);

const HEADER = ['姓名', '性别', '出生日期', '公民身份号码', '户籍所在地', '父亲姓名', '父亲公民身份号码', '父亲务工地点', '母亲姓名', '母亲公民身份号码', '母亲务工地点', '父母双方同时外出', '有无委托监护人', '委托监护人姓名', '委托监护人公民身份号码', '委托监护人与儿童关系', '监护类型']; // prettier-ignore

let t: TestApp;
const lankao: Importer = { regionCode: LANKAO, userId: null, auditActor: systemActor('test') };

before(async () => {
  t = await createTestApp({ dataDir: scratch.path('data') });
});
after(async () => t?.close());

let files = 0;
/** Imports a ledger dated `date` (2026-05-01 is written 填报日期：2026年5月1日) with the rows given. */
async function ledger(date: string | null, rows: readonly Record<string, string>[]) {
  const header = [...new Set([...HEADER, ...rows.flatMap((r) => Object.keys(r))])];
  const content = await xlsx((wb) => {
    const sheet = wb.addWorksheet('台账');
    if (date) {
      const [y, m, d] = date.split('-').map(Number);
      sheet.addRow([`填报日期：${y}年${m}月${d}日`]);
    }
    sheet.addRow(header);
    for (const r of rows) sheet.addRow(header.map((h) => r[h] ?? ''));
  });
  files += 1;
  const outcome = await importLedgerFile(t.ctx.db, fileOf(`ledger-${files}.xlsx`, content), lankao, {
    today: TODAY,
    errorReportBase: scratch.path(`ledger-${files}-errors`),
  });
  return { outcome, reasons: await reasonsByName(outcome.errorReport?.csv) };
}

async function personId(idNumber: string): Promise<number> {
  const p = await t.ctx.db
    .selectFrom('persons')
    .select('id')
    .where('id_number', '=', idNumber)
    .executeTakeFirstOrThrow();
  return p.id;
}

/** The person's facts of a kind not retracted, in date order: [from, to, what]. */
async function factsOf(idNumber: string, kind: string, what: (data: Record<string, unknown>) => unknown) {
  const rows = await t.ctx.db
    .selectFrom('person_facts')
    .select(['id', 'valid_from', 'valid_to', 'data', 'retracted_at'])
    .where('person_id', '=', await personId(idNumber))
    .where('kind', '=', kind)
    .where('retracted_at', 'is', null)
    .orderBy('valid_from')
    .orderBy('id')
    .execute();
  return rows.map((f) => [f.valid_from, f.valid_to, what(f.data as Record<string, unknown>)]);
}

/** The child's carer links, in date order: [from, to, fit, checked on, assessment]. */
async function carerLinksOf(child: string) {
  const rows = await t.ctx.db
    .selectFrom('person_relations')
    .select([
      'id',
      'valid_from',
      'valid_to',
      'carer_fit',
      'carer_fitness_checked_on',
      'guardianship_assessment',
    ])
    .where('person_id', '=', await personId(child))
    .where('kind', '=', 'carer')
    .orderBy('id')
    .execute();
  return rows
    .map((r) => [
      r.valid_from,
      r.valid_to,
      r.carer_fit,
      r.carer_fitness_checked_on,
      r.guardianship_assessment,
    ])
    .sort((a, b) => String(a[0] ?? '').localeCompare(String(b[0] ?? '')));
}

const counts = (o: { counts: unknown }) => o.counts;
const one = (status: 'inserted' | 'updated' | 'unchanged') => ({
  rows: 1,
  inserted: status === 'inserted' ? 1 : 0,
  updated: status === 'updated' ? 1 : 0,
  unchanged: status === 'unchanged' ? 1 : 0,
  errors: 0,
});

describe('a ledger dated before one already imported (finding 1)', () => {
  const child = makeIdNumber(LANKAO, '2018-06-01', 882);
  const father = makeIdNumber(LANKAO, '1988-05-12', 883);
  const mother = makeIdNumber(LANKAO, '1990-01-01', 884);
  const carer = makeIdNumber(LANKAO, '1960-02-10', 885);
  const row = (assessment: string, fatherAt = '广东省深圳市') => ({
    姓名: '王丽',
    性别: '女',
    出生日期: '2018-06-01',
    公民身份号码: child,
    户籍所在地: '南彰镇南彰村',
    父亲姓名: '王建国',
    父亲公民身份号码: father,
    父亲务工地点: fatherAt,
    母亲姓名: '李秀英',
    母亲公民身份号码: mother,
    母亲务工地点: '浙江省杭州市',
    父母双方同时外出: '是',
    有无委托监护人: '是',
    委托监护人姓名: '王老汉',
    委托监护人公民身份号码: carer,
    委托监护人与儿童关系: '祖父',
    监护类型: assessment,
  });
  const guardianship = (d: Record<string, unknown>) => d.guardianshipType;
  const destination = (d: Record<string, unknown>) => d.destination;

  test('March, then August: the August carer assessment and declaration are in force', async () => {
    assert.deepEqual(counts((await ledger('2026-03-01', [row('监护情况一般')])).outcome), one('inserted'));
    assert.deepEqual(
      counts((await ledger('2026-06-01', [row('监护情况一般', '广东省东莞市')])).outcome),
      one('updated'),
    );
    assert.deepEqual(
      counts((await ledger('2026-08-01', [row('监护情况一般', '广东省东莞市')])).outcome),
      one('updated'),
    );
    assert.deepEqual(await carerLinksOf(child), [
      [null, '2026-06-01', true, '2026-03-01', 'fair'],
      ['2026-06-01', '2026-08-01', true, '2026-06-01', 'fair'],
      ['2026-08-01', null, true, '2026-08-01', 'fair'],
    ]);
  });

  test('a May ledger imported after August changes nothing from August on; its answers fill [May, August)', async () => {
    const { outcome } = await ledger('2026-05-01', [row('受委托监护人监护能力不足')]);
    assert.deepEqual(counts(outcome), one('updated'));
    // The August assessment stands (fit, checked on 2026-08-01); May's is the record from May to June.
    assert.deepEqual(await carerLinksOf(child), [
      [null, '2026-05-01', true, '2026-03-01', 'fair'],
      ['2026-05-01', '2026-06-01', false, '2026-05-01', 'carer_insufficient'],
      ['2026-06-01', '2026-08-01', true, '2026-06-01', 'fair'],
      ['2026-08-01', null, true, '2026-08-01', 'fair'],
    ]);
    // The June and August declarations are not retracted; May's ends where June's starts.
    assert.deepEqual(await factsOf(child, 'ledger_declaration', guardianship), [
      ['2026-03-01', '2026-05-01', 'fair'],
      ['2026-05-01', '2026-06-01', 'carer_insufficient'],
      ['2026-06-01', '2026-08-01', 'fair'],
      ['2026-08-01', null, 'fair'],
    ]);
    // The father's migration: 深圳 from March, 东莞 from June (the later ledgers); May says 深圳 too.
    assert.deepEqual(await factsOf(father, 'migration', destination), [
      ['2026-03-01', '2026-06-01', '广东省深圳市'],
      ['2026-06-01', null, '广东省东莞市'],
    ]);
  });

  test('the same May ledger again, and the March one again, change nothing', async () => {
    const before = {
      carer: await carerLinksOf(child),
      declarations: await factsOf(child, 'ledger_declaration', guardianship),
      migrations: await factsOf(father, 'migration', destination),
    };
    assert.deepEqual(
      counts((await ledger('2026-05-01', [row('受委托监护人监护能力不足')])).outcome),
      one('unchanged'),
    );
    assert.deepEqual(counts((await ledger('2026-03-01', [row('监护情况一般')])).outcome), one('unchanged'));
    assert.deepEqual(
      {
        carer: await carerLinksOf(child),
        declarations: await factsOf(child, 'ledger_declaration', guardianship),
        migrations: await factsOf(father, 'migration', destination),
      },
      before,
    );
  });

  test('an April ledger naming another work place: the May ledger said 深圳 for May, so nothing of it is rewritten and no second migration opens', async () => {
    const { outcome } = await ledger('2026-04-01', [row('监护情况一般', '上海市')]);
    assert.deepEqual(counts(outcome), one('updated'));
    assert.deepEqual(await factsOf(father, 'migration', destination), [
      ['2026-03-01', '2026-06-01', '广东省深圳市'],
      ['2026-06-01', null, '广东省东莞市'],
    ]);
    assert.deepEqual((await factsOf(child, 'ledger_declaration', guardianship)).slice(0, 3), [
      ['2026-03-01', '2026-04-01', 'fair'],
      ['2026-04-01', '2026-05-01', 'fair'],
      ['2026-05-01', '2026-06-01', 'carer_insufficient'],
    ]);
  });

  test('a July ledger naming another work place: 东莞, which the August ledger confirmed, is not rewritten', async () => {
    const { outcome } = await ledger('2026-07-01', [row('监护情况一般', '上海市')]);
    assert.deepEqual(counts(outcome), one('updated'));
    const migrations = await factsOf(father, 'migration', destination);
    assert.deepEqual(migrations.slice(-1), [['2026-06-01', null, '广东省东莞市']]);
    assert.equal(migrations.filter((m) => m[1] === null).length, 1);
  });

  test('a ledger of the same day as the last one still corrects it in place', async () => {
    const { outcome } = await ledger('2026-08-01', [row('受委托监护人监护能力不足', '广东省东莞市')]);
    assert.deepEqual(counts(outcome), one('updated'));
    assert.deepEqual((await carerLinksOf(child)).slice(-1), [
      ['2026-08-01', null, false, '2026-08-01', 'carer_insufficient'],
    ]);
    assert.deepEqual((await factsOf(child, 'ledger_declaration', guardianship)).slice(-1), [
      ['2026-08-01', null, 'carer_insufficient'],
    ]);
  });
});

describe('a parent’s work place in a ledger dated before the one that recorded the next (finding 1)', () => {
  const child = makeIdNumber(LANKAO, '2017-03-03', 702);
  const father = makeIdNumber(LANKAO, '1986-07-07', 713);
  const destination = (d: Record<string, unknown>) => d.destination;
  const row = (at: string, since = '') => ({
    姓名: '赵晨',
    性别: '女',
    出生日期: '2017-03-03',
    公民身份号码: child,
    户籍所在地: '南彰镇南彰村',
    父亲姓名: '赵强',
    父亲公民身份号码: father,
    父亲务工地点: at,
    父亲外出时间: since,
  });

  test('March 深圳 and June 东莞, then April 上海: 上海 from April until June, one migration open', async () => {
    await ledger('2026-03-01', [row('广东省深圳市')]);
    await ledger('2026-06-01', [row('广东省东莞市')]);
    const { outcome } = await ledger('2026-04-01', [row('上海市')]);
    assert.deepEqual(counts(outcome), one('updated'));
    assert.deepEqual(await factsOf(father, 'migration', destination), [
      ['2026-03-01', '2026-04-01', '广东省深圳市'],
      ['2026-04-01', '2026-06-01', '上海市'],
      ['2026-06-01', null, '广东省东莞市'],
    ]);
    assert.deepEqual(counts((await ledger('2026-04-01', [row('上海市')])).outcome), one('unchanged'));
  });

  test('a start (外出时间) in an older ledger: the period it states ends where the later one starts', async () => {
    const { outcome } = await ledger('2026-02-01', [row('北京市', '2025年10月')]);
    assert.deepEqual(counts(outcome), one('updated'));
    assert.deepEqual(await factsOf(father, 'migration', destination), [
      ['2025-10-01', '2026-03-01', '北京市'],
      ['2026-03-01', '2026-04-01', '广东省深圳市'],
      ['2026-04-01', '2026-06-01', '上海市'],
      ['2026-06-01', null, '广东省东莞市'],
    ]);
  });
});
