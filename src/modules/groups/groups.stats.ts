// Statistics over the membership periods: counts per group for a region and each of its child
// regions as of a date, the monthly series, the drill-down list of members and the spreadsheet
// export. A period counts on date D when since <= D < until (until null: still open). Everything is
// scoped to the actor's region in SQL; viewers above the county get aggregates with small cells
// suppressed (groups.suppression.ts).

import ExcelJS from 'exceljs';
import { sql, type Kysely } from 'kysely';
import type { DB } from '../../platform/db.schema.ts';
import { daysInMonth, formatDate, isIsoDate, today, type IsoDate } from '../../platform/dates.ts';
import { invalid } from '../../platform/errors.ts';
import { audit, maskValue, requireAccess, VIEWER_ROLES, type Actor } from '../access/index.ts';
import { GROUP_CODES, GROUP_LABELS, type GroupCode } from './groups.rules.ts';
import type { MemberList, MonthlySeries, StatsTable } from './groups.schemas.ts';
import { effectiveConfig, resolveRegion } from './groups.service.ts';
import { plainCell, suppressColumn, suppressTable, type StatCell } from './groups.suppression.ts';
import { codeRange } from './groups.repository.ts';

/** Viewers above the county read aggregates with small cells suppressed. */
export function suppressesFor(actor: Actor): boolean {
  return VIEWER_ROLES.includes(actor.role);
}

const CHILD_LENGTH: Record<number, number | null> = { 0: 2, 2: 4, 4: 6, 6: 9, 9: 12, 12: null };

function dateOrToday(asOf: string | undefined): IsoDate {
  const date = asOf ?? today();
  if (!isIsoDate(date)) throw invalid('asOf', { zh: '不是有效日期', en: 'is not a valid date' });
  return date;
}

async function childRegions(db: Kysely<DB>, code: string): Promise<{ code: string; name: string }[]> {
  const rows = await db
    .selectFrom('regions')
    .select(['code', 'name'])
    .$if(code === '', (q) => q.where('level', '=', 1))
    .$if(code !== '', (q) => q.where('parent_code', '=', code))
    .where('valid_to', 'is', null)
    .orderBy('code')
    .execute();
  return rows;
}

interface CountRow {
  child: string;
  group_code: string;
  n: number;
}

/** Counts per (child region, group) on each date: one scan of the subtree's periods. */
async function countsOn(
  db: Kysely<DB>,
  code: string,
  dates: readonly IsoDate[],
): Promise<(CountRow & { d: string })[]> {
  const [from, to] = codeRange(code);
  const childLength = CHILD_LENGTH[code.length] ?? null;
  const child = childLength === null ? sql`gm.region_code` : sql`substr(gm.region_code, 1, ${childLength})`;
  const result = await sql<CountRow & { d: string }>`
    SELECT m.d::text AS d, ${child} AS child, gm.group_code, count(*)::int AS n
    FROM unnest(${'{' + dates.join(',') + '}'}::date[]) AS m(d)
    JOIN group_memberships gm ON gm.since <= m.d AND (gm.until IS NULL OR gm.until > m.d)
    WHERE gm.region_code >= ${from} AND gm.region_code < ${to}
    GROUP BY 1, 2, 3`.execute(db);
  return result.rows.map((r) => ({ ...r, n: Number(r.n) }));
}

interface RawTable {
  children: { code: string; name: string }[];
  /** [child][group] */
  cells: number[][];
  totals: number[];
}

function tableFrom(
  children: { code: string; name: string }[],
  rows: readonly CountRow[],
  leaf: boolean,
): RawTable {
  const listed = new Map(children.map((c, i) => [c.code, i]));
  const all = [...children];
  // A period may name a region closed since: it keeps its own row so the total still adds up.
  if (!leaf)
    for (const row of rows)
      if (!listed.has(row.child)) {
        listed.set(row.child, all.length);
        all.push({ code: row.child, name: row.child });
      }
  const cells = all.map(() => GROUP_CODES.map(() => 0));
  const totals = GROUP_CODES.map(() => 0);
  for (const row of rows) {
    const g = GROUP_CODES.indexOf(row.group_code as GroupCode);
    if (g < 0) continue;
    totals[g] = (totals[g] ?? 0) + row.n;
    if (leaf) continue;
    const r = listed.get(row.child);
    const line = r === undefined ? undefined : cells[r];
    if (line) line[g] = (line[g] ?? 0) + row.n;
  }
  return leaf ? { children: [], cells: [], totals } : { children: all, cells, totals };
}

const countsRecord = (cells: readonly StatCell[]) =>
  Object.fromEntries(GROUP_CODES.map((code, i) => [code, cells[i] ?? plainCell(0)]));

/** GET /stats/groups: counts per group for the region and each child region, plus the total row. */
export async function groupStats(
  db: Kysely<DB>,
  actor: Actor,
  region: string | undefined,
  asOf: string | undefined,
): Promise<StatsTable> {
  const target = await resolveRegion(db, actor, region);
  requireAccess(actor, 'stats.read', { regionCode: target.code });
  const date = dateOrToday(asOf);
  const leaf = CHILD_LENGTH[target.code.length] === null;
  const children = leaf ? [] : await childRegions(db, target.code);
  const raw = tableFrom(children, await countsOn(db, target.code, [date]), leaf);
  const suppress = suppressesFor(actor);
  const threshold = (await effectiveConfig(db, target.code, date)).smallCellThreshold;
  const shown = suppress
    ? suppressTable(raw.cells, raw.totals, threshold)
    : { rows: raw.cells.map((line) => line.map(plainCell)), totals: raw.totals.map(plainCell) };
  return {
    region: target,
    asOf: date,
    groups: GROUP_CODES.map((code) => ({ code, ...GROUP_LABELS[code] })),
    rows: raw.children.map((child, i) => ({
      regionCode: child.code,
      regionName: child.name,
      counts: countsRecord(shown.rows[i] ?? []),
    })),
    total: { regionCode: target.code, regionName: target.name, counts: countsRecord(shown.totals) },
    suppressed: suppress,
    threshold,
  };
}

function monthEnds(from: string, to: string): { month: string; end: IsoDate }[] {
  const [fy, fm] = from.split('-').map(Number) as [number, number];
  const [ty, tm] = to.split('-').map(Number) as [number, number];
  if (fm < 1 || fm > 12) throw invalid('from', { zh: '月份无效', en: 'is not a valid month' });
  if (tm < 1 || tm > 12) throw invalid('to', { zh: '月份无效', en: 'is not a valid month' });
  const first = fy * 12 + fm - 1;
  const last = ty * 12 + tm - 1;
  if (last < first) throw invalid('to', { zh: '不能早于起始月份', en: 'must not be before from' });
  if (last - first >= 240) throw invalid('to', { zh: '最多 240 个月', en: 'at most 240 months' });
  const out: { month: string; end: IsoDate }[] = [];
  for (let i = first; i <= last; i++) {
    const y = Math.floor(i / 12);
    const m = (i % 12) + 1;
    out.push({ month: `${y}-${String(m).padStart(2, '0')}`, end: formatDate(y, m, daysInMonth(y, m)) });
  }
  return out;
}

/**
 * GET /stats/groups/monthly: the region's count per group at each month end. For a viewer each month's
 * total is suppressed exactly as the table of that date suppresses it, so that the series and the
 * tables together reveal nothing the tables hide.
 */
export async function monthlyStats(
  db: Kysely<DB>,
  actor: Actor,
  region: string | undefined,
  from: string,
  to: string,
): Promise<MonthlySeries> {
  const target = await resolveRegion(db, actor, region);
  requireAccess(actor, 'stats.read', { regionCode: target.code });
  const months = monthEnds(from, to);
  const leaf = CHILD_LENGTH[target.code.length] === null;
  const children = leaf ? [] : await childRegions(db, target.code);
  const rows = await countsOn(
    db,
    target.code,
    months.map((m) => m.end),
  );
  const suppress = suppressesFor(actor);
  const threshold = suppress ? (await effectiveConfig(db, target.code, today())).smallCellThreshold : 0;
  return {
    region: target,
    suppressed: suppress,
    months: months.map(({ month, end }) => {
      const raw = tableFrom(
        children,
        rows.filter((r) => r.d === end),
        leaf,
      );
      const totals = suppress
        ? raw.totals.map(
            (total, g) =>
              suppressColumn(
                raw.cells.map((line) => line[g] ?? 0),
                total,
                threshold,
              ).total,
          )
        : raw.totals.map(plainCell);
      return { month, monthEnd: end, counts: countsRecord(totals) };
    }),
  };
}

/** GET /stats/groups/members: who is counted, for readers who may see persons; scoped in SQL. */
export async function groupMembers(
  db: Kysely<DB>,
  actor: Actor,
  query: { region?: string; group: GroupCode; asOf?: string; cursor?: string; limit?: number },
): Promise<MemberList> {
  const target = await resolveRegion(db, actor, query.region);
  requireAccess(actor, 'stats.read', { regionCode: target.code, individual: true });
  requireAccess(actor, 'persons.read', { regionCode: target.code, individual: true });
  const date = dateOrToday(query.asOf);
  const [from, to] = codeRange(target.code);
  const [scopeFrom, scopeTo] = codeRange(actor.regionCode);
  const limit = query.limit ?? 100;
  const after = query.cursor ? Number(query.cursor) : 0;
  const result = await sql<{
    person_id: number;
    name: string;
    id_number: string | null;
    sex: number | null;
    birth_date: string | null;
    hukou_region_code: string;
    since: string;
    sub_category: string | null;
    reasons: { zh: string[]; en: string[] };
  }>`
    SELECT gm.person_id, p.name, p.id_number, p.sex, p.birth_date, p.hukou_region_code, gm.since, gm.sub_category, gm.reasons
    FROM group_memberships gm JOIN persons p ON p.id = gm.person_id
    WHERE gm.group_code = ${query.group}
      AND gm.region_code >= ${from} AND gm.region_code < ${to}
      AND gm.region_code >= ${scopeFrom} AND gm.region_code < ${scopeTo}
      AND gm.since <= ${date}::date AND (gm.until IS NULL OR gm.until > ${date}::date)
      AND gm.person_id > ${after}
    ORDER BY gm.person_id
    LIMIT ${limit + 1}`.execute(db);
  const rows = result.rows.slice(0, limit);
  const items = rows.map((r) => ({
    personId: Number(r.person_id),
    name: r.name,
    idNumberMasked: r.id_number ? maskValue(r.id_number, 'idNumber') : null,
    sex: r.sex,
    birthDate: r.birth_date,
    hukouRegionCode: r.hukou_region_code,
    since: r.since,
    subCategory: r.sub_category,
    reasons: r.reasons,
  }));
  await audit(db, actor, {
    action: 'groups.members.read',
    entityType: 'group',
    entityId: query.group,
    regionCode: target.code || null,
    details: { asOf: date, count: items.length },
  });
  return { items, nextCursor: result.rows.length > limit ? String(items[items.length - 1]?.personId) : null };
}

/** GET /stats/groups.xlsx: the table exactly as this reader sees it (suppressed cells included). */
export async function exportGroupStats(
  db: Kysely<DB>,
  actor: Actor,
  region: string | undefined,
  asOf: string | undefined,
): Promise<{ fileName: string; data: Buffer }> {
  const table = await groupStats(db, actor, region, asOf);
  const workbook = new ExcelJS.Workbook();
  workbook.creator = 'Shouhu';
  const sheet = workbook.addWorksheet('分组统计');
  sheet.addRow([`${table.region.name} (${table.region.code || '全国'}) 截至 ${table.asOf}`]);
  sheet.addRow(['地区代码', '地区', ...table.groups.map((g) => g.zh)]);
  const line = (row: StatsTable['total']) => [
    row.regionCode,
    row.regionName,
    ...table.groups.map((g) => {
      const cell = row.counts[g.code];
      return cell === undefined ? 0 : cell.suppressed ? cell.display : cell.value;
    }),
  ];
  for (const row of table.rows) sheet.addRow(line(row));
  sheet.addRow(line({ ...table.total, regionName: `合计 ${table.total.regionName}` }));
  if (table.suppressed)
    sheet.addRow([
      `注: 小于 ${table.threshold} 的数字显示为 "<${table.threshold}"，"*" 为保护小数而隐藏的数字`,
    ]);
  sheet.getRow(2).font = { bold: true };
  sheet.columns.forEach((column, i) => (column.width = i === 1 ? 24 : 14));
  await audit(db, actor, {
    action: 'groups.stats.export',
    entityType: 'group_stats',
    entityId: table.region.code || 'national',
    regionCode: table.region.code || null,
    details: { asOf: table.asOf, suppressed: table.suppressed },
  });
  const data = Buffer.from(await workbook.xlsx.writeBuffer());
  return { fileName: `groups-${table.region.code || 'national'}-${table.asOf}.xlsx`, data };
}
