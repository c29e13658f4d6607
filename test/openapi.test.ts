// The committed OpenAPI document (docs/openapi.json) is what the routes generate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { generateOpenApi, OPENAPI_FILE } from '../scripts/openapi.ts';

test('docs/openapi.json is current (regenerate with: node scripts/openapi.ts)', async () => {
  const generated = await generateOpenApi();
  const committed = fs.existsSync(OPENAPI_FILE) ? fs.readFileSync(OPENAPI_FILE, 'utf8') : '';
  assert.ok(
    generated === committed,
    'docs/openapi.json is stale: run `node scripts/openapi.ts` and commit it',
  );
});
