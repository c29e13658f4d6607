// The API conventions of EXCHANGE.md checked as an outside integrator checks them, route by route
// from the served API document: every refusal in the envelope with a stable code, in the language
// Accept-Language asks for (weights included); a method a path does not take is 405 with Allow, and
// OPTIONS lists the methods; a body that is not JSON is 415; a query parameter no route names is
// refused naming it; the document lists every error answer a route gives; answers are camelCase with
// dates and timestamps in their forms and no field the handler returns dropped by the response
// schema; lists page by cursor, every item once, while rows are added between pages; a stale version
// is 409 CONFLICT.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openTestDatabase, DEMO_COUNTY, TEST_SECRET_KEY, type TestDatabase } from './support/db.ts';
import { makeUser, sessionFor, type Client } from './support/access.ts';
import { apiOperations, type ApiOperation } from './support/openapi.ts';
import type { ErrorJson } from './support/errors.ts';
import { loadConfig } from '../src/platform/config.ts';
import { createLogger } from '../src/platform/logging.ts';
import type { AppContext } from '../src/platform/context.ts';
import { createContext, createHttpApp } from '../src/app.ts';
import type { App } from '../src/platform/http.ts';
import { languageOf } from '../src/platform/http.ts';
import { loadRegions } from '../src/modules/regions/index.ts';
import { makeIdNumber } from '../src/modules/registry/registry.idnumber.ts';

const VILLAGE = '410225101200';
const CJK = /[\u4e00-\u9fff]/;
const WRITE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

let database: TestDatabase;
let ctx: AppContext;
let app: App;
let dataDir: string;
/** What each handler returned before the response schema serialised it, by request id. */
const handed = new Map<string, unknown>();
let county: Client;
let sysadmin: Client;
let secadmin: Client;
let auditor: Client;
let ops: ApiOperation[];
const seeded = { householdId: 0, fatherId: 0, motherId: 0, childId: 0, factId: 0, importId: 0, jobId: 0 };

function call(
  client: Client | null,
  method: string,
  url: string,
  options: { payload?: unknown; headers?: Record<string, string> } = {},
) {
  return app.inject({
    method: method as 'GET',
    url,
    headers: {
      ...(client ? (WRITE.has(method) ? client.write : client.headers) : {}),
      ...(options.headers ?? {}),
    },
    ...(options.payload !== undefined ? { payload: options.payload as object } : {}),
  });
}

async function ok<T>(client: Client, method: string, url: string, payload?: unknown): Promise<T> {
  const r = await call(client, method, `/api/v1${url}`, payload === undefined ? {} : { payload });
  assert.ok(r.statusCode < 300, `${method} ${url}: ${r.statusCode} ${r.body}`);
  return r.json() as T;
}

function envelope(r: { statusCode: number; body: string; json(): unknown }, status: number, code: string) {
  assert.equal(r.statusCode, status, r.body);
  const body = r.json() as ErrorJson;
  assert.equal(body.error?.code, code, r.body);
  assert.equal(typeof body.error.message, 'string', r.body);
  return body.error;
}

/** A path of the document with its parameters filled: the demo county, CSV, an id no record has. */
function concrete(op: ApiOperation): string {
  return op.path.replace(/\{([^}]+)\}/g, (_m, name: string) =>
    name === 'code' ? DEMO_COUNTY : name === 'format' ? 'csv' : '999999',
  );
}

/**
 * Who may call the operation: the administrators their own routes, `staff` every other one. (The
 * permission is checked before the input: another role would get the 403, not the answer tested.)
 */
function clientFor(op: ApiOperation, staff: Client): Client {
  if (/^\/api\/v1\/users\/\{[^}]+\}\/(role|reset-2fa)$/.test(op.path)) return secadmin;
  if (op.path.startsWith('/api/v1/users')) return sysadmin;
  if (op.path.startsWith('/api/v1/tokens')) return secadmin;
  if (op.path.startsWith('/api/v1/audit')) return auditor;
  return staff;
}

before(async () => {
  database = await openTestDatabase();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shouhu-conventions-'));
  const config = loadConfig({}, { runJobs: false, secretKey: TEST_SECRET_KEY, dataDir });
  ctx = await createContext(config, database, createLogger('error', { write: () => {} }));
  await loadRegions(database, { within: DEMO_COUNTY });
  app = await createHttpApp(ctx, {
    serveWeb: false,
    extraRoutes: (api) =>
      api.addHook('preSerialization', async (request, _reply, payload) => {
        handed.set(request.id, JSON.parse(JSON.stringify(payload)) as unknown);
        return payload;
      }),
  });
  await app.ready();
  county = await sessionFor(ctx, (await makeUser(ctx, 'conv.county', 'county_staff', DEMO_COUNTY)).id);
  sysadmin = await sessionFor(
    ctx,
    (await makeUser(ctx, 'conv.sys', 'system_admin', null, { totp: true })).id,
  );
  secadmin = await sessionFor(
    ctx,
    (await makeUser(ctx, 'conv.sec', 'security_admin', null, { totp: true })).id,
  );
  auditor = await sessionFor(ctx, (await makeUser(ctx, 'conv.aud', 'audit_admin', null, { totp: true })).id);
  ops = await apiOperations(app);

  const household = await ok<{ id: number }>(county, 'POST', '/households', {
    householdNo: 'CONV-1',
    hukouRegionCode: VILLAGE,
    address: '约定村1号',
    annualIncomeFen: 1_234_500,
    assets: { car: 'none' },
  });
  const person = (name: string, birth: string, seq: number, relationToHead: string) =>
    ok<{ id: number }>(county, 'POST', '/persons', {
      name,
      idNumber: makeIdNumber(DEMO_COUNTY, birth, seq),
      sex: seq % 2 ? 1 : 2,
      birthDate: birth,
      hukouRegionCode: VILLAGE,
      householdId: household.id,
      relationToHead,
    });
  const father = await person('约父', '1985-02-01', 101, '户主');
  const mother = await person('约母', '1987-03-01', 202, '配偶');
  const child = await person('约童', '2016-04-01', 301, '子');
  for (const parent of [father.id, mother.id]) {
    await ok(county, 'POST', `/persons/${child.id}/relations`, {
      relatedPersonId: parent,
      kind: 'parent',
      subtype: 'biological',
    });
  }
  const fact = await ok<{ id: number }>(county, 'POST', `/persons/${father.id}/facts`, {
    kind: 'migration',
    from: '2025-01-01',
    data: { destination: '广东省' },
  });
  await ok(county, 'POST', `/persons/${mother.id}/facts`, {
    kind: 'migration',
    from: '2025-01-01',
    data: { destination: '广东省' },
  });
  const job = await ok<{ jobId: number }>(county, 'POST', '/groups/evaluations', { region: VILLAGE });
  await ctx.jobs.drain();
  Object.assign(seeded, {
    householdId: household.id,
    fatherId: father.id,
    motherId: mother.id,
    childId: child.id,
    factId: fact.id,
    jobId: job.jobId,
  });
});

after(async () => {
  await app.close();
  await database.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('the language of messages', () => {
  test('Accept-Language is read with its weights: the heavier of English and Chinese wins', () => {
    assert.equal(languageOf('en-US,en;q=0.9,zh;q=0.8'), 'en');
    assert.equal(languageOf('zh-CN,zh;q=0.9,en;q=0.8'), 'zh');
    assert.equal(languageOf('zh;q=0.1, en'), 'en');
    assert.equal(languageOf('fr-FR, en;q=0.5'), 'en');
    assert.equal(languageOf('en;q=0, zh'), 'zh');
    assert.equal(languageOf('EN-gb'), 'en');
    assert.equal(languageOf('english'), 'zh', 'a tag is "en" or "en-…", not any word starting with en');
    assert.equal(languageOf('*'), 'zh');
    assert.equal(languageOf(''), 'zh');
    assert.equal(languageOf(undefined), 'zh');
    assert.equal(languageOf('en;q=abc'), 'zh', 'a weight that is no number is no preference');
  });

  test('every kind of refusal answers in the language asked, weights included, Chinese without a header', async () => {
    const cases: [string, number, string, (h: Record<string, string>) => ReturnType<typeof call>][] = [
      [
        'validation',
        400,
        'VALIDATION_FAILED',
        (h) => call(county, 'GET', '/api/v1/persons?limit=0', { headers: h }),
      ],
      ['sign-in', 401, 'UNAUTHENTICATED', (h) => call(null, 'GET', '/api/v1/persons', { headers: h })],
      [
        'unknown route',
        404,
        'NOT_FOUND',
        (h) => call(county, 'GET', '/api/v1/no-such-thing', { headers: h }),
      ],
      ['method', 405, 'METHOD_NOT_ALLOWED', (h) => call(county, 'DELETE', '/api/v1/persons', { headers: h })],
      [
        'not JSON',
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        (h) =>
          call(county, 'POST', '/api/v1/persons', {
            headers: { ...h, 'content-type': 'text/plain' },
            payload: 'name=x',
          }),
      ],
      [
        'broken JSON',
        400,
        'MALFORMED_JSON',
        (h) =>
          call(county, 'POST', '/api/v1/persons', {
            headers: { ...h, 'content-type': 'application/json' },
            payload: '{"name":',
          }),
      ],
      [
        'undecodable path',
        400,
        'VALIDATION_FAILED',
        (h) => call(county, 'GET', '/api/v1/persons/%E0%A4%A', { headers: h }),
      ],
    ];
    for (const [name, status, code, send] of cases) {
      const en = envelope(await send({ 'accept-language': 'en-US,en;q=0.9,zh;q=0.8' }), status, code);
      assert.doesNotMatch(en.message, CJK, `${name}: ${en.message}`);
      const enLater = envelope(await send({ 'accept-language': 'zh;q=0.2, en' }), status, code);
      assert.equal(enLater.message, en.message, `${name}: English is weighted above Chinese`);
      const zh = envelope(await send({ 'accept-language': 'zh-CN' }), status, code);
      assert.match(zh.message, CJK, `${name}: ${zh.message}`);
      const none = envelope(await send({}), status, code);
      assert.equal(none.message, zh.message, `${name}: no header is Chinese`);
    }
  });
});

describe('methods, media types and query parameters on every route', () => {
  test('a method a documented path does not take is 405 in the envelope with Allow; OPTIONS lists the methods', async () => {
    const byPath = new Map<string, Set<string>>();
    for (const op of ops) byPath.set(op.path, (byPath.get(op.path) ?? new Set()).add(op.method));
    for (const [docPath, methods] of byPath) {
      const url = concrete({ path: docPath } as ApiOperation);
      const expected = new Set([...methods, 'OPTIONS', ...(methods.has('GET') ? ['HEAD'] : [])]);
      const refused = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].find((m) => !methods.has(m));
      assert.ok(refused, docPath);
      const r = await call(county, refused, url, { headers: { 'accept-language': 'en' } });
      const error = envelope(r, 405, 'METHOD_NOT_ALLOWED');
      assert.doesNotMatch(error.message, CJK);
      const allow = String(r.headers.allow ?? '')
        .split(',')
        .map((m) => m.trim());
      for (const method of expected)
        assert.ok(allow.includes(method), `${refused} ${docPath}: Allow ${allow}`);
      // A method beyond the document's is one the router takes for this address (PATCH
      // /persons/duplicates reaches PATCH /persons/{id}, which refuses the id): never a 405.
      for (const method of allow.filter((m) => !expected.has(m))) {
        const other = await call(county, method, url);
        assert.notEqual(other.statusCode, 405, `${method} ${docPath} is in Allow`);
      }

      const options = await call(null, 'OPTIONS', url);
      assert.equal(options.statusCode, 204, `OPTIONS ${docPath}: ${options.body}`);
      assert.equal(options.body, '');
      assert.deepEqual(String(options.headers.allow).split(', '), allow, `OPTIONS ${docPath}`);
    }
    // A path the API does not have stays 404, for OPTIONS too.
    envelope(await call(county, 'DELETE', '/api/v1/no-such-thing'), 404, 'NOT_FOUND');
    envelope(await call(null, 'OPTIONS', '/api/v1/no-such-thing'), 404, 'NOT_FOUND');
  });

  test('HEAD on a list answers as its GET does, without a body; on an unknown path 404', async () => {
    const head = await call(county, 'HEAD', '/api/v1/persons');
    assert.equal(head.statusCode, 200);
    assert.equal(head.body, '');
    assert.equal(head.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal((await call(null, 'HEAD', '/api/v1/persons')).statusCode, 401);
    assert.equal((await call(county, 'HEAD', '/api/v1/persons?limit=0')).statusCode, 400);
    assert.equal((await call(county, 'HEAD', '/api/v1/no-such-thing')).statusCode, 404);
  });

  test('a plain-text body on every route that takes JSON is 415 UNSUPPORTED_MEDIA_TYPE, not "must be object"', async () => {
    const json = ops.filter((op) => op.body?.contentType === 'application/json');
    assert.ok(json.length >= 20, 'the document lists the JSON routes');
    for (const op of json) {
      const r = await call(clientFor(op, county), op.method, `${concrete(op)}`, {
        headers: { 'content-type': 'text/plain; charset=utf-8', 'accept-language': 'en' },
        payload: '{"version": 1}',
      });
      const error = envelope(r, 415, 'UNSUPPORTED_MEDIA_TYPE');
      assert.equal(error.message, 'Unsupported content type', op.key);
    }
  });

  test('a query parameter the route does not name is refused naming it, on every route', async () => {
    // The query is checked once the path and the body pass (Fastify checks one part at a time), so
    // the routes with a body are called with a valid one below.
    // A throwaway session: were the parameter taken, POST /auth/logout would end it.
    const walker = await sessionFor(
      ctx,
      (await makeUser(ctx, 'conv.walker', 'county_staff', DEMO_COUNTY)).id,
    );
    for (const op of ops.filter((o) => !o.body)) {
      const client = clientFor(op, walker);
      const r = await call(client, op.method, `${concrete(op)}?regoin=410225101`, {
        headers: { 'accept-language': 'en' },
      });
      const error = envelope(r, 400, 'VALIDATION_FAILED');
      const detail = error.details?.find((d) => d.path === 'regoin');
      assert.ok(detail, `${op.key}: ${r.body}`);
      assert.equal(detail.message, 'has an unknown field regoin');
    }
    const withBodies: [Client, string, string, unknown][] = [
      [county, 'POST', '/api/v1/auth/login', { username: 'conv.nobody', password: 'wrong-password-1' }],
      [county, 'PUT', `/api/v1/groups/config?region=${VILLAGE}`, { config: {}, version: 0 }],
      [county, 'POST', '/api/v1/groups/evaluations', { region: VILLAGE }],
      [county, 'PATCH', '/api/v1/persons/999999', { version: 1 }],
    ];
    for (const [client, method, url, payload] of withBodies) {
      const r = await call(client, method, `${url}${url.includes('?') ? '&' : '?'}regoin=1`, { payload });
      const error = envelope(r, 400, 'VALIDATION_FAILED');
      assert.ok(
        error.details?.some((d) => d.path === 'regoin'),
        `${method} ${url}: ${r.body}`,
      );
    }
    // The parameters a route names are still taken.
    const listed = await call(county, 'GET', `/api/v1/persons?region=${VILLAGE}&limit=2`);
    assert.equal(listed.statusCode, 200, listed.body);
  });
});

describe('numbers in paths and query strings', () => {
  test('an integer parameter is decimal digits: 0x10, 1e1, +1, " 7" and 1.0 are refused naming it, on every route', async () => {
    // Type coercion read these as JavaScript does: /persons/0x10 was person 16.
    const BAD = ['0x10', '1e1', '+1', ' 7', '1.0', '0b1'];
    let walked = 0;
    for (const op of ops.filter((o) => !o.body)) {
      const client = clientFor(op, county);
      for (const parameter of op.parameters) {
        const type = parameter.schema?.type;
        if (type !== 'integer' && type !== 'number') continue;
        walked++;
        for (const bad of BAD) {
          const url =
            parameter.in === 'path'
              ? concrete(op).replace('999999', encodeURIComponent(bad))
              : `${concrete(op)}?${parameter.name}=${encodeURIComponent(bad)}`;
          const r = await call(client, op.method, url, { headers: { 'accept-language': 'en' } });
          const error = envelope(r, 400, 'VALIDATION_FAILED');
          const detail = error.details?.find((d) => d.path === parameter.name);
          assert.ok(detail, `${op.key} ${parameter.name}=${bad}: ${r.body}`);
          assert.match(detail.message, /written in digits/, `${op.key} ${parameter.name}=${bad}`);
        }
      }
    }
    assert.ok(walked >= 10, `integer parameters walked: ${walked}`);
    // A body route's path is checked the same way; the digits themselves are still taken.
    const patched = await call(county, 'PATCH', '/api/v1/persons/0x10', { payload: { version: 1 } });
    assert.equal(envelope(patched, 400, 'VALIDATION_FAILED').details?.[0]?.path, 'id');
    const read = await call(county, 'GET', `/api/v1/persons/${seeded.childId}`);
    assert.equal(read.statusCode, 200, read.body);
    const listed = await call(county, 'GET', `/api/v1/persons?region=${VILLAGE}&limit=2`);
    assert.equal(listed.statusCode, 200, listed.body);
    const named = await call(county, 'GET', `/api/v1/persons?limit=1e1`);
    assert.equal(
      envelope(named, 400, 'VALIDATION_FAILED').details?.[0]?.message,
      '应为整数（只能由数字组成）',
    );
  });
});

describe('the API document against what the routes do', () => {
  test('every operation documents the error answers it can give, and a 2xx', async () => {
    const doc = (await call(null, 'GET', '/api/v1/openapi.json')).json() as {
      paths: Record<string, Record<string, { responses: Record<string, unknown>; security?: unknown[] }>>;
    };
    for (const op of ops) {
      const responses = doc.paths[op.path]![op.method.toLowerCase()]!.responses;
      const statuses = Object.keys(responses);
      const isPublic = op.key === 'POST /api/v1/auth/login';
      const expected = [
        '400',
        ...(isPublic ? [] : ['401', '403']),
        ...(op.path.includes('{') ? ['404'] : []),
        ...(WRITE.has(op.method) ? ['413', '415'] : []),
      ];
      for (const status of expected) assert.ok(statuses.includes(status), `${op.key} documents ${status}`);
      assert.ok(
        statuses.some((s) => s.startsWith('2')),
        `${op.key} documents its answer: ${statuses.join(',')}`,
      );
    }
  });

  test('the document is what the routes answer: a download unsigned is 401, as documented', async () => {
    for (const op of ops.filter((o) => o.method === 'GET' && o.key !== 'GET /api/v1/openapi.json')) {
      const r = await call(null, 'GET', `${concrete(op)}`);
      envelope(r, 401, 'UNAUTHENTICATED');
    }
  });

  test('JSON answers: nothing the handler returns is dropped, camelCase keys, dates and timestamps in their forms', async () => {
    const imported = await app.inject({
      method: 'POST',
      url: '/api/v1/imports',
      headers: { ...county.write, 'content-type': 'multipart/form-data; boundary=convb' },
      payload: Buffer.from(
        '--convb\r\nContent-Disposition: form-data; name="file"; filename="conv.csv"\r\nContent-Type: text/csv\r\n\r\n户编号,姓名\r\nX,Y\r\n--convb--\r\n',
      ),
    });
    assert.equal(imported.statusCode, 202, imported.body);
    await ctx.jobs.drain();
    const worklist = await ok<{ items: { id: number }[] }>(county, 'GET', '/worklist?status=all');
    assert.ok(worklist.items.length, 'the evaluation made worklist items');
    const reads: [Client, string, string, unknown?][] = [
      [county, 'GET', '/persons'],
      [county, 'GET', '/persons?group=left_behind_child'],
      [county, 'GET', '/persons/duplicates'],
      [county, 'GET', `/persons/${seeded.childId}`],
      [county, 'GET', `/persons/${seeded.fatherId}?asOf=2025-06-01`],
      [county, 'POST', `/persons/${seeded.fatherId}/reveal`],
      [county, 'GET', `/households/${seeded.householdId}`],
      [county, 'POST', `/households/${seeded.householdId}/reveal`],
      [county, 'GET', '/imports'],
      [county, 'GET', `/imports/${(imported.json() as { id: number }).id}`],
      [county, 'GET', `/groups/config?region=${VILLAGE}`],
      [county, 'GET', `/groups/evaluations/${seeded.jobId}`],
      [county, 'GET', `/stats/groups?region=${DEMO_COUNTY}`],
      [county, 'GET', `/stats/groups/monthly?region=${DEMO_COUNTY}&from=2025-01&to=2025-03`],
      [county, 'GET', `/stats/groups/members?region=${DEMO_COUNTY}&group=left_behind_child`],
      [county, 'GET', '/worklist?status=all'],
      [county, 'POST', `/worklist/${worklist.items[0]!.id}/acknowledge`],
      [county, 'GET', '/auth/me'],
      [county, 'GET', `/regions/${VILLAGE}`],
      [county, 'GET', `/regions/${DEMO_COUNTY}/children`],
      [county, 'GET', '/regions/search?q=兰考'],
      [sysadmin, 'GET', '/users'],
      [secadmin, 'POST', '/tokens', { name: 'conv', role: 'national_viewer', regionCode: null }],
      [secadmin, 'GET', '/tokens'],
      [auditor, 'GET', '/audit?limit=20'],
      [auditor, 'GET', '/audit/verify'],
    ];
    // Map keys that are codes (a group's code names a column of counts), not field names.
    const CODE_MAPS = /\.counts$/;
    // Free-form data as it was recorded (a fact's data, assets, audit details).
    const FREE_FORM = /\.(data|assets|details|effective|config|result)$/;
    for (const [client, method, url, payload] of reads) {
      const r = await call(client, method, `/api/v1${url}`, payload === undefined ? {} : { payload });
      assert.ok(r.statusCode < 300, `${method} ${url}: ${r.statusCode} ${r.body}`);
      const served = r.json() as unknown;
      const raw = handed.get(String(r.headers['x-request-id']));
      assert.ok(raw !== undefined, `${method} ${url}: the handler's answer was seen`);
      const dropped: string[] = [];
      const problems: string[] = [];
      const walk = (given: unknown, sent: unknown, at: string) => {
        if (Array.isArray(given)) {
          given.forEach((item, i) => walk(item, (sent as unknown[] | undefined)?.[i], `${at}[]`));
          return;
        }
        if (given && typeof given === 'object') {
          for (const [key, value] of Object.entries(given)) {
            const sentObject = sent as Record<string, unknown> | undefined;
            if (value !== undefined && !(sentObject && key in sentObject)) dropped.push(`${at}.${key}`);
            if (
              !CODE_MAPS.test(at) &&
              !FREE_FORM.test(at) &&
              !/^[a-z][A-Za-z0-9]*$/.test(key) &&
              !/^\d+$/.test(key)
            )
              problems.push(`${at}.${key}: not camelCase`);
            if (!FREE_FORM.test(`${at}.${key}`)) walk(value, sentObject?.[key], `${at}.${key}`);
          }
          return;
        }
        if (typeof given === 'string') {
          const field = at.split('.').pop() ?? '';
          if (
            /(At)$/.test(field) &&
            !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(given)
          )
            problems.push(`${at} = ${given}: a timestamp without its zone`);
          if (
            /(Date|From|To|^from|^to|^since|^until|^asOf|^monthEnd|On|^onDate)$/.test(field) &&
            /^\d{4}-\d{2}-\d{2}./.test(given)
          )
            problems.push(`${at} = ${given}: a date as a timestamp`);
          if (/RegionCode$|^regionCode$|^parentCode$/.test(field) && !/^\d*$/.test(given))
            problems.push(`${at} = ${given}: a region code that is no digits`);
        }
        if (typeof given === 'number' && /Fen$/.test(at) && !Number.isInteger(given))
          problems.push(`${at} = ${given}: money not in whole fen`);
      };
      walk(raw, served, '');
      assert.deepEqual(dropped, [], `${method} ${url}: fields dropped by the response schema`);
      assert.deepEqual(problems, [], `${method} ${url}`);
    }
  });
});

describe('lists and versions', () => {
  test('paging by cursor gives every row once, in order, while rows are added between pages', async () => {
    const existing = (await ok<{ items: { id: number }[] }>(county, 'GET', '/persons?limit=200')).items.map(
      (p) => p.id,
    );
    const seen: number[] = [];
    let cursor: string | null = null;
    let added = 0;
    do {
      const page: { items: { id: number }[]; nextCursor: string | null } = await ok(
        county,
        'GET',
        `/persons?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      assert.deepEqual(Object.keys(page).sort(), ['items', 'nextCursor']);
      seen.push(...page.items.map((p) => p.id));
      cursor = page.nextCursor;
      if (added < 3) {
        added += 1;
        await ok(county, 'POST', '/persons', {
          name: `新增${added}`,
          noIdReason: '未落户',
          sex: 1,
          birthDate: '2020-01-01',
          hukouRegionCode: VILLAGE,
        });
      }
    } while (cursor);
    assert.equal(new Set(seen).size, seen.length, 'no row twice');
    for (const id of existing) assert.ok(seen.includes(id), `person ${id} was listed`);
    assert.deepEqual(
      seen,
      [...seen].sort((a, b) => a - b),
      'in a stable order',
    );

    // Newest first: the audit trail grows with every page read, and no entry comes twice.
    const audit: number[] = [];
    cursor = null;
    for (let pages = 0; pages < 5; pages++) {
      const page: { items: { id: number }[]; nextCursor: string | null } = await ok(
        auditor,
        'GET',
        `/audit?limit=5${cursor ? `&cursor=${cursor}` : ''}`,
      );
      audit.push(...page.items.map((a) => a.id));
      cursor = page.nextCursor;
      if (!cursor) break;
    }
    assert.equal(new Set(audit).size, audit.length);
    assert.deepEqual(
      audit,
      [...audit].sort((a, b) => b - a),
    );
  });

  test('every list refuses a limit out of range and a garbled cursor with 400 naming the field', async () => {
    const lists: [Client, string][] = [
      [county, '/persons'],
      [county, '/imports'],
      [county, '/worklist'],
      [county, `/stats/groups/members?group=left_behind_child&region=${DEMO_COUNTY}`],
      [sysadmin, '/users'],
      [auditor, '/audit'],
    ];
    for (const [client, url] of lists) {
      const join = url.includes('?') ? '&' : '?';
      for (const [query, field] of [
        ['limit=0', 'limit'],
        ['limit=100000', 'limit'],
        ['limit=ten', 'limit'],
        ['cursor=eyJpZCI6MX0%3D', 'cursor'],
        ['cursor=-1', 'cursor'],
      ] as const) {
        const r = await call(client, 'GET', `/api/v1${url}${join}${query}`, {
          headers: { 'accept-language': 'en' },
        });
        const error = envelope(r, 400, 'VALIDATION_FAILED');
        assert.ok(
          error.details?.some((d) => d.path === field),
          `${url} ${query}: ${r.body}`,
        );
      }
    }
  });

  test('every update with a stale version is 409 CONFLICT in the envelope, in the language asked', async () => {
    const person = await ok<{ id: number; version: number }>(county, 'GET', `/persons/${seeded.childId}`);
    const household = await ok<{ version: number }>(county, 'GET', `/households/${seeded.householdId}`);
    const created = await ok<{ user: { id: number; version: number } }>(sysadmin, 'POST', '/users', {
      username: 'conv.stale',
      displayName: 'Stale',
    });
    const user = created.user;
    const updates: [Client, string, string, unknown][] = [
      [county, 'PATCH', `/persons/${person.id}`, { version: person.version + 7, name: '约童改' }],
      [
        county,
        'PATCH',
        `/households/${seeded.householdId}`,
        { version: household.version + 7, address: 'x' },
      ],
      [county, 'POST', `/persons/${seeded.motherId}/merge`, { intoId: seeded.fatherId, version: 999 }],
      [sysadmin, 'POST', `/users/${user.id}/disable`, { version: user.version + 7 }],
      [sysadmin, 'POST', `/users/${user.id}/enable`, { version: user.version + 7 }],
      [
        secadmin,
        'PUT',
        `/users/${user.id}/role`,
        { role: 'village_staff', regionCode: VILLAGE, version: user.version + 7 },
      ],
      [county, 'PUT', `/groups/config?region=${VILLAGE}`, { config: { minorUnderAge: 18 }, version: 7 }],
    ];
    for (const [client, method, url, payload] of updates) {
      const en = envelope(
        await call(client, method, `/api/v1${url}`, {
          payload,
          headers: { 'accept-language': 'en-GB,en;q=0.8' },
        }),
        409,
        'CONFLICT',
      );
      assert.doesNotMatch(en.message, CJK, `${method} ${url}`);
      const zh = envelope(await call(client, method, `/api/v1${url}`, { payload }), 409, 'CONFLICT');
      assert.match(zh.message, CJK, `${method} ${url}`);
      // Without the version it is a field error naming it.
      const { version: _version, ...rest } = payload as Record<string, unknown>;
      const missing = envelope(
        await call(client, method, `/api/v1${url}`, { payload: rest }),
        400,
        'VALIDATION_FAILED',
      );
      assert.ok(
        missing.details?.some((d) => d.path === 'version'),
        `${method} ${url}`,
      );
    }
  });
});
