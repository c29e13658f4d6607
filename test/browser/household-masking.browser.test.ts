// The household form with a phone and an ID number typed into the address and an asset: a village
// director (no persons.reveal) sees them masked, changes the income and an asset and saves, and the
// stored numbers stay whole; county staff reveal the whole text (audited) in the form and change the
// number itself. Needs Chromium at /usr/bin/chromium and the built web app.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { BrowserContext } from 'playwright-core';
import { openPage, signIn, startDemoSite, type DemoSite } from './support.ts';

const HEAD_ID = '410225197001011234';
const PHONE = '13912345678';
const ADDRESS = `三组，户主身份证${HEAD_ID}，电话${PHONE}`;
const ADDRESS_MASKED = '三组，户主身份证4102*************4，电话139****5678';
const CAR = `三轮车，借自邻居 ${PHONE}`;

let site: DemoSite | null = null;
let householdId = 0;

async function desktop(): Promise<BrowserContext> {
  assert.ok(site);
  return site.browser.newContext({ viewport: { width: 1366, height: 900 }, locale: 'zh-CN' });
}

async function stored(): Promise<{
  address: string | null;
  assets: unknown;
  annual_income_fen: number | null;
}> {
  assert.ok(site);
  return site.server.ctx.db
    .selectFrom('households')
    .select(['address', 'assets', 'annual_income_fen'])
    .where('id', '=', householdId)
    .executeTakeFirstOrThrow();
}

describe('masked numbers in a household’s address and assets, in the household form', () => {
  before(async () => {
    site = await startDemoSite();
    const director = await site.server.ctx.db
      .selectFrom('users')
      .select('region_code')
      .where('username', '=', 'director')
      .executeTakeFirstOrThrow();
    const village = director.region_code!;
    householdId = (
      await site.server.ctx.db
        .insertInto('households')
        .values({
          county_code: village.slice(0, 6),
          household_no: `MASK-${Date.now() % 100000}`,
          hukou_region_code: village,
          address: ADDRESS,
          assets: JSON.stringify({ 住房: '砖混两间', 车辆: CAR }),
        })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id;
  });
  after(async () => {
    await site?.close();
  });

  test('a village director edits the income and an asset; the masked numbers are saved as they were', async () => {
    assert.ok(site);
    const context = await desktop();
    try {
      const { page, errors } = await openPage(context);
      await page.goto(`${site.base}/households/${householdId}/edit`);
      await signIn(page, 'director');
      const form = page.getByTestId('household-form');
      const address = form.getByLabel('住址');
      await address.waitFor();
      assert.equal(await address.inputValue(), ADDRESS_MASKED);
      await page.getByTestId('household-masked').waitFor();
      assert.equal(await page.getByTestId('household-reveal').count(), 0, 'no reveal without persons.reveal');
      const body = await page.content();
      assert.ok(!body.includes(PHONE) && !body.includes(HEAD_ID), 'no whole number on the page');

      await form.getByLabel('家庭年收入（元）').fill('12000');
      await form.getByPlaceholder('情况，如 砖混两间').first().fill('砖混三间');
      await page.getByTestId('household-save').click();
      await page.waitForURL(new RegExp(`/households/${householdId}$`));
      await page.getByText(ADDRESS_MASKED).waitFor();

      const row = await stored();
      assert.equal(row.address, ADDRESS);
      assert.deepEqual(row.assets, { 住房: '砖混三间', 车辆: CAR });
      assert.equal(row.annual_income_fen, 1200000);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('county staff reveal the whole text in the form (audited) and change the phone', async () => {
    assert.ok(site);
    const context = await desktop();
    try {
      const { page, errors } = await openPage(context);
      await page.goto(`${site.base}/households/${householdId}/edit`);
      await signIn(page, 'county');
      const address = page.getByTestId('household-form').getByLabel('住址');
      await address.waitFor();
      assert.equal(await address.inputValue(), ADDRESS_MASKED);
      await page.getByTestId('household-reveal').click();
      for (let i = 0; i < 50 && (await address.inputValue()) !== ADDRESS; i++) await page.waitForTimeout(100);
      assert.equal(await address.inputValue(), ADDRESS);
      await address.fill(ADDRESS.replace(PHONE, '13800001111'));
      await page.getByTestId('household-save').click();
      await page.waitForURL(new RegExp(`/households/${householdId}$`));

      const row = await stored();
      assert.equal(row.address, ADDRESS.replace(PHONE, '13800001111'));
      assert.deepEqual(row.assets, { 住房: '砖混三间', 车辆: CAR });
      const reveals = await site.server.ctx.db
        .selectFrom('audit_log')
        .select('actor_username')
        .where('action', '=', 'household.reveal')
        .where('entity_id', '=', String(householdId))
        .execute();
      assert.deepEqual(
        reveals.map((r) => r.actor_username),
        ['county'],
      );
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});
