// The registry template import, review 17: a fact that starts after the row's 死亡日期, a migration's or
// a school's column without its companion, and a header row repeated among the data are each one clear
// row error in the error report, naming the column and the reason; the rows around them import. Runs on PGlite, or PostgreSQL
// with TEST_DATABASE_URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { reasonsByName, templateCsv } from '../../../test/support/files.ts';
import { systemActor } from '../access/index.ts';
import { makeIdNumber } from './registry.idnumber.ts';
import { importRegistryFile, type Importer } from './registry.import.ts';
import { repeatedHeaderRow } from './registry.parse.ts';
import { rowToRecord, TEMPLATE_HEADERS } from './registry.template.ts';

const V1 = '410225101200'; // 堌阳镇 城内村
const TODAY = '2026-11-29';

let t: TestApp;
let dir = '';
let seq = 300;

function nextId(birthDate: string, sex: 1 | 2 = 1): string {
  seq += 1;
  return makeIdNumber('410225', birthDate, (sex === 1 ? seq * 2 + 1 : seq * 2) % 1000);
}

const csv = templateCsv;

let fileNo = 0;
function file(content: string): string {
  const name = path.join(dir, `f${++fileNo}.csv`);
  fs.writeFileSync(name, content);
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

async function personByNumber(idNumber: string) {
  return t.ctx.db.selectFrom('persons').selectAll().where('id_number', '=', idNumber).executeTakeFirst();
}

async function factsOf(idNumber: string) {
  const person = await personByNumber(idNumber);
  const facts = await t.ctx.db
    .selectFrom('person_facts')
    .select(['kind', 'valid_from', 'data'])
    .where('person_id', '=', person?.id ?? 0)
    .orderBy('kind')
    .execute();
  return facts.map((f) => ({
    kind: f.kind,
    from: String(f.valid_from),
    data: (typeof f.data === 'string' ? JSON.parse(f.data) : f.data) as Record<string, unknown>,
  }));
}

const person = (name: string, id: string, extra: Record<string, string> = {}): Record<string, string> => ({
  户编号: `R17-${name}`,
  姓名: name,
  公民身份号码: id,
  与户主关系: '户主',
  户籍地代码: V1,
  ...extra,
});

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shouhu-template-review17-'));
  t = await createTestApp();
});

after(async () => {
  await t.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------

describe('F4: nothing about a person starts after the death on the same row', () => {
  test('a migration, a liberty restriction, a lost-contact report or a declaration after 死亡日期 is a row error on its column', async () => {
    const ids = {
      migrant: nextId('1970-01-01'),
      prisoner: nextId('1971-01-01'),
      lost: nextId('1972-01-01'),
      missing: nextId('1973-01-01'),
      sameDay: nextId('1974-01-01'),
      before: nextId('1975-01-01'),
    };
    const outcome = await runImport(
      file(
        csv([
          person('测亡甲', ids.migrant, {
            外出务工: '是',
            外出务工地: '北京市',
            外出开始日期: '2020-01-01',
            死亡日期: '2019-01-01',
          }),
          person('测亡乙', ids.prisoner, {
            人身自由状况: '服刑在押',
            人身自由限制开始日期: '2022-05-01',
            死亡日期: '2021-01-01',
          }),
          person('测亡丙', ids.lost, { 失联开始日期: '2023-05-01', 死亡日期: '2021-01-01' }),
          person('测亡丁', ids.missing, { 宣告失踪日期: '2024-02-01', 死亡日期: '2024-01-31' }),
          // On the day of the death, or before it: taken, as the API takes them.
          person('测亡戊', ids.sameDay, {
            外出务工: '是',
            外出开始日期: '2021-01-01',
            失联开始日期: '2021-01-01',
            死亡日期: '2021-01-01',
          }),
          person('测亡己', ids.before, {
            人身自由状况: '服刑在押',
            人身自由限制开始日期: '2018-03-01',
            // An expected end after the death is no start: it stays as the file has it.
            人身自由限制预计结束日期: '2030-03-01',
            死亡日期: '2020-06-01',
          }),
        ]),
      ),
    );
    assert.equal(outcome.counts.errors, 4);
    assert.equal(outcome.counts.inserted, 2);
    const reasons = await reasonsByName(outcome.errorReport?.csv);
    assert.deepEqual(reasons, {
      测亡甲:
        '外出开始日期：日期 2020-01-01 晚于本行的死亡日期 2019-01-01：死亡之后不能再有新的情况开始，请核对这两个日期（第 2 行）',
      测亡乙:
        '人身自由限制开始日期：日期 2022-05-01 晚于本行的死亡日期 2021-01-01：死亡之后不能再有新的情况开始，请核对这两个日期（第 3 行）',
      测亡丙:
        '失联开始日期：日期 2023-05-01 晚于本行的死亡日期 2021-01-01：死亡之后不能再有新的情况开始，请核对这两个日期（第 4 行）',
      测亡丁:
        '宣告失踪日期：日期 2024-02-01 晚于本行的死亡日期 2024-01-31：死亡之后不能再有新的情况开始，请核对这两个日期（第 5 行）',
    });
    for (const refused of [ids.migrant, ids.prisoner, ids.lost, ids.missing])
      assert.equal(await personByNumber(refused), undefined, refused);
    assert.deepEqual(
      (await factsOf(ids.sameDay)).map((f) => [f.kind, f.from]),
      [
        ['death', '2021-01-01'],
        ['lost_contact', '2021-01-01'],
        ['migration', '2021-01-01'],
      ],
    );
    assert.deepEqual(
      (await factsOf(ids.before)).map((f) => [f.kind, f.from]),
      [
        ['death', '2020-06-01'],
        ['liberty_restriction', '2018-03-01'],
      ],
    );
  });

  test('the reason is given in English too', () => {
    const out = rowToRecord(
      person('测亡庚', nextId('1976-01-01'), {
        外出务工: '是',
        外出开始日期: '2020-01-01',
        死亡日期: '2019-01-01',
      }),
      { regionExists: (code) => code === V1, today: TODAY },
    );
    assert.equal(out.record, null);
    assert.deepEqual(
      out.errors.map((e) => [e.column, e.reason.en]),
      [
        [
          '外出开始日期',
          'the date 2020-01-01 is after the death on 2019-01-01 (死亡日期 on this row): nothing about a person starts after the death; check both dates',
        ],
      ],
    );
    // A 死亡日期 refused itself (in the future here) is no measure: its own error is the one given.
    const ahead = rowToRecord(
      person('测亡辛', nextId('1977-01-01'), { 失联开始日期: '2026-01-01', 死亡日期: '2027-01-01' }),
      { regionExists: (code) => code === V1, today: TODAY },
    );
    assert.deepEqual(
      ahead.errors.map((e) => e.column),
      ['死亡日期'],
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe('F5: a migration’s or a school’s column without its companion is a row error, not dropped', () => {
  test('学校名称 without 就学阶段, 外出务工地 or 外出开始日期 with 外出务工 empty or 否: the companion column is named', async () => {
    const ids = {
      school: nextId('2012-01-01'),
      away: nextId('1980-01-01'),
      since: nextId('1981-01-01'),
      no: nextId('1982-01-01'),
      noSince: nextId('1983-01-01'),
      fine: nextId('2013-01-01'),
      none: nextId('2014-01-01'),
      back: nextId('1984-01-01'),
    };
    const outcome = await runImport(
      file(
        csv([
          person('测校名', ids.school, { 学校名称: '兰考县第一中学' }),
          person('测出甲', ids.away, { 外出务工地: '北京市', 外出开始日期: '2020-03-01' }),
          person('测出乙', ids.since, { 外出开始日期: '2020-03-01' }),
          person('测否出', ids.no, { 外出务工: '否', 外出务工地: '上海市', 外出开始日期: '2021-03-01' }),
          person('测否日', ids.noSince, { 外出务工: '否', 外出开始日期: '2021-03-01' }),
          // The complete pairs, and “none” written in the text column, are taken.
          person('测校全', ids.fine, { 就学阶段: '小学', 学校名称: '城关小学' }),
          person('测校无', ids.none, { 学校名称: '无', 外出务工地: '—' }),
          person('测返乡', ids.back, { 外出务工: '否' }),
        ]),
      ),
    );
    assert.equal(outcome.counts.errors, 5);
    assert.equal(outcome.counts.inserted, 3);
    assert.deepEqual(await reasonsByName(outcome.errorReport?.csv), {
      测校名: '就学阶段：填写了学校名称时必须填写就学阶段（第 2 行）',
      测出甲: '外出务工：填写了外出务工地、外出开始日期时必须填写外出务工（“是”）（第 3 行）',
      测出乙: '外出务工：填写了外出开始日期时必须填写外出务工（“是”）（第 4 行）',
      测否出:
        '外出务工：外出务工为“否”时不能填写外出务工地、外出开始日期：仍在外出务工的请填“是”，已经返回的请清空外出务工地、外出开始日期（第 5 行）',
      测否日:
        '外出务工：外出务工为“否”时不能填写外出开始日期：仍在外出务工的请填“是”，已经返回的请清空外出开始日期（第 6 行）',
    });
    for (const refused of [ids.school, ids.away, ids.since, ids.no, ids.noSince])
      assert.equal(await personByNumber(refused), undefined, refused);
    assert.deepEqual(await factsOf(ids.fine), [
      { kind: 'schooling', from: TODAY, data: { stage: 'primary', school: '城关小学' } },
    ]);
    assert.deepEqual(await factsOf(ids.none), []);
    assert.deepEqual(await factsOf(ids.back), []);
  });

  test('the reasons are given in English too; a companion cell with its own error is not reported twice', () => {
    const ctx = { regionExists: (code: string) => code === V1, today: TODAY };
    const reasons = (extra: Record<string, string>) =>
      rowToRecord(person('测英', nextId('1985-01-01'), extra), ctx).errors.map((e) => [
        e.column,
        e.reason.en,
      ]);
    assert.deepEqual(reasons({ 学校名称: '城关小学' }), [
      ['就学阶段', 'the school stage is required with a school name'],
    ]);
    assert.deepEqual(reasons({ 外出务工地: '北京市' }), [
      ['外出务工', '外出务工 (是) is required with 外出务工地'],
    ]);
    assert.deepEqual(reasons({ 外出务工: '否', 外出务工地: '北京市', 外出开始日期: '2020-03-01' }), [
      [
        '外出务工',
        '外出务工 is 否 but 外出务工地 and 外出开始日期 are filled in: write 是 if the person is away for work, or clear 外出务工地 and 外出开始日期',
      ],
    ]);
    assert.deepEqual(
      reasons({ 学校名称: '城关小学', 就学阶段: '大一' }).map(([column]) => column),
      ['就学阶段'],
    );
    assert.deepEqual(
      reasons({ 外出务工: '也许', 外出务工地: '北京市' }).map(([column]) => column),
      ['外出务工'],
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe('F8: a header row repeated among the data', () => {
  test('is one row error saying so; the rows before and after it import', async () => {
    const first = nextId('1960-01-01');
    const second = nextId('1961-01-01');
    const header = Object.fromEntries(TEMPLATE_HEADERS.map((h) => [h, h]));
    const outcome = await runImport(file(csv([person('测表一', first), header, person('测表二', second)])));
    assert.deepEqual({ ...outcome.counts }, { rows: 3, inserted: 2, updated: 0, unchanged: 0, errors: 1 });
    assert.deepEqual(await reasonsByName(outcome.errorReport?.csv), {
      姓名: '本行重复了第1行的列名（多个表粘贴在一起时常见），不是人员数据：请删除此行后重新导入（第 3 行）',
    });
    assert.ok(await personByNumber(first));
    assert.ok(await personByNumber(second));
  });

  test('a header row of a sheet with fewer columns, or in another order, is recognised too', async () => {
    // The pasted sheet had only some of the columns: the rest of its header row is empty.
    const partial = {
      户编号: '户编号',
      姓名: '姓名',
      公民身份号码: '公民身份号码',
      与户主关系: '与户主关系',
      户籍地代码: '户籍地代码',
    };
    // Another sheet's header in its own order: each cell a header, not its column's.
    const shuffled = {
      户编号: '姓名',
      姓名: '户编号',
      公民身份号码: '公民身份号码',
      与户主关系: '户籍地代码',
      户籍地代码: '与户主关系',
    };
    const outcome = await runImport(
      file(csv([person('测表三', nextId('1962-01-01')), partial, shuffled])),
      true,
    );
    assert.equal(outcome.counts.errors, 2);
    assert.deepEqual(await reasonsByName(outcome.errorReport?.csv), {
      姓名: '本行重复了第1行的列名（多个表粘贴在一起时常见），不是人员数据：请删除此行后重新导入（第 3 行）',
      户编号:
        '本行是列名行，但列的顺序与第1行不同（多个表粘贴在一起时常见），不是人员数据：请删除此行，并核对其下从另一个表粘贴来的各行是否也按这个顺序排列、内容错列（第 4 行）',
    });
  });

  test('a person’s row with a cell or two that read like a header is a person’s row', () => {
    assert.equal(repeatedHeaderRow(person('姓名', nextId('1963-01-01'))), null);
    assert.equal(repeatedHeaderRow({ 姓名: '姓名', 户编号: '户编号', 公民身份号码: '1' }), null);
    assert.deepEqual(
      repeatedHeaderRow({ 姓名: '姓名', 户编号: '户编号', 公民身份号码: ' 公民身份\n号码 ' }),
      {
        sameOrder: true,
      },
    );
    // Half the filled cells are not most of them.
    assert.equal(
      repeatedHeaderRow({
        姓名: '姓名',
        户编号: '户编号',
        公民身份号码: '公民身份号码',
        民族: '汉',
        性别: '男',
        联系电话: '1',
      }),
      null,
    );
  });
});
