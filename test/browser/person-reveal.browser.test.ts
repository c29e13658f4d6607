// The person file shows the ID number and phone masked, and for a child without an ID number the
// birth certificate number and the reason too. County staff (persons.reveal) show them whole with one
// button, audited as person.reveal; a village director (no persons.reveal) has no such button.
// Needs Chromium at /usr/bin/chromium and the built web app.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { BrowserContext } from 'playwright-core';
import { openPage, signIn, startDemoSite, type DemoSite } from './support.ts';

const CERT = 'Q410987654';
const CERT_MASKED = 'Q*****7654';
const REASON = '未落户,联系人13912345678';

let site: DemoSite | null = null;
let childId = 0;
let adult: { id: number; id_number: string; phone: string } | null = null;

async function desktop(): Promise<BrowserContext> {
  assert.ok(site);
  return site.browser.newContext({ viewport: { width: 1366, height: 900 }, locale: 'zh-CN' });
}

async function reveals(id: number): Promise<string[]> {
  assert.ok(site);
  const rows = await site.server.ctx.db
    .selectFrom('audit_log')
    .select('actor_username')
    .where('action', '=', 'person.reveal')
    .where('entity_id', '=', String(id))
    .execute();
  return rows.map((r) => r.actor_username ?? '');
}

describe('revealing a person’s numbers in the person file', () => {
  before(async () => {
    site = await startDemoSite();
    const { db } = site.server.ctx;
    const director = await db
      .selectFrom('users')
      .select('region_code')
      .where('username', '=', 'director')
      .executeTakeFirstOrThrow();
    const village = director.region_code!;
    adult = (await db
      .selectFrom('persons')
      .select(['id', 'id_number', 'phone'])
      .where('hukou_region_code', '=', village)
      .where('id_number', 'is not', null)
      .where('phone', 'is not', null)
      .orderBy('id')
      .executeTakeFirstOrThrow()) as { id: number; id_number: string; phone: string };
    childId = (
      await db
        .insertInto('persons')
        .values({
          name: '无证童',
          name_pinyin: 'wuzhengtong',
          name_initials: 'wzt',
          sex: 2,
          birth_date: '2024-02-02',
          no_id_reason: REASON,
          birth_cert_no: CERT,
          hukou_region_code: village,
        })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id;
  });
  after(async () => {
    await site?.close();
  });

  test('county staff see the numbers masked, then whole after one click, audited', async () => {
    assert.ok(site && adult);
    const context = await desktop();
    try {
      const { page, errors } = await openPage(context);
      await page.goto(`${site.base}/persons/${adult.id}`);
      await signIn(page, 'county');
      const idNumber = page.getByTestId('person-id-number');
      await idNumber.waitFor();
      assert.match(await idNumber.innerText(), /\*{4}/);
      assert.notEqual(await idNumber.innerText(), adult.id_number);
      await page.getByTestId('person-reveal').click();
      await page.getByTestId('person-id-number').getByText(adult.id_number, { exact: true }).waitFor();
      assert.equal(await page.getByTestId('person-phone').innerText(), adult.phone);
      assert.equal(await page.getByTestId('person-reveal').count(), 0, 'revealed once');
      assert.deepEqual(await reveals(adult.id), ['county']);

      await page.goto(`${site.base}/persons/${childId}`);
      const cert = page.getByTestId('person-birth-cert');
      await cert.waitFor();
      assert.equal(await cert.innerText(), CERT_MASKED);
      assert.equal(await page.getByText('未落户,联系人139****5678', { exact: true }).count(), 1);
      await page.getByTestId('person-reveal').click();
      await page.getByTestId('person-birth-cert').getByText(CERT, { exact: true }).waitFor();
      assert.equal(await page.getByText(REASON, { exact: true }).count(), 1);
      assert.deepEqual(await reveals(childId), ['county']);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('a village director reads the same file masked, with no reveal', async () => {
    assert.ok(site);
    const context = await desktop();
    try {
      const { page, errors } = await openPage(context);
      await page.goto(`${site.base}/persons/${childId}`);
      await signIn(page, 'director');
      const cert = page.getByTestId('person-birth-cert');
      await cert.waitFor();
      assert.equal(await cert.innerText(), CERT_MASKED);
      assert.equal(await page.getByTestId('person-reveal').count(), 0);
      assert.equal(await page.getByText(CERT).count(), 0);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});
