// Bad input, route by route: generated from the API document, it sends every field of every route
// (path and query parameters, body properties, nested ones included) broken values: the wrong
// type, null, an array for a scalar, empty and 10,000-character strings, control characters and an
// unpaired surrogate, numbers beyond 2^53, negative and zero ids, impossible and out-of-range
// dates, malformed region codes, unknown enum values; and every body an unknown property, text
// that is not JSON, nothing at all and 2 MB. Each field's request starts from a valid one (the
// control, which must succeed), so a refusal is about the broken field.
//
// What counts as a pass:
// - never a 5xx;
// - a value the route's schema refuses (checked with the same validator options as the server),
//   a control character, an unpaired surrogate or the year 0000 gets a 4xx; a 400 always carries
//   {"error": {code, message, details}} with a detail whose path names the field;
// - messages are Chinese by default and English with accept-language: en;
// - a refused write changes no row of the main tables.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import fc from 'fast-check';
import { createTestApp, DEMO_COUNTY, type TestApp } from './support/db.ts';
import { TEST_PASSWORD, makeUser, sessionFor, type Client } from './support/access.ts';
import { bearer } from './support/auth.ts';
import { apiOperations, type ApiOperation, type JsonSchema } from './support/openapi.ts';
import { ADMIN_ROLES, ROLE_PERMISSIONS, createToken, type Permission } from '../src/modules/access/index.ts';
import { makeIdNumber } from '../src/modules/registry/registry.idnumber.ts';
import { TEMPLATE_HEADERS } from '../src/modules/registry/registry.template.ts';
import { today } from '../src/platform/dates.ts';

const SEED = 20260229;
const VILLAGE = '410225101200';
const WRITE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const MAIN_TABLES = [
  'persons',
  'households',
  'person_facts',
  'person_relations',
  'users',
  'api_tokens',
  'group_config',
  'imports',
  'jobs',
  'worklist_items',
] as const;
const CJK = /[\u4e00-\u9fff]/;

// The server's validator options (src/platform/http.ts), to tell which values the schema refuses.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const ajv = addFormats(
  new Ajv({ allErrors: true, coerceTypes: 'array', removeAdditional: false, strict: false }),
);
function schemaAccepts(schema: JsonSchema, value: unknown): boolean {
  return ajv.validate(schema, structuredClone(value));
}

// ---------- Mutations ----------

type Scalar = 'string' | 'integer' | 'number' | 'boolean' | 'array' | 'object';
interface FieldInfo {
  /** Dotted path as the error details name it: "config.leftBehindWomanAgeRange.minAge". */
  path: string;
  schema: JsonSchema;
  types: Set<Scalar | 'null'>;
  enumLike: boolean;
  date: boolean;
  dateTime: boolean;
  month: boolean;
  region: boolean;
}

interface Mutation {
  name: string;
  /** The value in a JSON body. */
  json: unknown;
  /** The value in a query string or path (already URL-encoded); undefined: not applicable. */
  url?: string | string[];
  /** The value in a path, where it differs from the query's. */
  path?: string;
  /** Refused whatever the schema says (where the field is of this kind). */
  mustRefuse?: boolean;
}

const LONG = 'x'.repeat(10_000);
const M = {
  null: { name: 'null', json: null, url: '' },
  empty: { name: 'empty string', json: '', url: '' },
  long: { name: '10,000 characters', json: LONG, url: LONG },
  control: { name: 'control characters', json: 'a\u0000b\u0007c', url: 'a%00b%07c', mustRefuse: true },
  surrogate: { name: 'unpaired surrogate', json: 'a\ud800b', url: 'a%ED%A0%80b', mustRefuse: true },
  beyond53: { name: '2^53 + 2', json: 9007199254740994, url: '9007199254740993' },
  huge: { name: '1e300', json: 1e300, url: '1e300' },
  negative: { name: '-1', json: -1, url: '-1' },
  zero: { name: '0', json: 0, url: '0' },
  fraction: { name: '1.5', json: 1.5, url: '1.5' },
  feb30: { name: '2026-02-30', json: '2026-02-30', url: '2026-02-30' },
  year0: { name: '0000-01-01', json: '0000-01-01', url: '0000-01-01', mustRefuse: true },
  year9999: { name: '9999-12-31', json: '9999-12-31', url: '9999-12-31' },
  unpadded: { name: '2026-1-1', json: '2026-1-1', url: '2026-1-1' },
  timeYear0: {
    name: '0000-01-01T00:00:00Z',
    json: '0000-01-01T00:00:00Z',
    url: '0000-01-01T00%3A00%3A00Z',
    mustRefuse: true,
  },
  timeFeb30: { name: '2026-02-30T00:00:00Z', json: '2026-02-30T00:00:00Z', url: '2026-02-30T00%3A00%3A00Z' },
  month13: { name: 'month 2026-13', json: '2026-13', url: '2026-13' },
  monthYear0: { name: 'month 0000-01', json: '0000-01', url: '0000-01', mustRefuse: true },
  region5: { name: 'region of 5 digits', json: '41022', url: '41022' },
  region13: { name: 'region of 13 digits', json: '4102251012001', url: '4102251012001' },
  regionLetters: { name: 'region with letters', json: '41a225', url: '41a225' },
  unknownEnum: { name: 'unknown enum value', json: 'no_such_value', url: 'no_such_value' },
} satisfies Record<string, Mutation>;
const ALL_MUTATIONS: Mutation[] = Object.values(M);

function wrongType(field: FieldInfo): Mutation {
  const t = field.types;
  if (t.has('string'))
    return {
      name: 'wrong type (object for string)',
      json: { a: 1 },
      url: ['a', 'b'],
      path: '%7B%22a%22%3A1%7D',
    };
  if (t.has('integer') || t.has('number'))
    return { name: 'wrong type (string for number)', json: 'abc', url: 'abc' };
  if (t.has('boolean')) return { name: 'wrong type (string for boolean)', json: 'maybe', url: 'maybe' };
  if (t.has('array'))
    return {
      name: 'wrong type (object for array; in a query, more values than it holds)',
      json: { a: 1 },
      url: Array.from({ length: 21 }, (_, i) => `v${i}`),
    };
  return { name: 'wrong type (string for object)', json: 'abc', url: 'abc' };
}

function arrayFor(field: FieldInfo, base: unknown): Mutation {
  if (field.types.has('array')) return { name: 'nested array', json: [[1], [2]], url: undefined };
  const v = base ?? 1;
  return { name: 'array for scalar', json: [v, v], url: [String(v), String(v)] };
}

/** The mutations every field gets, by its type; then two more sampled from all of them. */
function mutationsFor(field: FieldInfo, base: unknown, index: number): Mutation[] {
  const out: Mutation[] = [wrongType(field), M.null, arrayFor(field, base)];
  const t = field.types;
  if (t.has('string')) out.push(M.empty, M.long, M.control, M.surrogate);
  if (t.has('integer') || t.has('number')) out.push(M.beyond53, M.huge, M.negative, M.zero, M.fraction);
  if (field.date) out.push(M.feb30, M.year0, M.year9999, M.unpadded);
  if (field.dateTime) out.push(M.timeYear0, M.timeFeb30);
  if (field.month) out.push(M.month13, M.monthYear0, M.unpadded);
  if (field.region) out.push(M.region5, M.region13, M.regionLetters);
  if (field.enumLike) out.push(M.unknownEnum);
  const rest = ALL_MUTATIONS.filter((m) => !out.includes(m));
  const [extra] = fc.sample(fc.shuffledSubarray(rest, { minLength: 2, maxLength: 2 }), {
    seed: SEED + index,
    numRuns: 1,
  });
  return [...out, ...(extra ?? [])];
}

function typesOf(schema: JsonSchema): Set<Scalar | 'null'> {
  const out = new Set<Scalar | 'null'>();
  const visit = (s: JsonSchema) => {
    if (typeof s.type === 'string') out.add(s.type as Scalar);
    if (Array.isArray(s.enum) || 'const' in s)
      for (const v of (s.enum as unknown[] | undefined) ?? [s.const])
        out.add(v === null ? 'null' : (typeof v as Scalar));
    for (const branch of (s.anyOf as JsonSchema[] | undefined) ?? []) visit(branch);
  };
  visit(schema);
  return out;
}

function fieldInfo(path: string, schema: JsonSchema): FieldInfo {
  const text = JSON.stringify(schema);
  return {
    path,
    schema,
    types: typesOf(schema),
    enumLike: text.includes('"enum"'),
    date: text.includes('"format":"date"') || text.includes('[0-9]{4}-[0-9]{2}-[0-9]{2}'),
    dateTime: text.includes('"format":"date-time"'),
    month: text.includes('^[0-9]{4}-[0-9]{2}$'),
    region: text.includes('^[0-9]{2}([0-9]{2}') || text.includes('^[0-9]{12}$'),
  };
}

/** The object schema inside a property (itself or its non-null anyOf branch), if any. */
function objectSchema(schema: JsonSchema): JsonSchema | null {
  if (schema.type === 'object' && schema.properties) return schema;
  for (const branch of (schema.anyOf as JsonSchema[] | undefined) ?? []) {
    const inner = objectSchema(branch);
    if (inner) return inner;
  }
  return null;
}

/** Every property of a body schema, nested objects' properties included. */
function bodyFields(schema: JsonSchema, prefix = ''): FieldInfo[] {
  const out: FieldInfo[] = [];
  for (const [name, property] of Object.entries((schema.properties ?? {}) as Record<string, JsonSchema>)) {
    const path = prefix ? `${prefix}.${name}` : name;
    out.push(fieldInfo(path, property));
    const inner = objectSchema(property);
    if (inner) out.push(...bodyFields(inner, path));
  }
  return out;
}

/** A value the schema accepts, for a nested object the base body lacks. */
function sampleValid(schema: JsonSchema): unknown {
  const types = typesOf(schema);
  if (types.has('null')) return null;
  const inner = objectSchema(schema);
  if (inner) {
    const out: Record<string, unknown> = {};
    for (const name of (inner.required ?? []) as string[])
      out[name] = sampleValid((inner.properties as Record<string, JsonSchema>)[name]!);
    return out;
  }
  if (Array.isArray(schema.enum)) return schema.enum[0];
  if (types.has('integer') || types.has('number')) return (schema.minimum as number | undefined) ?? 1;
  if (types.has('boolean')) return false;
  if (types.has('array')) return [];
  return 'x';
}

function withField(body: unknown, schema: JsonSchema, path: string, value: unknown): unknown {
  const root = structuredClone(body ?? {}) as Record<string, unknown>;
  const names = path.split('.');
  let node = root;
  let nodeSchema: JsonSchema | null = schema;
  for (const name of names.slice(0, -1)) {
    const propertySchema = (nodeSchema?.properties as Record<string, JsonSchema> | undefined)?.[name] ?? {};
    nodeSchema = objectSchema(propertySchema);
    if (typeof node[name] !== 'object' || node[name] === null)
      node[name] = sampleValid(nodeSchema ?? propertySchema);
    node = node[name] as Record<string, unknown>;
  }
  node[names.at(-1)!] = value;
  return root;
}

// ---------- The fixtures: a valid request per route ----------

type Value = string | number;
type Actor = 'staff' | 'self' | 'public' | Permission;
interface RouteFixture {
  actor: Actor;
  path?: () => Record<string, Value> | Promise<Record<string, Value>>;
  query?: () => Record<string, Value>;
  body?: () => unknown;
  /** Statuses the valid request may answer besides 2xx, and why. */
  control?: { statuses: number[]; why: string };
}

let t: TestApp;
let staff: Record<string, string>;
const admins = {} as Record<string, Client>;
let seq = 0;
const fx = {
  householdId: 0,
  childId: 0,
  motherId: 0,
  patchPersonId: 0,
  importId: 0,
  jobId: '',
  worklistItemId: '',
  userId: 0,
  loginUser: '',
  childName: '',
  childIdNumber: '',
  householdNo: '',
};

async function api<T>(method: string, url: string, json?: unknown): Promise<T> {
  const r = await t.app.inject({
    method: method as 'GET',
    url: `/api/v1${url}`,
    headers: staff,
    ...(json === undefined ? {} : { payload: json as object }),
  });
  assert.ok(r.statusCode < 300, `${method} ${url}: ${r.statusCode} ${r.body}`);
  return r.json() as T;
}

async function versionOf(table: 'persons' | 'households' | 'users', id: number): Promise<number> {
  return (await t.ctx.db.selectFrom(table).select('version').where('id', '=', id).executeTakeFirstOrThrow())
    .version;
}

async function newPerson(name: string): Promise<number> {
  return (
    await api<{ id: number }>('POST', '/persons', {
      name,
      noIdReason: '未落户',
      sex: 2,
      birthDate: '1990-01-01',
      hukouRegionCode: VILLAGE,
    })
  ).id;
}

/** An open fact to retract or end, on a person of its own: a person holds one answer per kind and day. */
async function newFact(): Promise<{ id: number; factId: number }> {
  const id = await newPerson('坏事实');
  const fact = await api<{ id: number }>('POST', `/persons/${id}/facts`, {
    kind: 'migration',
    from: '2025-03-01',
    data: { destination: '广东省' },
  });
  return { id, factId: fact.id };
}

/** A current link to end, between two persons of its own. */
async function newLink(): Promise<{ id: number; relationId: number }> {
  const id = await newPerson(`被监护${seq++}`);
  const guardian = await newPerson(`监护人${seq++}`);
  const detail = await api<{ relations: { id: number; personId: number }[] }>(
    'POST',
    `/persons/${id}/relations`,
    { relatedPersonId: guardian, kind: 'guardian' },
  );
  const link = detail.relations.find((r) => r.personId === guardian);
  assert.ok(link, 'the guardian link is on the file');
  return { id, relationId: link.id };
}

function registryFile(): { raw: Buffer; headers: Record<string, string> } {
  const row = (cells: Record<string, string>) => TEMPLATE_HEADERS.map((h) => cells[h] ?? '').join(',');
  const content =
    [
      TEMPLATE_HEADERS.join(','),
      row({ 户编号: fx.householdNo, 姓名: '错行', 公民身份号码: 'X', 与户主关系: '子' }),
    ].join('\r\n') + '\r\n';
  const boundary = `----badinput${seq++}`;
  const raw = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="bad.csv"\r\nContent-Type: text/csv\r\n\r\n`,
    ),
    Buffer.from(content),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { raw, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

const month = today().slice(0, 7);
const auditQuery = () => ({ from: '2000-01-01T00:00:00Z', to: '2999-12-31T00:00:00Z' });
const ROUTES: Record<string, RouteFixture> = {
  'POST /api/v1/auth/login': {
    actor: 'public',
    body: () => ({ username: fx.loginUser, password: TEST_PASSWORD }),
  },
  'POST /api/v1/auth/logout': { actor: 'self' },
  'POST /api/v1/auth/logout-all': { actor: 'self' },
  'GET /api/v1/auth/me': { actor: 'self' },
  'POST /api/v1/auth/change-password': {
    actor: 'self',
    body: () => ({ currentPassword: TEST_PASSWORD, newPassword: `Bad-Input-Passw0rd-${seq++}` }),
  },
  'POST /api/v1/auth/2fa/enroll': { actor: 'self' },
  'POST /api/v1/auth/2fa/confirm': {
    actor: 'self',
    body: () => ({ code: '123456', password: TEST_PASSWORD }),
    control: { statuses: [400, 409], why: 'no enrolment was started, or the code is wrong' },
  },
  'GET /api/v1/users': { actor: 'users.manage' },
  'POST /api/v1/users': {
    actor: 'users.manage',
    body: () => ({ username: `bad.input.${seq++}`, displayName: '坏输入' }),
  },
  'POST /api/v1/users/{id}/disable': {
    actor: 'users.manage',
    path: () => ({ id: fx.userId }),
    body: async () => ({ version: await versionOf('users', fx.userId) }),
  },
  'POST /api/v1/users/{id}/enable': {
    actor: 'users.manage',
    path: () => ({ id: fx.userId }),
    body: async () => ({ version: await versionOf('users', fx.userId) }),
  },
  'POST /api/v1/users/{id}/reset-password': { actor: 'users.manage', path: () => ({ id: fx.userId }) },
  'POST /api/v1/users/{id}/reset-2fa': {
    actor: 'twofactor.reset',
    path: async () => ({
      id: (await makeUser(t.ctx, `bad.totp.${seq++}`, 'village_staff', VILLAGE, { totp: true })).id,
    }),
  },
  'PUT /api/v1/users/{id}/role': {
    actor: 'roles.assign',
    path: () => ({ id: fx.userId }),
    body: async () => ({
      role: 'village_staff',
      regionCode: VILLAGE,
      version: await versionOf('users', fx.userId),
    }),
  },
  'GET /api/v1/tokens': { actor: 'tokens.manage' },
  'POST /api/v1/tokens': {
    actor: 'tokens.manage',
    body: () => ({ name: `坏输入令牌${seq++}`, role: 'prefecture_viewer', regionCode: VILLAGE.slice(0, 4) }),
  },
  'POST /api/v1/tokens/{id}/revoke': {
    actor: 'tokens.manage',
    path: async () => ({
      id: (
        await createToken(t.ctx, null, {
          name: `revoke ${seq++}`,
          role: 'village_staff',
          regionCode: VILLAGE,
          individualAccess: false,
          expiresInDays: 1,
        })
      ).item.id,
    }),
  },
  'GET /api/v1/auth/tokens': { actor: 'self' },
  'POST /api/v1/auth/tokens': {
    actor: 'self',
    body: () => ({ name: `自有令牌${seq++}`, expiresInDays: 30, password: TEST_PASSWORD }),
  },
  'POST /api/v1/auth/tokens/{id}/revoke': {
    actor: 'self',
    path: async () => ({
      id: (
        await createToken(t.ctx, null, {
          name: `own revoke ${seq++}`,
          role: 'village_staff',
          regionCode: VILLAGE,
          individualAccess: false,
          expiresInDays: 1,
        })
      ).item.id,
    }),
    control: {
      statuses: [404],
      why: 'a user revokes only the tokens he created; this one was made on the console',
    },
  },
  'GET /api/v1/audit': { actor: 'audit.read', query: auditQuery },
  'GET /api/v1/audit/export': { actor: 'audit.export', query: auditQuery },
  'GET /api/v1/audit/verify': { actor: 'audit.read' },

  'GET /api/v1/regions': { actor: 'staff' },
  'GET /api/v1/regions/search': { actor: 'staff', query: () => ({ q: '南彰' }) },
  'GET /api/v1/regions/{code}': { actor: 'staff' },
  'GET /api/v1/regions/{code}/children': { actor: 'staff' },

  'GET /api/v1/persons': { actor: 'staff' },
  'GET /api/v1/persons/duplicates': { actor: 'staff' },
  'POST /api/v1/persons': {
    actor: 'staff',
    body: () => ({
      name: `坏输入${seq++}`,
      noIdReason: '未落户',
      sex: 1,
      birthDate: '2016-01-01',
      hukouRegionCode: VILLAGE,
    }),
  },
  'GET /api/v1/persons/{id}': { actor: 'staff' },
  'PATCH /api/v1/persons/{id}': {
    actor: 'staff',
    path: () => ({ id: fx.patchPersonId }),
    body: async () => ({ version: await versionOf('persons', fx.patchPersonId) }),
  },
  'POST /api/v1/persons/{id}/reveal': { actor: 'staff' },
  'POST /api/v1/persons/{id}/facts': {
    actor: 'staff',
    body: () => ({ kind: 'migration', from: '2026-01-01', data: { destination: '上海市' } }),
  },
  'POST /api/v1/persons/{id}/facts/{factId}/retract': {
    actor: 'staff',
    path: () => newFact(),
    body: () => ({ reason: '坏输入' }),
  },
  'POST /api/v1/persons/{id}/facts/{factId}/end': {
    actor: 'staff',
    path: () => newFact(),
    body: () => ({ to: '2026-10-01' }),
  },
  'POST /api/v1/persons/{id}/relations': {
    actor: 'staff',
    body: async () => ({ relatedPersonId: await newPerson(`看护人${seq++}`), kind: 'guardian' }),
  },
  'POST /api/v1/persons/{id}/relations/{relationId}/end': {
    actor: 'staff',
    path: () => newLink(),
    body: () => ({ to: '2026-10-01' }),
  },
  'POST /api/v1/persons/{id}/relations/{relationId}/retract': {
    actor: 'staff',
    path: () => newLink(),
    body: () => ({ reason: '坏输入：登记错人' }),
  },
  'POST /api/v1/persons/{id}/merge': {
    actor: 'staff',
    path: async () => ({ id: await newPerson(`重复${seq++}`) }),
    body: () => ({ intoId: fx.childId, version: 1 }),
  },
  'GET /api/v1/households/{id}': { actor: 'staff' },
  'POST /api/v1/households/{id}/reveal': { actor: 'staff' },
  'PATCH /api/v1/households/{id}': {
    actor: 'staff',
    body: async () => ({ version: await versionOf('households', fx.householdId) }),
  },
  'POST /api/v1/households': {
    actor: 'staff',
    body: () => ({ householdNo: `BAD-${seq++}`, hukouRegionCode: VILLAGE }),
  },
  'POST /api/v1/imports': { actor: 'staff' },
  'GET /api/v1/imports': { actor: 'staff' },
  'GET /api/v1/imports/{id}': { actor: 'staff' },
  'GET /api/v1/imports/{id}/errors.{format}': { actor: 'staff' },
  'GET /api/v1/imports/{id}/review.{format}': {
    actor: 'staff',
    control: { statuses: [404], why: 'the import is a registry import; a review exists for ledgers only' },
  },
  'GET /api/v1/exports/registry': { actor: 'staff', query: () => ({ region: VILLAGE }) },
  'GET /api/v1/exports/registry/gaps': { actor: 'staff', query: () => ({ region: VILLAGE }) },
  'GET /api/v1/groups/config': { actor: 'staff' },
  'PUT /api/v1/groups/config': {
    actor: 'staff',
    body: async () => ({
      config: { minorUnderAge: 18 },
      version: (await api<{ version: number }>('GET', '/groups/config')).version,
    }),
  },
  'POST /api/v1/groups/evaluations': { actor: 'staff', body: () => ({ region: VILLAGE }) },
  'GET /api/v1/groups/evaluations/{id}': { actor: 'staff' },
  'GET /api/v1/stats/groups': { actor: 'staff' },
  'GET /api/v1/stats/groups/monthly': { actor: 'staff', query: () => ({ from: month, to: month }) },
  'GET /api/v1/stats/groups/members': { actor: 'staff', query: () => ({ group: 'left_behind_child' }) },
  'GET /api/v1/stats/groups.xlsx': { actor: 'staff' },
  'GET /api/v1/stats/groups/monthly.xlsx': { actor: 'staff', query: () => ({ from: month, to: month }) },
  'GET /api/v1/stats/groups/members.xlsx': { actor: 'staff', query: () => ({ group: 'left_behind_child' }) },
  'GET /api/v1/worklist': { actor: 'staff' },
  'POST /api/v1/worklist/{id}/acknowledge': {
    actor: 'staff',
    control: { statuses: [409], why: 'acknowledged by an earlier request' },
  },
};

/** Path parameters by name (and the collection they follow). */
function pathDefault(path: string, name: string): Value | undefined {
  if (name === 'id') {
    const collection = /\/([a-z-]+)\/\{id\}/.exec(path)?.[1] ?? '';
    return {
      persons: fx.childId,
      households: fx.householdId,
      imports: fx.importId,
      users: fx.userId,
      evaluations: fx.jobId,
      worklist: fx.worklistItemId,
    }[collection];
  }
  if (name === 'format') return 'csv';
  if (name === 'code') return VILLAGE;
  return undefined;
}

// ---------- Requests ----------

interface Request {
  path: Record<string, string>;
  query: [string, string][];
  /** JSON text, raw bytes (multipart) or nothing. */
  payload?: string | Buffer;
  headers: Record<string, string>;
}

async function clientFor(
  actor: Actor,
): Promise<{ headers: Record<string, string>; write: Record<string, string> }> {
  if (actor === 'staff') return { headers: staff, write: staff };
  if (actor === 'public') return { headers: {}, write: {} };
  if (actor === 'self') {
    const user = await makeUser(t.ctx, `self.bad.${seq++}`, 'county_staff', DEMO_COUNTY);
    return sessionFor(t.ctx, user.id);
  }
  const holder = ADMIN_ROLES.find((r) => ROLE_PERMISSIONS[r].includes(actor));
  assert.ok(holder, `no administrator holds ${actor}`);
  return admins[holder]!;
}

/** The valid request of a route: every required part filled from the fixtures. */
async function baseRequest(op: ApiOperation, fixture: RouteFixture): Promise<Request | string> {
  const missing: string[] = [];
  const overrides = (await fixture.path?.()) ?? {};
  const path: Record<string, string> = {};
  for (const p of op.parameters.filter((p) => p.in === 'path')) {
    const value = overrides[p.name] ?? pathDefault(op.path, p.name);
    if (value === undefined) missing.push(`path parameter "${p.name}"`);
    else path[p.name] = String(value);
  }
  const queryValues = fixture.query?.() ?? {};
  const query: [string, string][] = [];
  for (const p of op.parameters.filter((p) => p.in === 'query' && p.required)) {
    const value = queryValues[p.name];
    if (value === undefined) missing.push(`query parameter "${p.name}"`);
    else query.push([p.name, String(value)]);
  }
  for (const [name, value] of Object.entries(queryValues))
    if (!query.some(([n]) => n === name)) query.push([name, String(value)]);
  const bodyRequired = ((op.body?.schema.required ?? []) as string[]).length > 0;
  const body = fixture.body ? await fixture.body() : undefined;
  if (bodyRequired && body === undefined) missing.push('a body');
  if (missing.length) return `${op.key} needs a fixture for ${missing.join(', ')} in ROUTES`;
  if (op.key === 'POST /api/v1/imports') {
    const file = registryFile();
    return { path, query, payload: file.raw, headers: file.headers };
  }
  return body === undefined
    ? { path, query, headers: {} }
    : { path, query, payload: JSON.stringify(body), headers: { 'content-type': 'application/json' } };
}

function urlOf(op: ApiOperation, request: Request): string {
  const url = op.path.replace(/\{([^}]+)\}/g, (_m, name: string) => request.path[name] ?? '');
  const qs = request.query.map(([k, v]) => `${encodeURIComponent(k)}=${v}`);
  return qs.length ? `${url}?${qs.join('&')}` : url;
}

async function counts(): Promise<string> {
  const parts = MAIN_TABLES.map((name) => sql`(SELECT count(*) FROM ${sql.table(name)})::text`);
  const r = await sql<{ c: string }>`SELECT concat_ws(',', ${sql.join(parts)}) AS c`.execute(t.ctx.db);
  return r.rows[0]!.c;
}

interface Outcome {
  status: number;
  body: string;
}

type Headers = Awaited<ReturnType<typeof clientFor>>;

async function send(
  op: ApiOperation,
  client: Headers,
  request: Request,
  lang: 'zh' | 'en' = 'zh',
): Promise<Outcome> {
  const response = await t.app.inject({
    method: op.method as 'GET',
    url: urlOf(op, request),
    headers: {
      ...(WRITE.has(op.method) ? client.write : client.headers),
      ...request.headers,
      ...(lang === 'en' ? { 'accept-language': 'en' } : {}),
    },
    ...(request.payload === undefined ? {} : { payload: request.payload }),
  });
  return { status: response.statusCode, body: response.body };
}

interface Envelope {
  error?: { code?: string; message?: string; details?: { path?: string; message?: string }[] };
}

/**
 * The problems with one answer to a broken request (empty when it passes). `field`: the field the
 * refusal must name; '' when any field may be named (a rule across fields); null when none can be
 * (the request as a whole is broken).
 */
function judge(
  outcome: Outcome,
  options: { field: string | null; mustRefuse: boolean; lang: 'zh' | 'en' },
): string[] {
  const problems: string[] = [];
  const { status, body } = outcome;
  if (status >= 500) return [`${status} ${body.slice(0, 300)}`];
  if (options.mustRefuse && status < 400) problems.push(`accepted (${status}): ${body.slice(0, 200)}`);
  if (status < 400) return problems;
  let envelope: Envelope;
  try {
    envelope = JSON.parse(body) as Envelope;
  } catch {
    return [`${status} without a JSON error envelope: ${body.slice(0, 200)}`];
  }
  const error = envelope.error;
  if (!error?.code || !error.message) return [`${status} without the error envelope: ${body.slice(0, 200)}`];
  const messages = [error.message, ...(error.details ?? []).map((d) => d.message ?? '')];
  if (options.lang === 'zh' && !messages.every((m) => CJK.test(m)))
    problems.push(`${status} ${error.code}: a message is not Chinese: ${body.slice(0, 300)}`);
  if (options.lang === 'en' && messages.some((m) => CJK.test(m) || !/[A-Za-z]/.test(m)))
    problems.push(`${status} ${error.code}: a message is not English: ${body.slice(0, 300)}`);
  if (status === 400) {
    const paths = (error.details ?? []).map((d) => d.path ?? '');
    const f = options.field;
    if (f === '' && !paths.some((p) => p !== ''))
      problems.push(`400 ${error.code} names no field: ${body.slice(0, 300)}`);
    if (f && !paths.some((p) => p === f || p.startsWith(`${f}.`)))
      problems.push(`400 ${error.code} does not name the field "${f}": ${body.slice(0, 300)}`);
  }
  return problems;
}

// ---------- The run ----------

let operations: ApiOperation[] = [];

before(async () => {
  t = await createTestApp({ loginRateLimit: 1_000_000 });
  staff = await bearer(t, 'county_staff', DEMO_COUNTY);
  for (const role of ADMIN_ROLES) {
    const user = await makeUser(t.ctx, `bad.${role.replace(/_/g, '-')}`, role, null, { totp: true });
    admins[role] = await sessionFor(t.ctx, user.id);
  }
  fx.loginUser = (await makeUser(t.ctx, 'bad.login', 'county_staff', DEMO_COUNTY)).username;
  fx.userId = (await makeUser(t.ctx, 'bad.target', 'village_staff', VILLAGE)).id;
  fx.householdNo = 'BAD-HH';
  fx.householdId = (
    await api<{ id: number }>('POST', '/households', {
      householdNo: fx.householdNo,
      hukouRegionCode: VILLAGE,
    })
  ).id;
  const person = (name: string, idNumber: string, relationToHead: string) =>
    api<{ id: number }>('POST', '/persons', {
      name,
      idNumber,
      hukouRegionCode: VILLAGE,
      householdId: fx.householdId,
      relationToHead,
    });
  const father = await person('坏父亲', makeIdNumber(DEMO_COUNTY, '1985-02-01', 101), '户主');
  fx.motherId = (await person('坏母亲', makeIdNumber(DEMO_COUNTY, '1987-04-01', 202), '配偶')).id;
  fx.childIdNumber = makeIdNumber(DEMO_COUNTY, '2016-01-01', 301);
  fx.childName = '坏童童';
  fx.childId = (await person(fx.childName, fx.childIdNumber, '子')).id;
  fx.patchPersonId = await newPerson('改动对象');
  for (const parent of [father.id, fx.motherId]) {
    await api('POST', `/persons/${parent}/facts`, {
      kind: 'migration',
      from: '2025-03-01',
      data: { destination: '广东省' },
    });
    await api('POST', `/persons/${fx.childId}/relations`, { relatedPersonId: parent, kind: 'parent' });
  }
  fx.jobId = String((await api<{ jobId: number }>('POST', '/groups/evaluations', { region: VILLAGE })).jobId);
  await t.ctx.jobs.drain();
  const item = await t.ctx.db
    .selectFrom('worklist_items')
    .select('id')
    .where('region_code', '=', VILLAGE)
    .orderBy('id')
    .executeTakeFirstOrThrow();
  fx.worklistItemId = String(item.id);
  const file = registryFile();
  const submitted = await t.app.inject({
    method: 'POST',
    url: '/api/v1/imports',
    headers: { ...staff, ...file.headers },
    payload: file.raw,
  });
  assert.equal(submitted.statusCode, 202, submitted.body);
  fx.importId = (submitted.json() as { id: number }).id;
  await t.ctx.jobs.drain();
  operations = await apiOperations(t.app);
});
after(async () => t?.close());

describe('bad input on every route of the API document', () => {
  test('every route has a fixture, and its valid request succeeds', async () => {
    const problems: string[] = [];
    for (const op of operations) {
      const fixture = ROUTES[op.key];
      if (!fixture) {
        problems.push(`${op.key} needs an entry in ROUTES of test/api.bad-input.test.ts`);
        continue;
      }
      const request = await baseRequest(op, fixture);
      if (typeof request === 'string') {
        problems.push(request);
        continue;
      }
      const outcome = await send(op, await clientFor(fixture.actor), request);
      const allowed = fixture.control?.statuses ?? [];
      if (outcome.status >= 300 && !allowed.includes(outcome.status))
        problems.push(`${op.key} valid request: ${outcome.status} ${outcome.body.slice(0, 300)}`);
    }
    for (const key of Object.keys(ROUTES))
      if (!operations.some((op) => op.key === key)) problems.push(`${key} is no longer in the API document`);
    assert.deepEqual(problems, []);
    assert.ok(operations.length >= 50, `the document lists ${operations.length} routes`);
  });

  test('broken fields: never a 5xx, a clear error naming the field, nothing written', async () => {
    const failures: string[] = [];
    const covered = new Map<string, Set<string>>();
    let fieldIndex = 0;
    let requests = 0;
    for (const op of operations) {
      const fixture = ROUTES[op.key];
      if (!fixture) continue;
      const fields: { where: 'path' | 'query' | 'body'; info: FieldInfo }[] = [
        ...op.parameters
          .filter((p) => p.in === 'path' || p.in === 'query')
          .map((p) => ({ where: p.in as 'path' | 'query', info: fieldInfo(p.name, p.schema ?? {}) })),
        ...(op.body ? bodyFields(op.body.schema).map((info) => ({ where: 'body' as const, info })) : []),
      ];
      for (const { where, info } of fields) {
        const done = new Set<string>();
        covered.set(`${op.key} ${where}:${info.path}`, done);
        const probe = await baseRequest(op, fixture);
        if (typeof probe === 'string') {
          failures.push(probe);
          continue;
        }
        const baseValue =
          where === 'path'
            ? probe.path[info.path]
            : where === 'query'
              ? probe.query.find(([n]) => n === info.path)?.[1]
              : undefined;
        let first = true;
        for (const mutation of mutationsFor(info, baseValue, fieldIndex++)) {
          const request = await baseRequest(op, fixture);
          if (typeof request === 'string') continue;
          let refusedBySchema: boolean;
          if (where === 'body') {
            const body = withField(
              JSON.parse((request.payload as string | undefined) ?? '{}'),
              op.body!.schema,
              info.path,
              mutation.json,
            );
            request.payload = JSON.stringify(body);
            refusedBySchema = !schemaAccepts(op.body!.schema, body);
          } else {
            const raw = where === 'path' ? (mutation.path ?? mutation.url) : mutation.url;
            if (raw === undefined) continue;
            const values = Array.isArray(raw) ? raw : [raw];
            const decoded = values.map((v) => {
              try {
                return decodeURIComponent(v);
              } catch {
                return v;
              }
            });
            refusedBySchema = !schemaAccepts(
              {
                type: 'object',
                properties: { v: info.schema },
                required: ['v'],
              },
              { v: decoded.length === 1 ? decoded[0] : decoded },
            );
            if (where === 'path') {
              if (Array.isArray(raw)) continue;
              request.path[info.path] = raw === '' ? 'null' : raw;
              if (raw === '') refusedBySchema = !schemaAccepts(info.schema, 'null');
            } else {
              request.query = request.query.filter(([n]) => n !== info.path);
              for (const v of values) request.query.push([info.path, v]);
            }
          }
          // Year 0000 is refused in date and month fields; in a text field it is just text. An
          // unpaired surrogate cannot be written in a URL (its bytes are no UTF-8): in a query it
          // arrives as U+FFFD, which is text; in a path the router refuses the URL.
          const kindRefuses =
            (mutation.mustRefuse === true &&
              (mutation === M.year0
                ? info.date
                : mutation === M.timeYear0
                  ? info.dateTime
                  : mutation === M.monthYear0
                    ? info.month
                    : mutation === M.surrogate
                      ? where !== 'query'
                      : true)) ||
            // A number JavaScript cannot hold exactly is never a count, an age or an id.
            ((mutation === M.beyond53 || mutation === M.huge) &&
              (info.types.has('integer') || info.types.has('number'))) ||
            // null where the schema has no null is not "nothing" (0, "" or false).
            (mutation === M.null && where === 'body' && !info.types.has('null'));
          const mustRefuse = refusedBySchema || kindRefuses;
          // An undecodable path never reaches a route: there is no field to name.
          const field = where === 'path' && mutation === M.surrogate ? null : mustRefuse ? info.path : '';
          const write = WRITE.has(op.method);
          const client = await clientFor(fixture.actor);
          const before = write ? await counts() : '';
          const outcome = await send(op, client, request);
          requests++;
          const where_ = `${op.key} ${where} "${info.path}" = ${mutation.name}`;
          for (const p of judge(outcome, { field, mustRefuse, lang: 'zh' })) failures.push(`${where_}: ${p}`);
          if (write && outcome.status >= 400 && (await counts()) !== before)
            failures.push(`${where_}: refused with ${outcome.status} but rows were written`);
          // The first refused mutation of each field again in English.
          if (first && outcome.status >= 400 && outcome.status < 500) {
            first = false;
            const again = await baseRequest(op, fixture);
            if (typeof again !== 'string') {
              Object.assign(again, { path: request.path, query: request.query, payload: request.payload });
              const en = await send(op, await clientFor(fixture.actor), again, 'en');
              requests++;
              for (const p of judge(en, { field, mustRefuse, lang: 'en' }))
                failures.push(`${where_} (en): ${p}`);
            }
          }
          done.add(mutation.name);
        }
      }
    }
    // Coverage: every field of every route got a wrong type and null.
    for (const [field, done] of covered) {
      if (![...done].some((m) => m.startsWith('wrong type')))
        failures.push(`${field} was never sent a wrong type`);
      if (!done.has('null')) failures.push(`${field} was never sent null`);
    }
    process.stdout.write(
      `# bad input: ${operations.length} routes, ${covered.size} fields, ${requests} requests\n`,
    );
    if (failures.length) process.stdout.write(`# failures:\n${failures.map((f) => `#   ${f}`).join('\n')}\n`);
    assert.deepEqual(failures, []);
  });

  test('broken bodies: unknown property, not JSON, empty, 2 MB', async () => {
    const failures: string[] = [];
    const big = JSON.stringify({ filler: 'x'.repeat(2 * 1024 * 1024) });
    for (const op of operations) {
      const fixture = ROUTES[op.key];
      if (!fixture || !WRITE.has(op.method)) continue;
      const cases: { name: string; payload: string; field: string | null; status?: number }[] = [
        { name: 'not JSON', payload: '{"broken": ', field: null },
        { name: 'empty body', payload: '', field: null },
        { name: '2 MB', payload: big, field: null, status: 413 },
      ];
      if (op.body) {
        const base = await baseRequest(op, fixture);
        if (typeof base === 'string') continue;
        const body = JSON.parse(base.payload as string) as Record<string, unknown>;
        cases.push({
          name: 'unknown property',
          payload: JSON.stringify({ ...body, unknownField: 1 }),
          field: 'unknownField',
        });
      }
      for (const c of cases) {
        const request = await baseRequest(op, fixture);
        if (typeof request === 'string') continue;
        request.payload = c.payload;
        request.headers = { 'content-type': 'application/json' };
        for (const lang of ['zh', 'en'] as const) {
          const client = await clientFor(fixture.actor);
          const before = await counts();
          const outcome = await send(op, client, request, lang);
          const where = `${op.key} body = ${c.name} (${lang})`;
          if (c.status && outcome.status !== c.status)
            failures.push(`${where}: ${outcome.status}, expected ${c.status}: ${outcome.body.slice(0, 200)}`);
          for (const p of judge(outcome, { field: c.field, mustRefuse: true, lang }))
            failures.push(`${where}: ${p}`);
          if ((await counts()) !== before) failures.push(`${where}: rows were written`);
        }
      }
    }
    assert.deepEqual(failures, []);
  });
});
