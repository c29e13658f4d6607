// What the API fuzz review found at the HTTP edge (findings 1, 6, 7 and 8 of the report), checked
// as a client meets it:
// - a number that overflows (400 digits, "Infinity", 1e999, beyond 2^53) in any integer field of any
//   route, in the path, the query string or the body, is a 400 naming the field, never a 500; and a
//   value the schema lets through but its column cannot hold (an int4) is a 400 naming the field too;
// - a request line or headers too large for the HTTP parser get the error envelope in the caller's
//   language, not Fastify's English default;
// - a nullable field's refusal gives the reason for its value, not "must be null" nor Ajv's "must
//   match a schema in anyOf";
// - the statistics' "not after" message names the latest day it takes by its date, and never calls
//   tomorrow today.
import { after, before, describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { Type } from 'typebox';
import { createTestApp, DEMO_COUNTY, type TestApp } from './support/db.ts';
import { makeUser, sessionFor, type Client } from './support/access.ts';
import { apiOperations, type ApiOperation, type JsonSchema } from './support/openapi.ts';
import type { ErrorJson } from './support/errors.ts';
import { buildApp, type App } from '../src/platform/http.ts';
import { createLogger } from '../src/platform/logging.ts';
import { addDays, today } from '../src/platform/dates.ts';

const VILLAGE = '410225101200';
const CJK = /[\u4e00-\u9fff]/;
const WRITE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const NINES = '9'.repeat(400);

let t: TestApp;
let county: Client;
const admins = new Map<string, Client>();

before(async () => {
  t = await createTestApp();
  const user = await makeUser(t.ctx, 'fuzz.county', 'county_staff', DEMO_COUNTY);
  county = await sessionFor(t.ctx, user.id);
  for (const role of ['system_admin', 'security_admin', 'audit_admin'] as const) {
    const admin = await makeUser(t.ctx, `fuzz.${role}`, role, null, { totp: true });
    admins.set(role, await sessionFor(t.ctx, admin.id));
  }
});

/**
 * Who may call the route: the administrators their own routes, the county worker every other one
 * (the permission is checked before the input: another role would get the 403, not the 400 tested).
 */
function clientOf(url: string): Client {
  const path = url.split('?')[0]!;
  if (/^\/api\/v1\/users\/[^/]+\/(role|reset-2fa)$/.test(path) || path.startsWith('/api/v1/tokens'))
    return admins.get('security_admin')!;
  if (path.startsWith('/api/v1/users')) return admins.get('system_admin')!;
  if (path.startsWith('/api/v1/audit')) return admins.get('audit_admin')!;
  return county;
}
after(async () => {
  await t.close();
});

interface Answer {
  statusCode: number;
  body: string;
  json(): unknown;
}

function call(method: string, url: string, options: { payload?: string | object; lang?: string } = {}) {
  const { payload, lang } = options;
  return t.app.inject({
    method: method as 'GET',
    url,
    headers: {
      ...(WRITE.has(method) ? clientOf(url).write : clientOf(url).headers),
      ...(payload !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(lang ? { 'accept-language': lang } : {}),
    },
    ...(payload !== undefined ? { payload } : {}),
  });
}

function detailsOf(r: Answer, what: string): { path: string; message: string }[] {
  assert.equal(r.statusCode, 400, `${what}: ${r.body}`);
  const body = r.json() as ErrorJson;
  assert.equal(body.error.code, 'VALIDATION_FAILED', `${what}: ${r.body}`);
  return body.error.details ?? [];
}

// ---------- Fields of the API document ----------

interface NumberField {
  op: ApiOperation;
  in: 'path' | 'query' | 'body';
  /** The name error details give it: "limit", "config.minorUnderAge". */
  path: string;
}

const typesOf = (schema: JsonSchema): string[] => {
  const own = schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
  const branches = [...((schema.anyOf as JsonSchema[]) ?? []), ...((schema.oneOf as JsonSchema[]) ?? [])];
  return [...(own as string[]), ...branches.flatMap(typesOf)];
};

/** An integer field that takes no text and has no fixed list of values. */
function isIntegerField(schema: JsonSchema): boolean {
  const types = typesOf(schema);
  return types.includes('integer') && !types.includes('string') && !JSON.stringify(schema).includes('enum');
}

function objectOf(schema: JsonSchema): JsonSchema | null {
  if (schema.properties) return schema;
  for (const branch of (schema.anyOf as JsonSchema[] | undefined) ?? []) {
    const inner = objectOf(branch);
    if (inner) return inner;
  }
  return null;
}

function bodyFields(schema: JsonSchema, prefix = ''): { path: string; schema: JsonSchema }[] {
  const out: { path: string; schema: JsonSchema }[] = [];
  for (const [name, property] of Object.entries((schema.properties ?? {}) as Record<string, JsonSchema>)) {
    const path = prefix ? `${prefix}.${name}` : name;
    out.push({ path, schema: property });
    const inner = objectOf(property);
    if (inner) out.push(...bodyFields(inner, path));
  }
  return out;
}

/** The operation's path with its parameters filled: the demo county, CSV, id 1; `bad` for one. */
function urlOf(op: ApiOperation, bad?: { name: string; value: string }): string {
  return op.path.replace(/\{([^}]+)\}/g, (_m, name: string) =>
    name === bad?.name ? bad.value : name === 'code' ? DEMO_COUNTY : name === 'format' ? 'csv' : '1',
  );
}

/** A JSON body with `literal` (JSON text, not a value: 1e999 parses to Infinity) at a dotted path. */
function bodyWith(path: string, literal: string): string {
  const names = path.split('.');
  return names.reduceRight((inner, name) => `{${JSON.stringify(name)}:${inner}}`, literal);
}

let fields: NumberField[] = [];
async function walkFields(): Promise<void> {
  for (const op of await apiOperations(t.app)) {
    for (const parameter of op.parameters)
      if ((parameter.in === 'path' || parameter.in === 'query') && isIntegerField(parameter.schema ?? {}))
        fields.push({ op, in: parameter.in, path: parameter.name });
    if (op.body?.contentType === 'application/json')
      for (const field of bodyFields(op.body.schema))
        if (isIntegerField(field.schema)) fields.push({ op, in: 'body', path: field.path });
  }
  fields = fields.filter((f) => f.op.path.startsWith('/api/v1/'));
}

/** The request for one field with a value; the rest of the request is left out or filled plainly. */
function requestFor(field: NumberField, text: string, literal: string): [string, string, string | undefined] {
  const { op } = field;
  if (field.in === 'path') return [op.method, urlOf(op, { name: field.path, value: text }), undefined];
  if (field.in === 'query')
    return [
      op.method,
      `${urlOf(op)}?${field.path}=${encodeURIComponent(text)}`,
      WRITE.has(op.method) ? '{}' : undefined,
    ];
  return [op.method, urlOf(op), bodyWith(field.path, literal)];
}

describe('numbers beyond what a field holds (finding 1)', () => {
  before(walkFields);

  test('the API document has integer fields in paths, query strings and bodies to walk', () => {
    for (const place of ['path', 'query', 'body'] as const)
      assert.ok(fields.filter((f) => f.in === place).length >= 3, `${place}: ${fields.length} fields`);
  });

  // 400 nines, Infinity and 1e999 are Infinity once coerced; 2^53 + 1 is 2^53; 1e300 is an integer
  // past every column. In a body they go as JSON text (1e999 parses to Infinity) and as strings.
  const MUTATIONS: { name: string; text: string; literal: string }[] = [
    { name: '400 nines', text: NINES, literal: NINES },
    { name: 'the string Infinity', text: 'Infinity', literal: '"Infinity"' },
    { name: 'the string 1e999', text: '1e999', literal: '"1e999"' },
    { name: 'the number 1e999', text: '1e999', literal: '1e999' },
    { name: '-1e999', text: '-1e999', literal: '-1e999' },
    { name: '2^53 + 1', text: '9007199254740993', literal: '9007199254740993' },
    { name: '1e300', text: NINES.slice(0, 301), literal: '1e300' },
  ];

  test('every integer field of every route answers 400 naming it, in Chinese and English, never 500', async () => {
    const failures: string[] = [];
    for (const field of fields)
      for (const mutation of MUTATIONS) {
        // A path or a query is digits only: the words are refused as such already (session 15).
        if (field.in !== 'body' && !/^-?\d+$/.test(mutation.text)) continue;
        const [method, url, payload] = requestFor(field, mutation.text, mutation.literal);
        for (const lang of ['zh', 'en']) {
          const r = await call(method, url, { ...(payload !== undefined ? { payload } : {}), lang });
          const what = `${method} ${url.slice(0, 80)} ${field.in} ${field.path} = ${mutation.name} (${lang})`;
          const body = r.json() as Partial<ErrorJson>;
          const detail = body.error?.details?.find((d) => d.path === field.path);
          if (r.statusCode !== 400 || body.error?.code !== 'VALIDATION_FAILED' || !detail)
            failures.push(`${what}: ${r.statusCode} ${r.body.slice(0, 200)}`);
          else if (lang === 'zh' ? !CJK.test(detail.message) : CJK.test(detail.message))
            failures.push(`${what}: the reason is not in ${lang}: ${detail.message}`);
        }
      }
    assert.deepEqual(failures, []);
  });

  test('the reason names the field’s own limit', async () => {
    const id = detailsOf(await call('GET', `/api/v1/persons/${NINES}`), 'a 400-digit id');
    assert.deepEqual(id, [{ path: 'id', message: '不能大于 9007199254740991' }]);
    const limit = detailsOf(await call('GET', `/api/v1/persons?limit=${NINES}`, { lang: 'en' }), 'limit');
    assert.deepEqual(limit, [{ path: 'limit', message: 'must be at most 200' }]);
    const income = detailsOf(
      await call('POST', '/api/v1/households', {
        payload: { householdNo: 'FZ-INF-1', hukouRegionCode: VILLAGE, annualIncomeFen: 'Infinity' },
      }),
      'income',
    );
    assert.deepEqual(income, [{ path: 'annualIncomeFen', message: '不能大于 9007199254740991' }]);
    const below = detailsOf(
      await call('POST', '/api/v1/persons', {
        payload: {
          name: '甲',
          hukouRegionCode: VILLAGE,
          noIdReason: '未落户',
          birthDate: '2000-01-01',
          householdId: '-1e999',
        },
        lang: 'en',
      }),
      'householdId',
    );
    assert.deepEqual(below, [{ path: 'householdId', message: 'must be at least 1' }]);
    // Nothing of it reached the database.
    assert.equal(t.logs.filter((line) => line.includes('"level":50')).length, 0, 'no server error logged');
    const households = await t.ctx.db.selectFrom('households').select('id').execute();
    assert.equal(households.length, 0);
  });
});

describe('a value the schema takes but its column cannot hold (finding 1)', () => {
  // A route whose integer field, capped at 2^53 like the API's, goes into an int4: the net catches what
  // a schema wider than its column lets through.
  let app: App;
  const logs: string[] = [];
  before(async () => {
    app = await buildApp({
      ctx: t.ctx,
      logger: createLogger('info', { write: (line: string) => logs.push(line) }),
      serveWeb: false,
      routes: (api) => {
        api.post(
          '/int4/:id',
          {
            schema: {
              params: Type.Object({ id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) }),
              body: Type.Object({
                version: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
                scale: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
              }),
            },
          },
          async (request) => {
            const { id } = request.params as { id: number };
            const { version, scale } = request.body as { version: number; scale?: number };
            await sql`SELECT ${id}::bigint, ${version}::integer`.execute(t.ctx.db);
            // A product that overflows is the server's own doing, whatever the request held.
            if (scale) await sql`SELECT (${scale}::integer * 2147483647)::integer`.execute(t.ctx.db);
            return { ok: true };
          },
        );
      },
    });
    await app.ready();
  });
  after(async () => {
    await app.close();
  });

  test('an int4 column is a 400 naming the field, in the caller’s language; the server’s own overflow stays a 500', async () => {
    const refused = await app.inject({
      method: 'POST',
      url: '/api/v1/int4/7',
      payload: { version: 3_000_000_000 },
    });
    assert.deepEqual(detailsOf(refused, 'version 3e9'), [
      { path: 'version', message: '不能大于 2147483647' },
    ]);
    const english = await app.inject({
      method: 'POST',
      url: '/api/v1/int4/7',
      headers: { 'accept-language': 'en' },
      payload: { version: 2 ** 40 },
    });
    assert.deepEqual(detailsOf(english, 'version 2^40'), [
      { path: 'version', message: 'must be at most 2147483647' },
    ]);
    assert.equal(
      (await app.inject({ method: 'POST', url: '/api/v1/int4/7', payload: { version: 5 } })).statusCode,
      200,
    );
    const own = await app.inject({
      method: 'POST',
      url: '/api/v1/int4/7',
      payload: { version: 5, scale: 3 },
    });
    assert.equal(own.statusCode, 500, own.body);
    assert.equal((own.json() as ErrorJson).error.code, 'INTERNAL');
  });
});

describe('a request line or headers too large for the HTTP parser (finding 6)', () => {
  let base = '';
  before(async () => {
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  });

  test('a 20 KB address is 431 in the envelope, in Chinese by default and English on request', async () => {
    const url = `${base}/api/v1/regions?${'a'.repeat(20_000)}`;
    const zh = await fetch(url);
    assert.equal(zh.status, 431);
    assert.match(zh.headers.get('content-type') ?? '', /^application\/json/);
    assert.ok(zh.headers.get('x-request-id'), 'a request id');
    assert.equal(zh.headers.get('x-content-type-options'), 'nosniff');
    const zhBody = (await zh.json()) as ErrorJson;
    assert.equal(zhBody.error.code, 'HEADERS_TOO_LARGE');
    assert.match(zhBody.error.message, CJK);
    const en = await fetch(url, { headers: { 'accept-language': 'en-US,en;q=0.9,zh;q=0.8' } });
    assert.equal(en.status, 431);
    const enBody = (await en.json()) as ErrorJson;
    assert.equal(enBody.error.code, 'HEADERS_TOO_LARGE');
    assert.doesNotMatch(enBody.error.message, CJK);
    assert.match(enBody.error.message, /too long/);
  });

  test('a search of 3,000 characters and a 20 KB header are the same answer; the server goes on serving', async () => {
    const search = await fetch(`${base}/api/v1/persons?q=${encodeURIComponent('张'.repeat(3000))}`, {
      headers: { cookie: county.cookie },
    });
    assert.equal(search.status, 431);
    assert.equal(((await search.json()) as ErrorJson).error.code, 'HEADERS_TOO_LARGE');
    const header = await fetch(`${base}/api/v1/regions`, {
      headers: { 'accept-language': 'en', 'x-padding': 'p'.repeat(20_000) },
    });
    assert.equal(header.status, 431);
    assert.doesNotMatch(((await header.json()) as ErrorJson).error.message, CJK);
    const next = await fetch(`${base}/api/v1/regions`, { headers: { cookie: county.cookie } });
    assert.equal(next.status, 200);
  });
});

describe('a nullable field’s refusal gives the reason for its value (finding 7)', () => {
  const person = { name: '甲', hukouRegionCode: VILLAGE, noIdReason: '未落户', birthDate: '2000-01-01' };
  const NOISE = [/must be null/, /类型应为 null/, /must match a schema in anyOf/, /^取值无效$/];

  test('an impossible birth date is one detail: not a valid date', async () => {
    for (const [lang, message] of [
      ['zh', '不是有效的日期（应为 YYYY-MM-DD，如 2026-03-01）'],
      ['en', 'is not a valid date (YYYY-MM-DD, e.g. 2026-03-01)'],
    ] as const) {
      const r = await call('POST', '/api/v1/persons', {
        payload: { ...person, birthDate: '2026-02-30' },
        lang,
      });
      assert.deepEqual(detailsOf(r, `birthDate ${lang}`), [{ path: 'birthDate', message }]);
    }
  });

  test('a value outside a nullable list names the values it takes, once', async () => {
    for (const sex of [3, 'x']) {
      const r = await call('POST', '/api/v1/persons', { payload: { ...person, sex }, lang: 'en' });
      assert.deepEqual(detailsOf(r, `sex ${sex}`), [{ path: 'sex', message: 'must be one of: 1, 2' }]);
    }
    const id = await call('POST', '/api/v1/persons', { payload: { ...person, householdId: 'abc' } });
    assert.deepEqual(detailsOf(id, 'householdId'), [{ path: 'householdId', message: '类型应为 integer' }]);
  });

  test('every nullable body field of the API document, given a wrong value, says why without "must be null"', async () => {
    const failures: string[] = [];
    let walked = 0;
    for (const op of await apiOperations(t.app)) {
      if (op.body?.contentType !== 'application/json') continue;
      for (const field of bodyFields(op.body.schema)) {
        if (!typesOf(field.schema).includes('null')) continue;
        const types = typesOf(field.schema);
        // A value of no type the field takes: an object, or text where it takes no text.
        const literal = types.includes('object') || types.includes('array') ? '"no such value"' : '{"a":1}';
        for (const lang of ['zh', 'en']) {
          const r = await call(op.method, urlOf(op), { payload: bodyWith(field.path, literal), lang });
          if (r.statusCode >= 500) failures.push(`${op.key} ${field.path}: ${r.statusCode}`);
          if (r.statusCode !== 400) continue;
          walked++;
          const mine = ((r.json() as ErrorJson).error.details ?? []).filter((d) => d.path === field.path);
          if (!mine.length) failures.push(`${op.key} ${field.path} (${lang}): no detail names it: ${r.body}`);
          for (const detail of mine)
            if (NOISE.some((noise) => noise.test(detail.message)))
              failures.push(`${op.key} ${field.path} (${lang}): ${detail.message}`);
          if (new Set(mine.map((d) => d.message)).size !== mine.length)
            failures.push(`${op.key} ${field.path} (${lang}): a reason given twice: ${r.body}`);
        }
      }
    }
    assert.ok(walked >= 20, `${walked} refusals walked`);
    assert.deepEqual(failures, []);
  });
});

describe('the statistics name the latest day they count by its date (finding 8)', () => {
  type Refusal = { status: number; message: string };
  async function refusal(url: string, lang?: string): Promise<Refusal> {
    const r = await call('GET', url, lang ? { lang } : {});
    const detail = (r.json() as Partial<ErrorJson>).error?.details?.[0];
    return { status: r.statusCode, message: detail?.message ?? '' };
  }

  /** The date or month the message names is taken, and it is called today only if it is today. */
  async function assertTrue(message: string, latestUrl: (named: string) => string, todayIs: string) {
    const named = /\d{4}-\d{2}(-\d{2})?/.exec(message)?.[0];
    assert.ok(named, `the message names a date: ${message}`);
    const taken = await call('GET', latestUrl(named));
    assert.equal(taken.statusCode, 200, `${named} is taken: ${taken.body}`);
    if (/今天|本月|today|current month/.test(message))
      assert.equal(named, todayIs, `"${message}" calls ${named} today, but today is ${todayIs}`);
  }

  test('asOf after the latest day: the day named is taken, and it is today', async () => {
    const latest = today();
    for (const lang of ['zh', 'en']) {
      const answer = await refusal(`/api/v1/stats/groups?region=${DEMO_COUNTY}&asOf=9999-12-31`, lang);
      assert.equal(answer.status, 400);
      assert.ok(answer.message.includes(latest), answer.message);
      assert.equal(CJK.test(answer.message), lang === 'zh', answer.message);
      await assertTrue(
        answer.message,
        (d) => `/api/v1/stats/groups?region=${DEMO_COUNTY}&asOf=${d}`,
        today(),
      );
    }
  });

  test('on a month’s last day, a later month is refused naming the month taken, not as this month', async () => {
    // The last day of the month before the current one, 10:00 in Beijing: tomorrow is another month.
    const now = new Date();
    const lastDay = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 0, 2, 0);
    mock.timers.enable({ apis: ['Date'], now: lastDay });
    try {
      const month = today().slice(0, 7);
      const next = addDays(today(), 1).slice(0, 7);
      assert.notEqual(month, next);
      const later = addDays(`${next}-28`, 10).slice(0, 7);
      for (const lang of ['zh', 'en']) {
        const answer = await refusal(
          `/api/v1/stats/groups/monthly?region=${DEMO_COUNTY}&from=${month}&to=${later}`,
          lang,
        );
        assert.equal(answer.status, 400);
        // The latest month with a count is this one: the next begins tomorrow.
        assert.ok(answer.message.includes(month), answer.message);
        assert.ok(!answer.message.includes(next), answer.message);
        await assertTrue(
          answer.message,
          (m) => `/api/v1/stats/groups/monthly?region=${DEMO_COUNTY}&from=${month}&to=${m}`,
          month,
        );
      }
    } finally {
      mock.timers.reset();
    }
  });
});
