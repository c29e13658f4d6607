// Session 22, the template import as an ID-number oracle (findings-access F1): an importer who may not
// reveal ID numbers (a township supervisor) learned from a dry run's error report which of a file's
// numbers are registered outside his region, and from counts.updated (or the "other father" error)
// which of ~500 candidates is a masked person's number in his own region, without limit. Now such rows
// count against the hourly budget the API's refusals of a taken number use (registry.id-budget.ts):
// within it the import runs as before and each row is audited (person.id_number_taken); a file over it
// is refused whole, dry run or not, with no counts and no error report (one audit entry, counts only).
// Callers who may reveal, and the console, are not limited, and their matches are not audited one by
// one (the import's own entry stands).
// Runs on PGlite, or PostgreSQL with TEST_DATABASE_URL.
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { reasonsByName, scratchFolder, templateCsv } from '../../../test/support/files.ts';
import { createToken, permissionsOf, systemActor, type Actor, type Role } from '../access/index.ts';
import { makeIdNumber } from './registry.idnumber.ts';
import { importRegistryFile, type Importer, type ImportOutcome } from './registry.import.ts';
import { ID_TAKEN_LIMIT } from './registry.id-budget.ts';

const COUNTY = '410225';
const TOWNSHIP = '410225101';
const V1 = '410225101200'; // the supervisor's village
const V3 = '410225102200'; // a village of another township
const DAY = '2026-11-29';

let t: TestApp;
const scratch = scratchFolder('shouhu-session22-oracle-');

before(async () => {
  scratch.open();
  t = await createTestApp({ dataDir: scratch.path('data') });
  const seeded = await run(
    outside.map((id, i) => row(`外乡${i}`, id, V3)),
    console_,
  );
  assert.equal(seeded.counts.inserted, 25, JSON.stringify(seeded.counts));
});
after(async () => {
  await t?.close();
  scratch.close();
});

let users = 9100;
/** A signed-in user of a role, each a caller with a budget of his own. */
function actorOf(username: string, role: Role, regionCode: string): Actor {
  users += 1;
  return {
    kind: 'user',
    userId: users,
    tokenId: null,
    username,
    role,
    regionCode,
    permissions: permissionsOf(role, false),
    individualAccess: false,
    ip: '127.0.0.1',
    sessionId: null,
  };
}
const importerOf = (actor: Actor): Importer => ({
  regionCode: actor.regionCode,
  userId: actor.userId,
  auditActor: actor,
});
const supervisor = (username: string) => importerOf(actorOf(username, 'township_supervisor', TOWNSHIP));
const console_: Importer = { regionCode: COUNTY, userId: null, auditActor: systemActor('test') };

let files = 0;
async function run(
  rows: Record<string, string>[],
  importer: Importer,
  dryRun = false,
): Promise<ImportOutcome & { reasons: Awaited<ReturnType<typeof reasonsByName>> }> {
  files += 1;
  const outcome = await importRegistryFile(
    t.database,
    scratch.fileOf(`template-${files}.csv`, templateCsv(rows)),
    importer,
    { today: DAY, dryRun, errorReportBase: scratch.path(`errors-${files}`), importId: 22_000 + files },
  );
  return { ...outcome, reasons: await reasonsByName(outcome.errorReport?.csv) };
}

let households = 0;
const row = (name: string, id: string, village = V1, refs: Record<string, string> = {}) => {
  households += 1;
  return {
    户编号: `OR-${households}`,
    姓名: name,
    公民身份号码: id,
    与户主关系: '户主',
    户籍地代码: village,
    ...refs,
  };
};
/** The candidates for a masked number: the odd (male) sequence numbers from `from`, `n` of them. */
const candidates = (birth: string, from: number, n: number) =>
  Array.from({ length: n }, (_, i) => makeIdNumber(COUNTY, birth, from + 2 * i));
// 25 persons registered in another township (the supervisor's numbers to guess there).
const outside = candidates('1953-04-28', 1, 25);

const entriesOf = (username: string, action: string) =>
  t.ctx.db
    .selectFrom('audit_log')
    .select(['entity_type', 'entity_id', 'region_code', 'result', 'details'])
    .where('actor_username', '=', username)
    .where('action', '=', action)
    .orderBy('id')
    .execute();

const personId = async (idNumber: string) =>
  Number(
    (
      await t.ctx.db
        .selectFrom('persons')
        .select('id')
        .where('id_number', '=', idNumber)
        .executeTakeFirstOrThrow()
    ).id,
  );

function assertRefusedWhole(outcome: ImportOutcome, rows: number) {
  assert.equal(outcome.status, 'rejected');
  assert.deepEqual(outcome.counts, { rows: 0, inserted: 0, updated: 0, unchanged: 0, errors: 0 });
  assert.equal(outcome.errorReport, null);
  assert.match(outcome.message?.zh ?? '', new RegExp(`本文件有 ${rows} 行`));
  assert.match(outcome.message?.zh ?? '', /县级民政部门/);
  assert.match(outcome.message?.en ?? '', new RegExp(`^${rows} rows of this file`));
  assert.match(outcome.message?.en ?? '', /county civil affairs staff, who may reveal/);
}

describe('a caller without persons.reveal: the rows that answer for a number count against the hourly budget', () => {
  test('(a) numbers registered outside the region, dry run: within the budget answered as before and audited per row; over it refused whole', async () => {
    const who = supervisor('s22o.a');
    const fresh = candidates('1953-04-29', 1, 5);
    const first = await run(
      [...outside.slice(0, 3).map((id) => row('某某', id)), ...fresh.map((id) => row('某某', id))],
      who,
      true,
    );
    assert.equal(first.status, 'succeeded');
    assert.deepEqual(first.counts, { rows: 8, inserted: 5, updated: 0, unchanged: 0, errors: 3 });
    const taken = await entriesOf('s22o.a', 'person.id_number_taken');
    assert.equal(taken.length, 3);
    for (const e of taken) {
      assert.equal(e.result, 'denied');
      assert.equal(e.entity_id, null);
      assert.equal((e.details as { holder: string }).holder, 'outOfScope');
      assert.equal((e.details as { dryRun: boolean }).dryRun, true);
      assert.ok(!JSON.stringify(e.details).includes(outside[0] ?? '-'), 'never the number');
    }

    // 18 more than were left (17): the whole file is refused, nothing per row.
    const second = await run(
      [...outside.slice(3, 21).map((id) => row('某某', id)), ...fresh.map((id) => row('某某', id))],
      who,
      true,
    );
    assertRefusedWhole(second, 18);
    const limited = await entriesOf('s22o.a', 'person.id_number_taken.limited');
    assert.equal(limited.length, 1);
    assert.deepEqual(
      { ...(limited[0]?.details as Record<string, unknown>), importId: undefined },
      {
        via: 'import',
        kind: 'registry',
        dryRun: true,
        rows: 18,
        left: ID_TAKEN_LIMIT - 3,
        limit: ID_TAKEN_LIMIT,
        windowMinutes: 60,
        importId: undefined,
      },
    );
    assert.equal((await entriesOf('s22o.a', 'person.id_number_taken')).length, 3);

    // The refusal spent what was left: now any file with ID numbers is refused, whatever they are,
    // and the refusal no longer says how many rows.
    const third = await run([row('某某', fresh[0] ?? '')], who, true);
    assert.equal(third.status, 'rejected');
    assert.equal(third.errorReport, null);
    assert.match(third.message?.zh ?? '', /约 \d+ 分钟内不能导入含公民身份号码的文件/);
    assert.doesNotMatch(third.message?.zh ?? '', /本文件有/);
    assert.equal((await entriesOf('s22o.a', 'person.id_number_taken.limited')).length, 2);
  });

  test('(b) halving a masked number with counts.updated: the wrong candidates are near misses, and the second half is refused whole', async () => {
    const birth = '1961-09-18';
    const [truth] = candidates(birth, 1, 1);
    await run([row('武凯刚', truth ?? '')], console_);
    const all = candidates(birth, 1, 30);
    const who = supervisor('s22o.b');
    const g1 = await run(
      all.slice(0, 15).map((id) => row('武凯刚', id)),
      who,
      true,
    );
    // Within the budget (14 near misses of 20): as before, and each near miss audited on the person.
    assert.equal(g1.status, 'succeeded');
    assert.deepEqual(g1.counts, { rows: 15, inserted: 14, updated: 1, unchanged: 0, errors: 0 });
    const near = await entriesOf('s22o.b', 'person.id_number_taken');
    assert.equal(near.length, 14);
    const kai = await personId(truth ?? '');
    for (const e of near) {
      assert.equal(e.entity_id, String(kai));
      assert.equal((e.details as { probe: string }).probe, 'near');
    }
    // The other half: 15 near misses, 6 left.
    const g2 = await run(
      all.slice(15).map((id) => row('武凯刚', id)),
      who,
      true,
    );
    assertRefusedWhole(g2, 15);

    // Another name on the candidates does not slip through: the true number under another name is
    // counted too (the row would update him), the others are new persons of no one's name.
    const other = supervisor('s22o.b2');
    const renamed = await run(
      all.slice(0, ID_TAKEN_LIMIT + 1).map((id) => row('某某', id)),
      other,
      true,
    );
    assert.equal(renamed.status, 'succeeded');
    assert.equal(renamed.counts.updated, 1);
    const [byName] = await entriesOf('s22o.b2', 'person.id_number_taken');
    assert.equal((byName?.details as { probe: string }).probe, 'name');
    assert.equal(byName?.entity_id, String(kai));
  });

  test('(c) the father trick: candidates naming a father only in the file are refused whole once over the budget', async () => {
    const birth = '2025-04-09';
    const [childNo, elsewhere] = candidates(birth, 1, 2);
    const fatherNo = makeIdNumber(COUNTY, '1990-02-02', 11);
    await run([row('武健', fatherNo)], console_);
    await run([row('武强', childNo ?? '', V1, { 父亲身份号码: fatherNo })], console_);
    await run([row('他乡童', elsewhere ?? '', V3)], console_);
    const newFather = makeIdNumber(COUNTY, '1990-01-01', 151);
    const trick = (n: number) => [
      row('某男', newFather),
      ...candidates(birth, 1, n).map((id) => row('武强', id, V1, { 父亲身份号码: newFather })),
    ];
    // Few candidates, a fresh caller: as before (the child's number confirmed by the father's error),
    // each wrong candidate counted.
    const small = await run(trick(5), supervisor('s22o.c1'), true);
    assert.equal(small.status, 'succeeded');
    assert.match(readFileSync(small.errorReport?.csv ?? '', 'utf8'), /此人已登记生父/);
    assert.equal((await entriesOf('s22o.c1', 'person.id_number_taken')).length, 4);
    // 30 candidates: 28 near misses and one registered elsewhere, more than 20: refused whole.
    const whole = await run(trick(30), supervisor('s22o.c2'), true);
    assertRefusedWhole(whole, 29);
    assert.equal((await entriesOf('s22o.c2', 'person.id_number_taken')).length, 0);
    assert.equal((await entriesOf('s22o.c2', 'person.id_matched')).length, 0);
  });

  test('the budget is the API’s: after a refused import the caller’s POST /persons with an ID number is 429', async () => {
    const created = await createToken(t.ctx, null, {
      name: 's22o.token',
      role: 'township_supervisor',
      regionCode: TOWNSHIP,
      individualAccess: false,
    });
    const actor: Actor = {
      ...actorOf('s22o.token', 'township_supervisor', TOWNSHIP),
      kind: 'token',
      userId: null,
      tokenId: created.item.id,
    };
    const refused = await run(
      outside.slice(0, ID_TAKEN_LIMIT + 1).map((id) => row('某某', id)),
      importerOf(actor),
      true,
    );
    assertRefusedWhole(refused, ID_TAKEN_LIMIT + 1);
    const r = await t.app.inject({
      method: 'POST',
      url: '/api/v1/persons',
      headers: { authorization: `Bearer ${created.token}` },
      payload: {
        name: '新人',
        idNumber: makeIdNumber(COUNTY, '1988-08-08', 17),
        hukouRegionCode: V1,
      },
    });
    assert.equal(r.statusCode, 429, r.body);
  });
});

describe('legitimate imports', () => {
  test('a township’s file with a few rows registered elsewhere is imported, those rows reported', async () => {
    const who = supervisor('s22o.legit');
    const family = candidates('1980-05-05', 1, 6);
    const rows = [
      ...family.map((id, i) => row(`本村${i}`, id)),
      ...outside.slice(0, 2).map((id) => row('某某', id)),
    ];
    const first = await run(rows, who);
    assert.equal(first.status, 'succeeded');
    assert.deepEqual(first.counts, { rows: 8, inserted: 6, updated: 0, unchanged: 0, errors: 2 });
    assert.match(first.reasons['某某'] ?? '', /此人已在您管辖范围以外的地区登记/);
    // The same file again: the township's own persons are unchanged and cost nothing.
    const again = await run(rows, who);
    assert.deepEqual(again.counts, { rows: 8, inserted: 0, updated: 0, unchanged: 6, errors: 2 });
    assert.equal((await entriesOf('s22o.legit', 'person.id_number_taken')).length, 4);
    assert.equal((await entriesOf('s22o.legit', 'person.id_number_taken.limited')).length, 0);
  });

  test('the county (persons.reveal) and the console: not limited, and their matches not audited one by one', async () => {
    const county = importerOf(actorOf('s22o.county', 'county_staff', COUNTY));
    const rows = [
      ...outside.map((id, i) => row(`外乡${i}`, id, V3)),
      ...candidates('1961-09-18', 1, 30).map((id) => row('武凯刚', id)),
    ];
    const outcome = await run(rows, county, true);
    assert.equal(outcome.status, 'succeeded');
    assert.equal(outcome.counts.rows, 55);
    assert.equal(outcome.counts.updated + outcome.counts.unchanged, 26);
    for (const action of ['person.id_number_taken', 'person.id_number_taken.limited', 'person.id_matched'])
      assert.equal((await entriesOf('s22o.county', action)).length, 0, action);
    const dry = await entriesOf('s22o.county', 'registry.import.dry_run');
    assert.equal(dry.length, 1);
    const beforeConsole = (await entriesOf('cli:test', 'person.id_matched')).length;
    const byConsole = await run(rows, console_, true);
    assert.equal(byConsole.status, 'succeeded');
    assert.equal((await entriesOf('cli:test', 'person.id_matched')).length, beforeConsole);
  });
});
