// Imports and exports over HTTP, with the job run in the test: idempotent re-import, a refused file
// writes nothing, a dry run writes nothing, row errors with their report, the round trip export ->
// import changes nothing. Runs on PGlite, or PostgreSQL with TEST_DATABASE_URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { createToken, type Role } from '../access/index.ts';
import { writeGeneratedTemplate } from './registry.generator.ts';
import { countRegistry } from './registry.repository.ts';
import { TEMPLATE_HEADERS } from './registry.template.ts';
import { makeIdNumber } from './registry.idnumber.ts';
import { makeFixtures } from '../../../test/fixtures/registry/make-fixtures.ts';

let t: TestApp;
let dir: string;
let generated: string;
const tokens: Record<string, string> = {};

async function token(name: string, role: Role, regionCode: string): Promise<string> {
  return (await createToken(t.ctx, null, { name, role, regionCode })).token;
}

function multipart(fileName: string, content: Buffer): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----shouhu${Date.now()}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${fileName}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return {
    payload: Buffer.concat([head, content, tail]),
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
  };
}

async function submit(who: string, file: string, query = '') {
  const body = multipart(path.basename(file), fs.readFileSync(file));
  const r = await t.app.inject({
    method: 'POST',
    url: `/api/v1/imports${query}`,
    headers: { ...body.headers, authorization: `Bearer ${tokens[who]}` },
    payload: body.payload,
  });
  assert.equal(r.statusCode, 202, r.body);
  return r.json() as { id: number; status: string };
}

async function runImport(who: string, file: string, query = '') {
  const submitted = await submit(who, file, query);
  await t.ctx.jobs.drain();
  const r = await t.app.inject({
    method: 'GET',
    url: `/api/v1/imports/${submitted.id}`,
    headers: { authorization: `Bearer ${tokens[who]}` },
  });
  assert.equal(r.statusCode, 200, r.body);
  return r.json();
}

function csv(rows: Record<string, string>[]): string {
  const headers = TEMPLATE_HEADERS;
  return (
    '\uFEFF' +
    [headers.join(','), ...rows.map((row) => headers.map((h) => row[h] ?? '').join(','))].join('\r\n') +
    '\r\n'
  );
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shouhu-import-'));
  t = await createTestApp({ dataDir: dir });
  tokens.county = await token('county', 'county_staff', '410225');
  tokens.county2 = await token('county2', 'county_staff', '410225');
  tokens.county3 = await token('county3', 'county_staff', '410225');
  tokens.township = await token('township', 'township_staff', '410225101');
  tokens.township2 = await token('township2', 'township_supervisor', '410225101');
  tokens.village = await token('village', 'village_child_director', '410225101200');
  generated = path.join(dir, 'county.csv');
  await writeGeneratedTemplate(generated, {
    countyCode: '410225',
    persons: 400,
    seed: 42,
    asOf: '2026-11-29',
  });
});

after(async () => {
  await t.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('import', () => {
  test('a refused file (missing required columns) writes nothing', async () => {
    const before = await countRegistry(t.ctx.db);
    const broken = path.join(dir, 'broken.csv');
    fs.writeFileSync(broken, '姓名,性别\r\n张三,男\r\n');
    const result = await runImport('county', broken);
    assert.equal(result.status, 'rejected');
    assert.match(result.message, /户编号/);
    assert.deepEqual(await countRegistry(t.ctx.db), before);
  });

  test('a dry run validates and counts but writes nothing', async () => {
    const before = await countRegistry(t.ctx.db);
    const result = await runImport('county', generated, '?dryRun=true');
    assert.equal(result.status, 'succeeded', JSON.stringify(result));
    assert.equal(result.dryRun, true);
    assert.equal(result.counts.rows, 400);
    assert.equal(result.counts.inserted + result.counts.errors, 400);
    assert.deepEqual(await countRegistry(t.ctx.db), before);
  });

  test('an import writes the persons, households, relations and facts', async () => {
    const result = await runImport('county', generated);
    assert.equal(result.status, 'succeeded', JSON.stringify(result));
    assert.equal(result.counts.rows, 400);
    assert.equal(result.counts.errors, 0);
    assert.equal(result.counts.inserted, 400);
    assert.equal(result.progress.total, 800);
    const counts = await countRegistry(t.ctx.db);
    assert.equal(counts.persons, 400);
    assert.ok(counts.households > 50);
    assert.ok(counts.relations > 100);
    assert.ok(counts.facts > 50);
  });

  test('submitting the same file again returns the same import', async () => {
    const first = await submit('county', generated);
    const again = await submit('county', generated);
    assert.equal(again.id, first.id);
  });

  test('re-importing the same file changes nothing', async () => {
    const before = await countRegistry(t.ctx.db);
    const result = await runImport('county2', generated);
    assert.equal(result.status, 'succeeded');
    assert.deepEqual(result.counts, { rows: 400, inserted: 0, updated: 0, unchanged: 400, errors: 0 });
    assert.deepEqual(await countRegistry(t.ctx.db), before);
  });

  test('the round trip export -> import changes nothing', async () => {
    for (const format of ['xlsx', 'csv'] as const) {
      const r = await t.app.inject({
        method: 'GET',
        url: `/api/v1/exports/registry?region=410225&format=${format}`,
        headers: { authorization: `Bearer ${tokens.county}` },
      });
      assert.equal(r.statusCode, 200, r.body.slice(0, 300));
      const exported = path.join(dir, `export.${format}`);
      fs.writeFileSync(exported, r.rawPayload);
      const before = await countRegistry(t.ctx.db);
      const result = await runImport('county3', exported);
      assert.equal(result.status, 'succeeded');
      assert.deepEqual(
        result.counts,
        { rows: 400, inserted: 0, updated: 0, unchanged: 400, errors: 0 },
        format,
      );
      assert.deepEqual(await countRegistry(t.ctx.db), before);
    }
  });

  test('an export outside the own region is refused', async () => {
    const r = await t.app.inject({
      method: 'GET',
      url: '/api/v1/exports/registry?region=410225102&format=csv',
      headers: { authorization: `Bearer ${tokens.township}` },
    });
    assert.equal(r.statusCode, 403);
  });

  test('row errors do not stop the good rows, and come back in the error report', async () => {
    const good = makeIdNumber('410225', '2016-04-04', 102);
    const mother = makeIdNumber('410225', '1990-02-02', 202);
    const rows: Record<string, string>[] = [
      {
        户编号: 'T-1',
        姓名: '刘一',
        公民身份号码: good,
        与户主关系: '户主',
        户籍地代码: '410225101200',
        母亲身份号码: mother,
      },
      { 户编号: 'T-1', 姓名: '王二', 公民身份号码: mother, 与户主关系: '配偶', 户籍地代码: '410225101200' },
      {
        户编号: 'T-2',
        姓名: '坏号',
        公民身份号码: good.slice(0, 17) + (good.endsWith('0') ? '1' : '0'),
        与户主关系: '户主',
        户籍地代码: '410225101200',
      },
      {
        户编号: 'T-3',
        姓名: '外乡',
        公民身份号码: makeIdNumber('410225', '2001-01-01', 302),
        与户主关系: '户主',
        户籍地代码: '410225102200',
      },
      {
        户编号: 'T-4',
        姓名: '孤儿',
        公民身份号码: makeIdNumber('410225', '2015-01-01', 402),
        与户主关系: '户主',
        户籍地代码: '410225101200',
        父亲身份号码: makeIdNumber('410225', '1980-01-01', 501),
      },
    ];
    const file = path.join(dir, 'mixed.csv');
    fs.writeFileSync(file, csv(rows));
    const before = await countRegistry(t.ctx.db);
    const result = await runImport('township', file);
    assert.equal(result.status, 'succeeded', JSON.stringify(result));
    assert.deepEqual(result.counts, { rows: 5, inserted: 2, updated: 0, unchanged: 0, errors: 3 });
    const afterCounts = await countRegistry(t.ctx.db);
    assert.equal(afterCounts.persons, before.persons + 2);
    assert.equal(afterCounts.relations, before.relations + 1);
    assert.ok(result.errorReport);
    const report = await t.app.inject({
      method: 'GET',
      url: result.errorReport.csv,
      headers: { authorization: `Bearer ${tokens.township}` },
    });
    assert.equal(report.statusCode, 200);
    const text = report.body;
    assert.match(text, /错误原因/);
    assert.match(text, /坏号/);
    assert.match(text, /校验码/);
    assert.match(text, /管辖范围/);
    assert.match(text, /父亲身份号码/);
    const xlsx = await t.app.inject({
      method: 'GET',
      url: result.errorReport.xlsx,
      headers: { authorization: `Bearer ${tokens.township}` },
    });
    assert.equal(xlsx.statusCode, 200);
    assert.equal(xlsx.rawPayload.subarray(0, 2).toString(), 'PK');
    // The report holds the file's ID numbers in full: for the uploader and for roles that may reveal;
    // another user of the township, who may not reveal, sees the import but not its report.
    const download = (who: string) =>
      t.app.inject({
        method: 'GET',
        url: result.errorReport!.csv,
        headers: { authorization: `Bearer ${tokens[who]}` },
      });
    const other = await download('township2');
    assert.equal(other.statusCode, 403, other.body);
    assert.doesNotMatch(other.body, /坏号/);
    assert.equal((await download('county')).statusCode, 200);
    const downloads = await t.ctx.db
      .selectFrom('audit_log')
      .select(['actor_username', 'entity_id'])
      .where('action', '=', 'import.errors.download')
      .orderBy('id')
      .execute();
    assert.deepEqual(
      downloads.map((d) => d.actor_username),
      ['token:township', 'token:township', 'token:county'],
    );
  });

  test('a role without imports.run cannot import, and imports of others are not visible out of scope', async () => {
    const body = multipart('x.csv', Buffer.from('a'));
    const r = await t.app.inject({
      method: 'POST',
      url: '/api/v1/imports',
      headers: { ...body.headers, authorization: `Bearer ${tokens.village}` },
      payload: body.payload,
    });
    assert.equal(r.statusCode, 403);
    const county = await submit('county', generated);
    const peek = await t.app.inject({
      method: 'GET',
      url: `/api/v1/imports/${county.id}`,
      headers: { authorization: `Bearer ${tokens.township}` },
    });
    assert.equal(peek.statusCode, 404);
  });

  test('a child ledger: children, parents and carers with their links; a re-import changes nothing', async () => {
    const fixtures = path.join(dir, 'fixtures');
    await makeFixtures(fixtures);
    const ledger = path.join(fixtures, 'ledger.xlsx');
    const before = await countRegistry(t.ctx.db);
    const dry = await runImport('county', ledger, '?kind=ledger&dryRun=true');
    assert.equal(dry.status, 'succeeded', JSON.stringify(dry));
    assert.deepEqual(await countRegistry(t.ctx.db), before);
    const first = await runImport('county', ledger, '?kind=ledger');
    assert.equal(first.status, 'succeeded', JSON.stringify(first));
    assert.deepEqual(first.counts, dry.counts);
    assert.ok(first.counts.inserted > 0, JSON.stringify(first.counts));
    assert.ok(first.counts.errors > 0, 'the fixture has an ambiguous and an unknown address');
    const afterFirst = await countRegistry(t.ctx.db);
    assert.ok(afterFirst.relations > before.relations);
    const second = await runImport('county2', ledger, '?kind=ledger');
    assert.equal(second.counts.inserted + second.counts.updated, 0, JSON.stringify(second.counts));
    assert.deepEqual(await countRegistry(t.ctx.db), afterFirst);
  });
});
