// The web app after the session-21 probe: a child ledger's own answers (台账填报情况) read in words in
// both languages; the audit page names every action the server writes (and offers it in its 操作
// filter); after a failed search the person list drops the earlier query's rows and cursor and
// offers 重试 for the first page, not 加载更多 with a cursor that would skip the person asked for.
// The browser part needs Chromium at /usr/bin/chromium and the built web app.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  FACT_FIELDS as SERVER_FACT_FIELDS,
  TEMPLATE_FACT_KEYS,
} from '../../src/modules/registry/registry.rules.ts';
import { openPage, signIn, startDemoSite, type DemoSite } from './support.ts';

// The web modules are loaded at run time, not imported: their types need the DOM library, which the
// server's type check does not have (as in test/fact-fields.test.ts).
type Localized = { zh: string; en: string };
type FactField = {
  key: string;
  label: Localized;
  type: 'text' | 'date' | 'boolean' | 'choice';
  options?: readonly { value: string | number; label: Localized }[];
};
const personEdit = (await import(new URL('../../web/src/registry/person-edit.ts', import.meta.url).href)) as {
  LEDGER_DECLARATION_FIELDS: readonly FactField[];
  describeFactData(kind: string, data: Record<string, unknown>, lang: 'zh' | 'en'): string;
};
const auditActions = (await import(
  new URL('../../web/src/pages/admin/audit-actions.ts', import.meta.url).href
)) as {
  AUDIT_ACTIONS: Readonly<Record<string, Localized>>;
  auditActionLabel(action: string, lang: 'zh' | 'en'): string | null;
};

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('the ledger declaration in words', () => {
  test('its fields are the server’s, each with a label and its choices in both languages', () => {
    const server = SERVER_FACT_FIELDS.ledger_declaration;
    const web = personEdit.LEDGER_DECLARATION_FIELDS;
    assert.deepEqual(web.map((f) => f.key).sort(), Object.keys(server).sort());
    assert.deepEqual(web.map((f) => f.key).sort(), [...(TEMPLATE_FACT_KEYS.ledger_declaration ?? [])].sort());
    for (const field of web) {
      assert.ok(field.label.zh && field.label.en, `${field.key}: a label in both languages`);
      const rule = server[field.key]!;
      if (rule.type === 'enum') {
        assert.equal(field.type, 'choice', field.key);
        assert.deepEqual(
          (field.options ?? []).map((o) => o.value),
          [...rule.values],
          `${field.key}: the choices`,
        );
        for (const o of field.options ?? []) assert.ok(o.label.zh && o.label.en, `${field.key}.${o.value}`);
      }
    }
  });

  test('the person file reads the ledger’s answers, never a key or true/false', () => {
    const data = {
      leftBehindChild: true,
      guardianshipType: 'fair',
      hasEntrustedCarer: false,
      bothParentsMigrant: true,
      unableParent: 'mother',
      incomeSources: '务工、种植',
    };
    assert.equal(
      personEdit.describeFactData('ledger_declaration', data, 'zh'),
      '留守儿童: 是; 监护类型: 监护情况一般; 有无委托监护人: 否; 父母双方同时外出: 是; 无监护能力方: 母亲; 家庭经济来源: 务工、种植',
    );
    const en = personEdit.describeFactData('ledger_declaration', data, 'en');
    assert.equal(
      en,
      'Left-behind child: yes; Guardianship: fair; Entrusted carer: no; Both parents away for work: yes; Parent unable to care: mother; Family income: 务工、种植',
    );
    // A yes/no of a key no table knows yet still reads as a word.
    assert.equal(personEdit.describeFactData('some_new_kind', { flag: false }, 'zh'), 'flag: 否');
    for (const kind of ['ledger_declaration', 'migration']) {
      const every = Object.fromEntries(
        personEdit.LEDGER_DECLARATION_FIELDS.map((f) => [f.key, f.type === 'boolean' ? true : 'x']),
      );
      for (const lang of ['zh', 'en'] as const) {
        const text = personEdit.describeFactData(kind, every, lang);
        assert.doesNotMatch(text, /\btrue\b|\bfalse\b/, `${kind} ${lang}: ${text}`);
        if (kind === 'ledger_declaration') assert.doesNotMatch(text, /[a-z][A-Z]/, `${lang}: ${text}`);
      }
    }
  });
});

/** The audit actions written in src/ (tests aside): literal ones and the template-built ones. */
function serverActions(): string[] {
  const found = new Set<string>();
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) {
        const text = fs.readFileSync(file, 'utf8');
        for (const m of text.matchAll(/action: '([a-z0-9_.]+)'/g)) found.add(m[1]!);
        // A download that signInGuard stops is audited as `<action>.stopped`.
        if (text.includes('signInGuard(')) {
          for (const m of text.matchAll(/signInGuard\([^{]*\{\s*action: '([a-z0-9_.]+)'/g))
            found.add(`${m[1]!}.stopped`);
        }
        // import.${report}.download for the error report and the ledger review.
        if (text.includes('action: `import.${report}.download`')) {
          found.add('import.errors.download');
          found.add('import.review.download');
        }
      }
    }
  };
  walk(path.join(ROOT, 'src'));
  return [...found].sort();
}

describe('the audit page names every audited action', () => {
  test('every action the server writes has words in both languages and is offered in the filter', () => {
    const actions = serverActions();
    for (const must of [
      'auth.session.refused',
      'auth.token.refused',
      'access.not_found',
      'person.id_number_taken',
      'person.id_matched',
      'groups.stats.read',
      'registry.export.gaps',
      'registry.export.stopped',
      'groups.members.export.stopped',
      'token.create',
    ])
      assert.ok(actions.includes(must), `the scan finds ${must}`);
    const missing = actions.filter(
      (a) => !auditActions.AUDIT_ACTIONS[a]?.zh || !auditActions.AUDIT_ACTIONS[a]?.en,
    );
    assert.deepEqual(missing, [], 'actions with no name on the audit page');
    for (const a of actions) assert.notEqual(auditActions.AUDIT_ACTIONS[a]!.zh, a);
  });

  test('a stopped download is named from its action; an unknown code is left as itself', () => {
    assert.equal(auditActions.auditActionLabel('some.future.action', 'zh'), null);
    assert.equal(
      auditActions.auditActionLabel('person.read.stopped', 'zh'),
      '查看人员信息（登录失效，中途停止）',
    );
    assert.equal(auditActions.auditActionLabel('person.id_number_taken', 'zh'), '拒绝已登记的身份证号码');
  });
});

let site: DemoSite | null = null;

describe('a failed search in the person list', () => {
  before(async () => {
    site = await startDemoSite();
  });
  after(async () => {
    await site?.close();
  });

  test('offers 重试 for the first page, never 加载更多 with the earlier list’s cursor', async () => {
    assert.ok(site);
    const context = await site.browser.newContext({
      viewport: { width: 1366, height: 900 },
      locale: 'zh-CN',
    });
    try {
      const { page, errors } = await openPage(context);
      await page.goto(`${site.base}/persons`);
      await signIn(page, 'county');
      const rows = page.locator('tbody tr.ant-table-row');
      await rows.first().waitFor();
      const more = page.getByRole('button', { name: '加载更多' });
      await more.waitFor();
      const name = (await rows.first().locator('a').first().innerText()).trim();

      // The search's first page fails (the connection drops for this one request).
      let aborted = 0;
      const search = (url: URL) => url.pathname === '/api/v1/persons' && url.searchParams.get('q') === name;
      await page.route(search, async (route) => {
        aborted++;
        await route.abort('internetdisconnected');
      });
      const asked: URL[] = [];
      page.on('request', (request) => {
        const url = new URL(request.url());
        if (url.pathname === '/api/v1/persons') asked.push(url);
      });
      const box = page.getByRole('searchbox', { name: '姓名、拼音、身份证号后6位或电话' });
      await box.fill(name);
      await box.press('Enter');
      const failed = page.getByTestId('persons-failed');
      await failed.waitFor();
      assert.equal(aborted, 1);
      assert.equal(await more.count(), 0, 'no 加载更多 with the earlier list’s cursor');
      assert.equal(await rows.count(), 0, 'the earlier list’s rows are gone');
      await page.unroute(search);

      // 重试 asks for the first page of the search again, and finds the person.
      asked.length = 0;
      await failed.locator('button').click(); // antd spaces a two-character label: 重 试
      await rows.filter({ hasText: name }).first().waitFor();
      assert.ok(asked.length >= 1);
      for (const url of asked) {
        assert.equal(url.searchParams.get('q'), name);
        assert.equal(url.searchParams.get('cursor'), null, `${url.search}: no cursor`);
      }
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
  test('a failed search in the user list drops the earlier search’s rows and cursor', async () => {
    assert.ok(site);
    const context = await site.browser.newContext({
      viewport: { width: 1366, height: 900 },
      locale: 'zh-CN',
    });
    try {
      const { page, errors } = await openPage(context);
      await page.goto(`${site.base}/admin/users`);
      await signIn(page, 'sysadmin');
      const rows = page.getByTestId('users-table').locator('tbody tr.ant-table-row');
      await rows.first().waitFor();
      assert.ok((await rows.count()) > 1);

      const search = (url: URL) => url.pathname === '/api/v1/users' && url.searchParams.get('q') === 'county';
      let aborted = 0;
      await page.route(search, async (route) => {
        aborted++;
        await route.abort('internetdisconnected');
      });
      const box = page.getByPlaceholder('按用户名或姓名搜索');
      await box.fill('county');
      await box.press('Enter');
      await page.locator('.ant-alert-error').waitFor();
      assert.equal(aborted, 1);
      // The rows shown are not the answer to "county": none stay, and no 加载更多 either.
      for (const end = Date.now() + 5000; (await rows.count()) > 0 && Date.now() < end;)
        await page.waitForTimeout(100);
      assert.equal(await rows.count(), 0, 'the earlier search’s rows are gone');
      assert.equal(await page.getByRole('button', { name: '加载更多' }).count(), 0);
      await page.unroute(search);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});
