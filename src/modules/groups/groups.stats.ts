// Statistics over the membership periods: counts per group for a region and each of its child
// regions as of a date, the monthly series, the drill-down list of members and the spreadsheet
// export. A period counts on date D when since <= D < until (until null: still open). The counts are
// read from the count tables that triggers keep beside the periods (repository deltaCountsOn), not by
// scanning the periods. Everything is scoped to the actor's region; viewers above the county get
// aggregates with small cells suppressed consistently across every table they can fetch
// (groups.suppression.ts).

import { createHash } from 'node:crypto';
import type { Writable } from 'node:stream';
import ExcelJS from 'exceljs';
import { sql, type Kysely } from 'kysely';
import type { AppContext } from '../../platform/context.ts';
import type { DB } from '../../platform/db.schema.ts';
import { daysInMonth, formatDate, isIsoDate, today, type IsoDate } from '../../platform/dates.ts';
import { invalid } from '../../platform/errors.ts';
import { audit, maskValue, requireAccess, signInGuard, VIEWER_ROLES, type Actor } from '../access/index.ts';
import { GROUP_CODES, GROUP_LABELS, highAgeGroundsOn, type GroupCode } from './groups.rules.ts';
import type { MemberList, MonthlySeries, StatsTable } from './groups.schemas.ts';
import { highAgeBandStartsOn, resolveRegion } from './groups.service.ts';
import { configResolver } from './groups.settings.ts';
import { latestAsOfDay } from '../registry/index.ts';
import {
  childKey,
  keyCode,
  plainCell,
  suppressRegionTrees,
  type StatCell,
  type SuppressedTree,
} from './groups.suppression.ts';
import {
  codeRange,
  configsInForceBetween,
  deltaCountsOn,
  type ConfigRecord,
  type RegionCount,
} from './groups.repository.ts';

/** Viewers above the county read aggregates with small cells suppressed. */
export function suppressesFor(actor: Actor): boolean {
  return VIEWER_ROLES.includes(actor.role);
}

const LEAF_LENGTH = 12;

/** The code length of a region's children (a village's own length: it has none). */
function childLength(code: string): number {
  return [2, 4, 6, 9, 12].find((length) => length > code.length) ?? LEAF_LENGTH;
}

/**
 * The date a count is asked for. A day still to come has no count yet: the periods are evaluated up to
 * today, so a later date would count every open period as lasting (a child turning 16 next month
 * still counted), a figure nobody can stand behind.
 */
function dateOrToday(asOf: string | undefined): IsoDate {
  const date = asOf ?? today();
  if (!isIsoDate(date)) throw invalid('asOf', { zh: '不是有效日期', en: 'is not a valid date' });
  const latest = latestCountableDay();
  if (date > latest)
    // Named by its date, so that a clerk whose calendar is wrong sees which day is today here.
    throw invalid('asOf', {
      zh: `不能晚于 ${latest}（尚未到来的日期没有统计）`,
      en: `must not be after ${latest} (a day still to come has no count)`,
    });
  return date;
}

/** Today (China's), as the latest day with a count: the same day as a person file's (latestAsOfDay). */
function latestCountableDay(): IsoDate {
  return latestAsOfDay(today());
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

/** Each region's small-cell threshold on a date, and a key naming the configuration rows behind it. */
interface Thresholds {
  of: (code: string) => number;
  key: string;
}

function thresholdsFrom(rows: readonly ConfigRecord[], date: IsoDate): Thresholds {
  const inForce = rows.filter(
    (row) => row.valid_from <= date && (row.valid_to === null || row.valid_to > date),
  );
  const configFor = configResolver(
    inForce.map((row) => ({ regionCode: row.region_code, config: row.config })),
  );
  const memo = new Map<string, number>();
  return {
    of: (code) => {
      let t = memo.get(code);
      if (t === undefined) memo.set(code, (t = configFor(code).smallCellThreshold));
      return t;
    },
    key: inForce.map((row) => `${row.id}.${row.version}`).join(','),
  };
}

/** The thresholds on each of the dates, from one read of the configuration. */
async function thresholdsOn(db: Kysely<DB>, dates: readonly IsoDate[]): Promise<Map<IsoDate, Thresholds>> {
  const sorted = [...dates].sort();
  const rows = await configsInForceBetween(db, sorted[0] as IsoDate, sorted[sorted.length - 1] as IsoDate);
  return new Map(dates.map((date) => [date, thresholdsFrom(rows, date)]));
}

/** One date's table for `code`: a cell per (child key, group) and the total per group. */
interface ShownTable {
  /** Child keys with their row, in display order; keys with no listed region come last. */
  children: { key: string; code: string; name: string }[];
  cells: Map<string, StatCell[]>;
  totals: StatCell[];
}

function shownTable(
  code: string,
  listed: readonly { code: string; name: string }[],
  rows: readonly RegionCount[],
  suppressed: ((group: GroupCode) => SuppressedTree) | null,
): ShownTable {
  const inside = rows.filter((r) => r.region_code >= code && r.region_code < code + '\uffff');
  const leaf = code.length >= LEAF_LENGTH;
  const children = leaf ? [] : listed.map((c) => ({ key: c.code, code: c.code, name: c.name }));
  const raw = new Map<string, number[]>();
  const totals = GROUP_CODES.map(() => 0);
  for (const row of inside) {
    const g = GROUP_CODES.indexOf(row.group_code as GroupCode);
    if (g < 0) continue;
    totals[g] = (totals[g] ?? 0) + row.n;
    if (leaf) continue;
    const key = childKey(code, row.region_code);
    let line = raw.get(key);
    if (!line) raw.set(key, (line = GROUP_CODES.map(() => 0)));
    line[g] = (line[g] ?? 0) + row.n;
  }
  // A period may name a region closed since, or a code coarser than the children: it keeps its own
  // row so that the total still adds up.
  const known = new Set(children.map((c) => c.key));
  for (const key of [...raw.keys()].sort())
    if (!known.has(key)) children.push({ key, code: keyCode(key), name: keyCode(key) });
  const cells = new Map<string, StatCell[]>();
  if (!suppressed) {
    for (const child of children)
      cells.set(child.key, (raw.get(child.key) ?? GROUP_CODES.map(() => 0)).map(plainCell));
    return { children, cells, totals: totals.map(plainCell) };
  }
  const trees = GROUP_CODES.map((group) => suppressed(group));
  for (const child of children)
    cells.set(
      child.key,
      trees.map((tree) => tree.cell(child.key)),
    );
  return { children, cells, totals: trees.map((tree) => tree.cell(code)) };
}

/**
 * Groups that contain another (DOMAIN.md section 2): a special-difficulty elderly is 60 or older and
 * living alone, empty-nest, left-behind or disabled, so every left-behind elderly and every disabled
 * elderly is one. A reader who knows the rules knows that, region by region, the subgroup's count is at
 * most the group's, so these groups are suppressed together (groups.suppression.ts).
 */
export const GROUP_INCLUSIONS: readonly (readonly [sub: GroupCode, sup: GroupCode])[] = [
  ['left_behind_elderly', 'special_difficulty_elderly'],
  ['disabled_elderly', 'special_difficulty_elderly'],
];

/** The groups suppressed together with `group`: those linked to it by inclusions, in GROUP_CODES order. */
function familyOf(group: GroupCode): GroupCode[] {
  const family = new Set<GroupCode>([group]);
  for (let grown = true; grown;) {
    grown = false;
    for (const [sub, sup] of GROUP_INCLUSIONS)
      if (family.has(sub) !== family.has(sup)) {
        family.add(sub).add(sup);
        grown = true;
      }
  }
  return GROUP_CODES.filter((code) => family.has(code));
}

/**
 * Suppressed trees already worked out, by a digest of everything they depend on: the counts per
 * region of the groups suppressed together and the configuration rows that set the thresholds.
 * Suppression is a pure function of those, so trees found here are the ones that would be computed
 * again (no staleness: new counts make a new key). Viewers' tables and series of the same date share
 * them; oldest entries go first.
 */
const treeMemo = new Map<string, Map<string, SuppressedTree>>();
const TREE_MEMO_SIZE = 512;

function memoTrees(key: string, compute: () => Map<string, SuppressedTree>): Map<string, SuppressedTree> {
  let trees = treeMemo.get(key);
  if (trees) return trees;
  trees = compute();
  if (treeMemo.size >= TREE_MEMO_SIZE) treeMemo.delete(treeMemo.keys().next().value as string);
  treeMemo.set(key, trees);
  return trees;
}

/**
 * For a viewer: each group's counts suppressed over the whole country's region tree on that date
 * (together with the groups it contains or is contained in), so that every table and series of that
 * date shows each region's count the same way (computed when a group is first asked for, and
 * remembered across calls by content, see treeMemo).
 */
function countryTrees(
  rows: readonly RegionCount[],
  thresholds: Thresholds,
): (group: GroupCode) => SuppressedTree {
  const byGroup = new Map<string, Map<string, number>>();
  for (const row of rows) {
    let counts = byGroup.get(row.group_code);
    if (!counts) byGroup.set(row.group_code, (counts = new Map()));
    counts.set(row.region_code, (counts.get(row.region_code) ?? 0) + row.n);
  }
  const memo = new Map<GroupCode, SuppressedTree>();
  // One digest for the date: the configuration and every count (the rows come in region and group
  // order; another order would only miss the memo, never hit a wrong entry).
  let dateKey: string | null = null;
  return (group) => {
    let tree = memo.get(group);
    if (!tree) {
      dateKey ??= createHash('sha256')
        .update(thresholds.key)
        .update(rows.map((row) => `\n${row.region_code} ${row.group_code} ${row.n}`).join(''))
        .digest('base64');
      const family = familyOf(group);
      const trees = memoTrees(`${dateKey} ${family.join('+')}`, () =>
        suppressRegionTrees(
          new Map(family.map((code) => [code, byGroup.get(code) ?? new Map<string, number>()])),
          GROUP_INCLUSIONS,
          thresholds.of,
        ),
      );
      for (const code of family) memo.set(code, trees.get(code) as SuppressedTree);
      tree = memo.get(group) as SuppressedTree;
    }
    return tree;
  };
}

/** The region's own count per group (a table's total row), without building the child rows. */
function regionTotals(
  code: string,
  rows: readonly RegionCount[],
  suppressed: ((group: GroupCode) => SuppressedTree) | null,
): StatCell[] {
  if (suppressed) return GROUP_CODES.map((group) => suppressed(group).cell(code));
  const totals = new Map<string, number>();
  for (const row of rows)
    if (row.region_code >= code && row.region_code < code + '\uffff')
      totals.set(row.group_code, (totals.get(row.group_code) ?? 0) + row.n);
  return GROUP_CODES.map((group) => plainCell(totals.get(group) ?? 0));
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
  const suppress = suppressesFor(actor);
  const [listed, counts, thresholdsByDate] = await Promise.all([
    target.code.length >= LEAF_LENGTH ? [] : childRegions(db, target.code),
    // A viewer's suppression is decided over the whole country (see groups.suppression.ts).
    // Otherwise the database sums the villages up to the table's children.
    suppress
      ? deltaCountsOn(db, codeRange(''), [date])
      : deltaCountsOn(db, codeRange(target.code), [date], undefined, undefined, childLength(target.code)),
    thresholdsOn(db, [date]),
  ]);
  const thresholds = thresholdsByDate.get(date) as Thresholds;
  const rows = counts.get(date) ?? [];
  const shown = shownTable(target.code, listed, rows, suppress ? countryTrees(rows, thresholds) : null);
  return {
    region: target,
    asOf: date,
    groups: GROUP_CODES.map((code) => ({ code, ...GROUP_LABELS[code] })),
    rows: shown.children.map((child) => ({
      regionCode: child.code,
      regionName: child.name,
      counts: countsRecord(shown.cells.get(child.key) ?? []),
    })),
    total: { regionCode: target.code, regionName: target.name, counts: countsRecord(shown.totals) },
    suppressed: suppress,
    threshold: thresholds.of(target.code),
  };
}

function monthEnds(from: string, to: string): { month: string; end: IsoDate }[] {
  const [fy, fm] = from.split('-').map(Number) as [number, number];
  const [ty, tm] = to.split('-').map(Number) as [number, number];
  // Year 0000 is no calendar year (1 BC precedes AD 1); its month ends are no dates.
  if (fy < 1 || fm < 1 || fm > 12) throw invalid('from', { zh: '月份无效', en: 'is not a valid month' });
  if (ty < 1 || tm < 1 || tm > 12) throw invalid('to', { zh: '月份无效', en: 'is not a valid month' });
  const first = fy * 12 + fm - 1;
  const last = ty * 12 + tm - 1;
  if (last < first) throw invalid('to', { zh: '不能早于起始月份', en: 'must not be before from' });
  if (last - first >= 240) throw invalid('to', { zh: '最多 240 个月', en: 'at most 240 months' });
  // The current month is counted as of today (its end is still to come, see dateOrToday); a later
  // month has no count yet.
  const now = latestCountableDay();
  const current = Number(now.slice(0, 4)) * 12 + Number(now.slice(5, 7)) - 1;
  if (last > current)
    throw invalid('to', {
      zh: `不能晚于 ${now.slice(0, 7)}（尚未到来的月份没有统计）`,
      en: `must not be after ${now.slice(0, 7)} (a month still to come has no count)`,
    });
  const out: { month: string; end: IsoDate }[] = [];
  for (let i = first; i <= last; i++) {
    const y = Math.floor(i / 12);
    const m = (i % 12) + 1;
    // The month still running is counted as of its latest countable day (latestCountableDay).
    const monthEnd = formatDate(y, m, daysInMonth(y, m));
    const end = monthEnd > now ? now : monthEnd;
    out.push({ month: `${y}-${String(m).padStart(2, '0')}`, end });
  }
  return out;
}

/**
 * GET /stats/groups/monthly: the region's count per group at each month end. For a viewer each month's
 * count is the region's cell of that month end's country-wide suppression, exactly as the tables of
 * that date show it, so that the series and the tables together reveal nothing the tables hide.
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
  const suppress = suppressesFor(actor);
  const ends = months.map((m) => m.end);
  const [counts, thresholdsByDate] = await Promise.all([
    suppress
      ? deltaCountsOn(db, codeRange(''), ends)
      : deltaCountsOn(db, codeRange(target.code), ends, undefined, undefined, target.code.length),
    suppress ? thresholdsOn(db, ends) : null,
  ]);
  const out: MonthlySeries['months'] = [];
  for (const { month, end } of months) {
    const rows = counts.get(end) ?? [];
    const thresholds = thresholdsByDate?.get(end);
    const trees = thresholds ? countryTrees(rows, thresholds) : null;
    out.push({ month, monthEnd: end, counts: countsRecord(regionTotals(target.code, rows, trees)) });
  }
  return { region: target, suppressed: suppress, months: out };
}

/**
 * GET /stats/groups/members: who is counted, for readers who may see persons; scoped in SQL. A period
 * keeps the village it was counted in, but the person must be in the reader's scope today too (a
 * closed period of a person whose hukou has since moved away stays in the counts, not in the list).
 */
export async function groupMembers(
  db: Kysely<DB>,
  actor: Actor,
  query: { region?: string; group: GroupCode; asOf?: string; cursor?: string; limit?: number },
): Promise<MemberList> {
  const members = await membersOf(db, actor, query);
  const limit = query.limit ?? 100;
  const after = query.cursor ? Number(query.cursor) : 0;
  const page = await members.page(after, limit + 1);
  const items = page.slice(0, limit);
  await audit(db, actor, {
    action: 'groups.members.read',
    entityType: 'group',
    entityId: query.group,
    regionCode: members.region.code || null,
    details: { asOf: members.date, count: items.length },
  });
  return { items, nextCursor: page.length > limit ? String(items[items.length - 1]?.personId) : null };
}

type Member = MemberList['items'][number];

/**
 * The members of a group in a region on a date, for a reader who may see persons (checked here), in
 * person id order, a page at a time. Scoped in SQL: a period keeps the village it was counted in, but
 * the person must be in the reader's scope today too (a closed period of a person whose hukou has since
 * moved away stays in the counts, not in the list). ID numbers masked. A high-age elderly member's band is
 * that of the date asked (highAgeGroundsOn), by the bands in force on it where the period was counted.
 */
async function membersOf(
  db: Kysely<DB>,
  actor: Actor,
  query: { region?: string; group: GroupCode; asOf?: string },
): Promise<{
  region: { code: string; name: string };
  date: IsoDate;
  page: (after: number, limit: number) => Promise<Member[]>;
}> {
  const target = await resolveRegion(db, actor, query.region);
  requireAccess(actor, 'stats.read', { regionCode: target.code, individual: true });
  requireAccess(actor, 'persons.read', { regionCode: target.code, individual: true });
  const date = dateOrToday(query.asOf);
  const [from, to] = codeRange(target.code);
  const [scopeFrom, scopeTo] = codeRange(actor.regionCode);
  const bandStartsIn = query.group === 'high_age_elderly' ? await highAgeBandStartsOn(db, date) : null;
  const page = async (after: number, limit: number): Promise<Member[]> => {
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
      region_code: string;
    }>`
      SELECT gm.person_id, p.name, p.id_number, p.sex, p.birth_date, p.hukou_region_code, gm.since, gm.sub_category, gm.reasons,
        gm.region_code
      FROM group_memberships gm JOIN persons p ON p.id = gm.person_id
      WHERE gm.group_code = ${query.group}
        AND gm.region_code >= ${from} AND gm.region_code < ${to}
        AND gm.region_code >= ${scopeFrom} AND gm.region_code < ${scopeTo}
        AND p.hukou_region_code >= ${scopeFrom} AND p.hukou_region_code < ${scopeTo}
        AND gm.since <= ${date}::date AND (gm.until IS NULL OR gm.until > ${date}::date)
        AND gm.person_id > ${after}
      ORDER BY gm.person_id
      LIMIT ${limit}`.execute(db);
    return result.rows.map((r) => {
      const onTheDate =
        bandStartsIn && r.birth_date
          ? highAgeGroundsOn(r.birth_date, date, bandStartsIn(r.region_code), r.reasons)
          : null;
      return {
        personId: Number(r.person_id),
        name: r.name,
        idNumberMasked: r.id_number ? maskValue(r.id_number, 'idNumber') : null,
        sex: r.sex,
        birthDate: r.birth_date,
        hukouRegionCode: r.hukou_region_code,
        since: r.since,
        subCategory: onTheDate?.subCategory ?? r.sub_category,
        reasons: onTheDate?.reasons ?? r.reasons,
      };
    });
  };
  return { region: { code: target.code, name: target.name }, date, page };
}

/** A count as a workbook cell: the number, or what a viewer sees in its place ("<5", "*"). */
function workbookCell(cell: StatsTable['total']['counts'][string] | undefined): number | string | null {
  return cell === undefined ? 0 : cell.suppressed ? cell.display : cell.value;
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
    ...table.groups.map((g) => workbookCell(row.counts[g.code])),
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

/** GET /stats/groups/monthly.xlsx: the monthly series exactly as this reader sees it. */
export async function exportMonthlyStats(
  db: Kysely<DB>,
  actor: Actor,
  region: string | undefined,
  from: string,
  to: string,
): Promise<{ fileName: string; data: Buffer }> {
  const series = await monthlyStats(db, actor, region, from, to);
  const workbook = new ExcelJS.Workbook();
  workbook.creator = 'Shouhu';
  const sheet = workbook.addWorksheet('月度趋势');
  const code = series.region.code || '全国';
  sheet.addRow([`${series.region.name} (${code}) ${from} 至 ${to} 各月末人数`]);
  sheet.addRow(['月份', '月末日期', ...GROUP_CODES.map((g) => GROUP_LABELS[g].zh)]);
  for (const month of series.months)
    sheet.addRow([month.month, month.monthEnd, ...GROUP_CODES.map((g) => workbookCell(month.counts[g]))]);
  if (series.suppressed) sheet.addRow(['注: 小于阈值的数字显示为 "<阈值"，"*" 为保护小数而隐藏的数字']);
  sheet.getRow(2).font = { bold: true };
  sheet.columns.forEach((column) => (column.width = 14));
  await audit(db, actor, {
    action: 'groups.stats.export',
    entityType: 'group_stats',
    entityId: series.region.code || 'national',
    regionCode: series.region.code || null,
    details: { from, to, monthly: true, suppressed: series.suppressed },
  });
  const data = Buffer.from(await workbook.xlsx.writeBuffer());
  return { fileName: `groups-monthly-${series.region.code || 'national'}-${from}-${to}.xlsx`, data };
}

/**
 * GET /stats/groups/members.xlsx: the list of the persons counted, for readers who may see persons
 * (checked, and audited, before the first byte). Streamed a page at a time into a streaming workbook,
 * so a county's list does not sit in memory; ID numbers masked as in the list.
 */
export async function exportGroupMembers(
  ctx: AppContext,
  actor: Actor,
  query: { region?: string; group: GroupCode; asOf?: string },
): Promise<{ fileName: string; write: (out: Writable) => Promise<number> }> {
  const db = ctx.db;
  // A file of persons leaves the system: those who may export (a viewer granted individual reads
  // reads the list on screen, and exports nothing: DECISIONS.md).
  requireAccess(actor, 'exports.run', { individual: true });
  const members = await membersOf(db, actor, query);
  const label = GROUP_LABELS[query.group];
  await audit(db, actor, {
    action: 'groups.members.export',
    entityType: 'group',
    entityId: query.group,
    regionCode: members.region.code || null,
    details: { asOf: members.date },
  });
  const write = async (out: Writable): Promise<number> => {
    const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true });
    const sheet = workbook.addWorksheet(label.zh);
    sheet
      .addRow([`${members.region.name} (${members.region.code || '全国'}) ${label.zh} 截至 ${members.date}`])
      .commit();
    const header = sheet.addRow([
      '人员编号',
      '姓名',
      '身份证号',
      '性别',
      '出生日期',
      '户籍地代码',
      '起始日期',
      '类别',
      '原因',
    ]);
    header.font = { bold: true };
    header.commit();
    let after = 0;
    let count = 0;
    // Page after page for as long as the reader reads, and only while the sign-in stands (signInGuard).
    async function* pages() {
      for (;;) {
        const page = await members.page(after, MEMBER_EXPORT_PAGE);
        yield page;
        const last = page[page.length - 1];
        if (!last || page.length < MEMBER_EXPORT_PAGE) return;
        after = last.personId;
      }
    }
    for await (const page of signInGuard(ctx, actor, pages(), {
      action: 'groups.members.export',
      entityType: 'group',
      entityId: query.group,
      regionCode: members.region.code || null,
    })) {
      for (const m of page)
        sheet
          .addRow([
            m.personId,
            m.name,
            m.idNumberMasked ?? '',
            m.sex === 1 ? '男' : m.sex === 2 ? '女' : '',
            m.birthDate ?? '',
            m.hukouRegionCode,
            m.since,
            m.subCategory ?? '',
            m.reasons.zh.join('；'),
          ])
          .commit();
      count += page.length;
    }
    sheet.commit();
    await workbook.commit();
    return count;
  };
  return {
    fileName: `group-${query.group}-${members.region.code || 'national'}-${members.date}.xlsx`,
    write,
  };
}

const MEMBER_EXPORT_PAGE = 1000;
