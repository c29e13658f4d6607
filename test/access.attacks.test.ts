// Access control attacked the way an auditor (等保三级) or a malicious insider would, beyond what
// the generated scope walk (test/access.scope-walk.test.ts) can see: the walk fills every id of a
// request with ONE area's records; these tests mix an in-scope record with an out-of-scope one in
// the same request, bend the parameters (regions shorter than the home, wildcards, arrays, cursors,
// limits), look for full ID numbers and phones in files and lists, and check that reads and writes
// of children's data leave an audit entry.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from './support/db.ts';
import { makeUser, sessionFor, type Client } from './support/access.ts';
import { createToken, type Role } from '../src/modules/access/index.ts';
import { makeIdNumber } from '../src/modules/registry/registry.idnumber.ts';

const V1 = '410225101200'; // 堌阳镇 城内村: the home village
const V2 = '410225101201'; // 堌阳镇 任庄村: same township
const V3 = '410225102200'; // another township of the county

let t: TestApp;
const tokens: Record<string, string> = {};

async function token(name: string, role: Role, regionCode: string | null): Promise<string> {
  return (await createToken(t.ctx, null, { name, role, regionCode })).token;
}

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT';

function call(who: string, method: Method, url: string, payload?: unknown) {
  return t.app.inject({
    method,
    url: `/api/v1${url}`,
    headers: { authorization: `Bearer ${tokens[who]}` },
    ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}),
  });
}

async function created(who: string, url: string, payload: unknown): Promise<{ id: number; version: number }> {
  const r = await call(who, 'POST', url, payload);
  assert.ok(r.statusCode < 300, `${url}: ${r.statusCode} ${r.body}`);
  return r.json();
}

const CHILD_ID = makeIdNumber('410225', '2016-05-05', 311);
const CHILD_PHONE = '13811112222';
const FATHER_ID = makeIdNumber('410225', '1986-01-01', 111);
const OUTSIDER_ID = makeIdNumber('410225', '1980-07-07', 515);
const OUTSIDER_NAME = '外乡王秘密';
const OUTSIDER_PHONE = '13933334444';
let child: { id: number; version: number };
let outsider: { id: number; version: number };
let outsiderHousehold: { id: number };

before(async () => {
  t = await createTestApp();
  tokens.county = await token('county', 'county_staff', '410225');
  tokens.director = await token('director', 'village_child_director', V1);
  tokens.supervisor = await token('supervisor', 'township_supervisor', '410225101');
  tokens.townshipStaff = await token('township', 'township_staff', '410225101');
  tokens.prefecture = await token('prefecture', 'prefecture_viewer', '4102');

  const household = await created('county', '/households', {
    householdNo: 'ATK-0001',
    hukouRegionCode: V1,
    address: '城内村1号',
  });
  await created('county', '/persons', {
    idNumber: FATHER_ID,
    name: '张父亲',
    hukouRegionCode: V1,
    householdId: household.id,
    relationToHead: '户主',
  });
  child = await created('county', '/persons', {
    idNumber: CHILD_ID,
    name: '张孩子',
    hukouRegionCode: V1,
    householdId: household.id,
    relationToHead: '子',
    phone: CHILD_PHONE,
  });
  outsiderHousehold = await created('county', '/households', {
    householdNo: 'ATK-9999',
    hukouRegionCode: V3,
    address: '外乡9号',
  });
  outsider = await created('county', '/persons', {
    idNumber: OUTSIDER_ID,
    name: OUTSIDER_NAME,
    hukouRegionCode: V3,
    householdId: outsiderHousehold.id,
    relationToHead: '户主',
    phone: OUTSIDER_PHONE,
  });
});

after(async () => {
  await t.close();
});

/** The fields of one CSV line, unquoted (enough for the export's own lines). */
function splitCsv(line: string): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted && c === '"' && line[i + 1] === '"') {
      field += '"';
      i++;
    } else if (quoted && c === '"') {
      quoted = false;
    } else if (!quoted && c === '"' && field === '') {
      quoted = true;
    } else if (!quoted && c === ',') {
      out.push(field);
      field = '';
    } else {
      field += c;
    }
  }
  out.push(field);
  return out;
}

/** Uploads a CSV as the import of `who` and runs it; resolves with the finished import. */
async function importCsv(
  who: string,
  fileName: string,
  content: Buffer,
): Promise<{ status: string; counts: { errors: number } }> {
  const boundary = `----attack${Date.now()}`;
  const payload = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${fileName}"\r\nContent-Type: text/csv\r\n\r\n`,
    ),
    content,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const r = await t.app.inject({
    method: 'POST',
    url: '/api/v1/imports',
    headers: {
      authorization: `Bearer ${tokens[who]}`,
      'content-type': `multipart/form-data; boundary=${boundary}`,
    },
    payload,
  });
  assert.equal(r.statusCode, 202, r.body);
  await t.ctx.jobs.drain();
  const done = await call(who, 'GET', `/imports/${r.json().id}`);
  return done.json();
}

/** Fails when the body shows anything of the outsider in the other township. */
function assertNoOutsider(body: string, what: string): void {
  for (const marker of [OUTSIDER_NAME, OUTSIDER_ID, OUTSIDER_PHONE, 'ATK-9999', '外乡9号'])
    assert.ok(!body.includes(marker), `${what} shows ${marker}: ${body.slice(0, 400)}`);
}

describe('parameters bent to widen the scope', () => {
  test('a region above the home, a region with LIKE wildcards, blanks or full-width digits finds nobody outside', async () => {
    for (const region of ['4102', '410225', '41022510%', '410225_0', '410225102 ', '４１０２２５', '%']) {
      const r = await call('director', 'GET', `/persons?region=${encodeURIComponent(region)}`);
      assert.ok([200, 400, 403, 404].includes(r.statusCode), `${region}: ${r.statusCode} ${r.body}`);
      assertNoOutsider(r.body, `region=${region}`);
      if (r.statusCode === 200)
        for (const p of r.json().items as { hukouRegionCode: string }[])
          assert.equal(p.hukouRegionCode, V1, `region=${region} showed a person of ${p.hukouRegionCode}`);
    }
  });

  test('two regions where one is expected are refused, not OR-ed', async () => {
    const r = await call('director', 'GET', `/persons?region=${V1}&region=${V3}`);
    assert.equal(r.statusCode, 400, r.body);
    assertNoOutsider(r.body, 'region twice');
  });

  test("another township's household number, ID number or name finds nobody", async () => {
    for (const q of [
      `householdNo=ATK-9999`,
      `idNumber=${OUTSIDER_ID}`,
      `q=${encodeURIComponent(OUTSIDER_NAME)}`,
    ]) {
      const r = await call('supervisor', 'GET', `/persons?${q}`);
      assert.equal(r.statusCode, 200, `${q}: ${r.body}`);
      assert.deepEqual(r.json().items, [], q);
    }
  });

  test('a cursor pointing below another region’s ids lists only the scope', async () => {
    const r = await call('director', 'GET', `/persons?cursor=0&limit=200`);
    assert.equal(r.statusCode, 200, r.body);
    assertNoOutsider(r.body, 'cursor=0');
  });

  test('limits and cursors out of range are 400 naming the field, never 500', async () => {
    const urls = [
      '/persons?limit=0',
      '/persons?limit=-1',
      '/persons?limit=abc',
      '/persons?limit=100000000',
      '/persons?cursor=-1',
      '/persons?cursor=99999999999999999999999999',
      '/imports?cursor=99999999999999999999999999',
      '/worklist?cursor=99999999999999999999999999',
      '/stats/groups/members?group=orphan&cursor=99999999999999999999999999',
    ];
    for (const url of urls) {
      const who = url.startsWith('/imports') ? 'county' : 'director';
      const r = await call(who, 'GET', url);
      assert.ok(r.statusCode === 400 || r.statusCode === 200, `${url}: ${r.statusCode} ${r.body}`);
      if (r.statusCode === 400) assert.match(r.body, /limit|cursor/, url);
    }
  });

  test('ids and amounts beyond any row are 400 or 404, never 500', async () => {
    const huge = 1e20;
    const requests: [string, Method, string, unknown?][] = [
      ['director', 'GET', `/persons/${huge}`],
      ['director', 'GET', `/households/${huge}`],
      ['county', 'GET', `/imports/${huge}`],
      ['director', 'POST', `/persons/${child.id}/relations`, { relatedPersonId: huge, kind: 'guardian' }],
      ['townshipStaff', 'POST', `/persons/${child.id}/merge`, { intoId: huge, version: 1 }],
      [
        'director',
        'POST',
        '/households',
        { householdNo: 'ATK-HUGE', hukouRegionCode: V1, headPersonId: huge },
      ],
      [
        'director',
        'POST',
        '/households',
        { householdNo: 'ATK-RICH', hukouRegionCode: V1, annualIncomeFen: huge },
      ],
      ['director', 'POST', `/worklist/${'9'.repeat(18)}/acknowledge`],
    ];
    for (const [who, method, url, payload] of requests) {
      const r = await call(who, method, url, payload);
      assert.ok([400, 404].includes(r.statusCode), `${method} ${url}: ${r.statusCode} ${r.body}`);
    }
  });
});

describe('one request, one record in scope and one outside', () => {
  test("linking a person in scope to another township's person is refused and shows nothing of them", async () => {
    const before = await t.ctx.db
      .selectFrom('person_relations')
      .select('id')
      .where('related_person_id', '=', outsider.id)
      .execute();
    const r = await call('director', 'POST', `/persons/${child.id}/relations`, {
      relatedPersonId: outsider.id,
      kind: 'guardian',
    });
    assert.ok([400, 403, 404].includes(r.statusCode), `${r.statusCode} ${r.body}`);
    assertNoOutsider(r.body, 'relation to an outsider');
    const afterRows = await t.ctx.db
      .selectFrom('person_relations')
      .select('id')
      .where('related_person_id', '=', outsider.id)
      .execute();
    assert.equal(afterRows.length, before.length, 'no link to the outsider was written');
    // Out of scope answers exactly like an id that does not exist, so ids cannot be probed.
    const missing = await call('director', 'POST', `/persons/${child.id}/relations`, {
      relatedPersonId: 987654321,
      kind: 'guardian',
    });
    assert.equal(r.statusCode, missing.statusCode);
    assert.equal(r.json().error.code, missing.json().error.code);
  });

  test('merging a person in scope into one outside (and back) is refused and changes nothing', async () => {
    const dup = await created('townshipStaff', '/persons', {
      name: OUTSIDER_NAME,
      noIdReason: '未落户',
      sex: 1,
      birthDate: '1980-07-07',
      hukouRegionCode: V1,
    });
    const into = await call('townshipStaff', 'POST', `/persons/${dup.id}/merge`, {
      intoId: outsider.id,
      version: dup.version,
    });
    assert.ok([400, 403, 404].includes(into.statusCode), `${into.statusCode} ${into.body}`);
    assertNoOutsider(into.body.replace(OUTSIDER_NAME, ''), 'merge into an outsider');
    const back = await call('townshipStaff', 'POST', `/persons/${outsider.id}/merge`, {
      intoId: dup.id,
      version: outsider.version,
    });
    assert.ok([403, 404].includes(back.statusCode), `${back.statusCode} ${back.body}`);
    const row = await t.ctx.db
      .selectFrom('persons')
      .select(['merged_into', 'id_number'])
      .where('id', '=', outsider.id)
      .executeTakeFirstOrThrow();
    assert.equal(row.merged_into, null);
    assert.equal(row.id_number, OUTSIDER_ID);
  });

  test('moving a person out of scope, or into an outside household, is refused', async () => {
    const current = (await call('director', 'GET', `/persons/${child.id}`)).json();
    const move = await call('director', 'PATCH', `/persons/${child.id}`, {
      version: current.version,
      hukouRegionCode: V3,
    });
    assert.equal(move.statusCode, 403, move.body);
    const join = await call('director', 'PATCH', `/persons/${child.id}`, {
      version: current.version,
      householdId: outsiderHousehold.id,
    });
    assert.ok([400, 404].includes(join.statusCode), `${join.statusCode} ${join.body}`);
    assertNoOutsider(join.body, 'joining an outside household');
    const headed = await call('director', 'POST', '/households', {
      householdNo: 'ATK-0002',
      hukouRegionCode: V1,
      headPersonId: outsider.id,
    });
    assert.ok([400, 404].includes(headed.statusCode), `${headed.statusCode} ${headed.body}`);
    const row = await t.ctx.db
      .selectFrom('persons')
      .select(['hukou_region_code', 'household_id'])
      .where('id', '=', child.id)
      .executeTakeFirstOrThrow();
    assert.equal(row.hukou_region_code, V1);
  });

  test('a village export of another village, the township or the county is refused', async () => {
    for (const region of [V2, '410225101', '410225']) {
      const r = await call('director', 'GET', `/exports/registry?region=${region}&format=csv`);
      assert.ok([403, 404].includes(r.statusCode), `${region}: ${r.statusCode}`);
    }
  });
});

describe('masking: no full ID number or phone for a role that may not reveal', () => {
  test("a village child director's export masks ID numbers and phones; county staff's shows them", async () => {
    const masked = await call('director', 'GET', `/exports/registry?region=${V1}&format=csv`);
    assert.equal(masked.statusCode, 200, masked.body);
    assert.ok(masked.body.includes('张孩子'), 'the export lists the village');
    for (const full of [CHILD_ID, FATHER_ID, CHILD_PHONE])
      assert.ok(!masked.body.includes(full), `the director's export shows ${full}`);
    assert.ok(masked.body.includes(`${CHILD_ID.slice(0, 4)}`), 'the masked number keeps its ends');
    const full = await call('county', 'GET', `/exports/registry?region=${V1}&format=csv`);
    assert.equal(full.statusCode, 200, full.body);
    assert.ok(full.body.includes(CHILD_ID), 'county staff (persons.reveal) export the full number');
  });

  test("a township supervisor's masked export imported back changes no ID number or phone", async () => {
    const exported = await call('supervisor', 'GET', `/exports/registry?region=${V1}&format=csv`);
    assert.equal(exported.statusCode, 200, exported.body);
    assert.ok(!exported.body.includes(CHILD_ID), 'the supervisor (no persons.reveal) gets a masked file');
    const before = await t.ctx.db
      .selectFrom('persons')
      .select(['id', 'id_number', 'phone', 'name'])
      .execute();
    const job = await importCsv('supervisor', 'masked-export.csv', exported.rawPayload);
    assert.equal(job.status, 'succeeded', JSON.stringify(job));
    const afterRows = await t.ctx.db
      .selectFrom('persons')
      .select(['id', 'id_number', 'phone', 'name'])
      .execute();
    assert.deepEqual(
      afterRows.sort((a, b) => a.id - b.id),
      before.sort((a, b) => a.id - b.id),
    );
  });

  test('the person file and list show masked values only, to every role', async () => {
    for (const who of ['director', 'county']) {
      for (const url of [`/persons/${child.id}`, `/persons?region=${V1}`]) {
        const r = await call(who, 'GET', url);
        assert.equal(r.statusCode, 200, r.body);
        assert.ok(!r.body.includes(CHILD_ID) && !r.body.includes(CHILD_PHONE), `${who} ${url}`);
      }
    }
  });

  test('the reveal is refused to roles without persons.reveal', async () => {
    for (const who of ['director', 'supervisor', 'townshipStaff']) {
      const r = await call(who, 'POST', `/persons/${child.id}/reveal`);
      assert.equal(r.statusCode, 403, `${who}: ${r.body}`);
      assert.ok(!r.body.includes(CHILD_ID));
    }
  });
});

describe('files that other users open', () => {
  test('text that a spreadsheet would run as a formula is exported as text, and imports back unchanged', async () => {
    const formulas = ['=HYPERLINK("http://evil/x","点我")', '@SUM(1+1)', '+1+1', '-2+3'];
    const ids: number[] = [];
    for (const [i, name] of formulas.entries()) {
      const p = await created('director', '/persons', {
        name,
        idNumber: makeIdNumber('410225', '1990-01-01', 601 + 2 * i),
        hukouRegionCode: V1,
        householdId: (await call('director', 'GET', `/persons/${child.id}`)).json().householdId,
        relationToHead: '其他',
      });
      ids.push(p.id);
    }
    const r = await call('county', 'GET', `/exports/registry?region=${V1}&format=csv`);
    assert.equal(r.statusCode, 200, r.body);
    for (const line of r.body.split('\r\n').slice(1))
      for (const field of splitCsv(line))
        assert.ok(!/^[=+\-@]/.test(field) || /^="[\s\S]*"$/.test(field), `a formula cell: ${field}`);
    const job = await importCsv('county', 'formula-export.csv', r.rawPayload);
    assert.equal(job.status, 'succeeded', JSON.stringify(job));
    assert.equal(job.counts.errors, 0, JSON.stringify(job));
    const names = await t.ctx.db
      .selectFrom('persons')
      .select('name')
      .where('id', 'in', ids)
      .orderBy('id')
      .execute();
    assert.deepEqual(
      names.map((n) => n.name),
      formulas,
    );
  });
});

describe('sessions and CSRF', () => {
  let director: Client;
  let other: Client;
  before(async () => {
    const a = await makeUser(t.ctx, 'atk.director', 'village_child_director', V1);
    const b = await makeUser(t.ctx, 'atk.other', 'village_child_director', V1);
    director = await sessionFor(t.ctx, a.id);
    other = await sessionFor(t.ctx, b.id);
  });

  test("a cookie write with another session's CSRF token is refused", async () => {
    const r = await t.app.inject({
      method: 'POST',
      url: '/api/v1/households',
      headers: { cookie: director.cookie, 'x-shouhu-csrf': other.csrf },
      payload: { householdNo: 'ATK-CSRF', hukouRegionCode: V1 },
    });
    assert.equal(r.statusCode, 403, r.body);
    assert.equal(r.json().error.code, 'CSRF_FAILED');
  });

  test('a wrong bearer token never falls back to a valid cookie', async () => {
    const r = await t.app.inject({
      method: 'GET',
      url: `/api/v1/persons/${child.id}`,
      headers: { cookie: director.cookie, authorization: 'Bearer shu_not-a-real-token-at-all-000000' },
    });
    assert.equal(r.statusCode, 401, r.body);
  });

  test('a session cookie chosen before sign-in is not the session after it (no fixation)', async () => {
    const chosen = 'A'.repeat(43);
    const r = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { cookie: `shouhu_session=${chosen}` },
      payload: { username: 'atk.director', password: 'Correct-Horse-42' },
    });
    assert.equal(r.statusCode, 200, r.body);
    const session = r.cookies.find((c) => c.name === 'shouhu_session')?.value;
    assert.ok(session && session !== chosen);
    const me = await t.app.inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      headers: { cookie: `shouhu_session=${chosen}` },
    });
    assert.equal(me.statusCode, 401);
  });
});

describe('audit of reads of children’s names', () => {
  async function entries(action: string): Promise<number> {
    const row = await t.ctx.db
      .selectFrom('audit_log')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('action', '=', action)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  test('the duplicates list and the worklist are audited reads', async () => {
    for (const [url, action] of [
      [`/persons/duplicates`, 'person.duplicates.read'],
      ['/worklist', 'worklist.read'],
    ] as const) {
      const before = await entries(action);
      const r = await call('director', 'GET', url);
      assert.equal(r.statusCode, 200, r.body);
      assert.equal(await entries(action), before + 1, `${url} wrote a ${action} entry`);
    }
  });
});
