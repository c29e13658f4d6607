// The groups module's use cases: the configuration (read, change, re-evaluate), the worklist, and
// what other modules read (a person's groups, the person-list filter). Statistics are in
// groups.stats.ts. Rows are mapped to response objects here; no table row leaves over HTTP.

import { sql, type Expression, type Kysely, type SqlBool, type Transaction } from 'kysely';
import type { AppContext } from '../../platform/context.ts';
import type { DB } from '../../platform/db.schema.ts';
import { isIsoDate, today, type IsoDate } from '../../platform/dates.ts';
import {
  conflict,
  DomainError,
  DEFAULT_MESSAGES,
  invalid,
  notFound,
  type Lang,
} from '../../platform/errors.ts';
import { audit, inScope, recordRead, requireAccess, type Actor } from '../access/index.ts';
import { findRegion } from '../regions/index.ts';
import {
  asOfAheadProblem,
  type GroupPeriod,
  type GroupProvider,
  type PersonChange,
} from '../registry/index.ts';
import { GROUP_CODES, GROUP_LABELS, highAgeGroundsOn, type GroupCode } from './groups.rules.ts';
import { reevaluateAfterChange } from './groups.evaluate.ts';
import type { ConfigBody, ConfigView, WorklistItem } from './groups.schemas.ts';
import {
  configProblems,
  configResolver,
  resolveConfig,
  type EffectiveGroupsConfig,
} from './groups.settings.ts';
import { groupsEvaluateJob } from './groups.jobs.ts';
import * as repo from './groups.repository.ts';

// ---------- Regions ----------

/** The region a request names, defaulting to the actor's own; must exist ('' is the whole country). */
export async function resolveRegion(
  db: Kysely<DB>,
  actor: Actor,
  region: string | undefined,
): Promise<{ code: string; name: string }> {
  const code = region ?? actor.regionCode;
  if (code === '') return { code: '', name: '全国' };
  const row = await findRegion(db, code);
  if (!row) throw notFound({ zh: `行政区划 ${code} 不存在`, en: `Region ${code} does not exist` });
  return { code: row.code, name: row.name };
}

function asOfOrToday(asOf: string | undefined): IsoDate {
  const date = asOf ?? today();
  if (!isIsoDate(date)) throw invalid('asOf', { zh: '不是有效日期', en: 'is not a valid date' });
  return date;
}

// ---------- Configuration ----------

export async function effectiveConfig(
  db: repo.Db,
  regionCode: string,
  asOf: IsoDate,
): Promise<EffectiveGroupsConfig> {
  const rows = await repo.configsInForce(db, asOf);
  return resolveConfig(
    rows.map((row) => ({ regionCode: row.region_code, config: row.config })),
    regionCode,
  );
}

function toConfigView(
  regionCode: string,
  asOf: IsoDate,
  effective: EffectiveGroupsConfig,
  own: repo.ConfigRecord | undefined,
): ConfigView {
  return {
    regionCode,
    asOf,
    effective: { ...effective },
    own: own
      ? {
          version: own.version,
          validFrom: own.valid_from,
          validTo: own.valid_to,
          config: own.config,
          changedBy: own.changed_by === null ? null : Number(own.changed_by),
          changedAt: new Date(own.changed_at).toISOString(),
        }
      : null,
    version: own?.version ?? 0,
  };
}

export async function getConfig(
  db: Kysely<DB>,
  actor: Actor,
  region: string | undefined,
  asOf?: string,
): Promise<ConfigView> {
  const { code } = await resolveRegion(db, actor, region);
  requireAccess(actor, 'groups.read', { regionCode: code });
  const date = asOfOrToday(asOf);
  const effective = await effectiveConfig(db, code, date);
  const own = await repo.latestConfig(db, code);
  return toConfigView(code, date, effective, own);
}

/**
 * Changes a region's configuration from `validFrom` (default today). The change names the version it
 * was made on; a stale one is refused (409). The previous row ends where the new one starts, so the
 * history stays readable; a change from the same day supersedes that day's row, which stays on record
 * with no days. The region is then re-evaluated by a job.
 */
export async function putConfig(
  ctx: AppContext,
  actor: Actor,
  region: string | undefined,
  body: ConfigBody,
): Promise<ConfigView> {
  const { code } = await resolveRegion(ctx.db, actor, region);
  requireAccess(actor, 'groups.configure', { regionCode: code });
  const problems = configProblems(body.config as Record<string, unknown>);
  if (problems.length)
    throw new DomainError('VALIDATION_FAILED', DEFAULT_MESSAGES.VALIDATION_FAILED, problems);
  const validFrom = asOfOrToday(body.validFrom);
  const saved = await ctx.db.transaction().execute(async (trx) => {
    // Serialises changes to one region (the row lock alone cannot cover a region's first change).
    await sql`SELECT pg_advisory_xact_lock(hashtext(${'group_config:' + code}))`.execute(trx);
    const latest = await repo.latestConfig(trx, code, true);
    if ((latest?.version ?? 0) !== body.version)
      throw conflict({
        zh: `该地区的配置已被修改(当前版本 ${latest?.version ?? 0})，请刷新后重试`,
        en: `The region's configuration was changed (now version ${latest?.version ?? 0}); reload and retry`,
      });
    if (latest && validFrom < latest.valid_from)
      throw invalid('validFrom', {
        zh: `生效日期不能早于当前配置的生效日期 ${latest.valid_from}`,
        en: `must not be before the current configuration's start ${latest.valid_from}`,
      });
    const version = (latest?.version ?? 0) + 1;
    // The previous version ends where this one starts; one replaced on its first day keeps its row
    // with no days (valid_to = valid_from), so that every version stays on record.
    if (latest)
      await trx
        .updateTable('group_config')
        .set({ valid_to: validFrom })
        .where('id', '=', latest.id)
        .execute();
    await trx
      .insertInto('group_config')
      .values({
        region_code: code,
        valid_from: validFrom,
        valid_to: null,
        config: JSON.stringify(body.config),
        version,
        changed_by: actor.userId,
      })
      .execute();
    await audit(trx, actor, {
      action: 'groups.config.change',
      entityType: 'group_config',
      entityId: code || 'national',
      regionCode: code || null,
      details: { version, validFrom, settings: Object.keys(body.config) },
    });
    return version;
  });
  const asOf = today();
  const jobId = await ctx.jobs.enqueue(
    groupsEvaluateJob(ctx),
    { regionCode: code, asOf },
    {
      idempotencyKey: `groups.evaluate:config:${code}:${saved}`,
      createdBy: actor.userId,
      regionCode: code || null,
    },
  );
  const view = await getConfig(ctx.db, actor, code, asOf);
  return { ...view, evaluationJobId: jobId };
}

// ---------- Evaluation on request ----------

export async function requestEvaluation(
  ctx: AppContext,
  actor: Actor,
  region: string | undefined,
  asOf: string | undefined,
): Promise<number> {
  const { code } = await resolveRegion(ctx.db, actor, region);
  requireAccess(actor, 'groups.configure', { regionCode: code });
  const date = evaluationDate(asOf);
  return ctx.jobs.enqueue(
    groupsEvaluateJob(ctx),
    { regionCode: code, asOf: date },
    { createdBy: actor.userId, regionCode: code || null },
  );
}

/**
 * The date an evaluation is asked for: today or a day that has passed. The periods describe days that have
 * come; a later date would store what has not happened as if it had (an elder turning 60 next year entered
 * now, with a worklist item today and none on the day; a child's 16th birthday next year closing the
 * period ahead), and the daily evaluation does not undo what a later date's evaluation found.
 */
function evaluationDate(asOf: string | undefined): IsoDate {
  const date = asOfOrToday(asOf);
  const latest = today();
  if (date > latest)
    throw invalid('asOf', { zh: `不能晚于今天 (${latest})`, en: `must not be after today (${latest})` });
  return date;
}

/**
 * A failed evaluation's error is the text of an unexpected exception (a database error naming tables
 * and constraints): it stays in the jobs table for the operator; the reader is told what to do.
 */
const EVALUATION_FAILED = {
  zh: '评估因系统内部错误未能完成，请稍后重新发起；如仍失败，请联系系统管理员',
  en: 'The evaluation stopped on an internal error; start it again later, and if it fails again, contact the system administrator',
} as const;

export async function evaluationStatus(ctx: AppContext, actor: Actor, id: number, lang: Lang = 'zh') {
  const row = await ctx.db
    .selectFrom('jobs')
    .select(['name', 'region_code'])
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row || !row.name.startsWith('groups.') || !inScope(actor, row.region_code ?? '')) throw notFound();
  requireAccess(actor, 'groups.read');
  const job = await ctx.jobs.get(id);
  if (!job) throw notFound();
  return {
    id: job.id,
    status: job.status,
    progress: job.progress,
    result: job.result,
    error: job.error === null ? null : EVALUATION_FAILED[lang],
  };
}

// ---------- What the registry reads ----------

export interface PersonGroup {
  code: GroupCode;
  since: IsoDate;
  subCategory: string | null;
  reasons: { zh: string[]; en: string[] };
}

/**
 * The groups a person belongs to on `asOf`, for the person file ("groups": [...]). A day after tomorrow
 * is refused, as the person file refuses it: the periods are evaluated up to today.
 */
export async function groupsOfPerson(
  db: repo.Db,
  personId: number,
  asOf: IsoDate = today(),
): Promise<PersonGroup[]> {
  const ahead = asOfAheadProblem(asOf, today());
  if (ahead) throw invalid('asOf', ahead);
  const rows = await repo.membershipsOn(db, personId, asOf);
  // A high-age elderly band is that of the date asked (as the member list shows it), by the bands in
  // force on that date where the period was counted: the period holds the latest evaluation's band.
  const bandOn = rows.some((row) => row.group_code === 'high_age_elderly')
    ? await highAgeBandOn(db, personId, asOf)
    : null;
  return rows
    .map((row) => {
      const onTheDate =
        row.group_code === 'high_age_elderly' && bandOn ? bandOn(row.region_code, row.reasons) : null;
      return {
        code: row.group_code as GroupCode,
        since: row.since,
        subCategory: onTheDate?.subCategory ?? row.sub_category,
        reasons: onTheDate?.reasons ?? row.reasons,
      };
    })
    .sort((a, b) => GROUP_CODES.indexOf(a.code) - GROUP_CODES.indexOf(b.code));
}

/** highAgeGroundsOn for one person on a date, by the bands in force on it in a period's village. */
async function highAgeBandOn(db: repo.Db, personId: number, day: IsoDate) {
  const person = await db
    .selectFrom('persons')
    .select('birth_date')
    .where('id', '=', personId)
    .executeTakeFirst();
  const birthDate = person?.birth_date;
  if (!birthDate) return null;
  const bandStartsIn = await highAgeBandStartsOn(db, day);
  return (regionCode: string, reasons: { zh: string[]; en: string[] }) =>
    highAgeGroundsOn(birthDate, day, bandStartsIn(regionCode), reasons);
}

/** The high-age bands in force on a day, by the region a period was counted in. */
export async function highAgeBandStartsOn(
  db: repo.Db,
  day: IsoDate,
): Promise<(regionCode: string) => readonly number[]> {
  const configOf = configResolver(
    (await repo.configsInForceBetween(db, day, day)).map((row) => ({
      regionCode: row.region_code,
      config: row.config,
    })),
  );
  return (regionCode) => configOf(regionCode).highAgeBandStarts;
}

/**
 * The person-list filter: `.where(inGroup('left_behind_child', asOf))` on a query over `persons`
 * (or pass the column holding the person id). True when the person belongs to the group (or to one
 * of the groups) on `asOf`. The list's region scope stays on persons. A page after a keyset cursor
 * passes `afterPersonId` too: the bound is implied by the join, but stated here it lets a walk of the
 * memberships in person order (a merge join) start at the cursor instead of the first member.
 */
export function inGroup(
  group: GroupCode | readonly GroupCode[],
  asOf: IsoDate = today(),
  personIdColumn = 'persons.id',
  afterPersonId?: number,
): Expression<SqlBool> {
  const codes = typeof group === 'string' ? [group] : group;
  return sql<SqlBool>`EXISTS (SELECT 1 FROM group_memberships gm
    WHERE gm.person_id = ${sql.ref(personIdColumn)}
      AND gm.group_code IN (${sql.join(codes.map((code) => sql`${code}`))})
      AND gm.since <= ${asOf}::date AND (gm.until IS NULL OR gm.until > ${asOf}::date)
      ${afterPersonId === undefined ? sql`` : sql`AND gm.person_id > ${afterPersonId}`})`;
}

/**
 * What the registry shows of the groups (set in the composition root with setGroupProvider): the
 * periods of the person file and the list's tags, and the list's filter.
 */
export const personGroupsProvider: GroupProvider = {
  groups: GROUP_CODES.map((code) => ({ code, name: GROUP_LABELS[code] })),
  // With a date (the person file as of it), a high-age elderly period in force on it shows that
  // date's band, as the member list of that date does.
  async periodsOf(db, personIds, asOf?: IsoDate) {
    const rows = await repo.allMembershipsOf(db, personIds);
    const onDate = (row: (typeof rows)[number]) =>
      asOf !== undefined &&
      row.group_code === 'high_age_elderly' &&
      row.since <= asOf &&
      (row.until === null || row.until > asOf);
    const bands = new Map<number, Awaited<ReturnType<typeof highAgeBandOn>>>();
    if (asOf !== undefined)
      for (const personId of new Set(rows.filter(onDate).map((row) => row.person_id)))
        bands.set(personId, await highAgeBandOn(db, personId, asOf));
    return rows
      .map((row): GroupPeriod => {
        const band = onDate(row) ? bands.get(row.person_id) : null;
        const onTheDate = band ? band(row.region_code, row.reasons) : null;
        return {
          personId: row.person_id,
          code: row.group_code,
          subCategory: onTheDate?.subCategory ?? row.sub_category,
          since: row.since,
          until: row.until,
          reasons: onTheDate?.reasons ?? row.reasons,
        };
      })
      .sort(
        (a, b) =>
          a.personId - b.personId ||
          GROUP_CODES.indexOf(a.code as GroupCode) - GROUP_CODES.indexOf(b.code as GroupCode) ||
          (b.since < a.since ? -1 : b.since > a.since ? 1 : 0),
      );
  },
  memberOfAny(codes, asOf, personIdColumn, afterPersonId) {
    return inGroup(codes.filter(isGroupCode), asOf, personIdColumn, afterPersonId);
  },
};

/**
 * The registry's change listener (registered by the composition root). A person merged into another
 * is the same human as the person kept: the duplicate's periods move to the kept person (or are
 * voided where the kept person has an overlapping one), so do its open worklist items (or they are
 * closed where the kept person has the same one open), and the kept person is then re-evaluated
 * with the moved facts and links (the registry announces it next). Every change re-evaluates the
 * person and their relatives as of today, in the same transaction.
 */
export async function followPersonChange(
  trx: Transaction<DB>,
  personId: number,
  change: PersonChange,
): Promise<void> {
  if (change.kind === 'merged_away') {
    await repo.moveMembershipsOnMerge(trx, personId, change.mergedInto);
    await repo.moveWorklistOnMerge(trx, personId, change.mergedInto);
  } else await reevaluateAfterChange(trx, personId);
}

export function isGroupCode(value: string): value is GroupCode {
  return (GROUP_CODES as readonly string[]).includes(value);
}

// ---------- Worklist ----------

function toWorklistItem(row: {
  id: number;
  person_id: number;
  region_code: string;
  kind: 'group_entered' | 'group_left';
  group_code: string;
  on_date: string;
  text_zh: string;
  text_en: string;
  created_at: Date;
  acknowledged_at: Date | null;
  acknowledged_by: number | null;
}): WorklistItem {
  return {
    id: Number(row.id),
    personId: Number(row.person_id),
    regionCode: row.region_code,
    kind: row.kind,
    groupCode: row.group_code,
    onDate: row.on_date,
    text: { zh: row.text_zh, en: row.text_en },
    createdAt: new Date(row.created_at).toISOString(),
    acknowledgedAt: row.acknowledged_at ? new Date(row.acknowledged_at).toISOString() : null,
    acknowledgedBy: row.acknowledged_by === null ? null : Number(row.acknowledged_by),
  };
}

export async function listWorklist(
  db: Kysely<DB>,
  actor: Actor,
  query: { region?: string; status?: 'open' | 'acknowledged' | 'all'; cursor?: string; limit?: number },
): Promise<{ items: WorklistItem[]; nextCursor: string | null }> {
  const region = query.region ?? actor.regionCode;
  requireAccess(actor, 'worklist.read', { regionCode: region, individual: true });
  const [from, to] = repo.codeRange(region);
  const limit = query.limit ?? 50;
  let q = db
    .selectFrom('worklist_items')
    .selectAll()
    .where('region_code', '>=', from)
    .where('region_code', '<', to);
  const status = query.status ?? 'open';
  if (status === 'open') q = q.where('acknowledged_at', 'is', null);
  if (status === 'acknowledged') q = q.where('acknowledged_at', 'is not', null);
  if (query.cursor) q = q.where('id', '<', Number(query.cursor));
  const rows = await q
    .orderBy('id', 'desc')
    .limit(limit + 1)
    .execute();
  const items = rows.slice(0, limit).map(toWorklistItem);
  // The items name the persons who entered or left a group (children among them): an audited read.
  await recordRead(db, actor, {
    action: 'worklist.read',
    entityType: 'worklist_item',
    entityId: null,
    regionCode: region || null,
    details: { status, count: items.length },
  });
  return { items, nextCursor: rows.length > limit ? String(items[items.length - 1]?.id) : null };
}

export async function acknowledgeWorklistItem(
  db: Kysely<DB>,
  actor: Actor,
  id: number,
): Promise<WorklistItem> {
  requireAccess(actor, 'worklist.read', { individual: true });
  const [from, to] = repo.codeRange(actor.regionCode);
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom('worklist_items')
      .selectAll()
      .where('id', '=', id)
      .where('region_code', '>=', from)
      .where('region_code', '<', to)
      .forUpdate()
      .executeTakeFirst();
    if (!row) throw notFound({ zh: '未找到该待办事项', en: 'No such worklist item' });
    if (row.acknowledged_at) {
      // Nothing to change, but the answer names the person: a read, audited like the list.
      await audit(trx, actor, {
        action: 'worklist.read',
        entityType: 'worklist_item',
        entityId: id,
        regionCode: row.region_code,
        details: { acknowledgedAlready: true },
      });
      return toWorklistItem(row);
    }
    const updated = await trx
      .updateTable('worklist_items')
      .set({ acknowledged_at: sql<Date>`now()`, acknowledged_by: actor.userId })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await audit(trx, actor, {
      action: 'worklist.acknowledge',
      entityType: 'worklist_item',
      entityId: id,
      regionCode: row.region_code,
    });
    return toWorklistItem(updated);
  });
}
