// Template imports against what the registry already holds (session 17 review, issue 4; DOMAIN.md
// section 1, EXCHANGE.md "Registry template"):
// - a row naming another father than the biological father on record gave the person two open
//   biological fathers (the API refuses the second with 409, and the export writes one);
// - a person with no relation to the head on record (a parent a child ledger registered) is exported as
//   其他, and importing the export back wrote 其他: the round trip changed rows;
// - a row naming a father whose own row was refused for a bad cell was told the number is "neither in
//   this file nor registered", though it is on the row above;
// - sending the same file again after registering the father a row error named returned the old
//   import, with its stale error, and imported nothing.
// Runs on PGlite, or PostgreSQL with TEST_DATABASE_URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { reasonsByName, templateCsv } from '../../../test/support/files.ts';
import { multipartFile } from '../../../test/support/upload.ts';
import { createToken, systemActor } from '../access/index.ts';
import { makeIdNumber } from './registry.idnumber.ts';
import { importRegistryFile, type Importer } from './registry.import.ts';

const V1 = '410225101200'; // 堌阳镇 城内村
const TODAY = '2026-11-29';

let t: TestApp;
let dir = '';
let seq = 300;
let fileNo = 0;

function nextId(birthDate: string, sex: 1 | 2): string {
  seq += 1;
  return makeIdNumber('410225', birthDate, (sex === 1 ? seq * 2 + 1 : seq * 2) % 1000);
}

function file(rows: Record<string, string>[]): string {
  const name = path.join(dir, `f${++fileNo}.csv`);
  fs.writeFileSync(name, templateCsv(rows));
  return name;
}

const importer: Importer = { regionCode: '410225', userId: null, auditActor: systemActor('test') };

async function runImport(source: string, dryRun = false) {
  const outcome = await importRegistryFile(t.database, source, importer, {
    dryRun,
    today: TODAY,
    errorReportBase: path.join(dir, `report${++fileNo}`),
  });
  assert.equal(outcome.status, 'succeeded', JSON.stringify(outcome.message));
  return outcome;
}

async function parentsOf(idNumber: string) {
  return t.ctx.db
    .selectFrom('person_relations as r')
    .innerJoin('persons as me', 'me.id', 'r.person_id')
    .innerJoin('persons as p', 'p.id', 'r.related_person_id')
    .select(['p.name', 'r.subtype'])
    .where('me.id_number', '=', idNumber)
    .where('r.kind', '=', 'parent')
    .where('r.valid_to', 'is', null)
    .orderBy('p.name')
    .execute();
}

let countyToken = '';

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shouhu-import-review17-'));
  t = await createTestApp();
  countyToken = (
    await createToken(t.ctx, null, {
      name: 'county',
      role: 'county_staff',
      regionCode: '410225',
      individualAccess: false,
    })
  ).token;
});

after(async () => {
  await t.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('one biological father and one biological mother, by import as by the API', () => {
  test('a row naming another father than the one on record is refused naming him; the father on record stays', async () => {
    const father = nextId('1980-03-01', 1);
    const mother = nextId('1982-05-01', 2);
    const child = nextId('2012-07-01', 1);
    const first = await runImport(
      file([
        { 户编号: 'P17-1', 姓名: '甲父', 公民身份号码: father, 与户主关系: '户主', 户籍地代码: V1 },
        { 户编号: 'P17-1', 姓名: '甲母', 公民身份号码: mother, 与户主关系: '配偶', 户籍地代码: V1 },
        {
          户编号: 'P17-1',
          姓名: '甲子',
          公民身份号码: child,
          与户主关系: '子',
          户籍地代码: V1,
          父亲身份号码: father,
          母亲身份号码: mother,
        },
      ]),
    );
    assert.equal(first.counts.errors, 0, JSON.stringify(first.counts));
    assert.deepEqual(await parentsOf(child), [
      { name: '甲母', subtype: 'biological' },
      { name: '甲父', subtype: 'biological' },
    ]);

    const stranger = nextId('1978-01-01', 1);
    const rows: Record<string, string>[] = [
      { 户编号: 'P17-2', 姓名: '乙男', 公民身份号码: stranger, 与户主关系: '户主', 户籍地代码: V1 },
      {
        户编号: 'P17-1',
        姓名: '甲子',
        公民身份号码: child,
        与户主关系: '子',
        户籍地代码: V1,
        父亲身份号码: stranger,
        母亲身份号码: mother,
      },
    ];
    for (const dryRun of [true, false]) {
      const second = await runImport(file(rows), dryRun);
      assert.equal(second.counts.errors, 1, JSON.stringify(second.counts));
      assert.equal(second.counts.inserted, 1, 'the other man is registered');
      const why = (await reasonsByName(second.errorReport?.csv))['甲子'] ?? '';
      assert.match(why, /父亲身份号码/);
      assert.match(why, /此人已登记生父“甲父”\(#\d+\)/);
    }
    assert.deepEqual(await parentsOf(child), [
      { name: '甲母', subtype: 'biological' },
      { name: '甲父', subtype: 'biological' },
    ]);
    // The same father again (an export imported back) is no conflict.
    const again = await runImport(
      file([
        {
          户编号: 'P17-1',
          姓名: '甲子',
          公民身份号码: child,
          与户主关系: '子',
          户籍地代码: V1,
          父亲身份号码: father,
          母亲身份号码: mother,
        },
      ]),
    );
    assert.deepEqual(again.counts, { rows: 1, inserted: 0, updated: 0, unchanged: 1, errors: 0 });
  });
});

describe('an export imports back unchanged', () => {
  test('a relation to the head not on record is exported as 其他 and stays unrecorded when imported back', async () => {
    const head = nextId('1970-01-01', 1);
    const grandmother = nextId('1945-02-01', 2);
    await runImport(
      file([
        { 户编号: 'P17-9', 姓名: '丙主', 公民身份号码: head, 与户主关系: '户主', 户籍地代码: V1 },
        { 户编号: 'P17-9', 姓名: '丙奶', 公民身份号码: grandmother, 与户主关系: '母亲', 户籍地代码: V1 },
      ]),
    );
    // As a child ledger registers a parent: in the household, no relation to the head recorded.
    await t.ctx.db
      .updateTable('persons')
      .set({ relation_to_head: null })
      .where('id_number', '=', grandmother)
      .execute();
    const exported = await t.app.inject({
      method: 'GET',
      url: `/api/v1/exports/registry?region=${V1}&format=csv`,
      headers: { authorization: `Bearer ${countyToken}` },
    });
    assert.equal(exported.statusCode, 200);
    assert.match(exported.body, new RegExp(`${grandmother}[^\\r\\n]*其他`));
    const name = path.join(dir, 'export.csv');
    fs.writeFileSync(name, exported.rawPayload);
    const back = await runImport(name);
    assert.equal(back.counts.updated, 0, JSON.stringify(back.counts));
    assert.equal(back.counts.errors, 0, JSON.stringify(back.counts));
    const row = await t.ctx.db
      .selectFrom('persons')
      .select('relation_to_head')
      .where('id_number', '=', grandmother)
      .executeTakeFirstOrThrow();
    assert.equal(row.relation_to_head, null);
  });
});

describe('a reference to a refused row names that row', () => {
  test("the father's row is refused for its phone: his child's row says to correct his row, not that he is missing", async () => {
    const father = nextId('1981-04-01', 1);
    const child = nextId('2013-09-01', 2);
    const outcome = await runImport(
      file([
        {
          户编号: 'P17-5',
          姓名: '丁父',
          公民身份号码: father,
          与户主关系: '户主',
          户籍地代码: V1,
          联系电话: '12345',
        },
        {
          户编号: 'P17-5',
          姓名: '丁女',
          公民身份号码: child,
          与户主关系: '女',
          户籍地代码: V1,
          父亲身份号码: father,
        },
      ]),
      true,
    );
    assert.equal(outcome.counts.errors, 2, JSON.stringify(outcome.counts));
    const why = await reasonsByName(outcome.errorReport?.csv);
    assert.match(why['丁父'] ?? '', /联系电话/);
    assert.match(
      why['丁女'] ?? '',
      /父亲身份号码：该公民身份号码所在的第 2 行有错误、未导入：请先改正第 2 行/,
    );
    assert.doesNotMatch(why['丁女'] ?? '', /既不在本文件中/);
  });
});

describe('the same file sent again', () => {
  async function send(bytes: Buffer) {
    const { payload, contentType } = multipartFile('family.csv', bytes);
    const r = await t.app.inject({
      method: 'POST',
      url: '/api/v1/imports',
      headers: { authorization: `Bearer ${countyToken}`, 'content-type': contentType },
      payload,
    });
    assert.equal(r.statusCode, 202, r.body);
    return (r.json() as { id: number }).id;
  }
  async function outcome(id: number) {
    const r = await t.app.inject({
      method: 'GET',
      url: `/api/v1/imports/${id}`,
      headers: { authorization: `Bearer ${countyToken}` },
    });
    return r.json() as { status: string; counts: { inserted: number; errors: number; unchanged: number } };
  }

  test('is the same import while it waits, and a new one once it has finished: the row refused before is imported', async () => {
    const father = nextId('1979-06-01', 1);
    const child = nextId('2014-02-01', 1);
    const bytes = fs.readFileSync(
      file([
        {
          户编号: 'P17-7',
          姓名: '戊子',
          公民身份号码: child,
          与户主关系: '户主',
          户籍地代码: V1,
          父亲身份号码: father,
        },
      ]),
    );
    const first = await send(bytes);
    assert.equal(await send(bytes), first, 'a double click is one import');
    await t.ctx.jobs.drain();
    assert.deepEqual((await outcome(first)).counts.errors, 1, 'the father matches nobody yet');

    // The clerk registers the father, then sends the same file again.
    await runImport(
      file([{ 户编号: 'P17-8', 姓名: '戊父', 公民身份号码: father, 与户主关系: '户主', 户籍地代码: V1 }]),
    );
    const second = await send(bytes);
    assert.notEqual(second, first);
    await t.ctx.jobs.drain();
    const done = await outcome(second);
    assert.equal(done.status, 'succeeded');
    assert.equal(done.counts.errors, 0, JSON.stringify(done.counts));
    assert.equal(done.counts.inserted, 1);
    assert.deepEqual(await parentsOf(child), [{ name: '戊父', subtype: 'biological' }]);
    assert.equal((await outcome(first)).counts.errors, 1, 'the first import keeps its own outcome');

    // Once more: nothing left to do, and a third import says so.
    const third = await send(bytes);
    assert.notEqual(third, second);
    await t.ctx.jobs.drain();
    assert.deepEqual((await outcome(third)).counts, {
      rows: 1,
      inserted: 0,
      updated: 0,
      unchanged: 1,
      errors: 0,
    });
  });
});
