import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { signIn } from '../../../test/support/access.ts';
import { prepareDemo } from '../../cli/demo.ts';
import { DEMO_PASSWORD } from './access.demo.ts';
import { passwordProblems } from './access.rules.ts';

let t: TestApp;
const printed: string[] = [];
const io = {
  print: (l: string) => printed.push(l),
  error: (l: string) => printed.push(l),
  progress: () => {},
};

before(async () => {
  t = await createTestApp({ demoMode: true, loginRateLimit: 1000 });
  await prepareDemo(t.ctx, io);
  await prepareDemo(t.ctx, io);
});
after(async () => t.close());

describe('demo accounts', () => {
  test('ten accounts, created once, printed with their password', async () => {
    const users = await t.ctx.db
      .selectFrom('users')
      .select(['username', 'role', 'region_code', 'demo', 'must_change_password'])
      .orderBy('id')
      .execute();
    assert.equal(users.length, 10);
    assert.ok(users.every((u) => u.demo && !u.must_change_password));
    assert.ok(printed.some((l) => l.includes('director') && l.includes(DEMO_PASSWORD)));
    for (const u of users) assert.deepEqual(passwordProblems(DEMO_PASSWORD, u.username), [], u.username);
  });

  test('the child director works in a real villagers committee of the first township with villages', async () => {
    const director = await t.ctx.db
      .selectFrom('users')
      .select('region_code')
      .where('username', '=', 'director')
      .executeTakeFirstOrThrow();
    const village = await t.ctx.db
      .selectFrom('regions')
      .selectAll()
      .where('code', '=', director.region_code!)
      .executeTakeFirstOrThrow();
    assert.equal(village.rural, true);
    assert.equal(village.level, 5);
    const supervisor = await t.ctx.db
      .selectFrom('users')
      .select('region_code')
      .where('username', '=', 'supervisor')
      .executeTakeFirstOrThrow();
    assert.equal(supervisor.region_code, village.parent_code);
    const { client, response } = await signIn(t.app, 'director', DEMO_PASSWORD);
    assert.equal(response.statusCode, 200);
    assert.equal(response.json().limitedTo, null);
    assert.ok(client);
  });

  test('in the demo, administrators work without TOTP', async () => {
    const { response } = await signIn(t.app, 'auditor', DEMO_PASSWORD);
    assert.equal(response.statusCode, 200);
    assert.equal(response.json().limitedTo, null);
  });

  test('outside the demo, demo accounts cannot sign in and their sessions end', async () => {
    const { client } = await signIn(t.app, 'county', DEMO_PASSWORD);
    t.ctx.config.demoMode = false;
    try {
      assert.equal((await signIn(t.app, 'county', DEMO_PASSWORD)).response.statusCode, 401);
      assert.equal(
        (await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: client!.headers })).statusCode,
        401,
      );
    } finally {
      t.ctx.config.demoMode = true;
    }
  });
});
