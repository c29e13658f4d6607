// The headers every answer carries (src/platform/http.ts, securityHeadersFor): a content security
// policy of the app's own origin, no framing, no Referer, no type sniffing; and no copy of what the
// API answers (personal data) kept by a browser or a proxy. HSTS only behind TLS.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from './support/db.ts';
import { bearer } from './support/auth.ts';

let t: TestApp;
let county: Record<string, string>;

before(async () => {
  t = await createTestApp();
  county = await bearer(t, 'county_staff', '410225');
});
after(async () => t.close());

function assertGuarded(headers: Record<string, unknown>, what: string): void {
  const csp = String(headers['content-security-policy'] ?? '');
  for (const directive of [
    "default-src 'self'",
    "script-src 'self'",
    "object-src 'none'",
    "frame-ancestors 'none'",
    "base-uri 'self'",
  ])
    assert.ok(csp.includes(directive), `${what}: CSP lacks ${directive}: ${csp}`);
  assert.ok(!/script-src[^;]*'unsafe-(inline|eval)'/.test(csp), `${what}: scripts inline or eval allowed`);
  assert.equal(headers['x-frame-options'], 'DENY', what);
  assert.equal(headers['x-content-type-options'], 'nosniff', what);
  assert.equal(headers['referrer-policy'], 'no-referrer', what);
}

describe('security headers', () => {
  test('every kind of answer carries them: data, a refusal, an unknown path, sign-in, the API reference', async () => {
    const answers = {
      'a person list': await t.app.inject({ url: '/api/v1/persons', headers: county }),
      'a refusal (no sign-in)': await t.app.inject({ url: '/api/v1/persons' }),
      'a validation error': await t.app.inject({ url: '/api/v1/persons?limit=0', headers: county }),
      'an unknown API path': await t.app.inject({ url: '/api/v1/nothing-here', headers: county }),
      'a failed sign-in': await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username: 'nobody', password: 'wrong-password-1' },
      }),
      'the OpenAPI document': await t.app.inject({ url: '/api/v1/openapi.json' }),
      'the API reference page': await t.app.inject({ url: '/api/v1/docs/' }),
      health: await t.app.inject({ url: '/health' }),
    };
    assert.equal(answers['a person list'].statusCode, 200);
    assert.equal(answers['a refusal (no sign-in)'].statusCode, 401);
    assert.equal(answers['a validation error'].statusCode, 400);
    assert.equal(answers['an unknown API path'].statusCode, 404);
    assert.equal(answers['a failed sign-in'].statusCode, 401);
    for (const [what, answer] of Object.entries(answers)) assertGuarded(answer.headers, what);
    assert.equal(
      answers['a person list'].headers['strict-transport-security'],
      undefined,
      'no HSTS without TLS',
    );
  });

  test('no API answer may be kept by a cache: personal data, errors and files alike', async () => {
    const person = await t.app.inject({
      method: 'POST',
      url: '/api/v1/households',
      headers: county,
      payload: { householdNo: 'SEC-001', hukouRegionCode: '410225101200' },
    });
    assert.equal(person.statusCode, 201, person.body);
    for (const [what, answer] of [
      ['a write', person],
      ['a read', await t.app.inject({ url: `/api/v1/households/${person.json().id}`, headers: county })],
      ['a list', await t.app.inject({ url: '/api/v1/persons', headers: county })],
      ['a refusal', await t.app.inject({ url: '/api/v1/persons' })],
      [
        'an export file',
        await t.app.inject({ url: '/api/v1/stats/groups.xlsx?region=410225', headers: county }),
      ],
    ] as const) {
      assert.ok(answer.statusCode < 500, `${what}: ${answer.statusCode}`);
      assert.equal(answer.headers['cache-control'], 'no-store', what);
    }
  });

  test('behind TLS (SECURE_COOKIES) browsers are told to keep to HTTPS', async () => {
    const secure = await createTestApp({ secureCookies: true }, { regions: false });
    try {
      const answer = await secure.app.inject({ url: '/health' });
      assert.match(String(answer.headers['strict-transport-security']), /^max-age=\d{7,}/);
      assertGuarded(answer.headers, 'health behind TLS');
    } finally {
      await secure.close();
    }
  });
});
