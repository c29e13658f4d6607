// The typed Database interface (src/platform/db.schema.ts) matches the migrated schema: every
// table and column on both sides, each column's nullability, and a compatible JavaScript type.
// The interface is read with the TypeScript compiler, so nothing is listed twice by hand.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import ts from 'typescript';
import { sql } from 'kysely';
import { openTestDatabase, type TestDatabase } from './support/db.ts';

type Kind = 'string' | 'number' | 'boolean' | 'date' | 'json';

interface InterfaceColumn {
  nullable: boolean;
  kinds: Set<Kind | 'unknown'>;
}

function readInterface(): Map<string, Map<string, InterfaceColumn>> {
  const file = path.resolve(import.meta.dirname, '../src/platform/db.schema.ts');
  const program = ts.createProgram([file], {
    strict: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    allowImportingTsExtensions: true,
    noEmit: true,
    skipLibCheck: true,
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file);
  assert.ok(source);
  const decl = source.statements.find(
    (s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === 'DB',
  );
  assert.ok(decl, 'db.schema.ts declares interface DB');
  const dbType = checker.getTypeAtLocation(decl);
  const tables = new Map<string, Map<string, InterfaceColumn>>();
  for (const table of checker.getPropertiesOfType(dbType)) {
    const tableType = checker.getTypeOfSymbolAtLocation(table, decl);
    const columns = new Map<string, InterfaceColumn>();
    for (const column of checker.getPropertiesOfType(tableType)) {
      // ColumnType<S, I, U> (possibly inside a union such as `Timestamp | null`) reads as S.
      const expand = (type: ts.Type): ts.Type[] => {
        if (type.isUnion()) return type.types.flatMap(expand);
        const select = type.getProperty('__select__');
        return select ? expand(checker.getTypeOfSymbolAtLocation(select, decl)) : [type];
      };
      const parts = expand(checker.getTypeOfSymbolAtLocation(column, decl));
      const kinds = new Set<Kind | 'unknown'>();
      let nullable = false;
      for (const part of parts) {
        if (part.flags & ts.TypeFlags.Null) nullable = true;
        else if (part.flags & ts.TypeFlags.StringLike) kinds.add('string');
        else if (part.flags & (ts.TypeFlags.NumberLike | ts.TypeFlags.BigIntLike)) kinds.add('number');
        else if (part.flags & ts.TypeFlags.BooleanLike) kinds.add('boolean');
        else if (checker.typeToString(part) === 'Date') kinds.add('date');
        else if (part.flags & (ts.TypeFlags.Unknown | ts.TypeFlags.Any)) kinds.add('unknown');
        else kinds.add('json');
      }
      columns.set(column.name, { nullable, kinds });
    }
    tables.set(table.name, columns);
  }
  return tables;
}

function kindOfPg(dataType: string): Kind {
  if (['text', 'character varying', 'character', 'uuid', 'inet', 'date', 'bytea'].includes(dataType))
    return 'string';
  if (['integer', 'bigint', 'smallint', 'numeric', 'real', 'double precision'].includes(dataType))
    return 'number';
  if (dataType === 'boolean') return 'boolean';
  if (dataType.startsWith('timestamp')) return 'date';
  if (dataType === 'jsonb' || dataType === 'json' || dataType === 'ARRAY') return 'json';
  return 'string';
}

describe('typed Database interface', () => {
  let database: TestDatabase;
  before(async () => (database = await openTestDatabase()));
  after(async () => database.close());

  test('matches the migrated schema table by table, column by column', async () => {
    const declared = readInterface();
    const rows = await sql<{
      table_name: string;
      column_name: string;
      is_nullable: string;
      data_type: string;
    }>`
      SELECT table_name, column_name, is_nullable, data_type FROM information_schema.columns
      WHERE table_schema = 'public' ORDER BY table_name, ordinal_position`.execute(database.db);
    const actual = new Map<string, Map<string, { nullable: boolean; kind: Kind }>>();
    for (const r of rows.rows) {
      if (!actual.has(r.table_name)) actual.set(r.table_name, new Map());
      actual
        .get(r.table_name)!
        .set(r.column_name, { nullable: r.is_nullable === 'YES', kind: kindOfPg(r.data_type) });
    }
    const problems: string[] = [];
    for (const table of actual.keys())
      if (!declared.has(table)) problems.push(`table ${table} is missing from DB`);
    for (const [table, columns] of declared) {
      const real = actual.get(table);
      if (!real) {
        problems.push(`DB declares table ${table}, which the migrations do not create`);
        continue;
      }
      for (const name of real.keys())
        if (!columns.has(name)) problems.push(`${table}.${name} is missing from the interface`);
      for (const [name, column] of columns) {
        const db = real.get(name);
        if (!db) {
          problems.push(`${table}.${name} is declared but not in the database`);
          continue;
        }
        // `unknown` (JSON read as is) admits null already.
        if (db.nullable !== column.nullable && !column.kinds.has('unknown'))
          problems.push(
            `${table}.${name}: database ${db.nullable ? 'NULL' : 'NOT NULL'}, interface ${column.nullable ? 'nullable' : 'not nullable'}`,
          );
        if (!column.kinds.has(db.kind) && !column.kinds.has('unknown') && !(db.kind === 'json'))
          problems.push(`${table}.${name}: database ${db.kind}, interface ${[...column.kinds].join('|')}`);
      }
    }
    assert.deepEqual(problems, []);
  });
});
