// The scope walk: generated from the API document, it calls EVERY route as EVERY role of the
// policy module, homed in area A, with the path, query and body filled with the records of an
// area B outside that role's scope, and checks that B's records are refused and never shown, and
// that no write changes anything in B. A route or parameter added later without a fixture here
// fails the walk by name, so it cannot slip through without a scope check being tried.
//
// The rules (what counts as a pass):
// - target routes (a path id, or a region/record in the query or body, addresses one of B's
//   records): 403 or 404, nothing else. A 400 or 409 would mean the request was refused for its
//   form, not its scope, so the scope check was never reached: the fixture is wrong, the walk
//   fails. 401 fails too (the caller is signed in). For the roles whose scope covers B (the
//   national viewer, the three administrators: scope "all" in DOMAIN.md section 6) there is no
//   record outside the scope; for them only the marker rule below applies.
// - list routes (a scoped list narrowed by B's values): 2xx, 403 or 404, and none of B's markers.
// - self routes (the caller's own session, password, TOTP): called with a throwaway account of
//   the same role and region; no B marker may come back.
// - reference routes (the region tree, public reference data GB/T 2260): B's region names may
//   come back, nothing else of B.
// - administrator duties (accounts, roles, tokens, audit): scope "all" by definition; the role
//   holding the duty reads (no person-level marker may come back: the audit trail and account
//   lists hold no names, ID numbers or phones) and its writes are covered by the admin tests;
//   every other role must be refused with 403/404 and change nothing.
// - markers: all of B's markers (names, ID numbers, phones, household numbers, addresses,
//   account names, region names) are forbidden to a role whose scope excludes B; person-level
//   markers of EVERY area, A included, are forbidden to a role that may not see individuals
//   (viewers above the county without individual access, reporters, providers, administrators).
// - writes: before and after each write, a digest of every row that belongs to B (persons,
//   households, facts, relations, memberships, worklist, group configuration, imports, jobs,
//   accounts, tokens) must be equal.
// - controls: the same requests by B's own county staff (or the administrator holding the duty)
//   succeed, and list/read routes marked so show B's markers to them: so a refusal in the walk is
//   the scope check at work, not a broken fixture.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { createTestApp, type TestApp } from './support/db.ts';
import { TEST_PASSWORD, makeUser, sessionFor, type Client } from './support/access.ts';
import { loadRegions } from '../src/modules/regions/index.ts';
import {
  ADMIN_ROLES,
  ROLES,
  ROLE_PERMISSIONS,
  VIEWER_ROLES,
  createToken,
  type Permission,
  type Role,
} from '../src/modules/access/index.ts';
import { makeIdNumber } from '../src/modules/registry/registry.idnumber.ts';
import { TEMPLATE_HEADERS } from '../src/modules/registry/registry.template.ts';
import { today } from '../src/platform/dates.ts';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;
const WRITE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Area A: the walkers' home. B1: another township of the demo county. B2: a county in another province. */
const HOME_VILLAGE = '410225101200';
const HOME_TOWNSHIP = '410225101';
const B1_TOWNSHIP = '410225102';
const B2_COUNTY = '130123'; // 河北省 正定县

interface Area {
  key: 'A' | 'B1' | 'B2';
  /** The region whose subtree holds everything seeded for the area. */
  root: string;
  county: string;
  village: string;
  owner: Client;
  householdId: number;
  householdNo: string;
  childId: number;
  childName: string;
  childIdNumber: string;
  fatherId: number;
  fatherName: string;
  fatherIdNumber: string;
  motherId: number;
  dupId: number;
  factId: number;
  /** The mother's migration: the fact the end route ends (the father's is retracted by its route). */
  motherFactId: number;
  /** The parents' marriage: the link the end route ends (a divorce). */
  spouseLinkId: number;
  /** The mother's guardian (the father): the link the retract route retracts. */
  guardianLinkId: number;
  importId: number;
  jobId: number;
  worklistItemId: number;
  userId: number;
  username: string;
  tokenId: number;
  personMarkers: string[];
  otherMarkers: string[];
}

let t: TestApp;
const areas = {} as Record<Area['key'], Area>;
interface Parameter {
  in: string;
  name: string;
  required?: boolean;
}
let routes: { method: string; path: string; parameters: Parameter[] }[] = [];
const walkers = {} as Record<Role, { id: number; client: Client; regionCode: string }>;
const admins = {} as Record<'system_admin' | 'security_admin' | 'audit_admin', Client>;

function homeOf(role: Role): string | null {
  if (ADMIN_ROLES.includes(role) || role === 'national_viewer') return null;
  if (role === 'prefecture_viewer') return '4102';
  if (role === 'province_viewer') return '41';
  if (role === 'county_staff' || role === 'county_approver') return '410225';
  if (role === 'township_supervisor' || role === 'township_staff') return HOME_TOWNSHIP;
  return HOME_VILLAGE;
}

function canSeeIndividuals(role: Role): boolean {
  return ROLE_PERMISSIONS[role].includes('persons.read') && !VIEWER_ROLES.includes(role);
}

async function inject(
  client: Client,
  method: string,
  url: string,
  body?: { json?: unknown; raw?: Buffer; headers?: Record<string, string> },
) {
  const headers = { ...(WRITE.has(method) ? client.write : client.headers), ...(body?.headers ?? {}) };
  return t.app.inject({
    method: method as 'GET',
    url,
    headers,
    ...(body?.raw ? { payload: body.raw } : body?.json !== undefined ? { payload: body.json as object } : {}),
  });
}

async function ok<T>(client: Client, method: string, url: string, json?: unknown): Promise<T> {
  const r = await inject(client, method, `/api/v1${url}`, json === undefined ? undefined : { json });
  assert.ok(r.statusCode < 300, `${method} ${url}: ${r.statusCode} ${r.body}`);
  return r.json() as T;
}

async function versionOf(table: 'persons' | 'households' | 'users', id: number): Promise<number> {
  const row = await t.ctx.db
    .selectFrom(table)
    .select('version')
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
  return row.version;
}

function multipart(fileName: string, content: string) {
  const boundary = `----walk${Date.now()}${Math.random().toString(16).slice(2)}`;
  const raw = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${fileName}"\r\nContent-Type: text/csv\r\n\r\n`,
    ),
    Buffer.from(content),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { raw, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

/**
 * A registry template with a broken row (so the import has an error report) and, unless
 * `brokenOnly`, a row that renames the area's child.
 */
function importFile(
  x: Pick<Area, 'householdNo' | 'childName' | 'childIdNumber' | 'village'>,
  brokenOnly = false,
): string {
  const row = (cells: Record<string, string>) => TEMPLATE_HEADERS.map((h) => cells[h] ?? '').join(',');
  return (
    '\uFEFF' +
    [
      TEMPLATE_HEADERS.join(','),
      ...(brokenOnly
        ? []
        : [
            row({
              户编号: x.householdNo,
              姓名: `${x.childName}改`,
              公民身份号码: x.childIdNumber,
              与户主关系: '子',
              户籍地代码: x.village,
            }),
          ]),
      row({ 户编号: x.householdNo, 姓名: `${x.childName}错`, 公民身份号码: 'X', 与户主关系: '子' }),
    ].join('\r\n') +
    '\r\n'
  );
}

async function seedArea(key: Area['key'], village: string, root: string, seq: number): Promise<Area> {
  const county = village.slice(0, 6);
  const staff = await makeUser(t.ctx, `owner.${key.toLowerCase()}`, 'county_staff', county);
  const owner = await sessionFor(t.ctx, staff.id);
  const tag = `${key}${seq}`;
  const householdNo = `WALK-${tag}-HH`;
  const household = await ok<{ id: number }>(owner, 'POST', '/households', {
    householdNo,
    hukouRegionCode: village,
    address: `走查${tag}号院`,
    annualIncomeFen: 1_000_000 + seq,
  });
  const names = {
    A: ['甲父亲', '甲母亲', '甲童童'],
    B1: ['乙父亲', '乙母亲', '乙童童'],
    B2: ['丙父亲', '丙母亲', '丙童童'],
  }[key];
  const phones = ['13800', '13900', '13700'].map(
    (p) => `${p}${String(seq).padStart(2, '0')}${seq}${seq}${seq}4`,
  );
  // The sequence's parity is the sex: odd for the father and the son, even for the mother.
  const fatherIdNumber = makeIdNumber(county, '1985-02-01', 101 + 2 * seq);
  const motherIdNumber = makeIdNumber(county, '1987-04-01', 200 + 2 * seq);
  const childIdNumber = makeIdNumber(county, '2016-01-01', 301 + 2 * seq);
  const person = (name: string, idNumber: string, relationToHead: string, phone: string) =>
    ok<{ id: number }>(owner, 'POST', '/persons', {
      name,
      idNumber,
      hukouRegionCode: village,
      householdId: household.id,
      relationToHead,
      phone,
    });
  const father = await person(names[0]!, fatherIdNumber, '户主', phones[0]!);
  const mother = await person(names[1]!, motherIdNumber, '配偶', phones[1]!);
  const child = await person(names[2]!, childIdNumber, '子', phones[2]!);
  const dup = await ok<{ id: number }>(owner, 'POST', '/persons', {
    name: names[2],
    noIdReason: '未落户',
    sex: 1,
    birthDate: '2016-01-01',
    hukouRegionCode: village,
  });
  const fact = await ok<{ id: number }>(owner, 'POST', `/persons/${father.id}/facts`, {
    kind: 'migration',
    from: '2025-03-01',
    data: { destination: '广东省' },
  });
  const motherFact = await ok<{ id: number }>(owner, 'POST', `/persons/${mother.id}/facts`, {
    kind: 'migration',
    from: '2025-03-01',
    data: { destination: '广东省' },
  });
  for (const parent of [father.id, mother.id])
    await ok(owner, 'POST', `/persons/${child.id}/relations`, {
      relatedPersonId: parent,
      kind: 'parent',
      subtype: 'biological',
    });
  await ok(owner, 'POST', `/persons/${father.id}/relations`, {
    relatedPersonId: mother.id,
    kind: 'spouse',
    validFrom: '2010-05-01',
  });
  const spouseLink = await t.ctx.db
    .selectFrom('person_relations')
    .select('id')
    .where('kind', '=', 'spouse')
    .where('person_id', 'in', [father.id, mother.id])
    .where('related_person_id', 'in', [father.id, mother.id])
    .executeTakeFirstOrThrow();
  await ok(owner, 'POST', `/persons/${mother.id}/relations`, {
    relatedPersonId: father.id,
    kind: 'guardian',
  });
  const guardianLink = await t.ctx.db
    .selectFrom('person_relations')
    .select('id')
    .where('kind', '=', 'guardian')
    .where('person_id', '=', mother.id)
    .where('related_person_id', '=', father.id)
    .executeTakeFirstOrThrow();
  // An evaluation job of the area (also makes sure the memberships and the worklist exist).
  const job = await ok<{ jobId: number }>(owner, 'POST', '/groups/evaluations', { region: village });
  await t.ctx.jobs.drain();
  const item = await t.ctx.db
    .selectFrom('worklist_items')
    .select('id')
    .where('region_code', '=', village)
    .orderBy('id')
    .executeTakeFirst();
  assert.ok(item, `the evaluation of ${village} made worklist items`);
  // An import of the area with a rejected row, so it has an error report.
  const file = multipart(
    `walk-${tag}.csv`,
    importFile({ householdNo, childName: names[2]!, childIdNumber, village }, true),
  );
  const submitted = await inject(owner, 'POST', '/api/v1/imports', file);
  assert.equal(submitted.statusCode, 202, submitted.body);
  await t.ctx.jobs.drain();
  // An account and an API token homed in the area.
  const username = `walk.user.${tag.toLowerCase()}`;
  const user = await makeUser(t.ctx, username, 'village_child_director', village, { totp: true });
  await t.ctx.db
    .updateTable('users')
    .set({ display_name: `走查用户${tag}` })
    .where('id', '=', user.id)
    .execute();
  const token = await createToken(t.ctx, null, {
    name: `走查令牌${tag}`,
    role: 'village_staff',
    regionCode: village,
    expiresInDays: 30,
  });
  const regionNames = await t.ctx.db
    .selectFrom('regions')
    .select('name')
    .where('code', 'in', [village, village.slice(0, 9)])
    .execute();
  return {
    key,
    root,
    county,
    village,
    owner,
    householdId: household.id,
    householdNo,
    childId: child.id,
    childName: names[2]!,
    childIdNumber,
    fatherId: father.id,
    fatherName: names[0]!,
    fatherIdNumber,
    motherId: mother.id,
    dupId: dup.id,
    factId: fact.id,
    motherFactId: motherFact.id,
    spouseLinkId: Number(spouseLink.id),
    guardianLinkId: Number(guardianLink.id),
    importId: (submitted.json() as { id: number }).id,
    jobId: job.jobId,
    worklistItemId: Number(item.id),
    userId: user.id,
    username,
    tokenId: token.item.id,
    personMarkers: [
      ...names,
      fatherIdNumber,
      motherIdNumber,
      childIdNumber,
      ...phones,
      householdNo,
      `走查${tag}号院`,
    ],
    // The area's import shows in the imports list by its file name and its importer's account.
    otherMarkers: [
      username,
      `走查用户${tag}`,
      `走查令牌${tag}`,
      `walk-${tag}.csv`,
      `owner.${key.toLowerCase()}`,
      ...regionNames.map((r) => r.name),
    ],
  };
}

// ---------- The route table: how to call each route against an area ----------

type Kind = 'target' | 'list' | 'self' | 'reference' | 'duty' | 'import' | 'public';
type Value = string | number;
interface RouteSpec {
  kind: Kind;
  /** Administrator duty: the permissions that make the route their holder's own work (scope all). */
  duty?: Permission[];
  /** Path parameters that differ from the mapping by name. */
  path?: (x: Area) => Record<string, Value>;
  /** Query parameters that differ from the mapping by name. */
  query?: (x: Area) => Record<string, Value>;
  body?: (x: Area) => unknown | Promise<unknown>;
  /** The control's answer must show the area's person-level markers. */
  controlShows?: boolean;
  /** Why the control cannot succeed with the area's fixtures (then the walk's refusal proves less). */
  noControl?: string;
}

const month = today().slice(0, 7);
const ROUTES: Record<string, RouteSpec> = {
  'POST /api/v1/auth/login': { kind: 'public' },
  'POST /api/v1/auth/logout': { kind: 'self' },
  'POST /api/v1/auth/logout-all': { kind: 'self' },
  'GET /api/v1/auth/me': { kind: 'self' },
  'POST /api/v1/auth/change-password': {
    kind: 'self',
    body: () => ({ currentPassword: TEST_PASSWORD, newPassword: 'Walk-Passw0rd-97' }),
  },
  'POST /api/v1/auth/2fa/enroll': { kind: 'self' },
  'POST /api/v1/auth/2fa/confirm': {
    kind: 'self',
    body: () => ({ code: '123456', password: TEST_PASSWORD }),
  },

  'GET /api/v1/users': {
    kind: 'duty',
    duty: ['users.manage', 'roles.assign'],
    query: (x) => ({ q: x.username }),
  },
  'POST /api/v1/users': {
    kind: 'duty',
    duty: ['users.manage'],
    body: (x) => ({ username: `walk.new.${x.key.toLowerCase()}`, displayName: '走查新用户' }),
  },
  'POST /api/v1/users/{id}/disable': {
    kind: 'duty',
    duty: ['users.manage'],
    body: async (x) => ({ version: await versionOf('users', x.userId) }),
  },
  'POST /api/v1/users/{id}/enable': {
    kind: 'duty',
    duty: ['users.manage'],
    body: async (x) => ({ version: await versionOf('users', x.userId) }),
  },
  'POST /api/v1/users/{id}/reset-password': { kind: 'duty', duty: ['users.manage'] },
  'POST /api/v1/users/{id}/reset-2fa': { kind: 'duty', duty: ['twofactor.reset'] },
  'PUT /api/v1/users/{id}/role': {
    kind: 'duty',
    duty: ['roles.assign'],
    body: async (x) => ({
      role: 'village_staff',
      regionCode: x.village,
      version: await versionOf('users', x.userId),
    }),
  },
  'GET /api/v1/tokens': { kind: 'duty', duty: ['tokens.manage'] },
  // The security administrator issues tokens of roles without personal data only (三员分立).
  'POST /api/v1/tokens': {
    kind: 'duty',
    duty: ['tokens.manage'],
    body: (x) => ({
      name: `走查新令牌${x.key}`,
      role: 'prefecture_viewer',
      regionCode: x.county.slice(0, 4),
    }),
  },
  'POST /api/v1/tokens/{id}/revoke': { kind: 'duty', duty: ['tokens.manage'] },
  // A business user's own tokens: his own list, a token of his own role and region, his own revocation.
  'GET /api/v1/auth/tokens': { kind: 'list' },
  'POST /api/v1/auth/tokens': {
    kind: 'self',
    body: (x) => ({ name: `走查自有令牌${x.key}`, password: TEST_PASSWORD }),
  },
  'POST /api/v1/auth/tokens/{id}/revoke': {
    kind: 'target',
    noControl:
      "a token is revoked here only by the user who created it for himself; B's was made on the console",
  },
  'GET /api/v1/audit': {
    kind: 'duty',
    duty: ['audit.read'],
    query: (x) => ({ region: x.village, from: '2000-01-01T00:00:00Z', to: '2999-12-31T00:00:00Z' }),
  },
  'GET /api/v1/audit/export': {
    kind: 'duty',
    duty: ['audit.export'],
    query: (x) => ({ region: x.village, from: '2000-01-01T00:00:00Z', to: '2999-12-31T00:00:00Z' }),
  },
  'GET /api/v1/audit/verify': { kind: 'duty', duty: ['audit.read'] },

  'GET /api/v1/regions': { kind: 'reference' },
  'GET /api/v1/regions/search': { kind: 'reference' },
  'GET /api/v1/regions/{code}': { kind: 'reference' },
  'GET /api/v1/regions/{code}/children': { kind: 'reference' },

  'GET /api/v1/persons': { kind: 'list', controlShows: true },
  'GET /api/v1/persons/duplicates': { kind: 'list', controlShows: true },
  'POST /api/v1/persons': {
    kind: 'target',
    body: (x) => ({
      name: `走查新人${x.key}`,
      noIdReason: '未落户',
      sex: 2,
      birthDate: '2017-07-07',
      hukouRegionCode: x.village,
    }),
  },
  'GET /api/v1/persons/{id}': { kind: 'target', controlShows: true },
  'PATCH /api/v1/persons/{id}': {
    kind: 'target',
    body: async (x) => ({ version: await versionOf('persons', x.childId), ethnicity: '回族' }),
  },
  'POST /api/v1/persons/{id}/reveal': { kind: 'target', controlShows: true },
  'POST /api/v1/persons/{id}/facts': {
    kind: 'target',
    body: () => ({ kind: 'migration', from: '2026-01-01', data: { destination: '上海市' } }),
  },
  'POST /api/v1/persons/{id}/facts/{factId}/retract': {
    kind: 'target',
    path: (x) => ({ id: x.fatherId, factId: x.factId }),
    body: () => ({ reason: '走查' }),
  },
  'POST /api/v1/persons/{id}/facts/{factId}/end': {
    kind: 'target',
    path: (x) => ({ id: x.motherId, factId: x.motherFactId }),
    body: () => ({ to: '2026-10-01' }),
  },
  'POST /api/v1/persons/{id}/relations': {
    kind: 'target',
    body: (x) => ({ relatedPersonId: x.motherId, kind: 'guardian' }),
  },
  'POST /api/v1/persons/{id}/relations/{relationId}/end': {
    kind: 'target',
    path: (x) => ({ id: x.fatherId, relationId: x.spouseLinkId }),
    body: () => ({ to: '2026-10-01' }),
  },
  'POST /api/v1/persons/{id}/relations/{relationId}/retract': {
    kind: 'target',
    path: (x) => ({ id: x.motherId, relationId: x.guardianLinkId }),
    body: () => ({ reason: '走查：登记错人' }),
  },
  'POST /api/v1/persons/{id}/merge': {
    kind: 'target',
    path: (x) => ({ id: x.dupId }),
    body: async (x) => ({ intoId: x.childId, version: await versionOf('persons', x.dupId) }),
  },
  'GET /api/v1/households/{id}': { kind: 'target', controlShows: true },
  'POST /api/v1/households/{id}/reveal': { kind: 'target' },
  'PATCH /api/v1/households/{id}': {
    kind: 'target',
    body: async (x) => ({ version: await versionOf('households', x.householdId), address: '走查改址' }),
  },
  'POST /api/v1/households': {
    kind: 'target',
    body: (x) => ({ householdNo: `WALK-NEW-${x.key}`, hukouRegionCode: x.village }),
  },
  'POST /api/v1/imports': { kind: 'import' },
  // Lists file names and importers, no person: B's import must not be among them for A.
  'GET /api/v1/imports': { kind: 'list' },
  'GET /api/v1/imports/{id}': { kind: 'target' },
  'GET /api/v1/imports/{id}/errors.{format}': { kind: 'target', controlShows: true },
  'GET /api/v1/imports/{id}/review.{format}': {
    kind: 'target',
    noControl: "the area's import is a registry import; a ledger review exists for ledger imports only",
  },
  'GET /api/v1/exports/registry': { kind: 'target', query: (x) => ({ region: x.village, format: 'csv' }) },
  'GET /api/v1/exports/registry/gaps': { kind: 'target', query: (x) => ({ region: x.village }) },
  'GET /api/v1/groups/config': { kind: 'target' },
  'PUT /api/v1/groups/config': {
    kind: 'target',
    body: () => ({ config: { minorUnderAge: 17 }, version: 0 }),
  },
  'POST /api/v1/groups/evaluations': { kind: 'target', body: (x) => ({ region: x.village }) },
  'GET /api/v1/groups/evaluations/{id}': { kind: 'target' },
  'GET /api/v1/stats/groups': { kind: 'target' },
  'GET /api/v1/stats/groups/monthly': {
    kind: 'target',
    query: (x) => ({ region: x.village, from: month, to: month }),
  },
  'GET /api/v1/stats/groups/members': { kind: 'list', controlShows: true },
  'GET /api/v1/stats/groups.xlsx': { kind: 'target' },
  'GET /api/v1/stats/groups/monthly.xlsx': {
    kind: 'target',
    query: (x) => ({ region: x.village, from: month, to: month }),
  },
  'GET /api/v1/stats/groups/members.xlsx': { kind: 'target' },
  'GET /api/v1/worklist': { kind: 'list', controlShows: true },
  'POST /api/v1/worklist/{id}/acknowledge': { kind: 'target' },
};

/** Path parameters by name and the collection they follow. */
function pathValue(path: string, name: string, x: Area): Value | undefined {
  if (name === 'id') {
    const collection = /\/([a-z-]+)\/\{id\}/.exec(path)?.[1];
    const byCollection: Record<string, Value> = {
      persons: x.childId,
      households: x.householdId,
      imports: x.importId,
      users: x.userId,
      tokens: x.tokenId,
      evaluations: x.jobId,
      worklist: x.worklistItemId,
    };
    return collection ? byCollection[collection] : undefined;
  }
  if (name === 'factId') return x.factId;
  if (name === 'format') return 'csv';
  if (name === 'code') return x.village;
  return undefined;
}

/** Query parameters by name; paging parameters are left out on purpose. */
const PAGING = new Set(['limit', 'cursor']);
function queryValue(name: string, x: Area): Value | undefined {
  const byName: Record<string, Value> = {
    region: x.village,
    within: x.root,
    idNumber: x.childIdNumber,
    q: x.childName,
    householdNo: x.householdNo,
    fact: 'migration',
    asOf: today(),
    group: 'left_behind_child',
    status: 'all',
    actor: x.username,
    action: 'person.read',
    result: 'ok',
    dryRun: 'false',
    kind: 'registry',
    format: 'csv',
  };
  return byName[name];
}

interface Call {
  method: string;
  url: string;
  body?: { json?: unknown; raw?: Buffer; headers?: Record<string, string> };
}

/**
 * The requests for a route against an area, or the reason they cannot be made (a missing
 * fixture). A list route is called once per filter (with its required parameters), since the
 * filters narrow each other: each filter alone must find B's records for B and none for others.
 */
async function requestFor(
  route: (typeof routes)[number],
  spec: RouteSpec,
  x: Area,
): Promise<Call[] | string> {
  const key = `${route.method} ${route.path}`;
  const overrides = spec.path?.(x) ?? {};
  const missing: string[] = [];
  const url = route.path.replace(/\{([^}]+)\}/g, (_m, name: string) => {
    const value = overrides[name] ?? pathValue(route.path, name, x);
    if (value === undefined) missing.push(`path parameter "${name}"`);
    return String(value);
  });
  const queryOverrides = spec.query?.(x) ?? {};
  const required = new Map<string, string>();
  const filters = new Map<string, string>();
  for (const p of route.parameters.filter((p) => p.in === 'query')) {
    if (PAGING.has(p.name)) continue;
    const value = queryOverrides[p.name] ?? queryValue(p.name, x);
    if (value === undefined) missing.push(`query parameter "${p.name}"`);
    else (p.required ? required : filters).set(p.name, String(value));
  }
  if (missing.length)
    return `${key} needs a fixture for ${missing.join(', ')} in test/access.scope-walk.test.ts`;
  const withQuery = (entries: [string, string][]) =>
    entries.length ? `${url}?${new URLSearchParams(entries).toString()}` : url;
  if (spec.kind === 'list' && filters.size)
    return [...filters].map((filter) => ({ method: route.method, url: withQuery([...required, filter]) }));
  const full = withQuery([...required, ...filters]);
  if (spec.kind === 'import')
    return [{ method: route.method, url: full, body: multipart('walk.csv', importFile(x)) }];
  if (WRITE.has(route.method)) {
    const json = spec.body ? await spec.body(x) : undefined;
    return [{ method: route.method, url: full, ...(json !== undefined ? { body: { json } } : {}) }];
  }
  return [{ method: route.method, url: full }];
}

/** A digest of every row that belongs to the area: equal before and after a refused write. */
async function digest(x: Area): Promise<string> {
  const root = x.root;
  const like = `${root}%`;
  const r = await sql<{ d: string }>`
    WITH p AS (SELECT * FROM persons WHERE hukou_region_code LIKE ${like})
    SELECT concat_ws('|',
      (SELECT md5(coalesce(string_agg(row_to_json(p)::text, ',' ORDER BY id), '')) FROM p),
      (SELECT md5(coalesce(string_agg(row_to_json(h)::text, ',' ORDER BY id), '')) FROM households h WHERE hukou_region_code LIKE ${like}),
      (SELECT md5(coalesce(string_agg(row_to_json(f)::text, ',' ORDER BY id), '')) FROM person_facts f WHERE person_id IN (SELECT id FROM p)),
      (SELECT md5(coalesce(string_agg(row_to_json(r)::text, ',' ORDER BY id), '')) FROM person_relations r
        WHERE person_id IN (SELECT id FROM p) OR related_person_id IN (SELECT id FROM p)),
      (SELECT md5(coalesce(string_agg(row_to_json(m)::text, ',' ORDER BY id), '')) FROM group_memberships m WHERE region_code LIKE ${like}),
      (SELECT md5(coalesce(string_agg(row_to_json(w)::text, ',' ORDER BY id), '')) FROM worklist_items w WHERE region_code LIKE ${like}),
      (SELECT md5(coalesce(string_agg(row_to_json(c)::text, ',' ORDER BY region_code, version), '')) FROM group_config c WHERE region_code LIKE ${like}),
      (SELECT md5(coalesce(string_agg(row_to_json(i)::text, ',' ORDER BY id), '')) FROM imports i WHERE region_code LIKE ${like}),
      (SELECT count(*)::text FROM jobs j WHERE j.payload::text LIKE ${'%' + root + '%'}),
      (SELECT md5(coalesce(string_agg(row_to_json(u)::text, ',' ORDER BY id), '')) FROM users u WHERE region_code LIKE ${like}),
      (SELECT count(*)::text FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.region_code LIKE ${like} AND s.revoked_at IS NULL),
      (SELECT md5(coalesce(string_agg(row_to_json(k)::text, ',' ORDER BY id), '')) FROM api_tokens k WHERE region_code LIKE ${like})
    ) AS d`.execute(t.ctx.db);
  return r.rows[0]!.d;
}

function leaked(body: string, markers: string[]): string[] {
  return markers.filter((m) => body.includes(m));
}

before(async () => {
  t = await createTestApp({ loginRateLimit: 100_000 });
  await loadRegions(t.database, { within: B2_COUNTY });
  const village = async (within: string) =>
    (
      await t.ctx.db
        .selectFrom('regions')
        .select('code')
        .where('level', '=', 5)
        .where('rural', '=', true)
        .where('code', 'like', `${within}%`)
        .orderBy('code')
        .executeTakeFirstOrThrow()
    ).code;
  areas.A = await seedArea('A', HOME_VILLAGE, HOME_VILLAGE, 1);
  areas.B1 = await seedArea('B1', await village(B1_TOWNSHIP), B1_TOWNSHIP, 2);
  areas.B2 = await seedArea('B2', await village(B2_COUNTY), B2_COUNTY, 3);
  // A's region names are not markers of B (a name shared by regions in both would be no leak).
  const homeNames = new Set(
    (
      await t.ctx.db
        .selectFrom('regions')
        .select('name')
        .where((eb) =>
          eb.or([eb('code', 'like', `${HOME_TOWNSHIP}%`), eb('code', 'in', ['41', '4102', '410225'])]),
        )
        .execute()
    ).map((r) => r.name),
  );
  for (const x of [areas.B1, areas.B2]) x.otherMarkers = x.otherMarkers.filter((m) => !homeNames.has(m));

  for (const role of ROLES) {
    const regionCode = homeOf(role);
    const user = await makeUser(t.ctx, `walker.${role.replace(/_/g, '-')}`, role, regionCode, {
      totp: ADMIN_ROLES.includes(role),
    });
    walkers[role] = { id: user.id, client: await sessionFor(t.ctx, user.id), regionCode: regionCode ?? '' };
  }
  admins.system_admin = walkers.system_admin.client;
  admins.security_admin = walkers.security_admin.client;
  admins.audit_admin = walkers.audit_admin.client;

  const doc = await t.app.inject({ method: 'GET', url: '/api/v1/openapi.json' });
  const paths = doc.json().paths as Record<string, Record<string, { parameters?: Parameter[] } | undefined>>;
  routes = [];
  for (const [path, operations] of Object.entries(paths))
    for (const method of METHODS) {
      const op = operations[method];
      if (op) routes.push({ method: method.toUpperCase(), path, parameters: op.parameters ?? [] });
    }
});
after(async () => t.close());

/** The area a role walks against: the first of B1, B2 outside its scope (B2 when none is). */
function foreignArea(role: Role): Area {
  const home = walkers[role].regionCode;
  return [areas.B1, areas.B2].find((x) => !x.root.startsWith(home)) ?? areas.B2;
}

function outOfScope(role: Role, x: Area): boolean {
  return !x.root.startsWith(walkers[role].regionCode);
}

/** The markers a role must never receive from a route of this kind. */
function forbiddenMarkers(role: Role, kind: Kind): string[] {
  const out: string[] = [];
  for (const x of [areas.A, areas.B1, areas.B2]) {
    const foreign = outOfScope(role, x);
    if (foreign || !canSeeIndividuals(role)) out.push(...x.personMarkers);
    if (foreign && kind !== 'reference') out.push(...x.otherMarkers);
  }
  return out;
}

describe('the scope walk over every route of the API document', () => {
  test('every route and parameter has a fixture (a new route fails here until one is written)', async () => {
    const problems: string[] = [];
    for (const route of routes) {
      const key = `${route.method} ${route.path}`;
      const spec = ROUTES[key];
      if (!spec) {
        problems.push(
          `${key} needs an entry in ROUTES of test/access.scope-walk.test.ts (how to call it against area B)`,
        );
        continue;
      }
      const calls = await requestFor(route, spec, areas.B1);
      if (typeof calls === 'string') problems.push(calls);
      if (WRITE.has(route.method) && spec.kind === 'target' && !spec.body && route.method !== 'POST')
        problems.push(`${key} is a write without a body fixture`);
    }
    for (const key of Object.keys(ROUTES))
      if (!routes.some((r) => `${r.method} ${r.path}` === key))
        problems.push(`${key} is no longer in the API document`);
    assert.deepEqual(problems, []);
    assert.ok(routes.length >= 50, `the document lists ${routes.length} routes`);
  });

  for (const role of ROLES) {
    test(`${role}: B's records are refused or absent, never shown, never changed`, async () => {
      const walker = walkers[role];
      const x = foreignArea(role);
      const failures: string[] = [];
      for (const route of routes) {
        const key = `${route.method} ${route.path}`;
        const spec = ROUTES[key];
        if (!spec || spec.kind === 'public') continue;
        const calls = await requestFor(route, spec, x);
        if (typeof calls === 'string') {
          failures.push(calls);
          continue;
        }
        for (const call of calls) {
          const ownDuty =
            spec.kind === 'duty' && (spec.duty ?? []).some((p) => ROLE_PERMISSIONS[role].includes(p));
          // The administrators' own writes over scope "all" are their duty, tested in the admin tests.
          if (ownDuty && WRITE.has(route.method)) continue;
          let client = walker.client;
          if (spec.kind === 'self') {
            const throwaway = await makeUser(
              t.ctx,
              `self.${role.replace(/_/g, '-')}.${route.path.split('/').pop()}`,
              role,
              walker.regionCode || null,
              { totp: ADMIN_ROLES.includes(role) },
            );
            client = await sessionFor(t.ctx, throwaway.id);
          }
          const write = WRITE.has(route.method);
          const before = write ? await digest(x) : '';
          const response = await inject(client, call.method, `${call.url}`, call.body);
          const status = response.statusCode;
          const body = response.body;
          const where = `${key} as ${role} against ${x.key} (${call.method} ${call.url})`;
          if (status === 401 || status >= 500) failures.push(`${where}: ${status} ${body.slice(0, 200)}`);
          const refusedOk = status === 403 || status === 404;
          if (spec.kind === 'target' && outOfScope(role, x) && !refusedOk)
            failures.push(`${where}: ${status}, expected 403 or 404: ${body.slice(0, 300)}`);
          if (spec.kind === 'duty' && !ownDuty && !refusedOk)
            failures.push(
              `${where}: ${status}, expected 403 or 404 (not this role's duty): ${body.slice(0, 300)}`,
            );
          if (spec.kind === 'duty' && ownDuty && status >= 300)
            failures.push(`${where}: ${status}, the role's own duty: ${body.slice(0, 300)}`);
          if (spec.kind === 'list' && !(status < 300 || refusedOk))
            failures.push(`${where}: ${status}: ${body.slice(0, 300)}`);
          if (spec.kind === 'import') {
            if (!(status === 202 || refusedOk)) failures.push(`${where}: ${status}: ${body.slice(0, 300)}`);
            if (status === 202) {
              await t.ctx.jobs.drain();
              const done = await inject(
                client,
                'GET',
                `/api/v1/imports/${(response.json() as { id: number }).id}`,
              );
              const counts = (done.json() as { counts?: { inserted: number; updated: number } }).counts;
              if (!counts || counts.inserted + counts.updated !== 0)
                failures.push(`${where}: the import of B's rows wrote ${JSON.stringify(counts)}`);
            }
          }
          const leaks = leaked(body, forbiddenMarkers(role, spec.kind));
          if (leaks.length) failures.push(`${where}: ${status} shows ${leaks.join(', ')}`);
          if (write && spec.kind !== 'self') {
            const afterDigest = await digest(x);
            if (afterDigest !== before) failures.push(`${where}: ${status} changed B's rows`);
          }
        }
      }
      assert.deepEqual(failures, []);
    });
  }

  test("controls: B's own county staff and the duty's administrator get what the walk was refused", async () => {
    const failures: string[] = [];
    const x = areas.B1;
    // Reads first, then writes in table order (merge after the edits it depends on).
    const ordered = [...routes].sort((a, b) => Number(WRITE.has(a.method)) - Number(WRITE.has(b.method)));
    for (const route of ordered) {
      const key = `${route.method} ${route.path}`;
      const spec = ROUTES[key];
      if (!spec || spec.kind === 'public' || spec.kind === 'self' || spec.noControl) continue;
      const calls = await requestFor(route, spec, x);
      if (typeof calls === 'string') {
        failures.push(calls);
        continue;
      }
      for (const call of calls) {
        const holder = spec.duty
          ? ROLES.find(
              (r) => ADMIN_ROLES.includes(r) && spec.duty!.some((p) => ROLE_PERMISSIONS[r].includes(p)),
            )
          : null;
        const client = holder ? walkers[holder].client : x.owner;
        const response = await inject(client, call.method, call.url, call.body);
        if (spec.kind === 'import') await t.ctx.jobs.drain();
        if (response.statusCode >= 300)
          failures.push(
            `${key} for ${holder ?? 'county staff of B'}: ${response.statusCode} ${response.body.slice(0, 300)}`,
          );
        else if (spec.controlShows && leaked(response.body, x.personMarkers).length === 0)
          failures.push(
            `${key} for county staff of B shows none of B's persons: the walk's fixture finds nothing: ${call.url} ${response.body.slice(0, 300)}`,
          );
      }
    }
    assert.deepEqual(failures, []);
  });
});
