// The list of past imports (GET /imports): the imports made for regions in the caller's range,
// newest first, a page at a time, with who, when, file name, kind, dry run, status and counts;
// another township's imports never appear, and no row of any file does. Runs on PGlite, or
// PostgreSQL with TEST_DATABASE_URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { makeUser, sessionFor, type Client } from '../../../test/support/access.ts';
import { TEMPLATE_HEADERS } from './registry.template.ts';
import { makeIdNumber } from './registry.idnumber.ts';

interface Item {
  id: number;
  fileName: string;
  kind: string;
  dryRun: boolean;
  status: string;
  counts: { rows: number; inserted: number; errors: number };
  regionCode: string;
  createdBy: { id: number; username: string; displayName: string } | null;
  createdAt: string;
  finishedAt: string | null;
}

let t: TestApp;
let dir: string;
const clients: Record<string, Client> = {};
const userIds: Record<string, number> = {};
const imported: Record<string, number> = {};

function csv(village: string, name: string, seq: number): Buffer {
  const cells: Record<string, string> = {
    户编号: `LIST-${seq}`,
    姓名: name,
    公民身份号码: makeIdNumber('410225', '1990-01-01', seq),
    与户主关系: '户主',
    户籍地代码: village,
  };
  return Buffer.from(
    `\uFEFF${TEMPLATE_HEADERS.join(',')}\r\n${TEMPLATE_HEADERS.map((h) => cells[h] ?? '').join(',')}\r\n`,
  );
}

async function submit(who: string, fileName: string, content: Buffer, dryRun = false): Promise<number> {
  const boundary = `----shouhu${Date.now()}`;
  const payload = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${fileName}"\r\n\r\n`,
    ),
    content,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const r = await t.app.inject({
    method: 'POST',
    url: `/api/v1/imports${dryRun ? '?dryRun=true' : ''}`,
    headers: { ...clients[who]!.write, 'content-type': `multipart/form-data; boundary=${boundary}` },
    payload,
  });
  assert.equal(r.statusCode, 202, r.body);
  await t.ctx.jobs.drain();
  return (r.json() as { id: number }).id;
}

async function list(who: string, query = '') {
  const r = await t.app.inject({
    method: 'GET',
    url: `/api/v1/imports${query}`,
    headers: clients[who]!.headers,
  });
  return {
    status: r.statusCode,
    body: r.body,
    json: r.json() as { items: Item[]; nextCursor: string | null },
  };
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shouhu-imports-list-'));
  t = await createTestApp({ dataDir: dir });
  const users: [string, Parameters<typeof makeUser>[2], string][] = [
    ['county', 'county_staff', '410225'],
    ['gy', 'township_staff', '410225101'],
    ['other', 'township_staff', '410225102'],
    ['viewer', 'prefecture_viewer', '4102'],
  ];
  for (const [name, role, region] of users) {
    const user = await makeUser(t.ctx, `list.${name}`, role, region);
    userIds[name] = user.id;
    clients[name] = await sessionFor(t.ctx, user.id);
  }
  imported.gy = await submit('gy', '堌阳镇花名册.csv', csv('410225101200', '刘一', 801));
  imported.gyDry = await submit('gy', '堌阳镇试运行.csv', csv('410225101200', '刘二', 802), true);
  imported.other = await submit('other', '另一镇花名册.csv', csv('410225102200', '陈三', 803));
  imported.county = await submit('county', '全县花名册.csv', csv('410225101201', '周四', 804));
});

after(async () => {
  await t.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('the list of past imports', () => {
  test('a township sees the imports made for its township, newest first, with who, when and the counts', async () => {
    const { status, json, body } = await list('gy');
    assert.equal(status, 200, body);
    assert.deepEqual(
      json.items.map((i) => i.id),
      [imported.gyDry, imported.gy],
    );
    const [dry, real] = json.items as [Item, Item];
    assert.equal(real.fileName, '堌阳镇花名册.csv');
    assert.equal(real.kind, 'registry');
    assert.equal(real.dryRun, false);
    assert.equal(real.status, 'succeeded');
    assert.equal(real.counts.rows, 1);
    assert.equal(real.counts.inserted, 1);
    assert.equal(real.regionCode, '410225101');
    assert.deepEqual(real.createdBy, { id: userIds.gy, username: 'list.gy', displayName: 'list.gy' });
    assert.ok(real.finishedAt && real.finishedAt >= real.createdAt);
    assert.equal(dry.dryRun, true);
    assert.equal(json.nextCursor, null);
    // File names and counts only: no row of the file.
    assert.doesNotMatch(body, /刘一|刘二|19900101/);
  });

  test("another township's imports, and the county's own, are not in a township's list", async () => {
    const gy = (await list('gy')).body;
    assert.doesNotMatch(gy, /另一镇花名册|全县花名册|list\.other|list\.county/);
    const other = (await list('other')).json.items.map((i) => i.id);
    assert.deepEqual(other, [imported.other]);
  });

  test('the county sees every import of the county, a page at a time by cursor', async () => {
    const all = [imported.county, imported.other, imported.gyDry, imported.gy];
    const seen: number[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 10; page += 1) {
      const r = await list('county', `?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(r.status, 200, r.body);
      assert.equal(r.json.items.length, 1);
      seen.push(r.json.items[0]!.id);
      cursor = r.json.nextCursor;
      if (!cursor) break;
    }
    assert.deepEqual(seen, all);
  });

  test('a role that does not import gets 403; a bad cursor or limit is a field error', async () => {
    assert.equal((await list('viewer')).status, 403);
    const bad = await list('county', '?cursor=abc');
    assert.equal(bad.status, 400);
    assert.match(bad.body, /cursor/);
    assert.equal((await list('county', '?limit=0')).status, 400);
  });
});
