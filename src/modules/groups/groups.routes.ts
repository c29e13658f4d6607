import { PassThrough } from 'node:stream';
import type { FastifyReply } from 'fastify';
import type { App } from '../../platform/http.ts';
import type { AppContext } from '../../platform/context.ts';
import { DEFAULT_MESSAGES, DomainError } from '../../platform/errors.ts';
import { actorOf, recordRead } from '../access/index.ts';
import {
  ConfigBody,
  ConfigQuery,
  ConfigView,
  EvaluateBody,
  JobParams,
  JobRef,
  JobStatus,
  MemberList,
  MembersExportQuery,
  MembersQuery,
  MonthlyQuery,
  MonthlySeries,
  StatsQuery,
  StatsTable,
  WorklistItem,
  WorklistPage,
  WorklistParams,
  WorklistQuery,
} from './groups.schemas.ts';
import * as service from './groups.service.ts';
import { uncoercedProblems } from './groups.settings.ts';
import * as stats from './groups.stats.ts';

export function groupRoutes(app: App, ctx: AppContext): void {
  const errors = {
    400: { $ref: 'ErrorEnvelope#' },
    403: { $ref: 'ErrorEnvelope#' },
    404: { $ref: 'ErrorEnvelope#' },
  };

  app.get(
    '/groups/config',
    {
      config: { permission: { all: ['groups.read'] } },
      schema: {
        tags: ['groups'],
        summary: "A region's group rule configuration: its own settings and the effective configuration",
        querystring: ConfigQuery,
        response: { 200: ConfigView, ...errors },
      },
    },
    async (request) => service.getConfig(ctx.db, actorOf(request), request.query.region, request.query.asOf),
  );

  app.put(
    '/groups/config',
    {
      config: { permission: { all: ['groups.configure'] } },
      schema: {
        tags: ['groups'],
        summary: "Changes a region's configuration (effective-dated, versioned) and re-evaluates the region",
        querystring: ConfigQuery,
        body: ConfigBody,
        response: { 200: ConfigView, ...errors, 409: { $ref: 'ErrorEnvelope#' } },
      },
      // The settings as sent, before the validator's type coercion: "6" months or `true` for an age
      // (which it would store as 1) is no setting, and a single number is no list.
      preValidation: async (request) => {
        const sent = (request.body as { config?: unknown } | null)?.config;
        if (typeof sent !== 'object' || sent === null || Array.isArray(sent)) return;
        const problems = uncoercedProblems(sent as Record<string, unknown>);
        if (problems.length)
          throw new DomainError('VALIDATION_FAILED', DEFAULT_MESSAGES.VALIDATION_FAILED, problems);
      },
    },
    async (request) => service.putConfig(ctx, actorOf(request), request.query.region, request.body),
  );

  app.post(
    '/groups/evaluations',
    {
      config: { permission: { all: ['groups.configure'] } },
      schema: {
        tags: ['groups'],
        summary: 'Starts an evaluation of a region as of a date (a job with progress)',
        body: EvaluateBody,
        response: { 202: JobRef, ...errors },
      },
    },
    async (request, reply) =>
      reply.status(202).send({
        jobId: await service.requestEvaluation(ctx, actorOf(request), request.body.region, request.body.asOf),
      }),
  );

  app.get(
    '/groups/evaluations/:id',
    {
      config: { permission: { all: ['groups.read'] } },
      schema: {
        tags: ['groups'],
        summary: "An evaluation job's status and progress",
        params: JobParams,
        response: { 200: JobStatus, ...errors },
      },
    },
    async (request) =>
      service.evaluationStatus(ctx, actorOf(request), Number(request.params.id), request.lang),
  );

  app.get(
    '/stats/groups',
    {
      config: { permission: { all: ['stats.read'] } },
      schema: {
        tags: ['stats'],
        summary: 'Counts per group for a region and each child region as of a date, with a total row',
        querystring: StatsQuery,
        response: { 200: StatsTable, ...errors },
      },
    },
    async (request) => {
      const actor = actorOf(request);
      const table = await stats.groupStats(ctx.db, actor, request.query.region, request.query.asOf);
      // Counts name nobody, but a village's small count is close to personal data for staff: every
      // read of the statistics is audited, as their spreadsheets are.
      await recordRead(ctx.db, actor, {
        action: 'groups.stats.read',
        entityType: 'group_stats',
        entityId: table.region.code || 'national',
        regionCode: table.region.code || null,
        details: { asOf: table.asOf, suppressed: table.suppressed },
      });
      return table;
    },
  );

  app.get(
    '/stats/groups/monthly',
    {
      config: { permission: { all: ['stats.read'] } },
      schema: {
        tags: ['stats'],
        summary:
          "A region's count per group at each month end (the current month's as of today; no later month)",
        querystring: MonthlyQuery,
        response: { 200: MonthlySeries, ...errors },
      },
    },
    async (request) => {
      const actor = actorOf(request);
      const { region, from, to } = request.query;
      const series = await stats.monthlyStats(ctx.db, actor, region, from, to);
      await recordRead(ctx.db, actor, {
        action: 'groups.stats.monthly.read',
        entityType: 'group_stats',
        entityId: series.region.code || 'national',
        regionCode: series.region.code || null,
        details: { from, to, suppressed: series.suppressed },
      });
      return series;
    },
  );

  app.get(
    '/stats/groups/members',
    {
      config: { permission: { all: ['stats.read', 'persons.read'], individual: true } },
      schema: {
        tags: ['stats'],
        summary: 'The persons counted in a group (readers who may see individual records only)',
        querystring: MembersQuery,
        response: { 200: MemberList, ...errors },
      },
    },
    async (request) => stats.groupMembers(ctx.db, actorOf(request), request.query),
  );

  app.get(
    '/stats/groups.xlsx',
    {
      config: { permission: { all: ['stats.read'] } },
      schema: {
        tags: ['stats'],
        summary: 'The group statistics table as an Excel workbook, as this reader sees it',
        querystring: StatsQuery,
        produces: [XLSX],
      },
    },
    async (request, reply) => {
      const { region, asOf } = request.query;
      return sendWorkbook(reply, await stats.exportGroupStats(ctx.db, actorOf(request), region, asOf));
    },
  );

  app.get(
    '/stats/groups/monthly.xlsx',
    {
      config: { permission: { all: ['stats.read'] } },
      schema: {
        tags: ['stats'],
        summary: 'The monthly series as an Excel workbook, as this reader sees it',
        querystring: MonthlyQuery,
        produces: [XLSX],
      },
    },
    async (request, reply) => {
      const { region, from, to } = request.query;
      return sendWorkbook(reply, await stats.exportMonthlyStats(ctx.db, actorOf(request), region, from, to));
    },
  );

  app.get(
    '/stats/groups/members.xlsx',
    {
      config: { permission: { all: ['exports.run', 'stats.read', 'persons.read'], individual: true } },
      schema: {
        tags: ['stats'],
        summary:
          'The persons counted in a group as an Excel workbook (streams; readers who may see individual records only; ID numbers masked)',
        querystring: MembersExportQuery,
        produces: [XLSX],
      },
    },
    async (request, reply) => {
      const file = await stats.exportGroupMembers(ctx, actorOf(request), request.query);
      const body = new PassThrough();
      file
        .write(body)
        .then(() => {
          if (!body.writableEnded) body.end();
        })
        .catch((error: unknown) => body.destroy(error instanceof Error ? error : new Error(String(error))));
      return sendWorkbook(reply, { fileName: file.fileName, data: body });
    },
  );

  app.get(
    '/worklist',
    {
      config: { permission: { all: ['worklist.read'], individual: true } },
      schema: {
        tags: ['worklist'],
        summary: "Worklist items in the reader's region: persons who entered or left a care group",
        querystring: WorklistQuery,
        response: { 200: WorklistPage, ...errors },
      },
    },
    async (request) => service.listWorklist(ctx.db, actorOf(request), request.query),
  );

  app.post(
    '/worklist/:id/acknowledge',
    {
      config: { permission: { all: ['worklist.read'], individual: true } },
      schema: {
        tags: ['worklist'],
        summary: 'Marks a worklist item as seen',
        params: WorklistParams,
        response: { 200: WorklistItem, ...errors },
      },
    },
    async (request) => service.acknowledgeWorklistItem(ctx.db, actorOf(request), Number(request.params.id)),
  );
}

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** A workbook as a download (a whole buffer, or a stream being written). */
function sendWorkbook(reply: FastifyReply, file: { fileName: string; data: Buffer | PassThrough }) {
  return reply
    .type(XLSX)
    .header('content-disposition', `attachment; filename="${file.fileName}"`)
    .send(file.data);
}
