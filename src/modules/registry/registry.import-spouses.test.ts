// A remarriage by file, session 12: a row naming a spouse other than the one on record ends the
// marriage on record (to a living third person) on the import day, with the link kept and its end;
// the rules then see one spouse. A late spouse's link stays (the registry keeps it at a death), and
// the export names the newest marriage so that it imports back unchanged; a re-import changes nothing;
// a dry run writes nothing. Runs on PGlite, or PostgreSQL with
// TEST_DATABASE_URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { scratchFolder, templateCsv } from '../../../test/support/files.ts';
import { insertFactRow } from '../../../test/support/registry-rows.ts';
import { systemActor } from '../access/index.ts';
import { makeIdNumber } from './registry.idnumber.ts';
import { importRegistryFile, type Importer } from './registry.import.ts';
import { registryRecords } from './registry.export.ts';
import { writeRegistryRecords } from './registry.writer.ts';

const VILLAGE = '410225101200'; // 堌阳镇 城内村
const FIRST_DAY = '2026-01-10';
const SECOND_DAY = '2026-11-29';

let t: TestApp;
const scratch = scratchFolder('shouhu-import-spouses-');

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
const run = (source: string, today: string, dryRun = false) =>
  importRegistryFile(t.database, source, importer, { today, dryRun });

const he = makeIdNumber('410225', '1980-01-01', 11);
const first = makeIdNumber('410225', '1982-01-01', 12);
const second = makeIdNumber('410225', '1985-01-01', 14);
const widower = makeIdNumber('410225', '1950-01-01', 13);
const late = makeIdNumber('410225', '1952-01-01', 16);
const next = makeIdNumber('410225', '1955-01-01', 18);
// Couples whose wife is registered after her husband: a link is stored under the smaller person id,
// so her remarriage finds the marriage on record from its other side.
const husband = makeIdNumber('410225', '1978-01-01', 21);
const wife = makeIdNumber('410225', '1979-01-01', 22);
const newHusband = makeIdNumber('410225', '1977-01-01', 23);
const lateHusband = makeIdNumber('410225', '1948-01-01', 25);
const widow = makeIdNumber('410225', '1950-02-01', 26);
const widowsNew = makeIdNumber('410225', '1949-01-01', 27);

const row = (householdNo: string, name: string, id: string, relation: string, spouse = '') => ({
  户编号: householdNo,
  姓名: name,
  公民身份号码: id,
  与户主关系: relation,
  户籍地代码: VILLAGE,
  配偶身份号码: spouse,
});

/** A death recorded on the person with this ID number (by a clerk, between two imports). */
async function recordDeath(idNumber: string, from: string) {
  const person = await t.ctx.db
    .selectFrom('persons')
    .select('id')
    .where('id_number', '=', idNumber)
    .executeTakeFirstOrThrow();
  await insertFactRow(t.ctx.db, person.id, { kind: 'death', from });
}

async function spouseLinks(idNumber: string) {
  const person = await t.ctx.db
    .selectFrom('persons')
    .select('id')
    .where('id_number', '=', idNumber)
    .executeTakeFirstOrThrow();
  const links = await t.ctx.db
    .selectFrom('person_relations as r')
    .innerJoin('persons as a', 'a.id', 'r.person_id')
    .innerJoin('persons as b', 'b.id', 'r.related_person_id')
    .select(['a.name as a', 'b.name as b', 'r.valid_to'])
    .where('r.kind', '=', 'spouse')
    .where((eb) => eb.or([eb('r.person_id', '=', person.id), eb('r.related_person_id', '=', person.id)]))
    .orderBy('r.id')
    .execute();
  return links.map((l) => [[l.a, l.b].sort().join('-'), l.valid_to]);
}

describe('a remarriage by file', () => {
  test('the marriage on record to a living person ends on the import day; re-import and dry run change nothing', async () => {
    const married = await run(
      file([row('SP-1', '陈甲', he, '户主', first), row('SP-1', '林乙', first, '配偶', he)]),
      FIRST_DAY,
    );
    assert.deepEqual(married.counts, { rows: 2, inserted: 2, updated: 0, unchanged: 0, errors: 0 });

    const remarriage = file([
      row('SP-1', '陈甲', he, '户主', second),
      row('SP-1', '黄丙', second, '配偶', he),
      row('SP-2', '林乙', first, '户主'),
    ]);
    const dry = await run(remarriage, SECOND_DAY, true);
    assert.deepEqual(dry.counts, { rows: 3, inserted: 1, updated: 2, unchanged: 0, errors: 0 });
    assert.deepEqual(await spouseLinks(he), [['林乙-陈甲', null]]);

    const again = await run(remarriage, SECOND_DAY);
    assert.deepEqual(again.counts, { rows: 3, inserted: 1, updated: 2, unchanged: 0, errors: 0 });
    assert.deepEqual(await spouseLinks(he), [
      ['林乙-陈甲', SECOND_DAY],
      ['陈甲-黄丙', null],
    ]);
    const once = await run(remarriage, SECOND_DAY);
    assert.deepEqual(once.counts, { rows: 3, inserted: 0, updated: 0, unchanged: 3, errors: 0 });
  });

  test('the marriage ends whichever side of the stored link remarries; a late husband’s link stays', async () => {
    await run(
      file([
        row('SP-4', '赵庚', husband, '户主', wife),
        row('SP-4', '钱辛', wife, '配偶', husband),
        row('SP-5', '孙壬', lateHusband, '户主', widow),
        row('SP-5', '李癸', widow, '配偶', lateHusband),
      ]),
      FIRST_DAY,
    );
    await recordDeath(lateHusband, '2026-05-01');
    const outcome = await run(
      file([
        row('SP-4', '赵庚', husband, '户主'),
        row('SP-6', '钱辛', wife, '户主', newHusband),
        row('SP-6', '周子', newHusband, '配偶', wife),
        row('SP-5', '李癸', widow, '户主', widowsNew),
        row('SP-5', '吴丑', widowsNew, '配偶', widow),
      ]),
      SECOND_DAY,
    );
    assert.equal(outcome.status, 'succeeded');
    assert.deepEqual(await spouseLinks(wife), [
      ['赵庚-钱辛', SECOND_DAY],
      ['周子-钱辛', null],
    ]);
    assert.deepEqual(await spouseLinks(widow), [
      ['孙壬-李癸', null],
      ['吴丑-李癸', null],
    ]);
  });

  test('a late spouse’s link stays open beside the new marriage', async () => {
    await run(
      file([row('SP-3', '何丁', widower, '户主', late), row('SP-3', '吕戊', late, '配偶', widower)]),
      FIRST_DAY,
    );
    await recordDeath(late, '2026-03-01');
    const outcome = await run(
      file([row('SP-3', '何丁', widower, '户主', next), row('SP-3', '施己', next, '配偶', widower)]),
      SECOND_DAY,
    );
    assert.equal(outcome.status, 'succeeded');
    assert.deepEqual(await spouseLinks(widower), [
      ['何丁-吕戊', null],
      ['何丁-施己', null],
    ]);
    // The export names the newest marriage, and imports back unchanged.
    const records = [];
    for await (const r of registryRecords(t.ctx.db, VILLAGE, SECOND_DAY)) records.push(r);
    assert.equal(records.find((r) => r.idNumber === widower)?.spouseIdNumber, next);
    const exported = scratch.path('export.csv');
    await writeRegistryRecords(exported, records);
    const back = await run(exported, SECOND_DAY);
    assert.equal(back.counts.inserted + back.counts.updated, 0, JSON.stringify(back.counts));
    assert.deepEqual(await spouseLinks(widower), [
      ['何丁-吕戊', null],
      ['何丁-施己', null],
    ]);
  });
});
