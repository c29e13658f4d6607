// Walks the OpenAPI document and calls EVERY route without signing in: all but the public ones
// must answer 401. A route added later without authentication fails here.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from './support/db.ts';
import { makeUser, signIn } from './support/access.ts';

/** Reachable without signing in, on purpose. Keep this list short. */
const PUBLIC = new Set(['POST /api/v1/auth/login']);
/** Reachable by a session that must change its password first. */
const DURING_PASSWORD_CHANGE = new Set([
  'GET /api/v1/auth/me',
  'POST /api/v1/auth/logout',
  'POST /api/v1/auth/logout-all',
  'POST /api/v1/auth/change-password',
]);

/** Reachable by an administrator who has not enrolled TOTP yet. */
const DURING_ENROLMENT = new Set([
  ...DURING_PASSWORD_CHANGE,
  'POST /api/v1/auth/2fa/enroll',
  'POST /api/v1/auth/2fa/confirm',
]);

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

let t: TestApp;
let routes: { method: string; path: string; url: string }[];

function fill(path: string): string {
  return path.replace(/\{([^}]+)\}/g, (_m, name: string) => {
    if (/code|region/i.test(name)) return '410225';
    if (/idNumber/i.test(name)) return '41022520080101123X';
    return '1';
  });
}

before(async () => {
  t = await createTestApp();
  const doc = await t.app.inject({ method: 'GET', url: '/api/v1/openapi.json' });
  assert.equal(doc.statusCode, 200, 'the API document is public');
  const paths = doc.json().paths as Record<string, Record<string, unknown>>;
  routes = [];
  for (const [path, operations] of Object.entries(paths)) {
    for (const method of METHODS) {
      if (operations[method]) routes.push({ method: method.toUpperCase(), path, url: fill(path) });
    }
  }
});
after(async () => t.close());

describe('every route needs a signed-in caller', () => {
  test('the document lists the access routes and the other modules', () => {
    const keys = routes.map((r) => `${r.method} ${r.path}`);
    for (const expected of [
      'POST /api/v1/auth/login',
      'GET /api/v1/auth/me',
      'PUT /api/v1/users/{id}/role',
      'GET /api/v1/audit',
      'GET /api/v1/regions',
    ])
      assert.ok(keys.includes(expected), expected);
  });

  test('without a session or token, every non-public route answers 401 UNAUTHENTICATED', async () => {
    const failures: string[] = [];
    for (const route of routes) {
      const key = `${route.method} ${route.path}`;
      const response = await t.app.inject({
        method: route.method as 'GET',
        url: route.url,
        ...(route.method === 'GET' || route.method === 'DELETE' ? {} : { payload: {} }),
      });
      if (PUBLIC.has(key)) continue;
      if (response.statusCode !== 401 || response.json().error?.code !== 'UNAUTHENTICATED')
        failures.push(`${key} answered ${response.statusCode} without a sign-in`);
    }
    assert.deepEqual(failures, []);
  });

  test('a wrong bearer token is 401 everywhere too', async () => {
    for (const route of routes) {
      const key = `${route.method} ${route.path}`;
      if (PUBLIC.has(key)) continue;
      const response = await t.app.inject({
        method: route.method as 'GET',
        url: route.url,
        headers: { authorization: 'Bearer shu_not-a-real-token-000000000000000000000000' },
      });
      assert.equal(response.statusCode, 401, key);
    }
  });

  test('a session that must change its password reaches only the password routes', async () => {
    await makeUser(t.ctx, 'walker', 'county_staff', '410225', { mustChange: true });
    const { client } = await signIn(t.app, 'walker');
    const failures: string[] = [];
    for (const route of routes) {
      const key = `${route.method} ${route.path}`;
      if (PUBLIC.has(key) || DURING_PASSWORD_CHANGE.has(key)) continue;
      const response = await t.app.inject({
        method: route.method as 'GET',
        url: route.url,
        headers: route.method === 'GET' ? client!.headers : client!.write,
        ...(route.method === 'GET' || route.method === 'DELETE' ? {} : { payload: {} }),
      });
      if (response.statusCode !== 403 || response.json().error?.code !== 'PASSWORD_CHANGE_REQUIRED')
        failures.push(`${key} answered ${response.statusCode}`);
    }
    assert.deepEqual(failures, []);
  });

  test('an administrator without TOTP reaches only enrolment, the password and sign-out', async () => {
    // One of each of the three administrators (三员): none gets past enrolment anywhere.
    for (const role of ['system_admin', 'security_admin', 'audit_admin'] as const) {
      await makeUser(t.ctx, `enrol.${role}`, role, null);
      const { response, client } = await signIn(t.app, `enrol.${role}`);
      assert.equal(response.json().limitedTo, 'two_factor_enrollment');
      const failures: string[] = [];
      for (const route of routes) {
        const key = `${route.method} ${route.path}`;
        if (PUBLIC.has(key) || DURING_ENROLMENT.has(key)) continue;
        const r = await t.app.inject({
          method: route.method as 'GET',
          url: route.url,
          headers: route.method === 'GET' ? client!.headers : client!.write,
          ...(route.method === 'GET' || route.method === 'DELETE' ? {} : { payload: {} }),
        });
        if (r.statusCode !== 403 || r.json().error?.code !== 'TWO_FACTOR_ENROLLMENT_REQUIRED')
          failures.push(`${key} answered ${r.statusCode}`);
      }
      assert.deepEqual(failures, [], role);
    }
  });
});
