// An eighth adversarial review of access (DOMAIN.md section 6), beyond access.attacks*.test.ts, the
// scope walk and the sign-in attacks: request bodies no client would send, and what an upload's own
// name carries. A JSON body of nested brackets within the size limit overflowed the stack of the
// checks that walk a body (500, on the public sign-in route too); a multipart upload without a
// boundary, cut short, or with a NUL in its file name answered 500; and a file name holding an ID
// number or a phone went whole to every reader of the imports list, where /reveal answers 403.
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from './support/db.ts';
import { apiCall, signedInClients, type ApiMethod, type Client } from './support/access.ts';
import { multipartFile } from './support/upload.ts';
import { makeIdNumber } from '../src/modules/registry/registry.idnumber.ts';
import { importsDir } from '../src/modules/registry/registry.jobs.ts';

const V1 = '410225101200'; // 堌阳镇 城内村
const T1 = '410225101'; // 堌阳镇
const COUNTY = '410225';

type Who = 'director' | 'supervisor' | 'supervisor2' | 'county';

let t: TestApp;
let clients: Record<Who, Client>;

function call(who: Who, method: ApiMethod, url: string, payload?: unknown) {
  return apiCall(t.app, clients[who], method, url, payload);
}

/** A request with a raw body, as a client that writes its own bytes sends it. */
function raw(who: Who | null, method: ApiMethod, url: string, contentType: string, payload: string | Buffer) {
  return t.app.inject({
    method,
    url: `/api/v1${url}`,
    headers: { ...(who ? clients[who].write : {}), 'content-type': contentType },
    payload,
  });
}

/** JSON arrays nested `depth` levels deep: [[[]]] is 3. */
const nestedArrays = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
/** JSON objects nested `depth` levels deep: {"a":{"a":1}} is 2. */
const nestedObjects = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

/** Lines the server logged at level error (50) or above since `from`. */
const errorLines = (from: number) =>
  t.logs.slice(from).filter((line) => (JSON.parse(line) as { level: number }).level >= 50);

let person: { id: number; version: number };
let household: { id: number; version: number };

before(async () => {
  t = await createTestApp();
  clients = await signedInClients(t, {
    director: ['a8.director', 'village_child_director', V1],
    supervisor: ['a8.supervisor', 'township_supervisor', T1],
    supervisor2: ['a8.supervisor2', 'township_supervisor', T1],
    county: ['a8.county', 'county_staff', COUNTY],
  });
  const h = await call('county', 'POST', '/households', { householdNo: 'ATK8-001', hukouRegionCode: V1 });
  assert.equal(h.statusCode, 201, h.body);
  household = h.json();
  const p = await call('county', 'POST', '/persons', {
    idNumber: makeIdNumber(COUNTY, '2016-08-08', 801),
    name: '城内童八',
    hukouRegionCode: V1,
    householdId: household.id,
    relationToHead: '户主',
  });
  assert.equal(p.statusCode, 201, p.body);
  person = p.json();
  // Registering its head changed the household (its head): read it as it is now.
  household = (await call('county', 'GET', `/households/${household.id}`)).json();
});

after(async () => {
  await t.close();
});

describe('a JSON body nested deeper than any form needs', () => {
  test('is 400 naming the body, never 500: signed in or not, arrays or objects, and nothing is written', async () => {
    const from = t.logs.length;
    const bodies = [nestedArrays(400_000), nestedObjects(150_000)];
    const cases: [Who | null, ApiMethod, string][] = [
      [null, 'POST', '/auth/login'],
      ['director', 'PATCH', `/persons/${person.id}`],
      ['director', 'PATCH', `/households/${household.id}`],
      ['county', 'POST', '/households'],
      ['county', 'PUT', `/groups/config?region=${COUNTY}`],
      ['supervisor', 'POST', '/auth/change-password'],
    ];
    for (const [who, method, url] of cases)
      for (const body of bodies) {
        const r = await raw(who, method, url, 'application/json', body);
        assert.equal(r.statusCode, 400, `${method} ${url}: ${r.statusCode} ${r.body.slice(0, 200)}`);
        const error = r.json().error as { code: string; details: { path: string; message: string }[] };
        assert.equal(error.code, 'VALIDATION_FAILED');
        assert.deepEqual(
          error.details.map((d) => d.path),
          ['body'],
        );
        assert.match(error.details[0]?.message ?? '', /嵌套层数过多/);
      }
    assert.deepEqual(errorLines(from), [], 'no request failed on the server');
    const file = await call('director', 'GET', `/persons/${person.id}`);
    assert.equal(file.json().version, person.version, 'the person is unchanged');
    const home = await call('director', 'GET', `/households/${household.id}`);
    assert.equal(home.json().version, household.version, 'the household is unchanged');
    // The supervisor's session survived: the refused change-password was no attempt at the password.
    assert.equal((await call('supervisor', 'GET', '/auth/me')).statusCode, 200);
  });

  test('64 levels still reach validation (an answer about the fields), 65 are refused for their nesting', async () => {
    const at64 = await raw(null, 'POST', '/auth/login', 'application/json', nestedArrays(64));
    assert.equal(at64.statusCode, 400, at64.body);
    assert.doesNotMatch(at64.body, /嵌套层数过多/);
    const at65 = await raw(null, 'POST', '/auth/login', 'application/json', nestedArrays(65));
    assert.equal(at65.statusCode, 400, at65.body);
    assert.match(at65.body, /嵌套层数过多/);
    // A household's assets nested a few levels, as a clerk's form may send them, are stored.
    const assets = { 房屋: { 砖房: { 间数: '3', 位置: '3组' } } };
    const changed = await call('county', 'PATCH', `/households/${household.id}`, {
      version: household.version,
      assets,
    });
    assert.equal(changed.statusCode, 200, changed.body);
    assert.deepEqual(changed.json().assets, assets);
    household = changed.json();
  });
});

describe('an upload the multipart parser cannot read', () => {
  test('no boundary, a body cut short or a NUL in the file name: 400 naming the file, never 500, nothing queued', async () => {
    const from = t.logs.length;
    const before = (await call('supervisor', 'GET', '/imports')).json().items.length as number;
    const { contentType } = multipartFile('x.csv', Buffer.from(''));
    const boundary = contentType.split('boundary=')[1] ?? '';
    const part = (fileName: string) =>
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${fileName}"\r\nContent-Type: text/csv\r\n\r\n`;
    const whole = (fileName: string) => `${part(fileName)}户编号,姓名\r\nA,B\r\n--${boundary}--\r\n`;
    const cases: [string, string, string][] = [
      ['no boundary', 'multipart/form-data', whole('a.csv')],
      ['a boundary the body does not use', 'multipart/form-data; boundary=elsewhere', whole('a.csv')],
      ['cut short', contentType, `${part('b.csv')}户编号,姓名\r\nA,`],
      ['a NUL in the file name', contentType, whole('c\u0000.csv')],
      ['a control character in the file name', contentType, whole('d\u0007.csv')],
    ];
    for (const [what, type, body] of cases) {
      const r = await raw('supervisor', 'POST', '/imports', type, body);
      assert.equal(r.statusCode, 400, `${what}: ${r.statusCode} ${r.body}`);
      const error = r.json().error as { code: string; details: { path: string }[] };
      assert.equal(error.code, 'VALIDATION_FAILED', what);
      assert.deepEqual(
        error.details.map((d) => d.path),
        ['file'],
        what,
      );
    }
    assert.deepEqual(errorLines(from), [], 'no upload failed on the server');
    // Nor is a partial upload left on disk, where repeated ones would fill it.
    const folder = importsDir(t.ctx);
    const left = fs.existsSync(folder) ? fs.readdirSync(folder).filter((f) => f.startsWith('upload-')) : [];
    assert.deepEqual(left, [], 'no partial upload is kept');
    await t.ctx.jobs.drain();
    const afterList = (await call('supervisor', 'GET', '/imports')).json().items as unknown[];
    assert.equal(afterList.length, before, 'no import was queued');
    // A well-formed upload of the same user still goes through.
    const { payload, contentType: ok } = multipartFile('good.csv', Buffer.from('户编号,姓名\r\nATK8-G,\r\n'));
    const good = await raw('supervisor', 'POST', '/imports', ok, payload);
    assert.equal(good.statusCode, 202, good.body);
  });
});

describe('an upload’s file name', () => {
  test('holding an ID number or a phone is masked for every reader of the import; a date in it stays', async () => {
    const idNumber = makeIdNumber(COUNTY, '2015-05-05', 802);
    const phone = '13855558888';
    const fileName = `${idNumber}城内童${phone}台账20260105.csv`;
    const { payload, contentType } = multipartFile(fileName, Buffer.from('户编号,姓名\r\n'));
    const submitted = await raw('supervisor', 'POST', '/imports', contentType, payload);
    assert.equal(submitted.statusCode, 202, submitted.body);
    await t.ctx.jobs.drain();
    const id = submitted.json().id as number;
    const shown: string[] = [submitted.json().fileName];
    // Another supervisor of the township (who may not reveal) and the county clerk read the list
    // and the import itself.
    for (const who of ['supervisor', 'supervisor2', 'county'] as const) {
      const list = await call(who, 'GET', '/imports');
      assert.equal(list.statusCode, 200, list.body);
      const item = (list.json().items as { id: number; fileName: string }[]).find((i) => i.id === id);
      assert.ok(item, `${who} lists the import`);
      shown.push(item.fileName);
      const view = await call(who, 'GET', `/imports/${id}`);
      assert.equal(view.statusCode, 200, view.body);
      shown.push(view.json().fileName);
    }
    for (const name of shown) {
      assert.ok(!name.includes(idNumber), `the ID number whole: ${name}`);
      assert.ok(!name.includes(phone), `the phone whole: ${name}`);
      assert.ok(name.includes(`${idNumber.slice(0, 4)}${'*'.repeat(13)}${idNumber.slice(-1)}`), name);
      assert.ok(name.includes('城内童') && name.includes('台账20260105.csv'), name);
    }
  });
});

describe('a name typed into a path', () => {
  test('reaches the log as [REDACTED], not as the name, while the route words and ids stay', async () => {
    const from = t.logs.length;
    const name = '张晓明';
    for (const url of [
      `/persons/${encodeURIComponent(name)}`,
      `/households/${encodeURIComponent(name)}/reveal`,
    ])
      await call('county', 'GET', url);
    await call('county', 'GET', `/persons/${person.id}`);
    const text = t.logs.slice(from).join('\n');
    assert.ok(text.includes('/api/v1/persons/[REDACTED]'), 'the request was logged');
    assert.ok(text.includes(`/api/v1/persons/${person.id}`), 'an id in a path is kept');
    assert.ok(!text.includes(name), 'the name in clear');
    assert.ok(!text.includes(encodeURIComponent(name)), 'the name percent-encoded');
    assert.ok(!text.includes(encodeURIComponent(name).toLowerCase()), 'the name percent-encoded, lower case');
  });
});
