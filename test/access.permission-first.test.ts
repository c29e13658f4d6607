// A role without a route's permission is refused before the route reads its input: every route
// declares what it needs (config.permission, shown as x-permission in the API document), and the
// access hook checks it before the body is parsed or the query and path validated. So a malformed
// request by a role that may not use the route is a 403, audited, never a 400 naming the fields it
// may not use. Generated from the API document: a route added later is walked too.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { createTestApp, type TestApp } from './support/db.ts';
import { makeUser, sessionFor, type Client } from './support/access.ts';
import {
  ADMIN_ROLES,
  ROLES,
  permissionsOf,
  requireRoutePermission,
  type Actor,
  type Role,
  type RoutePermission,
} from '../src/modules/access/index.ts';
import { accessHooks } from '../src/modules/access/access.routes.ts';
import type { App } from '../src/platform/http.ts';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

interface Operation {
  method: string;
  path: string;
  permission: RoutePermission;
  hasBody: boolean;
}

let t: TestApp;
const clients = new Map<string, Client>();

function homeOf(role: Role): string | null {
  if (ADMIN_ROLES.includes(role) || role === 'national_viewer') return null;
  if (role === 'prefecture_viewer') return '4102';
  if (role === 'province_viewer') return '41';
  if (role === 'county_staff' || role === 'county_approver') return '410225';
  if (role === 'township_supervisor' || role === 'township_staff') return '410225101';
  return '410225101200';
}

/** Whether an account of this role (with or without a viewer's grant) passes the route's gate. */
function passes(role: Role, individualAccess: boolean, permission: RoutePermission): boolean {
  const actor = {
    role,
    individualAccess,
    permissions: permissionsOf(role, individualAccess),
  } as unknown as Actor;
  try {
    requireRoutePermission(actor, permission);
    return true;
  } catch {
    return false;
  }
}

async function operations(): Promise<Operation[]> {
  const document = (await t.app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json();
  const found: Operation[] = [];
  for (const [path, item] of Object.entries(document.paths as Record<string, Record<string, unknown>>))
    for (const method of METHODS) {
      const operation = item[method] as
        { 'x-permission'?: RoutePermission; requestBody?: unknown } | undefined;
      if (!operation) continue;
      if (operation['x-permission'])
        found.push({
          method: method.toUpperCase(),
          path,
          permission: operation['x-permission'],
          hasBody: operation.requestBody !== undefined,
        });
    }
  return found;
}

/** The request a form check refuses: ids that are no numbers, a query parameter no route names, a body of the wrong shape. */
function malformed(operation: Operation, client: Client) {
  const url = `${operation.path.replace(/\{[^}]+\}/g, 'x')}?no_such_parameter=1`.replace(
    /^\/api\/v1/,
    '/api/v1',
  );
  const write = operation.method !== 'GET';
  return t.app.inject({
    method: operation.method as 'GET',
    url,
    headers: write ? client.write : client.headers,
    ...(write ? { payload: operation.hasBody ? { no_such_field: [1] } : {} } : {}),
  });
}

before(async () => {
  t = await createTestApp();
  for (const role of ROLES) {
    const user = await makeUser(t.ctx, `gate.${role}`, role, homeOf(role), {
      totp: ADMIN_ROLES.includes(role),
    });
    clients.set(role, await sessionFor(t.ctx, user.id));
  }
  const granted = await makeUser(t.ctx, 'gate.granted', 'province_viewer', '41', { individualAccess: true });
  clients.set('granted', await sessionFor(t.ctx, granted.id));
});

after(async () => {
  await t.close();
});

describe('the permission is checked before the input', () => {
  test('every route of the API document declares its permission, except sign-in, health and the document', async () => {
    const document = (await t.app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json();
    const undeclared: string[] = [];
    for (const [path, item] of Object.entries(document.paths as Record<string, Record<string, unknown>>))
      for (const method of METHODS) {
        const operation = item[method] as { 'x-permission'?: unknown } | undefined;
        if (operation && !operation['x-permission']) undeclared.push(`${method.toUpperCase()} ${path}`);
      }
    assert.deepEqual(undeclared, ['POST /api/v1/auth/login']);
    assert.ok((await operations()).length >= 50);
  });

  test('a role without the permission sending a malformed request gets 403, audited; a role with it gets the 400', async () => {
    let refused = 0;
    for (const operation of await operations()) {
      if ('signedIn' in operation.permission) continue;
      const holder = ROLES.find((role) => passes(role, false, operation.permission));
      assert.ok(
        holder,
        `${operation.method} ${operation.path}: some role holds ${JSON.stringify(operation.permission)}`,
      );
      // The control: the same request by a role that may use the route is refused for its form.
      const control = await malformed(operation, clients.get(holder)!);
      assert.equal(
        control.statusCode,
        400,
        `${operation.method} ${operation.path} as ${holder}: ${control.body}`,
      );
      for (const role of ROLES) {
        if (passes(role, false, operation.permission)) continue;
        const response = await malformed(operation, clients.get(role)!);
        const where = `${operation.method} ${operation.path} as ${role}`;
        assert.equal(response.statusCode, 403, `${where}: ${response.body}`);
        assert.equal(response.json().error.code, 'FORBIDDEN', where);
        assert.ok(!response.body.includes('no_such'), `${where}: the refusal names no field`);
        refused += 1;
      }
    }
    assert.ok(refused > 300, `refusals walked: ${refused}`);
    // Each refusal is audited with the route it was for.
    const audited = await t.ctx.db
      .selectFrom('audit_log')
      .select(({ fn }) => fn.countAll<string>().as('n'))
      .where('action', '=', 'access.denied')
      .executeTakeFirstOrThrow();
    assert.equal(Number(audited.n), refused);
  });

  test("a viewer's grant of individual access opens the individual reads, not the writes", async () => {
    const operations_ = await operations();
    const read = operations_.find((o) => o.method === 'GET' && o.path === '/api/v1/persons/{id}')!;
    const write = operations_.find((o) => o.method === 'PATCH' && o.path === '/api/v1/persons/{id}')!;
    assert.equal((await malformed(read, clients.get('province_viewer')!)).statusCode, 403, 'no grant');
    assert.equal(
      (await malformed(read, clients.get('granted')!)).statusCode,
      400,
      'granted: the form is checked',
    );
    assert.equal(
      (await malformed(write, clients.get('granted')!)).statusCode,
      403,
      'granted: still no writes',
    );
  });

  test('a route that does not declare its permission is refused at registration', () => {
    const app = Fastify() as unknown as App;
    accessHooks(app, t.ctx);
    assert.throws(
      () => app.get('/undeclared', { schema: {} }, async () => ({})),
      /GET \/undeclared: config\.permission is required/,
    );
    app.get('/declared', { config: { permission: { signedIn: true } } }, async () => ({}));
    app.get('/open', { config: { public: true } }, async () => ({}));
  });
});
