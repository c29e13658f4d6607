// Property: no input makes any route answer 500. fast-check throws random paths, path parameters,
// query strings and bodies at every route of the OpenAPI document, signed in as county staff.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createTestApp, type TestApp } from './support/db.ts';
import { bearer } from './support/auth.ts';
import { apiOperations, type ApiOperation } from './support/openapi.ts';

const segment = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.stringMatching(/^[0-9]{1,20}$/),
  fc.constantFrom('410225', '410225001001', '0', '-1', '1e309', '%00', '..', 'null', '9'.repeat(40)),
  fc.string({ unit: 'binary', maxLength: 20 }),
);

const queryValue = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.integer().map(String),
  fc.constantFrom('', 'true', '2026-02-30', '[]'),
);

describe('no 500 for any input', () => {
  let t: TestApp;
  let headers: Record<string, string>;
  let ops: ApiOperation[];
  before(async () => {
    t = await createTestApp();
    headers = await bearer(t, 'county_staff', '410225');
    ops = await apiOperations(t.app);
  });
  after(async () => t.close());

  test('the document lists the routes', () => {
    assert.ok(ops.length >= 4, `only ${ops.length} operations`);
  });

  test('random parameters, queries and bodies on every route', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(),
        fc.array(segment, { minLength: 4, maxLength: 4 }),
        fc.dictionary(
          fc.constantFrom(
            'q',
            'limit',
            'cursor',
            'region',
            'asOf',
            'idNumber',
            'dryRun',
            'within',
            'group',
            'format',
          ),
          queryValue,
          { maxKeys: 4 },
        ),
        fc.oneof(fc.json(), fc.constant('{"broken": '), fc.constant(''), fc.string({ maxLength: 200 })),
        fc.constantFrom(
          'application/json',
          'text/plain',
          'application/x-www-form-urlencoded',
          'multipart/form-data; boundary=x',
        ),
        async (pick, params, query, body, contentType) => {
          const op = ops[pick % ops.length]!;
          let i = 0;
          const url = op.path.replace(/\{[^}]+\}/g, () =>
            encodeURIComponent(params[i++ % params.length] ?? ''),
          );
          const qs = new URLSearchParams(query).toString();
          const res = await t.app.inject({
            method: op.method as 'GET',
            url: `/api/v1${url}${qs ? '?' + qs : ''}`,
            headers: { ...headers, ...(op.method === 'GET' ? {} : { 'content-type': contentType }) },
            ...(op.method === 'GET' ? {} : { payload: body }),
          });
          assert.ok(
            res.statusCode < 500,
            `${op.method} ${url}?${qs} -> ${res.statusCode} ${res.body.slice(0, 300)}`,
          );
          if (res.statusCode >= 400)
            assert.ok(res.json().error?.code, `no error envelope: ${res.body.slice(0, 200)}`);
        },
      ),
      { numRuns: 400 },
    );
  });
});
