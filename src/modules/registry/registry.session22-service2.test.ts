// Session 22, the registry's service layer, second fixer (testers' findings clerk 1 and 4, access 4
// and 6, the web fixer's note):
// - the template export writes a lost contact's police report date in 失联开始日期 (as the import reads
//   it): export and import back changes nothing; another report date in the file corrects the report,
//   the stored start kept;
// - a later 外出开始日期 with the same destination replaces the open migration (retracted), a change
//   of destination still follows it;
// - the masked export masks the numbers in every free-text column (外出务工地, 学校名称 ...), csv and xlsx;
// - POST/PATCH /persons name every wrong field in one 400;
// - a retraction's audit entry carries the reason's length, not its text.
// Runs on PGlite, or PostgreSQL with TEST_DATABASE_URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { createToken, systemActor } from '../access/index.ts';
import { reevaluateAfterChange } from '../groups/index.ts';
import { today } from '../../platform/dates.ts';
import { makeIdNumber } from './registry.idnumber.ts';
import { importRegistryFile, type Importer } from './registry.import.ts';
import { factsOfRow, reconcileFacts, type StoredFact } from './registry.rules.ts';

const LANKAO = '410225';
const V1 = '410225101200'; // 堌阳镇 城内村
const TOWNSHIP = '410225101';
const lankao: Importer = { regionCode: LANKAO, userId: null, auditActor: systemActor('test') };

let t: TestApp;
let county: string;
let supervisor: string;
let dir: string;

interface ErrorBody {
  error: { code: string; message: string; details?: { path: string; message: string }[] };
}
interface Detail {
  version: number;
  facts: {
    id: number;
    kind: string;
    from: string;
    to: string | null;
    data: Record<string, unknown>;
    retractedAt: string | null;
  }[];
  groups: { code: string; since: string; until: string | null; reasons: string[] }[];
}

function call(method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown, token = county) {
  return t.app.inject({
    method,
    url: `/api/v1${url}`,
    headers: { authorization: `Bearer ${token}` },
    ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}),
  });
}

async function created(url: string, payload: unknown): Promise<number> {
  const r = await call('POST', url, payload);
  assert.equal(r.statusCode, 201, r.body);
  return (r.json() as { id: number }).id;
}

async function file(id: number): Promise<Detail> {
  const r = await call('GET', `/persons/${id}`);
  assert.equal(r.statusCode, 200, r.body);
  return r.json() as Detail;
}

let imports = 0;
/** Imports the csv text as the template, as of today; its counts. */
async function runImport(csv: string, dryRun = false) {
  const name = path.join(dir, `import-${++imports}.csv`);
  fs.writeFileSync(name, csv);
  const outcome = await importRegistryFile(t.database, name, lankao, {
    today: today(),
    dryRun,
    errorReportBase: path.join(dir, `report-${imports}`),
  });
  assert.equal(outcome.status, 'succeeded', JSON.stringify(outcome.message));
  return outcome.counts;
}

/** The unmasked export of V1 as csv: the header and the rows of one household. */
async function exportedHousehold(householdNo: string): Promise<string> {
  const r = await call('GET', `/exports/registry?region=${V1}&format=csv`);
  assert.equal(r.statusCode, 200, r.body);
  const lines = r.body.split(/\r?\n/);
  return (
    [
      lines[0],
      ...lines.slice(1).filter((l) => l.startsWith(`${householdNo},`) || l.includes(`"${householdNo}"`)),
    ].join('\r\n') + '\r\n'
  );
}

/** A household in V1 with a head (the father) and two more members; their ids. */
async function family(
  householdNo: string,
  births: { father: string; mother: string; child: string },
  seq: number,
) {
  const householdId = await created('/households', { householdNo, hukouRegionCode: V1 });
  const member = (name: string, birth: string, n: number, relationToHead: string) =>
    created('/persons', {
      name,
      idNumber: makeIdNumber(LANKAO, birth, n),
      hukouRegionCode: V1,
      householdId,
      relationToHead,
    });
  const father = await member(`父${householdNo}`, births.father, seq + 1, '户主');
  const mother = await member(`母${householdNo}`, births.mother, seq + 2, '配偶');
  const child = await member(`童${householdNo}`, births.child, seq + 3, '子');
  for (const parent of [father, mother])
    await created(`/persons/${child}/relations`, {
      relatedPersonId: parent,
      kind: 'parent',
      subtype: 'biological',
    });
  return { householdId, father, mother, child };
}

/**
 * The person's file once their groups are evaluated again: the import only queues the evaluation of
 * the villages it changed (a job), which the API path runs in its own transaction.
 */
async function evaluated(id: number): Promise<Detail> {
  await t.ctx.db.transaction().execute((trx) => reevaluateAfterChange(trx, id));
  return file(id);
}

const live = (d: Detail) => d.facts.filter((f) => f.retractedAt === null);

before(async () => {
  t = await createTestApp();
  county = (await createToken(t.ctx, null, { name: 's22b', role: 'county_staff', regionCode: LANKAO })).token;
  supervisor = (
    await createToken(t.ctx, null, { name: 's22b-sup', role: 'township_supervisor', regionCode: TOWNSHIP })
  ).token;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shouhu-s22-service2-'));
});
after(async () => {
  await t?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('a lost contact goes out and comes back by its police report date', () => {
  test('export and import back changes nothing; another report date corrects the report, the start kept', async () => {
    const f = await family(
      'S22B-031',
      { father: '1980-01-01', mother: '1982-01-01', child: '2015-01-01' },
      310,
    );
    await created(`/persons/${f.father}/facts`, { kind: 'death', from: '2020-01-01' });
    const lostId = await created(`/persons/${f.mother}/facts`, {
      kind: 'lost_contact',
      from: '2025-01-01',
      data: { policeReportDate: '2025-03-01' },
    });
    const unsupported = (d: Detail) => d.groups.find((g) => g.code === 'de_facto_unsupported_child');
    assert.equal(unsupported(await file(f.child))?.since, '2025-09-01');

    const csv = await exportedHousehold('S22B-031');
    assert.equal(csv.split('\r\n').filter((l) => l.includes('2025-03-01')).length, 1, csv);
    assert.ok(!csv.includes('2025-01-01'), `the export writes the fact's start: ${csv}`);
    assert.deepEqual(await runImport(csv, true), {
      rows: 3,
      inserted: 0,
      updated: 0,
      unchanged: 3,
      errors: 0,
    });
    assert.deepEqual(await runImport(csv), { rows: 3, inserted: 0, updated: 0, unchanged: 3, errors: 0 });
    const mother = await file(f.mother);
    assert.deepEqual(
      mother.facts.map((x) => [x.id, x.from, x.data.policeReportDate, x.retractedAt]),
      [[lostId, '2025-01-01', '2025-03-01', null]],
    );
    assert.equal(unsupported(await evaluated(f.child))?.since, '2025-09-01');

    // The file gives a later report: the report is corrected (the record retracted, recorded again
    // from its own start), and the six months run from the new report.
    assert.deepEqual(await runImport(csv.replace('2025-03-01', '2025-04-01')), {
      rows: 3,
      inserted: 0,
      updated: 1,
      unchanged: 2,
      errors: 0,
    });
    let facts = live(await file(f.mother));
    assert.deepEqual(
      facts.map((x) => [x.kind, x.from, x.to, x.data.policeReportDate]),
      [['lost_contact', '2025-01-01', null, '2025-04-01']],
    );
    assert.equal(unsupported(await evaluated(f.child))?.since, '2025-10-01');
    // A report before the recorded start: the loss is on record from the report.
    await runImport(csv.replace('2025-03-01', '2024-12-01'));
    facts = live(await file(f.mother));
    assert.deepEqual(
      facts.map((x) => [x.kind, x.from, x.to, x.data.policeReportDate]),
      [['lost_contact', '2024-12-01', null, '2024-12-01']],
    );
    assert.equal(unsupported(await evaluated(f.child))?.since, '2025-06-01');
    // Exported again and imported back: nothing changes.
    assert.deepEqual(await runImport(await exportedHousehold('S22B-031'), true), {
      rows: 3,
      inserted: 0,
      updated: 0,
      unchanged: 3,
      errors: 0,
    });
  });
});

describe('a later migration start with the same destination replaces the open migration', () => {
  const stored: StoredFact = {
    id: 1,
    kind: 'migration',
    valid_from: '2024-06-01',
    valid_to: null,
    data: { destination: '广东省东莞市' },
  };
  const row = (since: string, destination: string) =>
    factsOfRow({
      migrant: true,
      migrationDestination: destination,
      migrationSince: since,
      disability: null,
      seriousIllness: null,
      liberty: null,
      lostContactSince: null,
      guardianshipRevoked: null,
      deported: null,
      deathDate: null,
      declaredMissingDate: null,
      schoolStage: null,
      school: null,
      livingArrangement: null,
      selfCare: null,
    });
  test('the same destination from a later day: the open record is retracted, not followed', () => {
    assert.deepEqual(reconcileFacts([stored], row('2024-09-01', '广东省东莞市'), '2026-12-01'), [
      { op: 'retract', id: 1 },
      { op: 'insert', kind: 'migration', from: '2024-09-01', data: { destination: '广东省东莞市' } },
    ]);
  });
  test('another destination from a later day still ends the open record that day; the same row changes nothing', () => {
    assert.deepEqual(reconcileFacts([stored], row('2024-09-01', '江苏省苏州市'), '2026-12-01'), [
      { op: 'close', id: 1, to: '2024-09-01' },
      { op: 'insert', kind: 'migration', from: '2024-09-01', data: { destination: '江苏省苏州市' } },
    ]);
    assert.deepEqual(reconcileFacts([stored], row('2024-06-01', '广东省东莞市'), '2026-12-01'), []);
  });
  test('through the import: the child is left behind from the corrected start, and a re-import changes nothing', async () => {
    const f = await family(
      'S22B-001',
      { father: '1985-03-03', mother: '1987-04-04', child: '2016-05-05' },
      320,
    );
    await created(`/persons/${f.father}/facts`, { kind: 'death', from: '2020-01-01' });
    await created(`/persons/${f.mother}/facts`, {
      kind: 'migration',
      from: '2024-06-01',
      data: { destination: '广东省东莞市' },
    });
    const leftBehind = (d: Detail) => d.groups.find((g) => g.code === 'left_behind_child');
    const before = leftBehind(await file(f.child));
    assert.ok(before, JSON.stringify((await file(f.child)).groups));
    const csv = (await exportedHousehold('S22B-001')).replace('2024-06-01', '2024-09-01');
    assert.equal((await runImport(csv)).updated, 1);
    assert.deepEqual(
      live(await file(f.mother)).map((x) => [x.kind, x.from, x.to, x.data.destination]),
      [['migration', '2024-09-01', null, '广东省东莞市']],
    );
    const after = leftBehind(await evaluated(f.child));
    assert.ok(after);
    assert.ok(after.since >= '2024-09-01', JSON.stringify(after));
    assert.ok(!after.reasons.some((r) => r.includes('2024-06-01')), JSON.stringify(after));
    assert.deepEqual(await runImport(csv), { rows: 3, inserted: 0, updated: 0, unchanged: 3, errors: 0 });
  });
});

describe('the masked export masks the numbers in every free-text column', () => {
  test('外出务工地, 学校名称, 无身份号码原因: masked for a caller without persons.reveal, csv and xlsx', async () => {
    const householdId = await created('/households', { householdNo: 'S22B-M1', hukouRegionCode: V1 });
    const child = await created('/persons', {
      name: '导出测童',
      noIdReason: '户口待落 联系13912345678',
      sex: 1,
      birthDate: '2016-01-01',
      hukouRegionCode: V1,
      householdId,
      relationToHead: '户主',
    });
    await created(`/persons/${child}/facts`, {
      kind: 'schooling',
      from: '2024-09-01',
      data: { stage: 'primary', school: '希望小学 电话13912345678' },
    });
    await created(`/persons/${child}/facts`, {
      kind: 'migration',
      from: '2024-09-01',
      data: { destination: '广州 13912345678' },
    });
    const masked = await call('GET', `/exports/registry?region=${V1}&format=csv`, undefined, supervisor);
    assert.equal(masked.statusCode, 200, masked.body);
    const line = masked.body.split(/\r?\n/).find((l) => l.includes('导出测童'));
    assert.ok(line, masked.body);
    assert.ok(!line.includes('13912345678'), line);
    assert.ok(line.includes('广州 139****5678'), line);
    assert.ok(line.includes('希望小学 电话139****5678'), line);
    assert.ok(line.includes('户口待落 联系139****5678'), line);

    const xlsx = await call('GET', `/exports/registry?region=${V1}&format=xlsx`, undefined, supervisor);
    assert.equal(xlsx.statusCode, 200);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(xlsx.rawPayload as unknown as ArrayBuffer);
    const cells: string[] = [];
    workbook.worksheets[0]?.eachRow((r) => r.eachCell((c) => cells.push(String(c.value))));
    assert.ok(cells.includes('广州 139****5678'), cells.join('|'));
    assert.ok(cells.includes('希望小学 电话139****5678'));
    assert.ok(!cells.some((c) => c.includes('13912345678')));

    // A caller who may reveal numbers exports them whole.
    const whole = await call('GET', `/exports/registry?region=${V1}&format=csv`);
    assert.ok(whole.body.includes('广州 13912345678'));
  });
});

describe('POST and PATCH /persons name every wrong field in one answer', () => {
  const paths = (r: { statusCode: number; body: string; json(): unknown }) => {
    assert.equal(r.statusCode, 400, r.body);
    const body = r.json() as ErrorBody;
    assert.equal(body.error.code, 'VALIDATION_FAILED');
    return (body.error.details ?? []).map((d) => d.path);
  };
  test('a bad ID number, a birth date ahead and a bad phone: three details, each naming its field', async () => {
    const r = await call('POST', '/persons', {
      name: '错三项',
      idNumber: '410225201601010000',
      birthDate: '2099-01-01',
      phone: '12',
      hukouRegionCode: V1,
    });
    assert.deepEqual(paths(r), ['idNumber', 'birthDate', 'phone']);
    const details = (r.json() as ErrorBody).error.details ?? [];
    for (const d of details) assert.ok(d.message.length > 0);
    // With a bad name and an unknown village too: all five.
    const more = await call('POST', '/persons', {
      name: '王?',
      idNumber: '410225201601010000',
      birthDate: '2099-01-01',
      phone: '12',
      hukouRegionCode: '410225999999',
      relationToHead: '邻居',
    });
    assert.deepEqual(paths(more), [
      'idNumber',
      'birthDate',
      'phone',
      'hukouRegionCode',
      'name',
      'relationToHead',
    ]);
  });
  test('PATCH: a bad phone, a bad name and a bad relation, all named; one wrong field alone as before', async () => {
    const id = await created('/persons', {
      name: '改三项',
      noIdReason: '未落户',
      sex: 2,
      birthDate: '2012-02-02',
      hukouRegionCode: V1,
    });
    const { version } = await file(id);
    const r = await call('PATCH', `/persons/${id}`, {
      version,
      phone: '12',
      name: '改?',
      relationToHead: '邻居',
    });
    assert.deepEqual(paths(r), ['phone', 'relationToHead', 'name']);
    const one = await call('PATCH', `/persons/${id}`, { version, phone: '12' });
    assert.deepEqual(paths(one), ['phone']);
    assert.equal((await file(id)).version, version);
  });
});

describe('a retraction reason stays out of the audit trail', () => {
  test('person.fact.retract and person.relation.retract carry the reason’s length only', async () => {
    const f = await family(
      'S22B-R1',
      { father: '1979-07-07', mother: '1981-08-08', child: '2014-09-09' },
      330,
    );
    const fact = await created(`/persons/${f.child}/facts`, {
      kind: 'schooling',
      from: '2024-09-01',
      data: { stage: 'primary' },
    });
    const reason = '错误记录：实际是张三家的孩子 电话13912345678';
    const retracted = await call('POST', `/persons/${f.child}/facts/${fact}/retract`, { reason });
    assert.equal(retracted.statusCode, 200, retracted.body);
    const link = await t.ctx.db
      .selectFrom('person_relations')
      .select('id')
      .where('person_id', '=', f.child)
      .where('related_person_id', '=', f.father)
      .executeTakeFirstOrThrow();
    const unlinked = await call('POST', `/persons/${f.child}/relations/${link.id}/retract`, {
      reason: '  误关联张三  ',
    });
    assert.equal(unlinked.statusCode, 200, unlinked.body);
    const entries = await t.ctx.db
      .selectFrom('audit_log')
      .select(['action', 'details'])
      .where('action', 'in', ['person.fact.retract', 'person.relation.retract'])
      .where('entity_id', '=', String(f.child))
      .orderBy('id')
      .execute();
    assert.deepEqual(
      entries.map((e) => [e.action, (e.details as { reasonLength: number }).reasonLength]),
      [
        ['person.fact.retract', [...reason].length],
        ['person.relation.retract', 5],
      ],
    );
    for (const e of entries) assert.doesNotMatch(JSON.stringify(e.details), /张三|1391|reason"/);
    // The reason stays where those who may read the file find it.
    const shown = (await file(f.child)).facts.find((x) => x.id === fact) as unknown as {
      retractionReason: string;
    };
    assert.match(shown.retractionReason, /张三/);
  });
});
