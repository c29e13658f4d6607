// `npm test`: the guardrails (lint, formatting, types, migrations and OpenAPI current), then the
// whole suite twice: on the embedded PGlite and on the PostgreSQL server (TEST_DATABASE_URL,
// default postgres://postgres@127.0.0.1:5432/test). Each test file creates its own fresh database
// and drops it afterwards. Browser tests run once, against the embedded database.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import pg from 'pg';

const root = path.resolve(import.meta.dirname, '..');
const bin = (name: string) => path.join(root, 'node_modules/.bin', name);
const only = process.argv.slice(2);

function run(
  label: string,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): { status: number; out: string } {
  process.stdout.write(`\n=== ${label}\n`);
  const result = spawnSync(command, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  process.stdout.write(result.stdout ?? '');
  return { status: result.status ?? 1, out: result.stdout ?? '' };
}

function counts(out: string): { pass: number; fail: number } {
  const pass = Number(/ℹ pass (\d+)/.exec(out)?.[1] ?? 0);
  const fail = Number(/ℹ fail (\d+)/.exec(out)?.[1] ?? 0);
  const cancelled = Number(/ℹ cancelled (\d+)/.exec(out)?.[1] ?? 0);
  return { pass, fail: fail + cancelled };
}

async function postgresUrl(): Promise<string | null> {
  const url = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.end();
    return url;
  } catch (error) {
    if (process.env.CI) throw new Error(`PostgreSQL at ${url} is required in CI`, { cause: error });
    process.stdout.write(
      `PostgreSQL not reachable at ${url}; the PostgreSQL pass is left out on this machine.\n`,
    );
    return null;
  }
}

let failed = false;
let pass = 0;
let fail = 0;
/** Each pass's "failing tests" section, printed again after the totals: a CI log shows its end. */
const failures: string[] = [];

/** The reporter's closing list of failing tests with their errors, or null when there is none. */
function failingSection(label: string, out: string): string | null {
  const at = out.lastIndexOf('✖ failing tests:');
  return at < 0 ? null : `--- ${label}\n${out.slice(at).trimEnd()}\n`;
}

if (!only.length) {
  for (const [label, cmd, args] of [
    ['lint (eslint)', bin('eslint'), ['.']],
    ['format (prettier)', bin('prettier'), ['--check', '.']],
    ['types (server)', bin('tsc'), ['-p', 'tsconfig.json', '--noEmit']],
    ['types (web)', bin('tsc'), ['-p', 'web/tsconfig.json', '--noEmit']],
    ['web build', bin('vite'), ['build', '--config', 'web/vite.config.ts', '--logLevel', 'warn']],
  ] as const) {
    const result = run(label, cmd, [...args]);
    if (result.status !== 0) {
      failed = true;
      fail += 1;
      process.stdout.write(`${label} failed\n`);
    }
  }
}

const unit = only.length ? only : ['src/**/*.test.ts', 'test/*.test.ts'];
const testArgs = ['--test', '--test-concurrency=2', '--test-timeout=600000'];

const pglite = run(
  'tests on PGlite (embedded)',
  process.execPath,
  [...testArgs, ...unit, ...(only.length ? [] : ['test/browser/*.test.ts'])],
  { TEST_DATABASE_URL: '' },
);
const c1 = counts(pglite.out);
pass += c1.pass;
fail += c1.fail;
if (pglite.status !== 0) failed = true;
failures.push(failingSection('PGlite (embedded)', pglite.out) ?? '');

const url = await postgresUrl();
if (url) {
  const server = run('tests on PostgreSQL server', process.execPath, [...testArgs, ...unit], {
    TEST_DATABASE_URL: url,
  });
  const c2 = counts(server.out);
  pass += c2.pass;
  fail += c2.fail;
  if (server.status !== 0) failed = true;
  failures.push(failingSection('PostgreSQL server', server.out) ?? '');
}

const failing = failures.filter(Boolean);
if (failing.length)
  process.stdout.write(`\n=== failing tests again, with their errors\n${failing.join('\n')}`);

process.stdout.write(`\n${pass} passed, ${fail} failed\n`);
process.exitCode = failed || fail > 0 ? 1 : 0;
