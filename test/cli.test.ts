// The CLI works with the server running and without it. Embedded: without a server the command
// opens the data folder itself; with one, it runs inside the server through the local socket.
// PostgreSQL (TEST_DATABASE_URL): the command connects to the server's database either way.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '../src/platform/config.ts';
import { createLogger } from '../src/platform/logging.ts';
import { startServer, type RunningServer } from '../src/server.ts';
import { openTestDatabase, type TestDatabase } from './support/db.ts';

const run = promisify(execFile);
/** The key for secrets at rest, required with DATABASE_URL. */
const SECRET_KEY = 'c1'.repeat(32);
const BIN = path.resolve(import.meta.dirname, '../bin/shouhu.js');

async function shouhu(env: NodeJS.ProcessEnv, ...args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...env, LOG_LEVEL: 'warn' },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('shouhu CLI', () => {
  let dataDir: string;
  let database: TestDatabase | null = null;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shouhu-cli-'));
    if (process.env.TEST_DATABASE_URL) {
      database = await openTestDatabase();
      env = { DATABASE_URL: database.url ?? '', SHOUHU_DATA_DIR: dataDir, SHOUHU_SECRET_KEY: SECRET_KEY };
    } else env = { DATABASE_URL: '', SHOUHU_DATA_DIR: dataDir };
  });
  after(async () => {
    await database?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  test('without a server: migrate and load a county, with progress', async () => {
    const migrated = await shouhu(env, 'migrate');
    assert.equal(migrated.code, 0, migrated.stderr);
    const loaded = await shouhu(env, 'regions', 'load', '--county', '410225');
    assert.equal(loaded.code, 0, loaded.stderr);
    assert.match(loaded.stdout, /regions: read 495, inserted 495/);
    assert.match(loaded.stderr, /\[progress\] .*done/);
    assert.equal(fs.existsSync(path.join(dataDir, 'shouhu.lock')), false, 'the lock is released');
  });

  test('bad arguments exit 2 with the reason', async () => {
    const bad = await shouhu(env, 'regions', 'load', '--county', '4102');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--county takes a 6-digit county code/);
    const unknown = await shouhu(env, 'no-such-command');
    assert.equal(unknown.code, 2);
  });

  test('--help after a command prints its usage and runs nothing; an option it does not take is refused', async () => {
    const help = await shouhu(env, 'demo', 'generate', '--help');
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^usage: shouhu demo generate \[--county 410225\] \[--persons 20000\]/);
    assert.doesNotMatch(help.stderr, /progress/, 'nothing was generated');
    const typo = await shouhu(env, 'demo', 'generate', '--person', '100');
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /unknown option --person for 'shouhu demo generate'/);
    assert.doesNotMatch(typo.stderr, /progress/);
    // serve too: --help does not start a server, a misspelt option is refused.
    const serve = await shouhu(env, 'serve', '--help');
    assert.equal(serve.code, 0);
    assert.match(serve.stdout, /^usage: shouhu serve \[--demo \| --no-demo\] \[--port N\]/);
    const port = await shouhu(env, 'serve', '--prot', '4000');
    assert.equal(port.code, 2);
    assert.match(port.stderr, /unknown option --prot for 'shouhu serve'/);
    const short = await shouhu(env, 'import', '-h');
    assert.equal(short.code, 0);
    assert.match(short.stdout, /^usage: shouhu import FILE/);
  });

  test('demo generate loads the county’s regions first on a database without them (平塘县)', async () => {
    const generated = await shouhu(
      env,
      'demo',
      'generate',
      '--county',
      '522727',
      '--persons',
      '200',
      '--seed',
      '5',
    );
    assert.equal(generated.code, 0, generated.stderr);
    assert.match(generated.stdout, /loaded the regions of county 522727/);
    assert.match(generated.stdout, /rows 200: inserted 200, updated 0, unchanged 0, errors 0/);
    // Once loaded, they are not loaded again.
    const again = await shouhu(
      env,
      'demo',
      'generate',
      '--county',
      '522727',
      '--persons',
      '200',
      '--seed',
      '5',
    );
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stdout, /loaded the regions/);
    assert.match(again.stdout, /rows 200: inserted 0, updated 0, unchanged 200, errors 0/);
  });

  describe('with the server running', () => {
    let server: RunningServer;
    before(async () => {
      const config = loadConfig(
        {},
        {
          ...(env.DATABASE_URL ? { databaseUrl: env.DATABASE_URL, secretKey: SECRET_KEY } : {}),
          dataDir,
          port: 0,
          host: '127.0.0.1',
          runJobs: false,
        },
      );
      server = await startServer(config, { logger: createLogger('silent') });
    });
    after(async () => server.stop());

    test('a command runs and its result is visible to the server at once', async () => {
      const loaded = await shouhu(env, 'regions', 'load', '--county', '410102');
      assert.equal(loaded.code, 0, loaded.stderr);
      assert.match(loaded.stdout, /regions: read \d+, inserted \d+/);
      const row = await server.ctx.db
        .selectFrom('regions')
        .select('name')
        .where('code', '=', '410102')
        .executeTakeFirst();
      assert.equal(row?.name, '中原区');
    });

    test('failures keep their exit code through the server', async () => {
      const missing = await shouhu(env, 'jobs', 'show', '99999');
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /job 99999 not found/);
    });

    test(
      process.env.TEST_DATABASE_URL
        ? 'a second server may share a PostgreSQL database'
        : 'a second server cannot open the same data folder',
      async () => {
        if (process.env.TEST_DATABASE_URL) {
          const config = loadConfig(
            {},
            {
              databaseUrl: env.DATABASE_URL ?? null,
              secretKey: SECRET_KEY,
              dataDir,
              port: 0,
              host: '127.0.0.1',
              runJobs: false,
            },
          );
          const second = await startServer(config, { logger: createLogger('silent') });
          await second.stop();
        } else {
          const config = loadConfig(
            {},
            { databaseUrl: null, dataDir, port: 0, host: '127.0.0.1', runJobs: false },
          );
          await assert.rejects(startServer(config, { logger: createLogger('silent') }), /in use by process/);
        }
      },
    );
  });
});
