// A seventh adversarial review of access (DOMAIN.md section 6), beyond access.attacks*.test.ts, the
// scope walk and the audit review: what one user writes that lands, unneutralised or unmasked, in a
// file or a record another user opens. The header row of an import's error report carried the
// uploaded file's own column names as they were, so an unknown column named =HYPERLINK(...) ran as a
// formula on the county clerk's machine; a fact's retraction reason went whole into the audit trail,
// where the audit administrator (who holds no business permission) read the ID number and phone in it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from './support/db.ts';
import {
  apiCall,
  lastAuditId,
  makeUser,
  sessionFor,
  signedInClients,
  type ApiMethod,
  type Client,
} from './support/access.ts';
import { multipartFile } from './support/upload.ts';
import { makeIdNumber } from '../src/modules/registry/registry.idnumber.ts';
import { TEMPLATE_HEADERS } from '../src/modules/registry/registry.template.ts';
import { splitCsvLine } from '../src/modules/regions/regions.source.ts';

const V1 = '410225101200'; // 堌阳镇 城内村
const T1 = '410225101'; // 堌阳镇
const COUNTY = '410225';

type Who = 'director' | 'supervisor' | 'county' | 'auditor';

let t: TestApp;
let clients: Record<Who, Client>;

function call(who: Who, method: ApiMethod, url: string, payload?: unknown) {
  return apiCall(t.app, clients[who], method, url, payload);
}

async function created(who: Who, url: string, payload: unknown): Promise<{ id: number; version: number }> {
  const r = await call(who, 'POST', url, payload);
  assert.ok(r.statusCode < 300, `${url}: ${r.statusCode} ${r.body}`);
  return r.json();
}

const HEAD_ID = makeIdNumber(COUNTY, '1984-04-04', 701);
const CHILD_ID = makeIdNumber(COUNTY, '2016-06-06', 702);
const CHILD_NAME = '城内童七';
const CHILD_PHONE = '13877776666';
let head: { id: number; version: number };
let child: { id: number; version: number };

before(async () => {
  t = await createTestApp();
  const signedIn = await signedInClients(t, {
    director: ['a7.director', 'village_child_director', V1],
    supervisor: ['a7.supervisor', 'township_supervisor', T1],
    county: ['a7.county', 'county_staff', COUNTY],
  });
  const auditor = await makeUser(t.ctx, 'a7.auditor', 'audit_admin', null, { totp: true });
  clients = { ...signedIn, auditor: await sessionFor(t.ctx, auditor.id) };
  const household = await created('county', '/households', { householdNo: 'ATK7-001', hukouRegionCode: V1 });
  head = await created('county', '/persons', {
    idNumber: HEAD_ID,
    name: '城内户主七',
    hukouRegionCode: V1,
    householdId: household.id,
    relationToHead: '户主',
  });
  child = await created('county', '/persons', {
    idNumber: CHILD_ID,
    name: CHILD_NAME,
    hukouRegionCode: V1,
    householdId: household.id,
    relationToHead: '子',
    phone: CHILD_PHONE,
  });
});

after(async () => {
  await t.close();
});

const csvQuote = (s: string) => (/[",]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);

async function upload(who: Who, fileName: string, body: string) {
  const { payload, contentType } = multipartFile(fileName, Buffer.from(body));
  const r = await t.app.inject({
    method: 'POST',
    url: '/api/v1/imports',
    headers: { ...clients[who].write, 'content-type': contentType },
    payload,
  });
  assert.equal(r.statusCode, 202, r.body);
  await t.ctx.jobs.drain();
  const done = await call(who, 'GET', `/imports/${r.json().id}`);
  assert.equal(done.statusCode, 200, done.body);
  return done.json() as { id: number; status: string; message: string | null; counts: { errors: number } };
}

describe('files that other users open', () => {
  test("an uploaded file's column names that a spreadsheet would run are written as text in the error report, and read back as they were", async () => {
    const formulas = ['=HYPERLINK("http://evil.example/x","点我")', '@SUM(1+1)', '+1+1', '-2+3'];
    const headers = [...TEMPLATE_HEADERS, ...formulas];
    // One row with an error (no ID number and no reason for its absence), so there is a report.
    const row = headers.map((h) =>
      h === '户编号' ? 'ATK7-002' : h === '姓名' ? '无号者' : h === '与户主关系' ? '户主' : '',
    );
    const body = '\uFEFF' + [headers.map(csvQuote).join(','), row.map(csvQuote).join(',')].join('\r\n');
    // A township supervisor uploads; the county clerk, who may reveal, opens the report.
    const job = await upload('supervisor', 'formula-headers.csv', body);
    assert.equal(job.counts.errors, 1, JSON.stringify(job));
    const report = await call('county', 'GET', `/imports/${job.id}/errors.csv`);
    assert.equal(report.statusCode, 200, report.body);
    const [headerLine = ''] = report.body.replace(/^\uFEFF/, '').split('\r\n');
    const cells = splitCsvLine(headerLine);
    for (const cell of cells)
      assert.ok(!/^[=+\-@\t\r]/.test(cell) || /^="[\s\S]*"$/.test(cell), `a formula in the header: ${cell}`);
    // The clerk fixes the row and imports the report back: the columns are named as the file named them.
    const again = await upload('supervisor', 'formula-headers-fixed.csv', report.body);
    for (const name of formulas) assert.ok(again.message?.includes(name), `${name}: ${again.message}`);
  });
});

describe('the audit trail holds no personal data', () => {
  test('a retraction reason naming a certificate number and a phone: the audit administrator reads them masked, in the search and the export', async () => {
    const certificate = `${HEAD_ID}21`; // 残疾人证号: the ID number and two digits
    const phone = '139.5555.9999';
    const fact = await created('county', `/persons/${head.id}/facts`, {
      kind: 'disability',
      from: '2020-01-01',
      data: { category: 4, grade: 2, certificateNo: `${HEAD_ID}12` },
    });
    const since = await lastAuditId(t.ctx);
    const reason = `残疾证号录错，应为 ${certificate}；核实电话 ${phone}`;
    const retracted = await call('director', 'POST', `/persons/${head.id}/facts/${fact.id}/retract`, {
      reason,
    });
    assert.equal(retracted.statusCode, 200, retracted.body);
    const search = await call('auditor', 'GET', '/audit?action=person.fact.retract');
    assert.equal(search.statusCode, 200, search.body);
    const entry = (
      search.json().items as { id: number; entityId: string; details: Record<string, unknown> }[]
    ).find((e) => e.id > since && e.entityId === String(head.id));
    assert.ok(entry, search.body);
    // Who retracted which fact reads; the reason itself stays on the fact (for those who may read the
    // file): the audit administrator, who sees no children's data, reads its length only.
    assert.equal(entry.details.factId, fact.id);
    const file = await call('director', 'GET', `/persons/${head.id}`);
    const shown = (file.json().facts as { id: number; retractionReason: string | null }[]).find(
      (f) => f.id === fact.id,
    );
    assert.equal(
      shown?.retractionReason,
      `残疾证号录错，应为 4102${'*'.repeat(15)}${certificate.slice(-1)}；核实电话 139******9999`,
    );
    assert.equal(entry.details.reason, undefined);
    assert.equal(entry.details.reasonLength, [...reason].length);
    const exported = await call('auditor', 'GET', '/audit/export?action=person.fact.retract');
    assert.equal(exported.statusCode, 200, exported.body);
    for (const [what, text] of [
      ['the search', search.body],
      ['the export', exported.body],
    ] as const) {
      assert.ok(!text.includes(HEAD_ID), `${what} shows the ID number: ${text}`);
      assert.ok(!text.includes('5555'), `${what} shows the phone: ${text}`);
      assert.ok(!text.includes('残疾证号录错'), `${what} shows the reason: ${text}`);
    }
  });
});

describe('the log holds no personal data a clerk searched by', () => {
  test('a phone typed with spaces, an ID number in full-width digits and a name find the child; the log shows none of them', async () => {
    const fullWidth = (s: string) =>
      s.replace(/[0-9X]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
    const searches = [
      `q=${encodeURIComponent('138 7777 6666')}`,
      `q=${encodeURIComponent('138 - 7777 - 6666')}`,
      `q=${encodeURIComponent(fullWidth(CHILD_PHONE))}`,
      `idNumber=${encodeURIComponent(fullWidth(CHILD_ID))}`,
      `q=${encodeURIComponent(CHILD_NAME)}`,
      `q=${encodeURIComponent(CHILD_NAME)}&region=${V1}&limit=5`,
    ];
    t.logs.length = 0;
    for (const search of searches) {
      const r = await call('director', 'GET', `/persons?${search}`);
      assert.equal(r.statusCode, 200, r.body);
      assert.deepEqual(
        (r.json().items as { id: number }[]).map((p) => p.id),
        [child.id],
        search,
      );
    }
    const text = t.logs.join('\n');
    assert.ok(text.includes('/api/v1/persons?'), 'the requests were logged');
    // The parameters that name nobody are still there for the operator.
    assert.ok(text.includes(`region=${V1}&limit=5`), text);
    for (const search of searches)
      for (const value of search.split('&').filter((p) => /^(q|idNumber)=/.test(p)))
        assert.ok(!text.includes(value.slice(value.indexOf('=') + 1)), `the log holds ${value}`);
    for (const digits of ['7777', '6666', CHILD_ID.slice(6, 14)])
      assert.ok(!text.includes(digits), `the log holds ${digits}`);
  });
});
