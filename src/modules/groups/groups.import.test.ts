// A registry template import re-evaluates the care groups of what it changed: once the import
// commits, a groups.evaluate job for the changed villages (and the relatives' villages) is queued;
// when the worker runs it, a child made left-behind by the file is in the group with its reasons and
// on the village director's worklist. A dry run queues nothing; re-importing the same file queues
// nothing. Runs on PGlite, or PostgreSQL with TEST_DATABASE_URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { createToken, type Role } from '../access/index.ts';
import { makeIdNumber } from '../registry/registry.idnumber.ts';
import { TEMPLATE_HEADERS } from '../registry/registry.template.ts';
import { evaluationSubtrees } from './groups.jobs.ts';

const VILLAGE = '410225101200'; // 堌阳镇 城内村
const FATHER = makeIdNumber('410225', '1985-03-02', 611);
const MOTHER = makeIdNumber('410225', '1987-06-09', 622);
const CHILD = makeIdNumber('410225', '2016-09-01', 631);

let t: TestApp;
let dir: string;
const tokens: Record<string, string> = {};

async function token(name: string, role: Role, regionCode: string): Promise<string> {
  return (await createToken(t.ctx, null, { name, role, regionCode })).token;
}

function csvFile(name: string, rows: Record<string, string>[]): string {
  const file = path.join(dir, name);
  const line = (row: Record<string, string>) => TEMPLATE_HEADERS.map((h) => row[h] ?? '').join(',');
  fs.writeFileSync(file, '\uFEFF' + [TEMPLATE_HEADERS.join(','), ...rows.map(line)].join('\r\n') + '\r\n');
  return file;
}

/**
 * The family of household G-1: 'away' puts both parents in migrant work since 2025-01-01, 'home'
 * says they are not (外出务工=否 ends a stored migration), 'unsaid' leaves the columns empty.
 */
function family(parents: 'away' | 'home' | 'unsaid'): Record<string, string>[] {
  const migrant: Record<string, string> =
    parents === 'away'
      ? { 外出务工: '是', 外出务工地: '广东省深圳市', 外出开始日期: '2025-01-01' }
      : parents === 'home'
        ? { 外出务工: '否' }
        : {};
  return [
    {
      户编号: 'G-1',
      姓名: '李父',
      公民身份号码: FATHER,
      与户主关系: '户主',
      户籍地代码: VILLAGE,
      ...migrant,
    },
    {
      户编号: 'G-1',
      姓名: '李母',
      公民身份号码: MOTHER,
      与户主关系: '配偶',
      户籍地代码: VILLAGE,
      ...migrant,
    },
    {
      户编号: 'G-1',
      姓名: '李小宝',
      公民身份号码: CHILD,
      与户主关系: '子',
      户籍地代码: VILLAGE,
      父亲身份号码: FATHER,
      母亲身份号码: MOTHER,
    },
  ];
}

async function importFile(who: string, file: string, dryRun = false) {
  const boundary = `----shouhu${Date.now()}`;
  const payload = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${path.basename(file)}"\r\n\r\n`,
    ),
    fs.readFileSync(file),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const submitted = await t.app.inject({
    method: 'POST',
    url: `/api/v1/imports${dryRun ? '?dryRun=true' : ''}`,
    headers: {
      'content-type': `multipart/form-data; boundary=${boundary}`,
      authorization: `Bearer ${tokens[who]}`,
    },
    payload,
  });
  assert.equal(submitted.statusCode, 202, submitted.body);
  const id = (submitted.json() as { id: number }).id;
  // Runs the import, then the evaluation it queued (drain runs until nothing is claimable).
  await t.ctx.jobs.drain();
  const row = await t.ctx.db.selectFrom('imports').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  assert.equal(row.status, 'succeeded', row.message ?? '');
  return row;
}

async function evaluationJobs() {
  return t.ctx.db
    .selectFrom('jobs')
    .select(['id', 'payload', 'status', 'result', 'idempotency_key'])
    .where('name', '=', 'groups.evaluate')
    .orderBy('id')
    .execute();
}

async function childId(): Promise<number> {
  const row = await t.ctx.db
    .selectFrom('persons')
    .select('id')
    .where('id_number', '=', CHILD)
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

async function openMemberships(personId: number) {
  return t.ctx.db
    .selectFrom('group_memberships')
    .selectAll()
    .where('person_id', '=', personId)
    .where('until', 'is', null)
    .execute();
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shouhu-import-groups-'));
  t = await createTestApp({ dataDir: dir });
  tokens.county = await token('county', 'county_staff', '410225');
  tokens.county2 = await token('county2', 'county_staff', '410225');
  tokens.director = await token('director', 'village_child_director', VILLAGE);
});

after(async () => {
  await t.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('a registry import re-evaluates the care groups', () => {
  test('the first import of a family queues one evaluation of its village; the child is in no group', async () => {
    const row = await importFile('county', csvFile('family.csv', family('unsaid')));
    assert.equal(row.counts.inserted, 3);
    const jobs = await evaluationJobs();
    assert.equal(jobs.length, 1);
    const job = jobs[0]!;
    assert.equal(job.status, 'succeeded');
    assert.equal(job.idempotency_key, `groups.evaluate:import:${row.id}`);
    assert.deepEqual((job.payload as { regionCodes: string[] }).regionCodes, [VILLAGE]);
    assert.equal((job.result as { persons: number }).persons, 3);
    assert.deepEqual(await openMemberships(await childId()), []);
  });

  test('an import making the child left-behind puts the child in the group, with reasons, on the worklist', async () => {
    const before = (await evaluationJobs()).length;
    const row = await importFile('county', csvFile('family-away.csv', family('away')));
    assert.equal(row.counts.updated, 2, JSON.stringify(row.counts));
    const jobs = await evaluationJobs();
    assert.equal(jobs.length, before + 1);
    assert.equal(jobs[jobs.length - 1]!.status, 'succeeded');

    const id = await childId();
    const memberships = await openMemberships(id);
    const child = memberships.find((m) => m.group_code === 'left_behind_child');
    assert.ok(child, JSON.stringify(memberships));
    assert.equal(child.since, '2025-01-01');
    assert.ok(
      child.reasons.zh.some((reason) => reason.includes('外出务工')),
      JSON.stringify(child.reasons),
    );
    assert.ok(child.reasons.en.length > 0);

    const worklist = await t.app.inject({
      method: 'GET',
      url: '/api/v1/worklist?limit=100',
      headers: { authorization: `Bearer ${tokens.director}` },
    });
    assert.equal(worklist.statusCode, 200, worklist.body);
    const items = (
      worklist.json() as {
        items: { personId: number; kind: string; groupCode: string; text: { zh: string } }[];
      }
    ).items;
    const item = items.find((i) => i.personId === id && i.groupCode === 'left_behind_child');
    assert.ok(item, JSON.stringify(items));
    assert.equal(item.kind, 'group_entered');
    assert.match(item.text.zh, /^新增.*李小宝/);
  });

  test('a dry run queues no evaluation and changes no group', async () => {
    const before = await evaluationJobs();
    const memberships = await openMemberships(await childId());
    // The parents back home: a real import would take the child out of the group.
    const row = await importFile('county', csvFile('family-home.csv', family('home')), true);
    assert.equal(row.dry_run, true);
    assert.equal(row.counts.updated, 2);
    assert.deepEqual(await evaluationJobs(), before);
    assert.deepEqual(await openMemberships(await childId()), memberships);
  });

  test('re-importing the same file queues nothing', async () => {
    const before = await evaluationJobs();
    const items = await t.ctx.db.selectFrom('worklist_items').select('id').execute();
    // Another user, so it is a new import of the same file, not the first one returned again.
    const row = await importFile('county2', path.join(dir, 'family-away.csv'));
    assert.deepEqual(row.counts, { rows: 3, inserted: 0, updated: 0, unchanged: 3, errors: 0 });
    assert.deepEqual(await evaluationJobs(), before);
    assert.equal((await t.ctx.db.selectFrom('worklist_items').select('id').execute()).length, items.length);
  });
});

describe('the subtrees an import evaluates', () => {
  test('a few villages are evaluated one by one; many go up to their townships, then counties', () => {
    assert.deepEqual(evaluationSubtrees(['410225101201', '410225101200', '410225101200']), [
      '410225101200',
      '410225101201',
    ]);
    const villages = Array.from(
      { length: 70 },
      (_, i) => `4102251${String(i % 2).padStart(2, '0')}2${String(i).padStart(2, '0')}`,
    );
    assert.deepEqual(evaluationSubtrees(villages), ['410225100', '410225101']);
    const townships = Array.from({ length: 70 }, (_, i) => `410225${String(i).padStart(3, '0')}200`);
    assert.deepEqual(evaluationSubtrees([...townships, '410226001200']), ['410225', '410226']);
  });
});
