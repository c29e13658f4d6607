// The audit administrator's view of the trail: search, CSV export and chain verification. Reading
// the trail is itself audited.
import type { Kysely } from 'kysely';
import type { AppContext } from '../../platform/context.ts';
import { DomainError } from '../../platform/errors.ts';
import type { DB } from '../../platform/db.schema.ts';
import { requireAccess, type Actor } from './access.policy.ts';
import type { AuditItem, AuditQuery } from './access.schemas.ts';
import { audit, AUDIT_HASH_ALG, verifyAuditChain, type AuditRow } from './audit.ts';

function toItem(row: AuditRow): AuditItem {
  return {
    id: row.id,
    at: new Date(row.at).toISOString(),
    actorKind: row.actor_kind,
    actorUserId: row.actor_user_id,
    actorTokenId: row.actor_token_id,
    actorUsername: row.actor_username,
    actorRole: row.actor_role,
    ip: row.ip,
    requestId: row.request_id,
    action: row.action,
    entityType: row.entity_type,
    entityId: row.entity_id,
    regionCode: row.region_code,
    result: row.result,
    details: (row.details ?? {}) as Record<string, unknown>,
  };
}

function filtered(db: Kysely<DB>, query: AuditQuery) {
  let q = db.selectFrom('audit_log').selectAll();
  if (query.actor) q = q.where('actor_username', '=', query.actor);
  if (query.action) {
    q = query.action.endsWith('.')
      ? q.where('action', 'like', `${query.action.replace(/[\\%_]/g, (c) => '\\' + c)}%`)
      : q.where('action', '=', query.action);
  }
  if (query.region)
    q = q.where('region_code', '>=', query.region).where('region_code', '<', query.region + '\uffff');
  if (query.result) q = q.where('result', '=', query.result);
  if (query.from) q = q.where('at', '>=', new Date(query.from));
  if (query.to) q = q.where('at', '<', new Date(query.to));
  return q;
}

function filterDetails(query: AuditQuery): Record<string, unknown> {
  const { limit: _limit, cursor: _cursor, ...filters } = query;
  return { filters };
}

/** Newest first; the cursor is the id of the last item of the previous page. */
export async function searchAudit(
  ctx: AppContext,
  actor: Actor,
  query: AuditQuery,
): Promise<{ items: AuditItem[]; nextCursor: string | null }> {
  requireAccess(actor, 'audit.read');
  const limit = query.limit ?? 100;
  let q = filtered(ctx.db, query)
    .orderBy('id', 'desc')
    .limit(limit + 1);
  if (query.cursor) q = q.where('id', '<', Number(query.cursor));
  const rows = (await q.execute()) as unknown as AuditRow[];
  await audit(ctx.db, actor, {
    action: 'audit.search',
    entityType: 'audit_log',
    details: filterDetails(query),
  });
  const items = rows.slice(0, limit).map(toItem);
  return { items, nextCursor: rows.length > limit ? String(items[items.length - 1]!.id) : null };
}

export const EXPORT_LIMIT = 100_000;
const CSV_COLUMNS: (keyof AuditItem)[] = [
  'id',
  'at',
  'actorKind',
  'actorUsername',
  'actorRole',
  'ip',
  'requestId',
  'action',
  'entityType',
  'entityId',
  'regionCode',
  'result',
  'details',
];

/** A CSV cell; text that a spreadsheet would run as a formula is prefixed with a quote. */
function csvCell(value: unknown): string {
  let text =
    value === null || value === undefined
      ? ''
      : typeof value === 'object'
        ? JSON.stringify(value)
        : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * The matching entries as CSV (UTF-8 with BOM, so spreadsheet programs read the Chinese), oldest
 * first. More than `limit` entries are refused (audited), never cut short: a file that silently
 * ends before the newest entries would pass for the whole trail.
 */
export async function exportAudit(
  ctx: AppContext,
  actor: Actor,
  query: AuditQuery,
  limit = EXPORT_LIMIT,
): Promise<string> {
  requireAccess(actor, 'audit.export');
  const rows = (await filtered(ctx.db, query)
    .orderBy('id', 'asc')
    .limit(limit + 1)
    .execute()) as unknown as AuditRow[];
  if (rows.length > limit) {
    await audit(ctx.db, actor, {
      action: 'audit.export',
      entityType: 'audit_log',
      result: 'denied',
      details: { ...filterDetails(query), reason: 'too_many', limit },
    });
    throw new DomainError(
      'VALIDATION_FAILED',
      {
        zh: `匹配的审计记录超过 ${limit} 条，无法一次导出；请缩小时间范围（起止时间）或增加条件后分次导出`,
        en: `More than ${limit} audit entries match, too many for one export; narrow the time range (from, to) or add filters and export in parts`,
      },
      [
        {
          path: 'to',
          message: {
            zh: `请缩小时间范围，使匹配的记录不超过 ${limit} 条`,
            en: `narrow the time range to at most ${limit} entries`,
          },
        },
      ],
    );
  }
  await audit(ctx.db, actor, {
    action: 'audit.export',
    entityType: 'audit_log',
    details: { ...filterDetails(query), rows: rows.length },
  });
  const lines = [CSV_COLUMNS.join(',')];
  for (const row of rows) {
    const item = toItem(row);
    lines.push(CSV_COLUMNS.map((c) => csvCell(item[c])).join(','));
  }
  return '\uFEFF' + lines.join('\r\n') + '\r\n';
}

export async function verifyForActor(ctx: AppContext, actor: Actor) {
  requireAccess(actor, 'audit.read');
  const report = await verifyAuditChain(ctx.db);
  await audit(ctx.db, actor, {
    action: 'audit.verify',
    entityType: 'audit_log',
    result: report.ok ? 'ok' : 'error',
    details: { count: report.count, ok: report.ok },
  });
  return {
    ok: report.ok,
    count: report.count,
    hashAlgorithm: AUDIT_HASH_ALG,
    lastId: report.lastId,
    lastHash: report.lastHash,
    problem: report.problem ? { kind: report.problem.kind, message: report.problem.message } : null,
  };
}
