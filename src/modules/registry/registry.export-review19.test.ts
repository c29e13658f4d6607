// The registry export after a child ledger (session 19 review, tester-files finding "the region export
// silently leaves out persons the child-ledger import created"; EXCHANGE.md "Registry template"):
// - the ledger registers entrusted carers and grandparents without a household; the export left them
//   out, so the children's rows named a carer (委托照护人身份号码) that was not in the file, and the
//   file imported elsewhere refused those children;
// - parents named without ID number or birth date cannot be held by the template at all, and the
//   export said nothing of them ("exported 22 persons" of 28).
// Now every person with an ID number is written (one without a household under 无户编号-<id>), and
// exportGaps names the others with the reason. Runs on PGlite, or PostgreSQL with TEST_DATABASE_URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { scratchFolder, reasonsByName } from '../../../test/support/files.ts';
import { csvOf } from '../../../test/support/ledger-files.ts';
import { apiCall, signedInClients } from '../../../test/support/access.ts';
import { systemActor } from '../access/index.ts';
import { executeCommand } from '../../cli/command.ts';
import { findCommand } from '../../cli/commands.ts';
import { makeIdNumber } from './registry.idnumber.ts';
import { importRegistryFile, type Importer } from './registry.import.ts';
import { importLedgerFile } from './registry.import-ledger.ts';
import { exportGaps, HOUSEHOLDLESS_PREFIX, registryRecords } from './registry.export.ts';
import { recordToCells, type RegistryRecord } from './registry.template.ts';
import { writeRegistryRecords } from './registry.writer.ts';

const LANKAO = '410225';
const NANZHANG = '410225102200'; // 南彰镇 南彰村
const TODAY = '2026-11-29';
const lankao: Importer = { regionCode: LANKAO, userId: null, auditActor: systemActor('test') };

const id = (birth: string, seq: number) => makeIdNumber(LANKAO, birth, seq);
const ids = {
  longTwin: id('2015-03-01', 13),
  tigerTwin: id('2015-03-01', 24),
  wangFather: id('1985-01-01', 11),
  wangMother: id('1986-02-02', 22),
  grandpa: id('1955-01-01', 19),
  li: id('2017-06-06', 26),
  liFather: id('1983-02-02', 41),
  liMother: id('1988-05-05', 42),
  sun: id('2012-07-07', 35),
  sunMother: id('1980-10-10', 28),
  uncle: id('1978-04-04', 37),
};

const HEADER = ['姓名', '性别', '出生日期', '公民身份号码', '户籍所在地', '父亲姓名', '父亲出生日期', '父亲公民身份号码', '父亲务工地点', '母亲姓名', '母亲公民身份号码', '母亲务工地点', '父母双方同时外出', '有无委托监护人', '委托监护人姓名', '委托监护人公民身份号码', '委托监护人与儿童关系', '祖母姓名', '祖母出生日期']; // prettier-ignore
/**
 * The tester's village ledger (l1-township.xlsx, 南彰村): carers with and without ID numbers, a
 * grandmother with a birth date only, parents named only, a parent with a birth date only.
 */
const LEDGER = [
  HEADER,
  ['王小龙', '男', '2015-03-01', ids.longTwin, '南彰镇南彰村', '王大山', '', ids.wangFather, '浙江省杭州市', '刘芳', ids.wangMother, '浙江省杭州市', '是', '是', '王老汉', ids.grandpa, '祖父', '王桂兰', '1956-02-03'], // prettier-ignore
  ['王小虎', '女', '2015-03-01', ids.tigerTwin, '南彰镇南彰村', '王大山', '', ids.wangFather, '浙江省杭州市', '刘芳', ids.wangMother, '浙江省杭州市', '是', '是', '王老汉', ids.grandpa, '祖父', '王桂兰', '1956-02-03'], // prettier-ignore
  ['李小花', '女', '2017-06-06', ids.li, '南彰镇南彰村', '李建国', '', ids.liFather, '广东省深圳市', '赵敏', ids.liMother, '广东省深圳市', '是', '是', '张桂英', '', '外婆', '', ''], // prettier-ignore
  ['周小雨', '女', '2019-08-08', '', '南彰镇南彰村', '周大海', '', '', '上海市', '吴霞', '', '上海市', '是', '是', '周奶奶', '', '祖母', '', ''], // prettier-ignore
  ['孙小明', '男', '2012-07-07', ids.sun, '南彰镇南彰村', '孙大力', '1979-09-09', '', '北京市', '周丽', ids.sunMother, '北京市', '是', '是', '孙二叔', ids.uncle, '叔叔', '', ''], // prettier-ignore
];

const scratch = scratchFolder('shouhu-export-review19-');
let source: TestApp; // the county that imported the ledger
let fresh: TestApp; // another installation with only the county's regions
let records: RegistryRecord[] = [];
let exportCsv = '';
let exportXlsx = '';

async function exported(t: TestApp): Promise<RegistryRecord[]> {
  const out: RegistryRecord[] = [];
  for await (const r of registryRecords(t.ctx.db, NANZHANG, TODAY)) out.push(r);
  return out;
}

let reports = 0;
async function importExport(t: TestApp, file: string) {
  const outcome = await importRegistryFile(t.database, file, lankao, {
    today: TODAY,
    errorReportBase: scratch.path(`report-${++reports}`),
  });
  assert.equal(outcome.status, 'succeeded', JSON.stringify(outcome.message));
  return { counts: outcome.counts, reasons: await reasonsByName(outcome.errorReport?.csv) };
}

const personsInVillage = (t: TestApp) =>
  t.ctx.db
    .selectFrom('persons')
    .select(['id', 'name'])
    .where('hukou_region_code', '=', NANZHANG)
    .where('merged_into', 'is', null)
    .orderBy('id')
    .execute();

/** The links in force in a database, as "person -kind-> related" by ID number (else name). */
async function linksOf(t: TestApp): Promise<string[]> {
  const rows = await t.ctx.db
    .selectFrom('person_relations as r')
    .innerJoin('persons as a', 'a.id', 'r.person_id')
    .innerJoin('persons as b', 'b.id', 'r.related_person_id')
    .select(['a.name as a', 'a.id_number as aId', 'r.kind', 'b.name as b', 'b.id_number as bId'])
    .where('r.valid_to', 'is', null)
    .execute();
  return rows.map((r) => `${r.a}(${r.aId ?? '-'}) -${r.kind}-> ${r.b}(${r.bId ?? '-'})`).sort();
}

before(async () => {
  scratch.open();
  source = await createTestApp({ dataDir: scratch.path('source') });
  fresh = await createTestApp({ dataDir: scratch.path('fresh') });
  const ledger = scratch.fileOf('ledger.csv', '\uFEFF' + csvOf(LEDGER));
  const outcome = await importLedgerFile(source.ctx.db, ledger, lankao, {
    today: TODAY,
    errorReportBase: scratch.path('ledger-errors'),
  });
  assert.equal(outcome.status, 'succeeded', JSON.stringify(outcome.message));
  assert.deepEqual(outcome.counts, { rows: 5, inserted: 5, updated: 0, unchanged: 0, errors: 0 });
  records = await exported(source);
  exportCsv = scratch.path('export.csv');
  exportXlsx = scratch.path('export.xlsx');
  await writeRegistryRecords(exportCsv, records);
  await writeRegistryRecords(exportXlsx, records);
});
after(async () => {
  await source?.close();
  await fresh?.close();
  scratch.close();
});

describe('the export of a village a child ledger filled', () => {
  test('every person of the village is written, or named with the reason the template cannot hold them', async () => {
    const all = await personsInVillage(source);
    assert.equal(all.length, 18);
    const written = records.map((r) => r.name).sort();
    assert.deepEqual(
      written,
      ['刘芳', '周丽', '周小雨', '孙二叔', '孙大力', '孙小明', '李小花', '李建国', '王大山', '王小虎', '王小龙', '王老汉', '赵敏'].sort(), // prettier-ignore
    );
    // The carers registered without a household: written under a 户编号 of their own (no ID number in
    // it: a masked export shows the 户编号 as it is), relation 其他, sex and birth date from the number.
    for (const [name, idNumber, sex, birth] of [
      ['王老汉', ids.grandpa, 1, '1955-01-01'],
      ['孙二叔', ids.uncle, 1, '1978-04-04'],
    ] as const) {
      const r = records.find((x) => x.name === name);
      const person = all.find((p) => p.name === name);
      assert.ok(r && person, name);
      assert.deepEqual(
        [r.householdNo, r.idNumber, r.relationToHead, r.sex, r.birthDate, r.hukouRegionCode],
        [`${HOUSEHOLDLESS_PREFIX}${person.id}`, idNumber, '其他', sex, birth, NANZHANG],
      );
    }
    // The children's rows name carers that are rows of the file.
    const carers = records.filter((r) => r.carerIdNumber !== null).map((r) => [r.name, r.carerIdNumber]);
    assert.deepEqual(carers.sort(), [
      ['孙小明', ids.uncle],
      ['王小虎', ids.grandpa],
      ['王小龙', ids.grandpa],
    ]);
    const numbers = new Set(records.map((r) => r.idNumber));
    for (const r of records)
      for (const ref of [r.fatherIdNumber, r.motherIdNumber, r.spouseIdNumber, r.carerIdNumber])
        if (ref !== null) assert.ok(numbers.has(ref), `${r.name} names ${ref}, a row of the file`);

    // The others, each with what the registry lacks for a row.
    const gaps = await exportGaps(source.ctx.db, NANZHANG);
    const why = Object.fromEntries(
      gaps.persons.map((p) => [p.name, p.reasons.map((m) => m.zh.split('：')[0])]),
    );
    const [noSex, noBirth, noHousehold] = ['没有公民身份号码，也没有登记性别', '没有公民身份号码，也没有登记出生日期', '没有公民身份号码，也不属于任何户']; // prettier-ignore
    assert.deepEqual(why, {
      王桂兰: [noHousehold],
      张桂英: [noSex, noBirth, noHousehold],
      周大海: [noBirth],
      吴霞: [noBirth],
      周奶奶: [noSex, noBirth, noHousehold],
    });
    assert.ok(gaps.persons[0]?.reasons[0]?.en.startsWith('no ID number and no'));
    assert.ok(gaps.persons.every((p) => p.hukouRegionCode === NANZHANG));
    // Written and left out together are the village, each person once.
    assert.equal(records.length + gaps.persons.length, all.length);
    assert.deepEqual([...written, ...gaps.persons.map((p) => p.name)].sort(), all.map((p) => p.name).sort());
    // No row can name a person without an ID number: 王大山's mother 王桂兰, 李小花's carer 张桂英,
    // 周小雨's parents and carer, 孙小明's father 孙大力 (who is written, in 孙小明's household).
    assert.equal(gaps.linksWithoutIdNumber, 6);
    // A county's export has the village's gaps, and a village without any has none.
    assert.equal((await exportGaps(source.ctx.db, LANKAO)).persons.length, 5);
    assert.deepEqual(await exportGaps(source.ctx.db, '410225102201'), {
      persons: [],
      linksWithoutIdNumber: 0,
    });
  });

  test('imported on a fresh installation the file is taken whole with its links, the same file again (.csv or .xlsx) changes nothing, and its export is the same file', async () => {
    const first = await importExport(fresh, exportCsv);
    assert.deepEqual(first.reasons, {});
    assert.deepEqual(first.counts, { rows: 13, inserted: 13, updated: 0, unchanged: 0, errors: 0 });
    for (const file of [exportCsv, exportXlsx]) {
      const again = await importExport(fresh, file);
      assert.deepEqual(again.counts, { rows: 13, inserted: 0, updated: 0, unchanged: 13, errors: 0 }, file);
    }
    // The links the template states came across: every link of the source between persons with ID
    // numbers (the others are counted by exportGaps).
    const withIds = (links: string[]) => links.filter((l) => !l.includes('(-)'));
    const sourceLinks = withIds(await linksOf(source));
    assert.ok(sourceLinks.includes(`王小龙(${ids.longTwin}) -carer-> 王老汉(${ids.grandpa})`));
    assert.ok(sourceLinks.includes(`孙小明(${ids.sun}) -carer-> 孙二叔(${ids.uncle})`));
    assert.deepEqual(await linksOf(fresh), sourceLinks);
    // Exported there, the same rows, cell by cell.
    const back = await exported(fresh);
    assert.deepEqual(back.map(recordToCells), records.map(recordToCells));
  });

  test('imported back into the county it came from, nothing changes: no one is registered twice and the carers stay without a household', async () => {
    const before = await personsInVillage(source);
    const householdsBefore = await source.ctx.db
      .selectFrom('households')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const back = await importExport(source, exportCsv);
    assert.deepEqual(back.reasons, {});
    // 王老汉 and 孙二叔, matched by ID number under the 户编号 the export wrote for them, stay as they are.
    assert.deepEqual(back.counts, { rows: 13, inserted: 0, updated: 0, unchanged: 13, errors: 0 });
    assert.deepEqual(await personsInVillage(source), before);
    const carers = await source.ctx.db
      .selectFrom('persons as p')
      .select(['p.id', 'p.relation_to_head', 'p.household_id'])
      .where('p.id_number', 'in', [ids.grandpa, ids.uncle])
      .orderBy('p.id')
      .execute();
    assert.deepEqual(
      carers.map((c) => [c.household_id, c.relation_to_head]),
      [
        [null, null],
        [null, null],
      ],
    );
    const householdsAfter = await source.ctx.db
      .selectFrom('households')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    assert.equal(Number(householdsAfter.n), Number(householdsBefore.n));
    const again = await importExport(source, exportCsv);
    assert.deepEqual(again.counts, { rows: 13, inserted: 0, updated: 0, unchanged: 13, errors: 0 });
    assert.deepEqual((await exported(source)).map(recordToCells), records.map(recordToCells));
  });

  test('the export page and the API say what the export leaves out: GET /exports/registry/gaps, scoped and audited', async () => {
    const clients = await signedInClients(source, {
      county: ['gaps-county', 'county_staff', LANKAO],
      elsewhere: ['gaps-director', 'village_child_director', '410225102201'],
    });
    const r = await apiCall(
      source.app,
      clients.county,
      'GET',
      `/exports/registry/gaps?region=${NANZHANG}&limit=2`,
    );
    assert.equal(r.statusCode, 200, r.body);
    const body = r.json<{
      total: number;
      persons: { name: string; reasons: string[] }[];
      linksWithoutIdNumber: number;
    }>();
    assert.equal(body.total, 5);
    assert.equal(body.persons.length, 2);
    assert.equal(body.linksWithoutIdNumber, 6);
    assert.ok(
      body.persons.every((p) => p.reasons.every((m) => m.startsWith('没有公民身份号码'))),
      r.body,
    );
    const en = await apiCall(
      source.app,
      clients.county,
      'GET',
      `/exports/registry/gaps?region=${NANZHANG}`,
      undefined,
      'en',
    );
    assert.equal(en.json<{ persons: unknown[] }>().persons.length, 5);
    assert.match(en.body, /no ID number and no/);
    const audited = await source.ctx.db
      .selectFrom('audit_log')
      .select(['action', 'entity_id'])
      .where('action', '=', 'registry.export.gaps')
      .execute();
    assert.equal(audited.length, 2);
    assert.ok(audited.every((a) => a.entity_id === NANZHANG));
    // A director of another village is refused (403), and never sees the names.
    const refused = await apiCall(
      source.app,
      clients.elsewhere,
      'GET',
      `/exports/registry/gaps?region=${NANZHANG}`,
    );
    assert.equal(refused.statusCode, 403);
    assert.doesNotMatch(refused.body, /王桂兰|张桂英/);
  });

  test('shouhu export says what the file leaves out, each person with the reason', async () => {
    const found = findCommand(['export', '--region', NANZHANG, '--out', scratch.path('cli-export.csv')]);
    assert.ok(found);
    const out: string[] = [];
    const code = await executeCommand(found.command, found.rest, source.ctx, {
      print: (line) => out.push(line),
      error: (line) => out.push(line),
      progress: () => {},
    });
    assert.equal(code, 0, out.join('\n'));
    const text = out.join('\n');
    assert.match(text, /^exported 13 persons to /m);
    assert.match(text, new RegExp(`^not exported: 5 persons of ${NANZHANG}`, 'm'));
    assert.match(text, /^ {2}person \d+ 张桂英 \(410225102200\): 没有公民身份号码，也没有登记性别/m);
    assert.match(text, /^links not in the file: 6 /m);
  });
});
