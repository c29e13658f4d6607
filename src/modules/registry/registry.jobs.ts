import path from 'node:path';
import { sql } from 'kysely';
import { defineJob } from '../../platform/jobs.ts';
import type { AppContext } from '../../platform/context.ts';
import { audit, permissionsOf, requireAccess, type Actor, type Role } from '../access/index.ts';
import { importRegistryFile, type ImportOutcome } from './registry.import.ts';
import { importLedgerFile, type LedgerImportOutcome } from './registry.import-ledger.ts';
import type { ImportCounts } from './registry.tables.ts';

/** Who submitted the import, as the job needs it to scope the rows and sign the audit entry. */
export interface ImportJobActor {
  kind: Actor['kind'];
  userId: number | null;
  tokenId: number | null;
  username: string;
  role: Role;
  regionCode: string;
  individualAccess: boolean;
  ip: string;
}

export interface RegistryImportPayload {
  importId: number;
  actor: ImportJobActor;
}

export function jobActorOf(actor: Actor): ImportJobActor {
  return {
    kind: actor.kind,
    userId: actor.userId,
    tokenId: actor.tokenId,
    username: actor.username,
    role: actor.role,
    regionCode: actor.regionCode,
    individualAccess: actor.individualAccess,
    ip: actor.ip,
  };
}

function actorFromJob(a: ImportJobActor): Actor {
  return { ...a, permissions: permissionsOf(a.role, a.individualAccess), sessionId: null };
}

/**
 * Whether the uploader may still run this import now, not only when the file was submitted: a job
 * queued (or retried) after the account was disabled, its token revoked or expired, or its role or
 * region changed so that it no longer runs imports over the import's region, does not write.
 */
async function uploaderMayStill(ctx: AppContext, a: ImportJobActor, regionCode: string): Promise<boolean> {
  const current =
    a.kind === 'user'
      ? await ctx.db
          .selectFrom('users')
          .select(['role', 'region_code', 'individual_access'])
          .where('id', '=', a.userId ?? 0)
          .where('disabled', '=', false)
          .executeTakeFirst()
      : await ctx.db
          .selectFrom('api_tokens')
          .select(['role', 'region_code', 'individual_access'])
          .where('id', '=', a.tokenId ?? 0)
          .where('revoked_at', 'is', null)
          .where('expires_at', '>', sql<Date>`now()`)
          .executeTakeFirst();
  if (!current?.role) return false;
  const actor = actorFromJob({
    ...a,
    role: current.role as Role,
    regionCode: current.region_code ?? '',
    individualAccess: current.individual_access,
  });
  try {
    requireAccess(actor, 'imports.run', { individual: true, regionCode });
  } catch {
    return false;
  }
  // As submitImport: imports are run by users of a county or below.
  return actor.regionCode.length >= 6;
}

const UPLOADER_NO_LONGER_MAY = {
  zh: '上传该文件的账户已停用、已撤销，或已不再负责本地区的导入：文件未导入。请由现在负责的人员重新上传',
  en: 'The account that uploaded this file has been disabled or revoked, or no longer runs imports for this region: nothing was imported. Ask the person now responsible to upload it again',
} as const;

function isLedgerOutcome(outcome: ImportOutcome | LedgerImportOutcome): outcome is LedgerImportOutcome {
  return 'review' in outcome;
}

export function importsDir(ctx: AppContext): string {
  return path.join(ctx.config.dataDir, 'imports');
}

/**
 * Runs one submitted import. Idempotent: a finished import is not run again, and a run cut short
 * (the lease ran out) runs the whole file again, which writes only what is still missing.
 */
export function registryImportJob(ctx: AppContext) {
  return defineJob<RegistryImportPayload, { status: string; counts: ImportCounts }>({
    name: 'registry.import',
    maxAttempts: 2,
    handler: async (job) => {
      const row = await ctx.db
        .selectFrom('imports')
        .selectAll()
        .where('id', '=', job.payload.importId)
        .executeTakeFirstOrThrow();
      if (row.status === 'succeeded' || row.status === 'rejected')
        return { status: row.status, counts: row.counts };
      if (!(await uploaderMayStill(ctx, job.payload.actor, row.region_code))) {
        // The refusal and its audit entry together.
        await ctx.db.transaction().execute(async (trx) => {
          await trx
            .updateTable('imports')
            .set({
              status: 'rejected',
              message: JSON.stringify(UPLOADER_NO_LONGER_MAY),
              finished_at: sql<Date>`now()`,
            })
            .where('id', '=', row.id)
            .execute();
          await audit(trx, actorFromJob(job.payload.actor), {
            action: 'registry.import',
            entityType: 'import',
            entityId: row.id,
            regionCode: row.region_code,
            result: 'denied',
            details: { reason: 'uploader_rights_changed' },
          });
        });
        return { status: 'rejected', counts: row.counts };
      }
      await ctx.db.updateTable('imports').set({ status: 'running' }).where('id', '=', row.id).execute();
      let outcome: ImportOutcome | LedgerImportOutcome;
      try {
        // The registry import copies into its stage (COPY), so it takes the database, not only Kysely.
        const run =
          row.kind === 'ledger'
            ? importLedgerFile.bind(null, ctx.db)
            : importRegistryFile.bind(null, ctx.database);
        outcome = await run(
          row.stored_path,
          {
            regionCode: row.region_code,
            userId: row.created_by,
            auditActor: actorFromJob(job.payload.actor),
          },
          {
            kind: row.kind,
            dryRun: row.dry_run,
            importId: row.id,
            errorReportBase: path.join(importsDir(ctx), `${row.id}-errors`),
            reviewReportBase: path.join(importsDir(ctx), `${row.id}-review`),
            progress: (done, total, message) => job.progress(done, total, message),
          },
        );
      } catch (error) {
        const final = job.attempt >= 2;
        await ctx.db
          .updateTable('imports')
          .set({
            status: final ? 'failed' : 'queued',
            message: error instanceof Error ? error.message.slice(0, 1000) : String(error),
            ...(final ? { finished_at: sql<Date>`now()` } : {}),
          })
          .where('id', '=', row.id)
          .execute();
        throw error;
      }
      await ctx.db
        .updateTable('imports')
        .set({
          status: outcome.status,
          counts: JSON.stringify(outcome.counts),
          message: outcome.message
            ? JSON.stringify(outcome.message)
            : outcome.unknownHeaders.length
              ? JSON.stringify({
                  zh: `已忽略未知列：${outcome.unknownHeaders.join('、')}`,
                  en: `unknown columns ignored: ${outcome.unknownHeaders.join(', ')}`,
                })
              : null,
          error_report_path: outcome.errorReport ? path.join(importsDir(ctx), `${row.id}-errors`) : null,
          // A child ledger's answers that disagree with the rules (registry.import-ledger.ts).
          ...(isLedgerOutcome(outcome)
            ? {
                review: outcome.review ? JSON.stringify(outcome.review) : null,
                review_report_path: outcome.reviewReport
                  ? path.join(importsDir(ctx), `${row.id}-review`)
                  : null,
              }
            : {}),
          finished_at: sql<Date>`now()`,
        })
        .where('id', '=', row.id)
        .execute();
      // A file refused whole writes nothing, and its run is audited as refused: every submission has
      // an entry that says how it ended (a finished run's is written by the import itself).
      if (outcome.status === 'rejected')
        await audit(ctx.db, actorFromJob(job.payload.actor), {
          action: 'registry.import',
          entityType: 'import',
          entityId: row.id,
          regionCode: row.region_code,
          result: 'denied',
          details: { reason: 'file_rejected', kind: row.kind, dryRun: row.dry_run },
        });
      return { status: outcome.status, counts: outcome.counts };
    },
  });
}
