// Writes the OpenAPI document to docs/openapi.json. test/openapi.test.ts fails when the committed
// document differs from what the routes generate, so API changes are visible in review.
//   node scripts/openapi.ts
import fs from 'node:fs';
import path from 'node:path';
import { openPglite } from '../src/platform/db.ts';
import { loadConfig } from '../src/platform/config.ts';
import { createLogger } from '../src/platform/logging.ts';
import { createContext, createHttpApp } from '../src/app.ts';

export const OPENAPI_FILE = path.resolve(import.meta.dirname, '../docs/openapi.json');

export async function generateOpenApi(): Promise<string> {
  const database = await openPglite(null);
  try {
    const ctx = await createContext(loadConfig({}, { runJobs: false }), database, createLogger('silent'));
    const app = await createHttpApp(ctx, { serveWeb: false });
    await app.ready();
    const doc = (await app.inject({ url: '/api/v1/openapi.json' })).json();
    await app.close();
    return JSON.stringify(doc, null, 2) + '\n';
  } finally {
    await database.close();
  }
}

if (import.meta.main) {
  fs.writeFileSync(OPENAPI_FILE, await generateOpenApi());
  process.stdout.write(`wrote ${path.relative(process.cwd(), OPENAPI_FILE)}\n`);
}
