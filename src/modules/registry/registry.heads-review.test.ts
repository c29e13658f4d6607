// Household heads (户主), session 7: two 户主 rows of one household in one file are reported, each
// naming the other, in the error report and the dry run, and the corrected rows import; a file that
// names a new head whose former head it does not write is refused; naming a new head on the household
// (API, web) carries the former head's new 与户主关系, so the household never shows two 户主, with the
// version check, the audit and an export that imports back unchanged. Runs on PGlite, or PostgreSQL
// with TEST_DATABASE_URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { createToken, systemActor } from '../access/index.ts';
import { ERROR_REASON_HEADER } from './registry.errors-report.ts';
import { makeIdNumber } from './registry.idnumber.ts';
import { importRegistryFile, type Importer } from './registry.import.ts';
import { countRegistry } from './registry.repository.ts';
import { readTable } from './registry.reader.ts';
import { TEMPLATE_HEADERS } from './registry.template.ts';
import { fieldError } from '../../../test/support/errors.ts';

const V1 = '410225101200'; // 堌阳镇 城内村: the imports
const V2 = '410225101201'; // 堌阳镇 任庄村: head changes through the API, and their export
const TODAY = '2026-11-29';

let t: TestApp;
let dir = '';
const tokens: Record<string, string> = {};
let seq = 100;

function call(method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown, lang = 'zh') {
  return t.app.inject({
    method,
    url: `/api/v1${url}`,
    headers: { authorization: `Bearer ${tokens.county}`, 'accept-language': lang },
    ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}),
  });
}

function nextId(birthDate: string, sex: 1 | 2 = 1): string {
  seq += 1;
  return makeIdNumber('410225', birthDate, (sex === 1 ? seq * 2 + 1 : seq * 2) % 1000);
}

function csv(rows: Record<string, string>[]): string {
  const cell = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  return (
    '\uFEFF' +
    [
      TEMPLATE_HEADERS.join(','),
      ...rows.map((row) => TEMPLATE_HEADERS.map((h) => cell(row[h] ?? '')).join(',')),
    ].join('\r\n') +
    '\r\n'
  );
}

let fileNo = 0;
function file(content: string): string {
  const name = path.join(dir, `f${++fileNo}.csv`);
  fs.writeFileSync(name, content);
  return name;
}

const importer: Importer = { regionCode: '410225', userId: null, auditActor: systemActor('test') };

async function runImport(source: string, dryRun = false) {
  const base = path.join(dir, `report${++fileNo}`);
  const outcome = await importRegistryFile(t.database, source, importer, {
    dryRun,
    today: TODAY,
    errorReportBase: base,
  });
  assert.equal(outcome.status, 'succeeded', JSON.stringify(outcome.message));
  return outcome;
}

/** The error report's rows: the row's cells by header, 错误原因 among them. */
async function reportRows(csvPath: string): Promise<Record<string, string>[]> {
  const table = await readTable(csvPath);
  const rows: Record<string, string>[] = [];
  for await (const r of table.rows) {
    const cells: Record<string, string> = {};
    for (const [k, v] of Object.entries(r.cells)) cells[k] = v == null ? '' : String(v as string);
    rows.push(cells);
  }
  return rows;
}

async function householdByNo(no: string) {
  return t.ctx.db
    .selectFrom('households')
    .selectAll()
    .where('county_code', '=', '410225')
    .where('household_no', '=', no)
    .executeTakeFirst();
}

/** The members of a household by ID number: their relation to the head. */
async function relations(householdId: number): Promise<Record<string, string | null>> {
  const rows = await t.ctx.db
    .selectFrom('persons')
    .select(['id_number', 'relation_to_head'])
    .where('household_id', '=', householdId)
    .execute();
  return Object.fromEntries(rows.map((r) => [r.id_number ?? '', r.relation_to_head]));
}

async function personByNumber(idNumber: string) {
  return t.ctx.db.selectFrom('persons').selectAll().where('id_number', '=', idNumber).executeTakeFirst();
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shouhu-heads-review-'));
  t = await createTestApp();
  tokens.county = (
    await createToken(t.ctx, null, { name: 'county', role: 'county_staff', regionCode: '410225' })
  ).token;
});

after(async () => {
  await t.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------

describe('two 户主 rows of one household in one file', () => {
  const A = nextId('1960-01-01'); // 户主, row 2
  const B = nextId('1962-02-02', 2); // 配偶, row 3
  const C = nextId('1985-03-03'); // also 户主, row 4: the clerk meant 子
  const D = nextId('1970-04-04'); // 户主 of another household, row 5
  const E = nextId('2010-05-05'); // 子 without references, row 6
  const F = nextId('2012-06-06', 2); // 女 whose father is A, row 7
  const rows = (cRelation: string): Record<string, string>[] => [
    {
      户编号: 'HD-1',
      姓名: '石大',
      公民身份号码: A,
      与户主关系: '户主',
      户籍地代码: V1,
      '家庭年收入(元)': '30000',
    },
    { 户编号: 'HD-1', 姓名: '石妻', 公民身份号码: B, 与户主关系: '配偶', 户籍地代码: V1 },
    { 户编号: 'HD-1', 姓名: '石二', 公民身份号码: C, 与户主关系: cRelation, 户籍地代码: V1 },
    { 户编号: 'HD-2', 姓名: '邻居', 公民身份号码: D, 与户主关系: '户主', 户籍地代码: V1 },
    { 户编号: 'HD-1', 姓名: '石三', 公民身份号码: E, 与户主关系: '子', 户籍地代码: V1 },
    { 户编号: 'HD-1', 姓名: '石四', 公民身份号码: F, 与户主关系: '女', 户籍地代码: V1, 父亲身份号码: A },
  ];

  test('the dry run reports every 户主 row of the household, each naming the others, and writes nothing', async () => {
    const before = await countRegistry(t.ctx.db);
    const outcome = await runImport(file(csv(rows('户主'))), true);
    assert.equal(outcome.counts.rows, 6);
    assert.equal(outcome.counts.errors, 3);
    assert.equal(outcome.counts.inserted, 3);
    assert.deepEqual(await countRegistry(t.ctx.db), before);
    const report = await reportRows(outcome.errorReport?.csv ?? '');
    assert.deepEqual(
      report.map((r) => r['公民身份号码']),
      [A, C, F],
    );
    assert.match(
      report[0]?.[ERROR_REASON_HEADER] ?? '',
      /^与户主关系：与第 4 行同为本户（户编号相同）的户主/,
    );
    assert.match(report[1]?.[ERROR_REASON_HEADER] ?? '', /^与户主关系：与第 2 行同为本户/);
    // The daughter's father is on a refused row: the reason says which.
    assert.match(
      report[2]?.[ERROR_REASON_HEADER] ?? '',
      /^父亲身份号码：该公民身份号码所在的第 2 行有错误、未导入/,
    );
  });

  test('the import writes the rest; the error report, corrected, imports back; the household has one 户主', async () => {
    const outcome = await runImport(file(csv(rows('户主'))));
    assert.equal(outcome.counts.errors, 3);
    assert.equal(outcome.counts.inserted, 3);
    for (const written of [B, D, E]) assert.ok(await personByNumber(written), written);
    for (const refused of [A, C, F]) assert.equal(await personByNumber(refused), undefined, refused);
    const household = await householdByNo('HD-1');
    assert.equal(household?.head_person_id, null);

    // The clerk keeps 石大 as head and writes 石二 as 子, in the report itself (错误原因 is ignored).
    const text = fs.readFileSync(outcome.errorReport?.csv ?? '', 'utf8');
    const lines = text.split(/\r?\n/);
    const fixed = lines
      .map((line) => (line.includes(C) ? line.replace(',户主,', ',子,') : line))
      .join('\r\n');
    assert.notEqual(fixed, lines.join('\r\n'));
    const again = await runImport(file(fixed));
    assert.equal(again.counts.errors, 0);
    assert.equal(again.counts.inserted, 3);
    const headed = await householdByNo('HD-1');
    assert.equal(headed?.head_person_id, (await personByNumber(A))?.id);
    assert.equal(headed?.annual_income_fen, 3_000_000);
    assert.deepEqual(await relations(headed?.id ?? 0), {
      [A]: '户主',
      [B]: '配偶',
      [C]: '子',
      [E]: '子',
      [F]: '女',
    });
    const father = await t.ctx.db
      .selectFrom('person_relations')
      .select('related_person_id')
      .where('person_id', '=', (await personByNumber(F))?.id ?? 0)
      .where('kind', '=', 'parent')
      .executeTakeFirst();
    assert.equal(father?.related_person_id, (await personByNumber(A))?.id);

    // The whole corrected file again changes nothing.
    const whole = await runImport(file(csv(rows('子'))));
    assert.deepEqual({ ...whole.counts }, { rows: 6, inserted: 0, updated: 0, unchanged: 6, errors: 0 });
  });

  test('three 户主 rows: each names the other two', async () => {
    const ids = [nextId('1950-01-01'), nextId('1951-01-01'), nextId('1952-01-01')];
    const outcome = await runImport(
      file(
        csv(
          ids.map((id, i) => ({
            户编号: 'HD-3',
            姓名: `三头${i}`,
            公民身份号码: id,
            与户主关系: '户主',
            户籍地代码: V1,
          })),
        ),
      ),
    );
    assert.equal(outcome.counts.errors, 3);
    const report = await reportRows(outcome.errorReport?.csv ?? '');
    assert.match(report[0]?.[ERROR_REASON_HEADER] ?? '', /与第 3、4 行同为本户/);
    assert.match(report[1]?.[ERROR_REASON_HEADER] ?? '', /与第 2、4 行同为本户/);
    assert.match(report[2]?.[ERROR_REASON_HEADER] ?? '', /与第 2、3 行同为本户/);
    assert.equal((await householdByNo('HD-3'))?.head_person_id ?? null, null);
  });
});

describe('a new head named by a file', () => {
  const OLD = nextId('1955-01-01');
  const NEW = nextId('1980-01-01');
  const SPOUSE = nextId('1957-01-01', 2);

  test('refused while the former head is not in the file; accepted with the former head written with a new relation', async () => {
    const first = await runImport(
      file(
        csv([
          { 户编号: 'HC-1', 姓名: '老户主', 公民身份号码: OLD, 与户主关系: '户主', 户籍地代码: V1 },
          { 户编号: 'HC-1', 姓名: '老伴', 公民身份号码: SPOUSE, 与户主关系: '配偶', 户籍地代码: V1 },
          { 户编号: 'HC-1', 姓名: '儿子', 公民身份号码: NEW, 与户主关系: '子', 户籍地代码: V1 },
        ]),
      ),
    );
    assert.equal(first.counts.errors, 0);
    const household = await householdByNo('HC-1');
    const oldId = (await personByNumber(OLD))?.id;
    assert.equal(household?.head_person_id, oldId);

    // Only the son, now 户主: the former head would stay 户主 beside him.
    const alone = await runImport(
      file(csv([{ 户编号: 'HC-1', 姓名: '儿子', 公民身份号码: NEW, 与户主关系: '户主', 户籍地代码: V1 }])),
    );
    assert.equal(alone.counts.errors, 1);
    const [row] = await reportRows(alone.errorReport?.csv ?? '');
    assert.match(
      row?.[ERROR_REASON_HEADER] ?? '',
      new RegExp(`^与户主关系：本户现有户主“老户主”\\(#${oldId}\\)`),
    );
    assert.equal((await householdByNo('HC-1'))?.head_person_id, oldId);
    assert.deepEqual(await relations(household?.id ?? 0), { [OLD]: '户主', [SPOUSE]: '配偶', [NEW]: '子' });

    // The former head's row is in the file but refused (a spouse nobody has): still refused.
    const refusedFormer = await runImport(
      file(
        csv([
          { 户编号: 'HC-1', 姓名: '儿子', 公民身份号码: NEW, 与户主关系: '户主', 户籍地代码: V1 },
          {
            户编号: 'HC-1',
            姓名: '老户主',
            公民身份号码: OLD,
            与户主关系: '父亲',
            户籍地代码: V1,
            配偶身份号码: nextId('1958-01-01', 2),
          },
        ]),
      ),
    );
    assert.equal(refusedFormer.counts.errors, 2);
    assert.equal((await householdByNo('HC-1'))?.head_person_id, oldId);
    assert.deepEqual(await relations(household?.id ?? 0), { [OLD]: '户主', [SPOUSE]: '配偶', [NEW]: '子' });

    // Both rows, the former head as 父亲 (his spouse now 母亲): the head changes, one 户主.
    const both = await runImport(
      file(
        csv([
          { 户编号: 'HC-1', 姓名: '儿子', 公民身份号码: NEW, 与户主关系: '户主', 户籍地代码: V1 },
          { 户编号: 'HC-1', 姓名: '老户主', 公民身份号码: OLD, 与户主关系: '父亲', 户籍地代码: V1 },
          { 户编号: 'HC-1', 姓名: '老伴', 公民身份号码: SPOUSE, 与户主关系: '母亲', 户籍地代码: V1 },
        ]),
      ),
    );
    assert.equal(both.counts.errors, 0);
    assert.equal((await householdByNo('HC-1'))?.head_person_id, (await personByNumber(NEW))?.id);
    assert.deepEqual(await relations(household?.id ?? 0), { [OLD]: '父亲', [SPOUSE]: '母亲', [NEW]: '户主' });
  });
});

// ---------------------------------------------------------------------------------------------

interface HouseholdJson {
  id: number;
  version: number;
  headPersonId: number | null;
  members: { id: number; relationToHead: string | null }[];
}

async function household(no: string, village = V2): Promise<HouseholdJson> {
  const r = await call('POST', '/households', { householdNo: no, hukouRegionCode: village });
  assert.equal(r.statusCode, 201, r.body);
  return r.json() as HouseholdJson;
}

async function member(
  householdId: number,
  name: string,
  birthDate: string,
  relationToHead: string,
  sex: 1 | 2 = 1,
  village = V2,
) {
  const r = await call('POST', '/persons', {
    name,
    idNumber: nextId(birthDate, sex),
    hukouRegionCode: village,
    householdId,
    relationToHead,
  });
  assert.equal(r.statusCode, 201, r.body);
  return r.json() as { id: number; version: number };
}

async function getHousehold(id: number): Promise<HouseholdJson> {
  return (await call('GET', `/households/${id}`)).json() as HouseholdJson;
}

const relationsOf = (h: HouseholdJson) => Object.fromEntries(h.members.map((m) => [m.id, m.relationToHead]));

describe('naming a new head on the household', () => {
  test('the former head takes the relation given, the new head becomes 户主, one transaction, audited', async () => {
    const h = await household('HH-1');
    const father = await member(h.id, '父户主', '1950-01-01', '户主');
    const son = await member(h.id, '儿户主', '1978-01-01', '子');
    const daughter = await member(h.id, '女儿', '1980-01-01', '女', 2);
    const read = await getHousehold(h.id);
    assert.equal(read.headPersonId, father.id);
    const personVersions = async () =>
      Object.fromEntries(
        await Promise.all(
          [father.id, son.id, daughter.id].map(
            async (id) =>
              [id, ((await call('GET', `/persons/${id}`)).json() as { version: number }).version] as const,
          ),
        ),
      );
    const versionsBefore = await personVersions();
    const r = await call('PATCH', `/households/${h.id}`, {
      version: read.version,
      headPersonId: son.id,
      formerHeadRelationToHead: ' 父亲 ',
    });
    assert.equal(r.statusCode, 200, r.body);
    const changed = r.json() as HouseholdJson;
    assert.equal(changed.headPersonId, son.id);
    assert.equal(changed.version, read.version + 1);
    assert.deepEqual(relationsOf(changed), { [father.id]: '父亲', [son.id]: '户主', [daughter.id]: '女' });
    const versionsAfter = await personVersions();
    assert.equal(versionsAfter[father.id], (versionsBefore[father.id] ?? 0) + 1);
    assert.equal(versionsAfter[son.id], (versionsBefore[son.id] ?? 0) + 1);
    assert.equal(versionsAfter[daughter.id], versionsBefore[daughter.id]);

    const entries = await sql<{ action: string; entity_id: string; details: Record<string, unknown> }>`
      SELECT action, entity_id, details FROM audit_log
      WHERE (action = 'household.update' AND entity_id = ${String(h.id)})
        OR (action = 'person.update' AND entity_id IN (${String(father.id)}, ${String(son.id)}))
      ORDER BY id`.execute(t.ctx.db);
    assert.deepEqual(
      entries.rows.map((e) => [e.action, String(e.entity_id)]),
      [
        ['household.update', String(h.id)],
        ['person.update', String(father.id)],
        ['person.update', String(son.id)],
      ],
    );
    assert.deepEqual(entries.rows[0]?.details.headPersonId, { from: father.id, to: son.id });
    assert.deepEqual(entries.rows[1]?.details.relationToHead, { from: '户主', to: '父亲' });
    assert.deepEqual(entries.rows[2]?.details.relationToHead, { from: '子', to: '户主' });

    // An edit of the former head from the read before the change is stale.
    const stalePerson = await call('PATCH', `/persons/${father.id}`, {
      version: versionsBefore[father.id],
      relationToHead: '户主',
    });
    assert.equal(stalePerson.statusCode, 409, stalePerson.body);
  });

  test('without the former head’s new relation, or with one that is not GB/T 4761 or is 户主: 400 naming the field; nothing changes', async () => {
    const h = await household('HH-2');
    const head = await member(h.id, '原户主', '1952-01-01', '户主');
    const next = await member(h.id, '新户主', '1979-01-01', '子');
    const read = await getHousehold(h.id);
    const cases: [Record<string, unknown>, RegExp][] = [
      [{}, /须填写原户主“原户主”新的与户主关系/],
      [{ formerHeadRelationToHead: null }, /须填写原户主/],
      [{ formerHeadRelationToHead: '  ' }, /须填写原户主/],
      [{ formerHeadRelationToHead: '老爷子' }, /不是 GB\/T 4761 的家庭关系名称/],
      [{ formerHeadRelationToHead: '户主' }, /新关系不能是“户主”/],
      [{ formerHeadRelationToHead: '本人' }, /新关系不能是“本人”/],
    ];
    for (const [extra, message] of cases) {
      const detail = fieldError(
        await call('PATCH', `/households/${h.id}`, {
          version: read.version,
          headPersonId: next.id,
          ...extra,
        }),
      );
      assert.equal(detail.path, 'formerHeadRelationToHead', JSON.stringify(extra));
      assert.match(detail.message, message);
    }
    const en = fieldError(
      await call('PATCH', `/households/${h.id}`, { version: read.version, headPersonId: next.id }, 'en'),
    );
    assert.equal(en.path, 'formerHeadRelationToHead');
    assert.match(en.message, /former head/);
    // Removing the head leaves the former head needing a relation too.
    const removed = fieldError(
      await call('PATCH', `/households/${h.id}`, { version: read.version, headPersonId: null }),
    );
    assert.equal(removed.path, 'formerHeadRelationToHead');
    // A relation given without a change of head is refused, not ignored.
    const unused = fieldError(
      await call('PATCH', `/households/${h.id}`, {
        version: read.version,
        headPersonId: head.id,
        formerHeadRelationToHead: '父亲',
      }),
    );
    assert.equal(unused.path, 'formerHeadRelationToHead');
    const after = await getHousehold(h.id);
    assert.equal(after.version, read.version);
    assert.equal(after.headPersonId, head.id);
    assert.deepEqual(relationsOf(after), { [head.id]: '户主', [next.id]: '子' });
  });

  test('a stale version is 409 and changes nothing; a household without a head takes one without it', async () => {
    const h = await household('HH-3');
    const head = await member(h.id, '甲户主', '1953-01-01', '户主');
    const next = await member(h.id, '乙', '1981-01-01', '子');
    const read = await getHousehold(h.id);
    const address = await call('PATCH', `/households/${h.id}`, {
      version: read.version,
      address: '城内村 1 号',
    });
    assert.equal(address.statusCode, 200, address.body);
    const stale = await call('PATCH', `/households/${h.id}`, {
      version: read.version,
      headPersonId: next.id,
      formerHeadRelationToHead: '父亲',
    });
    assert.equal(stale.statusCode, 409, stale.body);
    assert.equal((stale.json() as { error: { code: string } }).error.code, 'CONFLICT');
    const after = await getHousehold(h.id);
    assert.equal(after.headPersonId, head.id);
    assert.deepEqual(relationsOf(after), { [head.id]: '户主', [next.id]: '子' });

    // No head: the former head's relation is not asked for; the new head becomes 户主.
    const empty = await household('HH-4');
    const only = await member(empty.id, '丙', '1960-01-01', '其他');
    const named = await call('PATCH', `/households/${empty.id}`, {
      version: (await getHousehold(empty.id)).version,
      headPersonId: only.id,
    });
    assert.equal(named.statusCode, 200, named.body);
    assert.deepEqual(relationsOf(named.json() as HouseholdJson), { [only.id]: '户主' });
  });

  test('a member still written 户主 from before (two 户主 left by an older head change) is a 409 naming them', async () => {
    // In the imports' village: the export below is of households with one 户主.
    const h = await household('HH-5', V1);
    const head = await member(h.id, '现户主', '1954-01-01', '户主', 1, V1);
    const left = await member(h.id, '遗留户主', '1956-01-01', '子', 1, V1);
    const next = await member(h.id, '下任', '1982-01-01', '子', 1, V1);
    await t.ctx.db
      .updateTable('persons')
      .set({ relation_to_head: '户主' })
      .where('id', '=', left.id)
      .execute();
    const r = await call('PATCH', `/households/${h.id}`, {
      version: (await getHousehold(h.id)).version,
      headPersonId: next.id,
      formerHeadRelationToHead: '父亲',
    });
    assert.equal(r.statusCode, 409, r.body);
    assert.match(r.body, /遗留户主/);
    assert.deepEqual(relationsOf(await getHousehold(h.id)), {
      [head.id]: '户主',
      [left.id]: '户主',
      [next.id]: '子',
    });
  });

  test('an export of the household after the change imports back unchanged', async () => {
    const h = await household('HH-6');
    const head = await member(h.id, '出户主', '1951-01-01', '户主');
    await member(h.id, '出配偶', '1953-01-01', '配偶', 2);
    const son = await member(h.id, '出儿子', '1977-01-01', '子');
    const r = await call('PATCH', `/households/${h.id}`, {
      version: (await getHousehold(h.id)).version,
      headPersonId: son.id,
      formerHeadRelationToHead: '父亲',
      annualIncomeFen: 2_500_000,
    });
    assert.equal(r.statusCode, 200, r.body);
    const before = await getHousehold(h.id);
    const spouseId = before.members.find((m) => m.id !== head.id && m.id !== son.id)?.id ?? 0;
    const changedSpouse = await call('PATCH', `/persons/${spouseId}`, {
      version: ((await call('GET', `/persons/${spouseId}`)).json() as { version: number }).version,
      relationToHead: '母亲',
    });
    assert.equal(changedSpouse.statusCode, 200, changedSpouse.body);
    const snapshot = await getHousehold(h.id);
    const exported = await call('GET', `/exports/registry?region=${V2}&format=csv`);
    assert.equal(exported.statusCode, 200);
    const text = exported.body;
    const rowsOfHousehold = text.split(/\r?\n/).filter((line) => line.startsWith('HH-6,'));
    assert.equal(rowsOfHousehold.length, 3);
    assert.deepEqual(
      rowsOfHousehold.filter((line) => line.includes(',户主,')).map((line) => line.includes('出儿子')),
      [true],
    );
    const outcome = await runImport(file(text));
    assert.equal(outcome.counts.errors, 0);
    assert.equal(outcome.counts.inserted, 0);
    assert.equal(outcome.counts.updated, 0);
    const back = await getHousehold(h.id);
    assert.deepEqual(back, snapshot);
    assert.equal(back.headPersonId, son.id);
    assert.deepEqual(relationsOf(back), { [head.id]: '父亲', [spouseId]: '母亲', [son.id]: '户主' });
  });
});
