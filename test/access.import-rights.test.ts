// A queued import runs with its uploader's rights as they are when the job starts, not as they were
// when the file was sent: an account disabled, a token revoked, or a user moved to another region or
// role in between, and the file is not imported (status rejected, a message saying why, an audit
// entry denied, nothing written). The same upload by a user who still may is imported.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestApp, type TestApp } from './support/db.ts';
import { makeUser, signIn, type Client } from './support/access.ts';
import { multipartFile } from './support/upload.ts';
import { makeIdNumber } from '../src/modules/registry/registry.idnumber.ts';
import { TEMPLATE_HEADERS } from '../src/modules/registry/registry.template.ts';
import { createToken } from '../src/modules/access/index.ts';

const COUNTY = '410225';
const T1 = '410225101'; // 堌阳镇
const T2 = '410225102'; // another township of the county
const V1 = '410225101200'; // 堌阳镇 城内村

let t: TestApp;
let county: Client;
let counter = 0;

/** A one-person template file, different each time (the same file from the same user is one import). */
function oneRowCsv(): Buffer {
  counter += 1;
  const values: Record<string, string> = {
    户编号: `IR-${counter}`,
    姓名: '王小明',
    公民身份号码: makeIdNumber(COUNTY, '2016-03-01', 100 + counter),
    性别: '',
    出生日期: '',
    与户主关系: '户主',
    户籍地代码: V1,
  };
  const line = TEMPLATE_HEADERS.map((h) => values[h] ?? '').join(',');
  return Buffer.from(`${TEMPLATE_HEADERS.join(',')}\n${line}\n`, 'utf8');
}

async function upload(headers: Record<string, string>): Promise<number> {
  const { payload, contentType } = multipartFile(`rights-${counter + 1}.csv`, oneRowCsv());
  const r = await t.app.inject({
    method: 'POST',
    url: '/api/v1/imports',
    headers: { ...headers, 'content-type': contentType },
    payload,
  });
  assert.equal(r.statusCode, 202, r.body);
  return (r.json() as { id: number }).id;
}

async function persons(): Promise<number> {
  const row = await t.ctx.db
    .selectFrom('persons')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

async function outcome(importId: number) {
  const r = await t.app.inject({
    method: 'GET',
    url: `/api/v1/imports/${importId}`,
    headers: county.headers,
  });
  assert.equal(r.statusCode, 200, r.body);
  const audit = await t.ctx.db
    .selectFrom('audit_log')
    .select(['action', 'result', 'region_code'])
    .where('entity_type', '=', 'import')
    .where('entity_id', '=', String(importId))
    .execute();
  return { view: r.json() as { status: string; message: string | null }, audit };
}

const REFUSED =
  '上传该文件的账户已停用、已撤销，或已不再负责本地区的导入：文件未导入。请由现在负责的人员重新上传';

before(async () => {
  t = await createTestApp({ dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'import-rights-')) });
  await makeUser(t.ctx, 'ir.county', 'county_staff', COUNTY);
  const signed = await signIn(t.app, 'ir.county');
  assert.ok(signed.client);
  county = signed.client;
});

after(async () => {
  await t.close();
});

describe('a queued import and its uploader’s rights when it runs', () => {
  let staff: Client;
  let staffId: number;

  beforeEach(async () => {
    const username = `ir.staff${counter}`;
    staffId = (await makeUser(t.ctx, username, 'township_staff', T1)).id;
    const signed = await signIn(t.app, username);
    assert.ok(signed.client);
    staff = signed.client;
  });

  test('still allowed: the file is imported', async () => {
    const before = await persons();
    const id = await upload(staff.write);
    await t.ctx.jobs.drain();
    const { view } = await outcome(id);
    assert.equal(view.status, 'succeeded');
    assert.equal(await persons(), before + 1);
  });

  const changes: [string, () => Promise<void>][] = [
    [
      'the account disabled',
      async () => {
        await t.ctx.db.updateTable('users').set({ disabled: true }).where('id', '=', staffId).execute();
      },
    ],
    [
      'the user moved to another township',
      async () => {
        await t.ctx.db.updateTable('users').set({ region_code: T2 }).where('id', '=', staffId).execute();
      },
    ],
    [
      'the role taken away',
      async () => {
        await t.ctx.db.updateTable('users').set({ role: null }).where('id', '=', staffId).execute();
      },
    ],
  ];
  for (const [what, change] of changes)
    test(`${what} before the job runs: nothing is imported, the import says why, the refusal is audited`, async () => {
      const before = await persons();
      const id = await upload(staff.write);
      await change();
      await t.ctx.jobs.drain();
      const { view, audit } = await outcome(id);
      assert.equal(view.status, 'rejected');
      assert.equal(view.message, REFUSED);
      assert.equal(await persons(), before);
      assert.deepEqual(
        audit.filter((a) => a.action === 'registry.import'),
        [{ action: 'registry.import', result: 'denied', region_code: T1 }],
      );
    });
});

describe('a queued import sent with an API token', () => {
  test('the token revoked before the job runs: nothing is imported', async () => {
    const { token, item } = await createToken(t.ctx, null, {
      name: 'ir-token',
      role: 'township_staff',
      regionCode: T1,
    });
    const tokenId = item.id;
    const before = await persons();
    const id = await upload({ authorization: `Bearer ${token}` });
    await t.ctx.db
      .updateTable('api_tokens')
      .set({ revoked_at: new Date() })
      .where('id', '=', tokenId)
      .execute();
    await t.ctx.jobs.drain();
    const { view } = await outcome(id);
    assert.equal(view.status, 'rejected');
    assert.equal(view.message, REFUSED);
    assert.equal(await persons(), before);
  });
});

describe('the same file sent again after a move to another region', () => {
  test('is a new import for the new region, not the old one (which the user can no longer open)', async () => {
    const staffId = (await makeUser(t.ctx, 'ir.mover', 'township_staff', T1)).id;
    const bytes = oneRowCsv();
    const send = async (client: Client) => {
      const { payload, contentType } = multipartFile('mover.csv', bytes);
      const r = await t.app.inject({
        method: 'POST',
        url: '/api/v1/imports',
        headers: { ...client.write, 'content-type': contentType },
        payload,
      });
      assert.equal(r.statusCode, 202, r.body);
      return r.json() as { id: number; regionCode: string };
    };
    const first = (await signIn(t.app, 'ir.mover')).client!;
    const old = await send(first);
    assert.equal((await send(first)).id, old.id, 'the same file twice from the same place is one import');
    await t.ctx.jobs.drain();

    await t.ctx.db.updateTable('users').set({ region_code: T2 }).where('id', '=', staffId).execute();
    const moved = (await signIn(t.app, 'ir.mover')).client!;
    const again = await send(moved);
    assert.notEqual(again.id, old.id);
    assert.equal(again.regionCode, T2);
    const opened = await t.app.inject({
      method: 'GET',
      url: `/api/v1/imports/${again.id}`,
      headers: moved.headers,
    });
    assert.equal(opened.statusCode, 200, opened.body);
  });
});
