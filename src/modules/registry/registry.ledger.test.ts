import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { makeIdNumber } from './registry.idnumber.ts';
import { findLedgerHeader, loadCountyPlaces, parseLedgerFile, resolveAddress } from './registry.ledger.ts';
import type { CountyPlaces, LedgerRow } from './registry.ledger.ts';
import { FileRejected } from './registry.reader.ts';
import { makeFixtures, TODAY } from '../../../test/fixtures/registry/make-fixtures.ts';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { createToken } from '../access/index.ts';
import { today } from '../../platform/dates.ts';
import { registryCommands } from './registry.cli.ts';
import { countRegistry } from './registry.repository.ts';
import { sql } from 'kysely';

const LANKAO = '410225';
let places: CountyPlaces;
let dir = '';

before(async () => {
  places = await loadCountyPlaces(LANKAO);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shouhu-ledger-'));
  await makeFixtures(dir);
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

const resolve = (text: string) => resolveAddress(text, LANKAO, places.villages, places.upperNames);

describe('resolveAddress on the real villages of 兰考县', () => {
  test('the county is loaded with its names', () => {
    assert.deepEqual(places.upperNames, ['河南省', '开封市', '兰考县']);
    assert.ok(places.villages.length > 400);
  });

  test('three address styles resolve to 南彰镇南彰村', () => {
    for (const text of [
      '河南省兰考县南彰镇南彰村',
      '南彰镇南彰村委会',
      '兰考县南彰村',
      '开封市兰考县南彰镇南彰村民委员会',
      ' 南彰村 ',
    ]) {
      assert.deepEqual(resolve(text), { ok: true, code: '410225102200' }, text);
    }
  });

  test('张庄村 is in four townships: ambiguous without one, resolved with it', () => {
    const r = resolve('兰考县张庄村');
    assert.ok(!r.ok && 'ambiguous' in r);
    assert.deepEqual(
      r.candidates.map((v) => v.townshipName).sort(),
      ['东坝头镇', '堌阳镇', '小宋镇', '谷营镇'].sort(),
    );
    assert.deepEqual(resolve('堌阳镇张庄村'), { ok: true, code: '410225101215' });
    assert.deepEqual(resolve('河南省兰考县谷营镇张庄村委会3组'), { ok: true, code: '410225105235' });
  });

  test('a village that does not exist, or not in the named township, is unknown', () => {
    assert.deepEqual(resolve('兰考县幸福村'), { ok: false, unknown: true });
    assert.deepEqual(resolve('南彰镇张庄村'), { ok: false, unknown: true });
    assert.deepEqual(resolve('兰考县'), { ok: false, unknown: true });
  });

  test('the exact form wins over a bare name; a bare name matching 村 and 社区 is ambiguous', () => {
    // 陈寨: 陈寨社区 (兰阳街道) and 陈寨村 (三义寨乡).
    assert.deepEqual(resolve('陈寨村'), { ok: true, code: '410225201253' });
    assert.deepEqual(resolve('陈寨社区'), { ok: true, code: '410225001008' });
    const bare = resolve('陈寨');
    assert.ok(!bare.ok && 'ambiguous' in bare && bare.candidates.length === 2);
  });

  test('a village of another county is not found', () => {
    assert.deepEqual(resolve('河南省兰考县南彰镇南彰村'.replace('南彰村', '城关村')), {
      ok: false,
      unknown: true,
    });
  });
});

describe('parseLedgerFile', () => {
  async function rowsOf(file: string, withPlaces = true): Promise<LedgerRow[]> {
    const rows: LedgerRow[] = [];
    for await (const r of parseLedgerFile(file, { today: TODAY, ...(withPlaces ? { places } : {}) }))
      rows.push(r);
    return rows;
  }

  test('title and signature rows are skipped; one row per child with parents and grandparents', async () => {
    const rows = await rowsOf(path.join(dir, 'ledger.xlsx'));
    assert.deepEqual(
      rows.map((r) => [r.rowNumber, r.child.name]),
      [
        [4, '王小明'],
        [5, '王小红'],
        [6, '李小军'],
        [7, '陈小花'],
        [8, '周小刚'],
        [9, '赵小强'],
        [10, '孙小梅'],
        [11, '钱小宝'],
      ],
    );
    const first = rows[0]!;
    assert.equal(first.child.sex, 1);
    assert.equal(first.child.birthDate, '2016-05-01');
    assert.equal(first.child.idNumber, makeIdNumber('410225', '2016-05-01', 21));
    assert.equal(first.child.schoolStage, 'primary');
    assert.deepEqual(first.father, {
      name: '王建国',
      birthDate: '1985-06-07',
      idNumber: null,
      workplace: '广东省深圳市',
      phone: null,
    });
    assert.equal(first.mother?.workplace, '浙江省杭州市');
    assert.deepEqual(first.grandparents, [
      { role: 'paternal_grandmother', name: '赵桂兰', birthDate: '1955-03-04', idNumber: null },
    ]);
    assert.equal(first.declared.bothParentsOut, true);
    assert.equal(first.declared.guardianshipType, 'fair');
    assert.equal(first.carer, null);
  });

  test('addresses in three styles resolve; the ambiguous and the unknown village are row errors', async () => {
    const rows = await rowsOf(path.join(dir, 'ledger.xlsx'));
    assert.deepEqual(
      rows.slice(0, 3).map((r) => [r.addresses.hukouRegionCode, r.errors]),
      [
        ['410225102200', []],
        ['410225102200', []],
        ['410225102200', []],
      ],
    );
    const ambiguous = rows[3]!;
    assert.equal(ambiguous.addresses.hukouRegionCode, null);
    assert.deepEqual(
      ambiguous.errors.map((e) => e.column),
      ['户籍所在地', '现居住地'],
    );
    assert.match(ambiguous.errors[0]!.reason.zh, /对应多个村.*堌阳镇张庄村/);
    const unknown = rows[4]!;
    assert.deepEqual(
      unknown.errors.map((e) => e.column),
      ['户籍所在地'],
    );
    assert.match(unknown.errors[0]!.reason.zh, /找不到/);
  });

  test('without a county the addresses stay text', async () => {
    const rows = await rowsOf(path.join(dir, 'ledger.xlsx'), false);
    assert.equal(rows[0]?.addresses.hukou, '河南省兰考县南彰镇南彰村');
    assert.equal(rows[0]?.addresses.hukouRegionCode, null);
    assert.deepEqual(rows[3]?.errors, []);
  });

  test('the column row is found under a title block; a file without one is refused', async () => {
    assert.equal(
      findLedgerHeader([['农村留守儿童基本情况登记表'], ['填报单位：'], ['序号', '姓名', '出生日期']]),
      2,
    );
    const file = path.join(dir, 'not-a-ledger.xlsx');
    const workbook = new ExcelJS.Workbook();
    workbook.addWorksheet('x').addRow(['a', 'b']);
    await workbook.xlsx.writeFile(file);
    await assert.rejects(rowsOf(file), (e) => e instanceof FileRejected && e.reason === 'NO_HEADER');
  });

  test('values of the form: disability, yes/no, carer, unable parent, lists', async () => {
    const file = path.join(dir, 'ledger-values.csv');
    const headers = [
      '姓名',
      '性别',
      '出生日期',
      '身体情况',
      '残疾类别及等级',
      '有无委托监护人',
      '委托监护人姓名',
      '委托监护人电话',
      '委托监护人与儿童关系',
      '一方外出另一方无监护能力',
      '无监护能力方',
      '家庭经济来源',
      '救助帮扶情况',
      '就学情况',
      '监护类型',
    ];
    const row = [
      '孙小梅',
      '女',
      '2015/3/4',
      '残疾',
      '肢体二级',
      '有',
      '孙大爷',
      '13912345678',
      '祖父',
      '是',
      '母亲',
      '务工收入、种植收入',
      '低保',
      '辍学',
      '父或母无监护能力',
    ];
    fs.writeFileSync(file, '\uFEFF' + [headers, row, ['填表人：张三']].map((r) => r.join(',')).join('\r\n'));
    const [r] = await rowsOf(file);
    assert.ok(r);
    assert.deepEqual(r.errors, []);
    assert.equal(r.child.health, 'disabled');
    assert.deepEqual(r.child.disability, { category: 4, grade: 2 });
    assert.equal(r.child.droppedOut, true);
    assert.deepEqual(r.carer, {
      name: '孙大爷',
      birthDate: null,
      idNumber: null,
      phone: '13912345678',
      relationToChild: '祖父',
      formSigned: null,
      formDate: null,
      grandparent: null,
    });
    assert.equal(r.declared.hasEntrustedCarer, true);
    assert.equal(r.declared.oneOutOtherUnable, true);
    assert.equal(r.declared.unableParent, 'mother');
    assert.equal(r.declared.guardianshipType, 'parent_unable');
    assert.deepEqual(r.declared.incomeSources, ['务工收入', '种植收入']);
    assert.deepEqual(r.declared.assistance, ['低保']);
  });
});

describe('the form values beyond the columns', () => {
  test('the ledger date, dashes for the dead, why a parent cannot care, the carer form', async () => {
    const file = path.join(dir, 'ledger-inability.csv');
    const headers = [
      '姓名', '出生日期', '父亲姓名', '母亲姓名', '母亲务工地点', '一方外出另一方无监护能力', '无监护能力方',
      '无监护能力原因', '无监护能力开始日期', '委托监护人姓名', '委托监护确认书签订日期',
    ]; // prettier-ignore
    const rows = [
      ['填报日期：2026.10.15'],
      headers,
      ['甲', '2015-01-01', '—', '乙', '上海市', '是', '父亲', '死亡', '2020-05-06', '丙', '2026年3月2日'],
      ['丁', '2015-01-01', '戊', '己', '上海市', '是', '父亲', '重残(精神三级)', '', '', ''],
      ['庚', '2015-01-01', '辛', '壬', '上海市', '是', '父亲', '失联', '2025-12-01', '', ''],
      ['癸', '2015-01-01', '子', '丑', '上海市', '是', '父亲', '重残', '', '', ''],
      ['寅', '2015-01-01', '卯', '辰', '上海市', '是', '', '服刑在押', '', '', ''],
      ['巳', '2015-01-01', '午', '未', '上海市', '是', '父亲', '外出', '', '', ''],
    ];
    fs.writeFileSync(file, rows.map((r) => r.join(',')).join('\n'));
    const parsed: LedgerRow[] = [];
    for await (const r of parseLedgerFile(file, { today: TODAY })) parsed.push(r);
    const [dead, disabled, lost, noGrade, noParent, unknownReason] = parsed;
    assert.equal(dead?.ledgerDate, '2026-10-15');
    assert.equal(dead?.father, null, 'a dash is no name: the form asks for one where a parent died');
    assert.deepEqual(dead?.inability, {
      parent: 'father',
      kind: 'death',
      data: {},
      since: '2020-05-06',
      text: '死亡',
    });
    assert.equal(dead?.carer?.formSigned, true);
    assert.equal(dead?.carer?.formDate, '2026-03-02');
    assert.deepEqual(disabled?.inability?.data, { category: 6, grade: 3 });
    assert.equal(disabled?.inability?.kind, 'disability');
    assert.deepEqual(lost?.inability, {
      parent: 'father',
      kind: 'lost_contact',
      data: { policeReportDate: '2025-12-01' },
      since: '2025-12-01',
      text: '失联',
    });
    assert.deepEqual(
      [noGrade, noParent, unknownReason].map((r) => r?.errors.map((e) => e.column)),
      [['无监护能力原因'], ['无监护能力方'], ['无监护能力原因']],
    );
    assert.match(noGrade!.errors[0]!.reason.zh, /类别和等级/);
    assert.match(unknownReason!.errors[0]!.reason.en, /not recognised/);
  });
});

describe('importing the child ledger (database)', () => {
  let t: TestApp;
  const tokens: Record<string, string> = {};

  before(async () => {
    t = await createTestApp({ dataDir: path.join(dir, 'data') });
    for (const name of ['first', 'second', 'third'])
      tokens[name] = (
        await createToken(t.ctx, null, { name, role: 'county_staff', regionCode: LANKAO })
      ).token;
  });
  after(async () => t?.close());

  /** Uploads a ledger (by default the fixture ledger.xlsx) and waits for its import job. */
  async function submit(
    who: string,
    query: string,
    name = 'ledger.xlsx',
    content: Buffer = fs.readFileSync(path.join(dir, 'ledger.xlsx')),
  ) {
    const boundary = `----ledger${Date.now()}`;
    const payload = Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
      ),
      content,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const r = await t.app.inject({
      method: 'POST',
      url: `/api/v1/imports?kind=ledger${query}`,
      headers: {
        'content-type': `multipart/form-data; boundary=${boundary}`,
        authorization: `Bearer ${tokens[who]}`,
      },
      payload,
    });
    assert.equal(r.statusCode, 202, r.body);
    await t.ctx.jobs.drain();
    return (r.json() as { id: number }).id;
  }

  async function get(who: string, url: string, lang = 'zh-CN') {
    const r = await t.app.inject({
      method: 'GET',
      url: url.startsWith('/api/v1/') ? url : `/api/v1${url}`,
      headers: { authorization: `Bearer ${tokens[who]}`, 'accept-language': lang },
    });
    assert.equal(r.statusCode, 200, r.body);
    return r;
  }

  interface ReviewJson {
    asOf: string;
    rowsChecked: number;
    count: number;
    disagreements: {
      rowNumber: number;
      name: string;
      question: string;
      declared: string;
      derived: string;
      text: string;
      groups: string[];
    }[];
    report: { xlsx: string; csv: string } | null;
  }
  interface ImportJson {
    status: string;
    counts: { rows: number; inserted: number; updated: number; unchanged: number; errors: number };
    errorReport: { csv: string } | null;
    review: ReviewJson | null;
  }

  const personByName = (name: string) =>
    t.ctx.db.selectFrom('persons').selectAll().where('name', '=', name).executeTakeFirstOrThrow();

  async function openGroups(name: string): Promise<string[]> {
    const p = await personByName(name);
    const rows = await t.ctx.db
      .selectFrom('group_memberships')
      .select('group_code')
      .where('person_id', '=', p.id)
      .where('until', 'is', null)
      .orderBy('group_code')
      .execute();
    return rows.map((r) => r.group_code);
  }

  async function snapshot() {
    const count = async (
      table: 'group_memberships' | 'worklist_items' | 'person_facts' | 'person_relations',
    ) =>
      Number(
        (
          await t.ctx.db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    return {
      registry: await countRegistry(t.ctx.db),
      memberships: await count('group_memberships'),
      worklist: await count('worklist_items'),
      facts: await t.ctx.db
        .selectFrom('person_facts')
        .select(['id', 'kind', 'valid_from', 'valid_to', 'retracted_at'])
        .orderBy('id')
        .execute(),
      relations: await t.ctx.db.selectFrom('person_relations').selectAll().orderBy('id').execute(),
    };
  }

  // Exactly the rows where the ledger's own answers and the rules part, with the rules' reasons.
  const EXPECTED_DISAGREEMENTS = [
    [
      6,
      'left_behind_child',
      '是',
      '否',
      '台账填写为留守儿童, 规则判定: 否, 因为 母亲张小燕未外出务工，也无无监护能力的记录(死亡、重残、重病、服刑在押、强制隔离戒毒、失联等)',
    ],
    [
      6,
      'both_parents_migrant',
      '是',
      '否',
      '台账填写父母双方同时外出: 是, 规则判定: 否, 因为 母亲张小燕未外出务工',
    ],
    [9, 'left_behind_child', '是', '否', '台账填写为留守儿童, 规则判定: 否, 因为 已满16周岁(2009-03-10出生)'],
    [
      11,
      'both_parents_migrant',
      '否',
      '是',
      '台账填写父母双方同时外出: 否, 规则判定: 是, 因为 父亲钱进外出务工自2026-11-01; 母亲马兰外出务工自2026-11-01',
    ],
  ];

  test('a ledger in the survey layout: two address rows reported, groups derived, disagreements listed, re-import changes nothing', async () => {
    const beforeAgain = await snapshot();
    // A dry run reports exactly what the import will do, and writes nothing.
    const dryId = await submit('first', '&dryRun=true');
    const dry = (await get('first', `/imports/${dryId}`)).json() as ImportJson;
    assert.equal(dry.status, 'succeeded', JSON.stringify(dry));
    assert.deepEqual(await snapshot(), beforeAgain);

    const id = await submit('first', '');
    const first = (await get('first', `/imports/${id}`)).json() as ImportJson;
    assert.equal(first.status, 'succeeded', JSON.stringify(first));
    assert.deepEqual(first.counts, { rows: 8, inserted: 6, updated: 0, unchanged: 0, errors: 2 });
    assert.deepEqual(dry.counts, first.counts);

    // Exactly the ambiguous and the unknown village are reported, on their rows.
    assert.ok(first.errorReport);
    const errors = (await get('first', first.errorReport.csv)).body
      .replace(/^\uFEFF/, '')
      .trim()
      .split(/\r?\n/);
    // The ledger's 填报日期 above the columns: rows fixed in the report are dated as the ledger's.
    assert.equal(errors.length, 4, errors.join('\n'));
    assert.match(errors[0]!, /^填报日期：2026-11-01,/);
    assert.match(errors[2]!, /^.*陈小花.*对应多个村/);
    assert.match(errors[3]!, /^.*周小刚.*找不到对应的村/);

    // The unable parent's state, the migrations and the ledger's answers, dated as the ledger gives them.
    const factsOf = async (name: string) =>
      t.ctx.db
        .selectFrom('person_facts')
        .select(['kind', 'valid_from', 'valid_to', 'data', 'source'])
        .where('person_id', '=', (await personByName(name)).id)
        .where('retracted_at', 'is', null)
        .orderBy('kind')
        .execute();
    assert.deepEqual(await factsOf('李桂芝'), [
      { kind: 'serious_illness', valid_from: '2026-03-01', valid_to: null, data: {}, source: 'ledger' },
    ]);
    assert.deepEqual(await factsOf('孙大力'), [
      {
        kind: 'liberty_restriction',
        valid_from: '2025-01-01',
        valid_to: null,
        data: { type: 'sentence' },
        source: 'ledger',
      },
    ]);
    assert.deepEqual(await factsOf('王建国'), [
      {
        kind: 'migration',
        valid_from: '2026-11-01',
        valid_to: null,
        data: { destination: '广东省深圳市' },
        source: 'ledger',
      },
    ]);
    const declared = (await factsOf('李小军')).find((f) => f.kind === 'ledger_declaration');
    assert.deepEqual(declared, {
      kind: 'ledger_declaration',
      valid_from: '2026-11-01',
      valid_to: null,
      data: { leftBehindChild: true, bothParentsMigrant: true, guardianshipType: 'fair' },
      source: 'ledger',
    });

    // The carer: the entrusted-guardianship record and the assessment on the carer link.
    const carerLink = await t.ctx.db
      .selectFrom('person_relations')
      .selectAll()
      .where('person_id', '=', (await personByName('王小红')).id)
      .where('kind', '=', 'carer')
      .executeTakeFirstOrThrow();
    assert.equal(carerLink.related_person_id, (await personByName('王老汉')).id);
    assert.deepEqual(
      {
        signed: carerLink.entrustment_form_signed,
        formDate: carerLink.entrustment_form_date,
        assessment: carerLink.guardianship_assessment,
        checkedOn: carerLink.carer_fitness_checked_on,
        fit: carerLink.carer_fit,
        relation: carerLink.carer_relation,
        source: carerLink.source,
      },
      {
        signed: true,
        formDate: '2026-04-01',
        assessment: 'good',
        checkedOn: '2026-11-01',
        fit: true,
        relation: '祖父',
        source: 'ledger',
      },
    );

    // Groups are derived by the rules (the ledger's answers are declarations, not memberships).
    assert.deepEqual(
      {
        王小明: await openGroups('王小明'),
        王小红: await openGroups('王小红'),
        李小军: await openGroups('李小军'),
        赵小强: await openGroups('赵小强'),
        孙小梅: await openGroups('孙小梅'),
        钱小宝: await openGroups('钱小宝'),
      },
      {
        王小明: ['left_behind_child'],
        王小红: ['left_behind_child'],
        李小军: [],
        赵小强: [],
        孙小梅: ['distressed_child', 'left_behind_child'],
        钱小宝: ['left_behind_child'],
      },
    );

    // The rows where the ledger's own answers disagree with the rules, exactly.
    const review = first.review;
    assert.ok(review);
    // Jobs import as of the day they run.
    assert.equal(review.asOf, today());
    assert.equal(review.rowsChecked, 6);
    assert.equal(review.count, EXPECTED_DISAGREEMENTS.length);
    assert.deepEqual(
      review.disagreements.map((d) => [d.rowNumber, d.question, d.declared, d.derived, d.text]),
      EXPECTED_DISAGREEMENTS,
    );
    assert.deepEqual(review.disagreements.find((d) => d.rowNumber === 11)?.groups, ['农村留守儿童']);
    // The dry run's persons were rolled back (their ids are gone): the same rows and reasons.
    const withoutIds = (list: ReviewJson['disagreements'] | undefined) =>
      list?.map((d) => ({ ...d, personId: undefined }));
    assert.deepEqual(withoutIds(dry.review?.disagreements), withoutIds(review.disagreements));
    const english = ((await get('first', `/imports/${id}`, 'en')).json() as ImportJson).review;
    assert.equal(
      english?.disagreements[2]?.text,
      `The ledger lists a left-behind child; the rules say: no, because aged 16 or over (born 2009-03-10)`,
    );
    // Downloadable like the error report.
    assert.ok(review.report);
    const lines = (await get('first', review.report.csv)).body
      .replace(/^\uFEFF/, '')
      .trim()
      .split(/\r?\n/);
    assert.equal(lines[0], '行号,姓名,公民身份号码,台账项目,台账填写,规则判定,规则依据,规则判定的群体');
    assert.equal(lines.length, 1 + EXPECTED_DISAGREEMENTS.length);
    assert.match(lines[3]!, /^9,赵小强,="\d{17}[\dX]",留守儿童,是,否,已满16周岁\(2009-03-10出生\),$/);
    const xlsx = await get('first', review.report.xlsx);
    assert.match(String(xlsx.headers['content-type']), /spreadsheetml/);

    // Re-importing the same ledger changes nothing: no person, fact, link, membership or worklist item.
    const afterFirst = await snapshot();
    const againId = await submit('second', '');
    const again = (await get('second', `/imports/${againId}`)).json() as ImportJson;
    assert.deepEqual(again.counts, { rows: 8, inserted: 0, updated: 0, unchanged: 6, errors: 2 });
    assert.deepEqual(await snapshot(), afterFirst);
    assert.deepEqual(again.review?.disagreements, review.disagreements);
  });

  test('the console import prints the disagreements row by row', async () => {
    const command = registryCommands.find((c) => c.path.join(' ') === 'import');
    assert.ok(command);
    const printed: string[] = [];
    const code = await command.run(
      { positionals: [path.join(dir, 'ledger.xlsx')], flags: { kind: 'ledger', 'dry-run': true } },
      t.ctx,
      { print: (l) => printed.push(l), error: (l) => printed.push(`error: ${l}`), progress: () => {} },
    );
    assert.equal(code, 0, printed.join('\n'));
    assert.ok(printed.includes('rows 8: inserted 0, updated 0, unchanged 6, errors 2'), printed.join('\n'));
    assert.ok(
      printed.includes('  row 9 赵小强: 台账填写为留守儿童, 规则判定: 否, 因为 已满16周岁(2009-03-10出生)'),
      printed.join('\n'),
    );
    assert.equal(printed.filter((l) => l.startsWith('  row ')).length, EXPECTED_DISAGREEMENTS.length);
  });

  test('siblings: a mother given by ID number on one row and by name only on the next is one person', async () => {
    const father = makeIdNumber('410225', '1985-03-01', 61);
    const mother = makeIdNumber('410225', '1987-04-02', 62);
    const rows = [
      ['姓名', '性别', '出生日期', '公民身份号码', '户籍所在地', '父亲姓名', '父亲公民身份号码', '母亲姓名', '母亲公民身份号码', '母亲务工地点'],
      ['赵一一', '男', '2014-02-03', makeIdNumber('410225', '2014-02-03', 63), '南彰镇南彰村', '赵建国', father, '孙秀英', mother, '广州'],
      ['赵二二', '女', '2016-05-06', makeIdNumber('410225', '2016-05-06', 64), '南彰镇南彰村', '赵建国', father, '孙秀英', '', '广州'],
      // The father by name only, the mother by ID number: the order of the columns does not matter.
      ['赵三三', '男', '2019-07-08', makeIdNumber('410225', '2019-07-08', 65), '南彰镇南彰村', '赵建国', '', '孙秀英', mother, '广州'],
    ]; // prettier-ignore
    const csv = Buffer.from(rows.map((r) => r.join(',')).join('\n'));
    const id = await submit('first', '', 'siblings.csv', csv);
    const result = (await get('first', `/imports/${id}`)).json() as ImportJson;
    assert.equal(result.counts.errors, 0, JSON.stringify(result));
    const named = async (name: string) =>
      (await t.ctx.db.selectFrom('persons').select('id').where('name', '=', name).execute()).map((p) => p.id);
    const [motherId, ...moreMothers] = await named('孙秀英');
    const [fatherId, ...moreFathers] = await named('赵建国');
    assert.deepEqual([moreMothers, moreFathers], [[], []]);
    for (const child of ['赵一一', '赵二二', '赵三三']) {
      const parents = await t.ctx.db
        .selectFrom('person_relations')
        .select('related_person_id')
        .where('person_id', '=', (await personByName(child)).id)
        .where('kind', '=', 'parent')
        .where('valid_to', 'is', null)
        .orderBy('related_person_id')
        .execute();
      assert.deepEqual(
        parents.map((p) => p.related_person_id),
        [fatherId, motherId].sort((a, b) => a! - b!),
        child,
      );
    }
  });

  test('a later ledger that says 有无委托监护人: 否 ends the carer link in force; naming a carer with 否 is a row error', async () => {
    const child = await personByName('王小红');
    const carerLink = () =>
      t.ctx.db
        .selectFrom('person_relations')
        .select(['valid_from', 'valid_to'])
        .where('person_id', '=', child.id)
        .where('kind', '=', 'carer')
        .orderBy('id')
        .execute();
    // The link was recorded with the form in April (the first ledger made it on the import day); this
    // ledger is dated today.
    await sql`UPDATE person_relations SET valid_from = '2026-04-01' WHERE person_id = ${child.id}
      AND kind = 'carer'`.execute(t.ctx.db);
    const headers = [
      '姓名',
      '性别',
      '出生日期',
      '公民身份号码',
      '户籍所在地',
      '有无委托监护人',
      '委托监护人姓名',
    ];
    const idNumber = makeIdNumber('410225', '2017-06-02', 22);
    const later = [
      [`填报日期：${today().replaceAll('-', '.')}`],
      headers,
      ['王小红', '女', '2017-06-02', idNumber, '南彰镇南彰村委会', '否', ''],
      [
        '王小明',
        '男',
        '2016-05-01',
        makeIdNumber('410225', '2016-05-01', 21),
        '河南省兰考县南彰镇南彰村',
        '无',
        '王大伯',
      ],
    ];
    const csv = Buffer.from(later.map((r) => r.join(',')).join('\n'));
    const file = path.join(dir, 'ledger-no-carer.csv');
    fs.writeFileSync(file, csv);
    const id = await submit('first', '', 'ledger-no-carer.csv', csv);
    const result = (await get('first', `/imports/${id}`)).json() as ImportJson;
    assert.equal(result.counts.updated, 1, JSON.stringify(result.counts));
    assert.equal(result.counts.errors, 1);
    assert.deepEqual(await carerLink(), [{ valid_from: '2026-04-01', valid_to: today() }]);
    // The error is the 王小明 row's: 否, yet a carer is named.
    const parsed: LedgerRow[] = [];
    for await (const r of parseLedgerFile(file, { today: TODAY })) parsed.push(r);
    assert.deepEqual(
      parsed.map((r) => r.errors.map((e) => e.column)),
      [[], ['有无委托监护人']],
    );
    const beforeAgain = await snapshot();
    // Again: nothing left to end.
    const againId = await submit('first', '', 'ledger-no-carer.csv', csv);
    const again = (await get('first', `/imports/${againId}`)).json() as ImportJson;
    assert.equal(again.counts.errors, 1);
    assert.deepEqual(await snapshot(), beforeAgain);
    assert.deepEqual(await carerLink(), [{ valid_from: '2026-04-01', valid_to: today() }]);
  });
});
