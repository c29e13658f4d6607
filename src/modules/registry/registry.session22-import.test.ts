// Session 22, the registry template import:
// - a link a clerk retracted as wrong (POST …/relations/{id}/retract, session 21) is not made again by
//   importing the file that made it: the row's link is refused on its row in the error report, naming
//   the retraction and its day, and the rest of the row is imported; the same file again changes
//   nothing; a dry run says the same;
// - every registered person the file's ID numbers match (the row's own, or a father's, mother's,
//   spouse's or carer's) is audited once per import (person.id_matched), a dry run's too, for a user
//   and for the server console (shouhu import).
// Runs on PGlite, or PostgreSQL with TEST_DATABASE_URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { reasonsByName, scratchFolder, templateCsv } from '../../../test/support/files.ts';
import { permissionsOf, systemActor, type Actor } from '../access/index.ts';
import { today } from '../../platform/dates.ts';
import { makeIdNumber } from './registry.idnumber.ts';
import { importRegistryFile, type Importer } from './registry.import.ts';
import { importFileOnConsole } from './registry.cli.ts';
import { retractRelation } from './registry.service.ts';

const COUNTY = '410225';
const VILLAGE = '410225101200'; // 堌阳镇 城内村
const DAY = '2026-11-29';

let t: TestApp;
const scratch = scratchFolder('shouhu-session22-import-');

before(async () => {
  scratch.open();
  t = await createTestApp({ dataDir: scratch.path('data') });
});
after(async () => {
  await t?.close();
  scratch.close();
});

const TOWNSHIP = VILLAGE.slice(0, 9);
const actorOf = (
  username: string,
  role: 'county_staff' | 'township_staff' = 'county_staff',
  regionCode = COUNTY,
): Actor => ({
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
const clerk = actorOf('s22.clerk');
const console_: Importer = { regionCode: COUNTY, userId: null, auditActor: systemActor('test') };

const file = (rows: Record<string, string>[]) => scratch.fileOf('template.csv', templateCsv(rows));

let files = 0;
async function run(
  source: string,
  options: { dryRun?: boolean; importer?: Importer; importId?: number } = {},
) {
  files += 1;
  const outcome = await importRegistryFile(t.database, source, options.importer ?? console_, {
    today: DAY,
    dryRun: options.dryRun ?? false,
    errorReportBase: scratch.path(`errors-${files}`),
    ...(options.importId !== undefined ? { importId: options.importId } : {}),
  });
  assert.equal(outcome.status, 'succeeded', JSON.stringify(outcome.message));
  return { outcome, reasons: await reasonsByName(outcome.errorReport?.csv) };
}

let serial = 100;
const idOf = (birth: string, sex: 1 | 2) => {
  serial += 1;
  return makeIdNumber(COUNTY, birth, sex === 1 ? 2 * serial + 1 : 2 * serial);
};

const row = (
  householdNo: string,
  name: string,
  id: string,
  relation: string,
  refs: Record<string, string> = {},
) => ({
  户编号: householdNo,
  姓名: name,
  公民身份号码: id,
  与户主关系: relation,
  户籍地代码: VILLAGE,
  ...refs,
});

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

/** The person's current links of a kind, as the ids of the other end. */
async function linked(personIdNumber: string, kind: 'parent' | 'spouse'): Promise<number[]> {
  const id = await personId(personIdNumber);
  const rows = await t.ctx.db
    .selectFrom('person_relations')
    .select(['person_id', 'related_person_id'])
    .where('kind', '=', kind)
    .where('valid_to', 'is', null)
    .where((eb) => eb.or([eb('person_id', '=', id), eb('related_person_id', '=', id)]))
    .execute();
  return rows
    .filter((r) => kind === 'spouse' || Number(r.person_id) === id)
    .map((r) => Number(Number(r.person_id) === id ? r.related_person_id : r.person_id))
    .sort((a, b) => a - b);
}

/** Retracts the current link between the two as a clerk would (the session 21 route's use case). */
async function retract(fromIdNumber: string, toIdNumber: string, kind: 'parent' | 'spouse') {
  const [from, to] = [await personId(fromIdNumber), await personId(toIdNumber)];
  const link = await t.ctx.db
    .selectFrom('person_relations')
    .select('id')
    .where('kind', '=', kind)
    .where('valid_to', 'is', null)
    .where((eb) =>
      eb.or([
        eb.and([eb('person_id', '=', from), eb('related_person_id', '=', to)]),
        eb.and([eb('person_id', '=', to), eb('related_person_id', '=', from)]),
      ]),
    )
    .executeTakeFirstOrThrow();
  await retractRelation(t.ctx.db, clerk, from, Number(link.id), '误登记为同名的另一人');
}

const retractedCount = async () =>
  Number(
    (
      await t.ctx.db
        .selectFrom('person_relations_retracted')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

describe('a link retracted as wrong is not made again by an import', () => {
  test('the father’s link: refused on its row with the retraction’s day, the rest of the row written; again changes nothing', async () => {
    const wrong = idOf('1980-03-03', 1);
    const child = idOf('2016-05-05', 2);
    const first = file([
      row('S22-1', '王强', wrong, '户主'),
      row('S22-2', '王小丽', child, '户主', { 父亲身份号码: wrong }),
    ]);
    await run(first);
    const wrongId = await personId(wrong);
    assert.deepEqual(await linked(child, 'parent'), [wrongId]);
    await retract(child, wrong, 'parent');
    assert.deepEqual(await linked(child, 'parent'), []);
    const retracted = await retractedCount();

    const dry = await run(first, { dryRun: true });
    assert.deepEqual(dry.outcome.counts, { rows: 2, inserted: 0, updated: 0, unchanged: 2, errors: 1 });
    const reason = dry.reasons['王小丽'] ?? '';
    assert.match(reason, new RegExp(`与该父亲的关系已于 ${today()} 作为误登记撤回，导入不再建立此关系`));
    assert.match(reason, /本行其他内容已照常导入/);
    assert.deepEqual(await linked(child, 'parent'), []);

    // The rest of the row is written as usual: a changed phone number is taken.
    const edited = file([
      row('S22-1', '王强', wrong, '户主'),
      row('S22-2', '王小丽', child, '户主', { 父亲身份号码: wrong, 联系电话: '13812345678' }),
    ]);
    const real = await run(edited);
    assert.deepEqual(real.outcome.counts, { rows: 2, inserted: 0, updated: 1, unchanged: 1, errors: 1 });
    assert.match(real.reasons['王小丽'] ?? '', /作为误登记撤回/);
    assert.deepEqual(await linked(child, 'parent'), []);
    const phone = await t.ctx.db
      .selectFrom('persons')
      .select('phone')
      .where('id', '=', await personId(child))
      .executeTakeFirstOrThrow();
    assert.equal(phone.phone, '13812345678');

    const again = await run(edited);
    assert.deepEqual(again.outcome.counts, { rows: 2, inserted: 0, updated: 0, unchanged: 2, errors: 1 });
    assert.deepEqual(await linked(child, 'parent'), []);
    assert.equal(await retractedCount(), retracted);
  });

  test('with the true father linked since, the old file is told of the retraction, not refused whole', async () => {
    const wrong = idOf('1981-04-04', 1);
    const right = idOf('1982-06-06', 1);
    const child = idOf('2017-07-07', 1);
    const old = file([
      row('S22-3', '李军', wrong, '户主'),
      row('S22-4', '李明', child, '户主', { 父亲身份号码: wrong }),
    ]);
    await run(old);
    await retract(child, wrong, 'parent');
    await run(
      file([
        row('S22-5', '李军', right, '户主'),
        row('S22-4', '李明', child, '户主', { 父亲身份号码: right }),
      ]),
    );
    const rightId = await personId(right);
    assert.deepEqual(await linked(child, 'parent'), [rightId]);

    const { outcome, reasons } = await run(old);
    assert.deepEqual(outcome.counts, { rows: 2, inserted: 0, updated: 0, unchanged: 2, errors: 1 });
    const reason = reasons['李明'] ?? '';
    assert.match(reason, /与该父亲的关系已于 \d{4}-\d{2}-\d{2} 作为误登记撤回/);
    assert.doesNotMatch(reason, /已登记生父/);
    assert.deepEqual(await linked(child, 'parent'), [rightId]);
  });

  test('a spouse link retracted from either side is refused on both rows; a link linked again by a clerk stands', async () => {
    const he = idOf('1975-01-01', 1);
    const she = idOf('1976-02-02', 2);
    const couple = file([
      row('S22-6', '赵刚', he, '户主', { 配偶身份号码: she }),
      row('S22-6', '钱芳', she, '配偶', { 配偶身份号码: he }),
    ]);
    await run(couple);
    assert.equal((await linked(he, 'spouse')).length, 1);
    // Retracted from the side the link is not stored under.
    await retract(she, he, 'spouse');
    const { outcome, reasons } = await run(couple);
    assert.deepEqual(outcome.counts, { rows: 2, inserted: 0, updated: 0, unchanged: 2, errors: 2 });
    assert.match(reasons['赵刚'] ?? '', /与该配偶的关系已于 \d{4}-\d{2}-\d{2} 作为误登记撤回/);
    assert.match(reasons['钱芳'] ?? '', /与该配偶的关系已于 \d{4}-\d{2}-\d{2} 作为误登记撤回/);
    assert.deepEqual(await linked(he, 'spouse'), []);

    // A clerk links them again after all (the retraction was the mistake): the import leaves it be.
    const [a, b] = [await personId(he), await personId(she)];
    await t.ctx.db
      .insertInto('person_relations')
      .values({
        person_id: Math.min(a, b),
        related_person_id: Math.max(a, b),
        kind: 'spouse',
        source: 'manual',
      })
      .execute();
    const relinked = await run(couple);
    assert.deepEqual(relinked.outcome.counts, { rows: 2, inserted: 0, updated: 0, unchanged: 2, errors: 0 });
    assert.equal((await linked(he, 'spouse')).length, 1);
  });
});

// Audited for an importer who may not reveal ID numbers (a match tells him something he may not see);
// one who may, and the server console, have the import's own entry only (DECISIONS, session 22).
describe('every ID number matched to a registered person is audited (person.id_matched)', () => {
  const matchesOf = (username: string) =>
    t.ctx.db
      .selectFrom('audit_log')
      .select(['entity_type', 'entity_id', 'region_code', 'details', 'actor_kind'])
      .where('actor_username', '=', username)
      .where('action', '=', 'person.id_matched')
      .orderBy('entity_id')
      .execute();

  test('a user’s dry run and real run: one entry per registered person, the row’s own or a reference, none for new persons', async () => {
    const mother = idOf('1985-08-08', 2);
    const child = idOf('2018-09-09', 2);
    await run(file([row('S22-7', '孙梅', mother, '户主')]));
    const motherId = await personId(mother);
    const later = file([
      row('S22-7', '孙梅', mother, '户主'),
      row('S22-7', '孙小梅', child, '女', { 母亲身份号码: mother }),
    ]);
    const user: Importer = {
      regionCode: TOWNSHIP,
      userId: null,
      auditActor: actorOf('s22.clerk', 'township_staff', TOWNSHIP),
    };
    await run(later, { dryRun: true, importer: user, importId: 2201 });
    const dry = await matchesOf('s22.clerk');
    assert.deepEqual(
      dry.map((m) => [m.entity_type, m.entity_id, m.region_code, m.actor_kind]),
      [['person', String(motherId), VILLAGE, 'user']],
    );
    assert.deepEqual(dry[0]?.details, {
      via: 'import',
      importId: 2201,
      kind: 'registry',
      dryRun: true,
      column: '公民身份号码',
      nameDiffers: false,
    });

    // A reference only (the child's row names her registered mother; the mother has no row).
    const childId = await (async () => {
      await run(later, { importer: user });
      return personId(child);
    })();
    const onlyChild = file([row('S22-7', '孙小梅', child, '女', { 母亲身份号码: mother })]);
    const reviewer: Importer = {
      regionCode: TOWNSHIP,
      userId: null,
      auditActor: actorOf('s22.reviewer', 'township_staff', TOWNSHIP),
    };
    await run(onlyChild, { importer: reviewer, importId: 2202 });
    const entries = await matchesOf('s22.reviewer');
    const columns = new Map(
      entries.map((m) => [Number(m.entity_id), m.details as { column: string; dryRun: boolean }]),
    );
    assert.equal(entries.length, 2);
    assert.equal(columns.get(childId)?.column, '公民身份号码');
    assert.equal(columns.get(motherId)?.column, '母亲身份号码');
    assert.equal(columns.get(motherId)?.dryRun, false);
  });

  test('county staff, who may reveal, and the server console (shouhu import): the import’s own entry, none per match', async () => {
    const man = idOf('1970-10-10', 1);
    await run(file([row('S22-8', '周平', man, '户主')]));
    const source = file([row('S22-8', '周平安', man, '户主')]);
    const io = { print: () => {}, error: () => {}, progress: () => {} };
    const outcome = await importFileOnConsole(t.ctx, io, source, {
      region: COUNTY,
      dryRun: true,
      command: 'import',
    });
    assert.equal(outcome.status, 'succeeded');
    assert.deepEqual(await matchesOf('cli:import'), []);
    const own = await t.ctx.db
      .selectFrom('audit_log')
      .select('action')
      .where('actor_username', '=', 'cli:import')
      .execute();
    assert.ok(
      own.some((e) => e.action.startsWith('registry.import')),
      JSON.stringify(own),
    );
    const county: Importer = { regionCode: COUNTY, userId: null, auditActor: actorOf('s22.county') };
    await run(source, { dryRun: true, importer: county });
    assert.deepEqual(await matchesOf('s22.county'), []);
  });
});
