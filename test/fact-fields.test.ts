// The web app keeps its own copy of each fact kind's data fields (the bundle does not import server
// modules): this test holds the copy to the server's rules, field by field, so a field added on one
// side only (as the migration's contact and home visits once were) fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FACT_FIELDS as SERVER, type FieldRule } from '../src/modules/registry/registry.rules.ts';

// The web module is loaded at run time, not imported: its types need the DOM library, which the
// server's type check does not have. Its shape, as far as this test reads it:
type FactField =
  | { key: string; type: 'text' | 'date' | 'boolean'; required?: boolean }
  | { key: string; type: 'choice'; required?: boolean; options: readonly { value: string | number }[] };
const webModule = new URL('../web/src/registry/person-edit.ts', import.meta.url).href;
const { FACT_FIELDS: WEB } = (await import(webModule)) as {
  FACT_FIELDS: Record<string, readonly FactField[]>;
};

/** Kinds written only by the child ledger import, never typed in a form. */
const IMPORT_ONLY = new Set(['ledger_declaration']);

const WEB_TYPE: Record<FieldRule['type'], FactField['type']> = {
  string: 'text',
  date: 'date',
  boolean: 'boolean',
  enum: 'choice',
};

test('every fact kind a clerk may record has the same fields in the web form as on the server', () => {
  const serverKinds = Object.keys(SERVER).filter((k) => !IMPORT_ONLY.has(k));
  assert.deepEqual(Object.keys(WEB).sort(), serverKinds.sort());
  for (const kind of serverKinds) {
    const server = SERVER[kind as keyof typeof SERVER];
    const web = WEB[kind]!;
    assert.deepEqual(
      web.map((f) => f.key).sort(),
      Object.keys(server).sort(),
      `${kind}: the web form's fields`,
    );
    for (const field of web) {
      const rule = server[field.key]!;
      assert.equal(field.type, WEB_TYPE[rule.type], `${kind}.${field.key}: type`);
      if (field.type === 'choice' && rule.type === 'enum')
        assert.deepEqual(
          field.options.map((o) => o.value),
          [...rule.values],
          `${kind}.${field.key}: the choices`,
        );
      if ('required' in field || rule.required)
        assert.equal(
          Boolean('required' in field && field.required),
          Boolean(rule.required),
          `${kind}.${field.key}: required`,
        );
    }
  }
});
