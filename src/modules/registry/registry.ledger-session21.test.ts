// Child ledger, session 21: a later ledger stating a parent is at home (在家, 本县 ...) ends the
// migration an earlier one recorded, never one a later ledger holds (finding ledgers F2); 填报日期 in
// the signature block below the data dates the ledger as one in the title rows, the title's winning
// when the two differ, and an undated ledger says so in the import's message (ledgers F4); an ID
// number matched to a registered person of another name names that person only to an importer who
// may reveal ID numbers, and every match of an ID number to a registered person is audited, a dry
// run's too (access F3).
// Runs on PGlite, or PostgreSQL with TEST_DATABASE_URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { makeUser, signIn } from '../../../test/support/access.ts';
import { reasonsByName } from '../../../test/support/files.ts';
import { lankaoLedgerFiles, xlsx } from '../../../test/support/ledger-files.ts';
import { multipartFile } from '../../../test/support/upload.ts';
import { permissionsOf, systemActor, type Actor, type Role } from '../access/index.ts';
import { makeIdNumber } from './registry.idnumber.ts';
import type { Importer } from './registry.import.ts';
import { importLedgerFile, ledgerFactChanges, type LedgerStoredFact } from './registry.import-ledger.ts';

const LANKAO = '410225';
const NANZHANG = '410225102';
const TODAY = '2026-11-30';

const { scratch, fileOf, parse } = lankaoLedgerFiles('shouhu-ledger-session21-', TODAY);

let t: TestApp;
const county: Importer = { regionCode: LANKAO, userId: null, auditActor: systemActor('test') };

before(async () => {
  t = await createTestApp({ dataDir: scratch.path('data') });
});
after(async () => t?.close());

const HEADER = ['序号', '姓名', '性别', '出生日期', '公民身份号码', '户籍所在地', '父亲姓名', '父亲公民身份号码', '父亲务工地点', '母亲姓名', '母亲公民身份号码', '母亲务工地点', '父母双方同时外出']; // prettier-ignore

interface Child {
  name: string;
  id: string;
  birth: string;
  father: { name: string; id: string };
  mother: { name: string; id: string };
}

let serial = 0;
/** A child of 南彰镇南彰村 with both parents named by ID number. */
function child(name: string, birth: string): Child {
  serial += 1;
  return {
    name,
    birth,
    id: makeIdNumber(LANKAO, birth, 500 + serial * 2),
    father: { name: `${name}父`, id: makeIdNumber(LANKAO, '1986-01-01', 500 + serial * 2 + 1) },
    mother: { name: `${name}母`, id: makeIdNumber(LANKAO, '1987-02-02', 500 + serial * 2) },
  };
}

const rowOf = (c: Child, father: string, mother: string, both: string) => [
  1, c.name, '女', c.birth, c.id, '南彰镇南彰村',
  c.father.name, c.father.id, father, c.mother.name, c.mother.id, mother, both,
]; // prettier-ignore

let files = 0;
/**
 * A ledger in the county layout: a title, 填报单位 (with 填报日期 when `title` is given), the columns,
 * the rows, a blank row and the signature block (with 填报日期 when `footer` is given).
 */
async function ledgerFile(
  rows: readonly (readonly (string | number)[])[],
  dates: { title?: string; footer?: string; footerCells?: (string | Date)[] } = {},
) {
  const content = await xlsx((wb) => {
    const sheet = wb.addWorksheet('Sheet1');
    sheet.addRow(['农村留守儿童基本情况登记表']);
    sheet.mergeCells(1, 1, 1, HEADER.length);
    sheet.addRow(['填报单位（盖章）：南彰镇人民政府', ...(dates.title ? [`填报日期：${dates.title}`] : [])]);
    sheet.addRow(HEADER);
    for (const r of rows) sheet.addRow([...r]);
    sheet.addRow([]);
    sheet.addRow([
      '填表人：张三',
      '',
      '',
      '审核人：李四',
      '',
      '',
      ...(dates.footer ? [`填报日期：${dates.footer}`] : []),
      ...(dates.footerCells ?? []),
    ]);
  });
  files += 1;
  return fileOf(`ledger-${files}.xlsx`, content);
}

async function importLedger(
  rows: readonly (readonly (string | number)[])[],
  dates: { title?: string; footer?: string; footerCells?: (string | Date)[] } = {},
  importer = county,
  options: { dryRun?: boolean; importId?: number } = {},
) {
  const file = await ledgerFile(rows, dates);
  const outcome = await importLedgerFile(t.ctx.db, file, importer, {
    today: TODAY,
    errorReportBase: scratch.path(`ledger-${files}-errors`),
    ...options,
  });
  assert.equal(outcome.status, 'succeeded', JSON.stringify(outcome.message));
  return { outcome, reasons: await reasonsByName(outcome.errorReport?.csv) };
}

const personId = async (idNumber: string) =>
  (
    await t.ctx.db
      .selectFrom('persons')
      .select('id')
      .where('id_number', '=', idNumber)
      .executeTakeFirstOrThrow()
  ).id;

/** The person's migrations (not retracted): [from, to, destination]. */
async function migrations(idNumber: string): Promise<[string, string | null, unknown][]> {
  const rows = await t.ctx.db
    .selectFrom('person_facts')
    .select(['valid_from', 'valid_to', 'data'])
    .where('person_id', '=', await personId(idNumber))
    .where('kind', '=', 'migration')
    .where('retracted_at', 'is', null)
    .orderBy('valid_from')
    .execute();
  return rows.map((r) => [r.valid_from, r.valid_to, (r.data as { destination?: unknown }).destination]);
}

async function declarationsFrom(idNumber: string): Promise<string[]> {
  const rows = await t.ctx.db
    .selectFrom('person_facts')
    .select('valid_from')
    .where('person_id', '=', await personId(idNumber))
    .where('kind', '=', 'ledger_declaration')
    .where('retracted_at', 'is', null)
    .orderBy('valid_from')
    .execute();
  return rows.map((r) => r.valid_from);
}

async function openGroups(idNumber: string): Promise<string[]> {
  const rows = await t.ctx.db
    .selectFrom('group_memberships')
    .select('group_code')
    .where('person_id', '=', await personId(idNumber))
    .where('until', 'is', null)
    .orderBy('group_code')
    .execute();
  return rows.map((r) => r.group_code);
}

describe('a later ledger stating a parent at home ends the migration (ledgers F2)', () => {
  test('the parsed parent keeps “stated at home” apart from an empty work place', async () => {
    const c = child('甲', '2016-01-01');
    const file = await ledgerFile(
      ['在家', '在家务农', '本地', '本县', '兰考县城', '务农（在家）', '', '已故', '广东省深圳市'].map(
        (place, i) => rowOf({ ...c, id: makeIdNumber(LANKAO, '2016-01-01', 900 + i * 2) }, place, '', ''),
      ),
    );
    const rows = await parse(file);
    assert.deepEqual(
      rows.map((r) => [r.raw['父亲务工地点'], r.father?.workplace ?? null, r.father?.atHome ?? false]),
      [
        ['在家', null, true],
        ['在家务农', null, true],
        ['本地', null, true],
        ['本县', null, true],
        ['兰考县城', null, true],
        ['务农（在家）', null, true],
        ['', null, false],
        ['已故', null, false],
        ['广东省深圳市', '广东省深圳市', false],
      ],
    );
  });

  test('在家 in a ledger dated after the migration ends it on that date; the child leaves the group and the review agrees; the same file again changes nothing', async () => {
    const c = child('阿依古丽·买买提', '2016-05-05');
    const first = await importLedger([rowOf(c, '广东省深圳市', '广东省深圳市', '是')], {
      title: '2026年5月10日',
    });
    assert.deepEqual(first.outcome.counts, { rows: 1, inserted: 1, updated: 0, unchanged: 0, errors: 0 });
    assert.deepEqual(await migrations(c.father.id), [['2026-05-10', null, '广东省深圳市']]);
    assert.deepEqual(await openGroups(c.id), ['left_behind_child']);

    const later = await importLedger([rowOf(c, '在家', '广东省深圳市', '否')], { title: '2026年11月20日' });
    assert.deepEqual(later.outcome.counts, { rows: 1, inserted: 0, updated: 1, unchanged: 0, errors: 0 });
    // History kept: the migration ends on the later ledger's date.
    assert.deepEqual(await migrations(c.father.id), [['2026-05-10', '2026-11-20', '广东省深圳市']]);
    assert.deepEqual(await migrations(c.mother.id), [['2026-05-10', null, '广东省深圳市']]);
    assert.deepEqual(await openGroups(c.id), []);
    // The review agrees with the ledger's 父母双方同时外出 (否); what it still reports is that a ledger of
    // left-behind children lists a child whose father is at home.
    assert.deepEqual(
      later.outcome.review?.disagreements
        .filter((d) => d.name === c.name)
        .map((d) => [d.question, d.declared, d.derived]),
      [['left_behind_child', '是', '否']],
      JSON.stringify(later.outcome.review),
    );

    const again = await importLedger([rowOf(c, '在家', '广东省深圳市', '否')], { title: '2026年11月20日' });
    assert.deepEqual(again.outcome.counts, { rows: 1, inserted: 0, updated: 0, unchanged: 1, errors: 0 });
    assert.deepEqual(await migrations(c.father.id), [['2026-05-10', '2026-11-20', '广东省深圳市']]);
  });

  test('本县 ends it too; an empty work place is no evidence and ends nothing', async () => {
    const c = child('李本县', '2015-03-03');
    await importLedger([rowOf(c, '北京市', '北京市', '是')], { title: '2026年5月10日' });
    await importLedger([rowOf(c, '', '', '')], { title: '2026年8月1日' });
    assert.deepEqual(await migrations(c.father.id), [['2026-05-10', null, '北京市']]);
    assert.deepEqual(await migrations(c.mother.id), [['2026-05-10', null, '北京市']]);
    await importLedger([rowOf(c, '本县', '北京市', '否')], { title: '2026年9月1日' });
    assert.deepEqual(await migrations(c.father.id), [['2026-05-10', '2026-09-01', '北京市']]);
  });

  test('an older ledger never rewrites a later one: 在家 before the migration’s start, or in force then but confirmed by a later ledger, ends nothing', async () => {
    const c = child('王早', '2014-04-04');
    await importLedger([rowOf(c, '上海市', '上海市', '是')], { title: '2026年5月10日' });
    // Dated before the migration started: it speaks of an earlier time.
    const older = await importLedger([rowOf(c, '在家', '在家', '否')], { title: '2026年3月1日' });
    assert.equal(older.outcome.counts.errors, 0);
    assert.deepEqual(await migrations(c.father.id), [['2026-05-10', null, '上海市']]);

    // A ledger of 2026-08-01 confirms the migration; one of 2026-06-01 saying 在家 comes after it.
    await importLedger([rowOf(c, '上海市', '上海市', '是')], { title: '2026年8月1日' });
    await importLedger([rowOf(c, '在家', '上海市', '否')], { title: '2026年6月1日' });
    assert.deepEqual(await migrations(c.father.id), [['2026-05-10', null, '上海市']]);
    assert.deepEqual(await openGroups(c.id), ['left_behind_child']);
  });

  test('a file that says the father is away on one sibling’s row and at home on the other’s ends nothing, and imports again unchanged', async () => {
    const elder = child('刘大', '2013-03-03');
    const younger = { ...child('刘二', '2015-05-05'), father: elder.father, mother: elder.mother };
    await importLedger([rowOf(elder, '广东省深圳市', '广东省深圳市', '是')], { title: '2026年5月10日' });
    const rows = [
      rowOf(elder, '广东省深圳市', '广东省深圳市', '是'),
      rowOf(younger, '在家', '广东省深圳市', '否'),
    ];
    const first = await importLedger(rows, { title: '2026年11月20日' });
    assert.equal(first.outcome.counts.errors, 0);
    assert.deepEqual(await migrations(elder.father.id), [['2026-05-10', null, '广东省深圳市']]);
    const again = await importLedger(rows, { title: '2026年11月20日' });
    assert.deepEqual(again.outcome.counts, { rows: 2, inserted: 0, updated: 0, unchanged: 2, errors: 0 });
  });

  test('ledgerFactChanges (pure): an end the ledger states closes the period in force on its date, unless later news holds it', () => {
    const fact = (id: number, from: string, to: string | null): LedgerStoredFact => ({
      id,
      kind: 'migration',
      valid_from: from,
      valid_to: to,
      data: { destination: '深圳' },
      ended_by_fact_id: null,
    });
    const end = ['migration'] as const;
    assert.deepEqual(
      ledgerFactChanges([fact(1, '2026-05-10', null)], [], '2026-11-20', '2026-11-20', [], end),
      [{ op: 'close', id: 1, to: '2026-11-20' }],
    );
    // Starting on the ledger's own date or later, ended already, or confirmed by a later ledger: untouched.
    assert.deepEqual(
      ledgerFactChanges([fact(1, '2026-11-20', null)], [], '2026-11-20', '2026-11-20', [], end),
      [],
    );
    assert.deepEqual(
      ledgerFactChanges([fact(1, '2026-12-01', null)], [], '2026-11-20', '2026-11-20', [], end),
      [],
    );
    assert.deepEqual(
      ledgerFactChanges([fact(1, '2026-05-10', '2026-06-01')], [], '2026-11-20', '2026-11-20', [], end),
      [],
    );
    assert.deepEqual(
      ledgerFactChanges([fact(1, '2026-05-10', null)], [], '2026-06-01', '2026-06-01', ['2026-08-01'], end),
      [],
    );
  });
});

describe('填报日期 in the signature block below the data (ledgers F4)', () => {
  test('the footer’s date dates the ledger: the migration and the declaration start on it; no message', async () => {
    const c = child('周小军', '2016-09-09');
    const { outcome } = await importLedger([rowOf(c, '广东省东莞市', '广东省东莞市', '是')], {
      footer: '2026年3月1日',
    });
    assert.deepEqual(outcome.counts, { rows: 1, inserted: 1, updated: 0, unchanged: 0, errors: 0 });
    assert.equal(outcome.message, null);
    assert.deepEqual(await migrations(c.father.id), [['2026-03-01', null, '广东省东莞市']]);
    assert.deepEqual(await declarationsFrom(c.id), ['2026-03-01']);
  });

  test('the label in one cell and the date in the next (a date cell) date it too', async () => {
    const c = child('周小格', '2016-10-10');
    await importLedger([rowOf(c, '广东省东莞市', '广东省东莞市', '是')], {
      footerCells: ['填报日期：', new Date(Date.UTC(2026, 1, 14))],
    });
    assert.deepEqual(await migrations(c.father.id), [['2026-02-14', null, '广东省东莞市']]);
  });

  test('an older ledger dated in its footer, imported after a later one, adds history and rewrites nothing', async () => {
    const c = child('周后', '2016-08-08');
    await importLedger([rowOf(c, '广东省东莞市', '广东省东莞市', '是')], { title: '2026年11月25日' });
    const old = await importLedger([rowOf(c, '上海市', '上海市', '是')], { footer: '2026年1月1日' });
    assert.equal(old.outcome.counts.errors, 0);
    assert.deepEqual(await migrations(c.father.id), [
      ['2026-01-01', '2026-11-25', '上海市'],
      ['2026-11-25', null, '广东省东莞市'],
    ]);
  });

  test('the title and the footer giving different dates: the title’s dates the ledger and the message names both', async () => {
    const c = child('周两日', '2016-07-07');
    const { outcome } = await importLedger([rowOf(c, '广东省东莞市', '广东省东莞市', '是')], {
      title: '2026年4月1日',
      footer: '2026年4月3日',
    });
    assert.deepEqual(await migrations(c.father.id), [['2026-04-01', null, '广东省东莞市']]);
    assert.match(
      outcome.message?.zh ?? '',
      /标题行的填报日期为2026-04-01，表尾为2026-04-03：按标题行的2026-04-01记录/,
    );
    assert.match(outcome.message?.en ?? '', /2026-04-01 in the title rows and 2026-04-03 below the data/);
    // The same date in both: nothing to say.
    const d = child('周同日', '2016-06-06');
    const same = await importLedger([rowOf(d, '广东省东莞市', '广东省东莞市', '是')], {
      title: '2026年4月1日',
      footer: '2026-04-01',
    });
    assert.equal(same.outcome.message, null);
  });

  test('a ledger without 填报日期: the import says it is dated by the import day', async () => {
    const c = child('周无日', '2016-05-06');
    const { outcome } = await importLedger([rowOf(c, '广东省东莞市', '广东省东莞市', '是')]);
    assert.deepEqual(await migrations(c.father.id), [[TODAY, null, '广东省东莞市']]);
    assert.match(outcome.message?.zh ?? '', new RegExp(`台账未写填报日期，按导入日期（${TODAY}）记录`));
    assert.match(
      outcome.message?.en ?? '',
      new RegExp(`no 填报日期.*dated by the import day \\(${TODAY}\\)`),
    );
  });
});

describe('an ID number of a registered person of another name, and the audit of ID matches (access F3)', () => {
  const actorOf = (role: Role, regionCode: string, username: string): Actor => ({
    kind: 'user',
    userId: null,
    tokenId: null,
    username,
    role,
    regionCode,
    permissions: permissionsOf(role, false),
    individualAccess: false,
    ip: '127.0.0.1',
    sessionId: null,
  });
  const supervisor: Importer = {
    regionCode: NANZHANG,
    userId: null,
    auditActor: actorOf('township_supervisor', NANZHANG, 's21.supervisor'),
  };
  const countyStaff: Importer = {
    regionCode: LANKAO,
    userId: null,
    auditActor: actorOf('county_staff', LANKAO, 's21.county'),
  };

  async function matchesAudited(username: string) {
    return t.ctx.db
      .selectFrom('audit_log')
      .select(['action', 'entity_type', 'entity_id', 'details', 'region_code'])
      .where('actor_username', '=', username)
      .where('action', '=', 'person.id_matched')
      .orderBy('id')
      .execute();
  }

  test('an importer without persons.reveal is not told the registered name; each match is audited, in a dry run too', async () => {
    const wu = child('武强', '2020-04-09');
    await importLedger([rowOf(wu, '北京市', '北京市', '是')], { title: '2026年5月1日' });
    const wuId = await personId(wu.id);
    const probe = { ...wu, name: '王某某' };
    const { outcome, reasons } = await importLedger(
      [rowOf(probe, '北京市', '北京市', '是')],
      { title: '2026年6月1日' },
      supervisor,
      { dryRun: true, importId: 9001 },
    );
    assert.equal(outcome.counts.errors, 1);
    const reason = reasons['王某某'] ?? '';
    assert.doesNotMatch(reason, /武强/);
    assert.match(reason, /公民身份号码对应的登记人员姓名与台账“王某某”不一致，请核对身份号码或姓名/);
    const audited = await matchesAudited('s21.supervisor');
    const village = (
      await t.ctx.db
        .selectFrom('persons')
        .select('hukou_region_code')
        .where('id', '=', wuId)
        .executeTakeFirstOrThrow()
    ).hukou_region_code;
    assert.deepEqual(
      audited.map((a) => [a.entity_type, a.entity_id, a.region_code]),
      [['person', String(wuId), village]],
    );
    assert.deepEqual(audited[0]?.details, {
      via: 'import',
      importId: 9001,
      kind: 'ledger',
      dryRun: true,
      column: '公民身份号码',
      nameDiffers: true,
    });
  });

  test('an importer who may reveal is told the name; the same match is audited once per person', async () => {
    const li = child('李四强', '2019-03-03');
    await importLedger([rowOf(li, '北京市', '北京市', '是')], { title: '2026年5月1日' });
    const { reasons } = await importLedger(
      [rowOf({ ...li, name: '王某乙' }, '北京市', '北京市', '是')],
      { title: '2026年6月1日' },
      countyStaff,
      { dryRun: true },
    );
    assert.match(reasons['王某乙'] ?? '', /公民身份号码对应的登记人员姓名为李四强，与台账“王某乙”不一致/);
    // The child and both parents are matched by their ID numbers: three persons, one entry each.
    const ok = await importLedger(
      [rowOf(li, '北京市', '北京市', '是')],
      { title: '2026年6月1日' },
      countyStaff,
    );
    assert.equal(ok.outcome.counts.errors, 0);
    const audited = await matchesAudited('s21.county');
    const ids = [li.id, li.father.id, li.mother.id];
    const expected = await Promise.all(ids.map((id) => personId(id)));
    assert.deepEqual(
      audited
        .slice(1)
        .map((a) => Number(a.entity_id))
        .sort((a, b) => a - b),
      [...expected].sort((a, b) => a - b),
    );
    assert.deepEqual(
      audited.slice(1).map((a) => (a.details as { nameDiffers: boolean }).nameDiffers),
      [false, false, false],
    );
  });

  test('through the API: a township supervisor’s dry run names nobody in errors.csv and leaves the match in the audit trail', async () => {
    const zhao = child('赵子龙', '2020-02-02');
    await importLedger([rowOf(zhao, '北京市', '北京市', '是')], { title: '2026年5月1日' });
    await makeUser(t.ctx, 's21.api', 'township_supervisor', NANZHANG);
    const signed = await signIn(t.app, 's21.api');
    assert.ok(signed.client);
    const file = await ledgerFile([rowOf({ ...zhao, name: '王某丙' }, '北京市', '北京市', '是')], {
      title: '2026年6月1日',
    });
    const { payload, contentType } = multipartFile('probe.xlsx', fs.readFileSync(file));
    const posted = await t.app.inject({
      method: 'POST',
      url: '/api/v1/imports?kind=ledger&dryRun=true',
      headers: { ...signed.client.write, 'content-type': contentType },
      payload,
    });
    assert.equal(posted.statusCode, 202, posted.body);
    const importId = (posted.json() as { id: number }).id;
    await t.ctx.jobs.drain();
    const errors = await t.app.inject({
      method: 'GET',
      url: `/api/v1/imports/${importId}/errors.csv`,
      headers: signed.client.headers,
    });
    assert.equal(errors.statusCode, 200, errors.body);
    assert.doesNotMatch(errors.body, /姓名为赵子龙/);
    assert.match(errors.body, /对应的登记人员姓名与台账“王某丙”不一致/);
    const audited = await matchesAudited('s21.api');
    assert.deepEqual(
      audited.map((a) => [a.entity_id, (a.details as { importId: number; dryRun: boolean }).importId]),
      [[String(await personId(zhao.id)), importId]],
    );
  });
});
